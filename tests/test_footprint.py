"""Footprint check on real ELFs built here with arm-none-eabi-gcc (and g++ for the host), compared with
arm-none-eabi-size -A and objcopy; the foreign ELF comes from tests/elf_fixtures (hand-written linker script)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qbuild.footprint.analyze import analyze
from qbuild.footprint.attribution import classify_object, parse_map
from qbuild.footprint.render import render_markdown, write_reports
from qbuild.footprint.schema import SCHEMA
from qbuild.target.boards import Region, load_board
from qbuild.errors import QbuildError
from qbuild.codegen.linker import write_linker_script

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "elf_fixtures"
MODEL_BYTES = 3000

# Stand-ins with the real layout of a qbuild firmware: a runtime object under runtime/ (namespace qbuild), the
# model array object, main.cc with the static 16-byte aligned arena, and the board support objects.
RUNTIME_CC = r"""
#include <stdint.h>
namespace qbuild {
struct Kernel { virtual int eval(const int8_t* in, int n) const = 0; };
struct Add : Kernel { int eval(const int8_t* in, int n) const override { int s = 0; for (int i = 0; i < n; i++) s += in[i]; return s; } };
static const int16_t lut[256] = {1, 2, 3};
int run(const int8_t* in, int n) { static Add add; return add.eval(in, n) + lut[n & 255]; }
}
"""
MODEL_C = f"""
#include <stdint.h>
const uint8_t sl_tflite_model_array[{MODEL_BYTES}] __attribute__((aligned(16))) = {{0x1c, 0, 0, 0, 'T', 'F', 'L', '3'}};
const int sl_tflite_model_len = {MODEL_BYTES};
"""
MAIN_CC = r"""
#include <stdint.h>
#include <stdio.h>
#include "qbuild_board.h"
extern "C" const uint8_t sl_tflite_model_array[];
namespace qbuild { int run(const int8_t* in, int n); }
alignas(16) static uint8_t tensor_arena[ARENA_BYTES];
#ifdef EXTRA
__attribute__((noinline)) int extra_feature(int x) { return x * 3 + tensor_arena[x]; }
#endif
int main() {
    tensor_arena[0] = sl_tflite_model_array[4];
    int r = qbuild::run(reinterpret_cast<const int8_t*>(tensor_arena), 16);
#ifdef EXTRA
    r += extra_feature(r & 7);
#endif
    char line[32];
    int n = snprintf(line, sizeof line, "r=%d\n", r);
    qbuild_write(line, (size_t)n);
    return 0;
}
"""


def sh(*cmd, cwd=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def build_firmware(board_id: str, out: Path, arena: int, extra: bool = False) -> Path:
    """Compile each part into its own object (like the SCons build) and link with the board's script + map."""
    board = load_board(board_id)
    src = out / "src"
    for rel, text in (("runtime/src/kernels.cc", RUNTIME_CC), ("sl_tflite_micro_model.c", MODEL_C),
                      ("main.cc", MAIN_CC)):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    inc = [f"-I{d}" for d in board.include_dirs()]
    objs = []
    jobs = [(src / "runtime/src/kernels.cc", out / "runtime/src/kernels.o"),
            (src / "sl_tflite_micro_model.c", out / "sl_tflite_micro_model.o"),
            (src / "main.cc", out / "main.o")]
    jobs += [(s, out / "support" / (s.stem + ".o")) for s in board.support_sources()]
    for source, obj in jobs:
        obj.parent.mkdir(parents=True, exist_ok=True)
        cxx = source.suffix == ".cc"
        flags = board.cxxflags if cxx else board.cflags
        defines = [f"-DARENA_BYTES={arena}"] + (["-DEXTRA"] if extra else [])
        sh(board.cxx if cxx else board.cc, *flags, "-O2", *inc, *defines, "-c", source, "-o", obj)
        objs.append(obj)
    elf = out / "firmware.elf"
    script = write_linker_script(board, out / "firmware.ld") if board.bare_metal else None
    sh(board.link, *objs, *board.link_flags(script, out / "firmware.map"), "-o", elf)
    return elf


@pytest.fixture(scope="session")
def fw(tmp_path_factory):
    """Firmware variants: (board, arena bytes, extra function) -> ELF path."""
    root = tmp_path_factory.mktemp("fp")
    cache = {}

    def get(board_id, arena=4096, extra=False):
        key = (board_id, arena, extra)
        if key not in cache:
            cache[key] = build_firmware(board_id, root / f"{board_id}-{arena}-{int(extra)}", arena, extra)
        return cache[key]
    return get


@pytest.fixture(scope="session")
def foreign(tmp_path_factory):
    out = tmp_path_factory.mktemp("foreign")
    elf = out / "foreign.elf"
    board = load_board("efr32")
    sh("arm-none-eabi-gcc", *board.flags, "-O1", "-funwind-tables", "-ffunction-sections", "-fdata-sections",
       FIXTURES / "foreign_main.c", FIXTURES / "foreign_startup.S", "-nostartfiles", "--specs=nano.specs",
       "--specs=nosys.specs", "-T", FIXTURES / "foreign.ld", "-Wl,--gc-sections", f"-Wl,-Map={out / 'foreign.map'}",
       "-o", elf)
    return elf


def size_A(elf: Path) -> dict[str, tuple[int, int]]:
    """arm-none-eabi-size -A: section -> (size, addr), allocated sections only (debug ones sit at address 0)."""
    rows = {}
    for line in sh("arm-none-eabi-size", "-A", elf).splitlines()[2:]:
        parts = line.split()
        if len(parts) == 3 and parts[0] != "Total" and int(parts[2]):
            rows[parts[0]] = (int(parts[1]), int(parts[2]))
    return rows


def objcopy_size(elf: Path, tmp: Path) -> int:
    binary = tmp / (elf.stem + ".bin")
    sh("arm-none-eabi-objcopy", "-O", "binary", elf, binary)
    return binary.stat().st_size


def efr32_regions():
    return [Region("flash", 0x08000000, 1536 * 1024), Region("ram", 0x20000000, 256 * 1024)]


# --- accounting ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["qbuild", "foreign"])
def test_sections_match_size_A(fw, foreign, which):
    elf = fw("efr32") if which == "qbuild" else foreign
    report = analyze(elf, board="efr32")
    ours = {s["name"]: (s["size"], s["vma"]) for s in report["sections"]}
    theirs = size_A(elf)
    if which == "foreign":   # (COPY) sections are not allocated: they come back as symbol-sized reservations
        reserved = {r["component"]: r["size"] for r in report["reservations"]}
        assert (theirs.pop(".heap")[0], theirs.pop(".stack_dummy")[0]) == (reserved["heap"], reserved["stack"])
    assert ours == theirs
    assert report["ok"], report["failures"]


@pytest.mark.parametrize("which", ["qbuild", "foreign"])
def test_flash_used_is_the_binary_image(fw, foreign, tmp_path, which):
    elf = fw("efr32") if which == "qbuild" else foreign
    report = analyze(elf, board="efr32")
    assert report["regions"]["flash"]["used"] == objcopy_size(elf, tmp_path)


def test_ram_is_data_bss_heap_stack(fw):
    elf = fw("efr32")
    sizes = size_A(elf)
    report = analyze(elf, board="efr32")
    ram = report["regions"]["ram"]
    assert ram["padding"] == 0
    assert ram["used"] == sum(sizes[s][0] for s in (".data", ".bss", ".heap", ".stack"))
    assert report["components"]["stack"]["ram"] == 8192 and report["components"]["heap"]["ram"] == 2048
    flash = {s["name"] for s in report["sections"] if "flash" in s["regions"]}
    assert ".data" in flash and ".bss" not in flash


def test_foreign_elf_copy_sections_ramfunc_exidx(foreign, tmp_path):
    report = analyze(foreign, regions=efr32_regions())
    sections = {s["name"]: s for s in report["sections"]}
    sizes = size_A(foreign)
    assert sections[".ARM.exidx"]["type"] == "ARM_EXIDX" and sections[".ARM.exidx"]["regions"] == ["flash"]
    assert sections[".init_array"]["regions"] == ["flash"]                # writable, but lives in flash
    assert sections[".data"]["flags"] == "WAX" and sections[".data"]["regions"] == ["flash", "ram"]
    assert ".heap" not in sections and ".stack_dummy" not in sections    # (COPY): not allocated
    reservations = {r["component"]: r for r in report["reservations"]}
    assert (reservations["heap"]["size"], reservations["heap"]["from"]) == (0x400, "symbols")
    assert (reservations["stack"]["size"], reservations["stack"]["start"]) == (0xC00, 0x20040000 - 0xC00)
    ram = report["regions"]["ram"]["used"]
    assert ram == sizes[".data"][0] + sizes[".bss"][0] + 0x400 + 0xC00
    assert report["regions"]["flash"]["used"] == objcopy_size(foreign, tmp_path)
    ramfunc = next(s for s in report["symbols"] if s["name"] == "fast_add")
    assert ramfunc["regions"] == ["flash", "ram"] and ramfunc["component"] == "app"


def test_components_add_up_with_map(fw):
    elf = fw("efr32")
    report = analyze(elf, board="efr32")
    assert report["attribution"] == "map" and report["map"].endswith("firmware.map")
    comps = report["components"]
    for region in ("flash", "ram"):
        assert sum(c[region] for c in comps.values()) == report["regions"][region]["used"]
    assert comps["model"] == {"flash": MODEL_BYTES, "ram": 0}           # (the unused length is gc'd)
    assert comps["arena"] == {"flash": 0, "ram": 4096}
    for name in ("runtime", "app", "startup", "libc"):
        assert comps[name]["flash"] > 0, name
    assert comps["other"]["flash"] < 64          # fill only: everything else is attributed
    runtime = {s["name"] for s in report["symbols"] if s["component"] == "runtime"}
    assert "qbuild::run(signed char const*, int)" in runtime                 # demangled
    component_of = {s["name"]: s["component"] for s in report["symbols"]}
    assert (component_of["tensor_arena"], component_of["sl_tflite_model_array"], component_of["main"]) == (
        "arena", "model", "app")
    startup = {s["name"] for s in report["symbols"] if s["component"] == "startup"}
    assert {"Reset_Handler", "__vector_table", "_sbrk"} <= startup


def test_components_without_map_fall_back_to_symbols(fw):
    elf = fw("efr32")
    with_map = analyze(elf, board="efr32")
    elf_only = elf.parent / "nomap" / "firmware.elf"
    elf_only.parent.mkdir(exist_ok=True)
    elf_only.write_bytes(elf.read_bytes())
    report = analyze(elf_only, board="efr32")
    assert report["attribution"] == "symbols" and report["map"] is None
    comps = report["components"]
    assert comps["arena"] == with_map["components"]["arena"]
    assert comps["model"]["flash"] == MODEL_BYTES
    assert 0 < comps["runtime"]["flash"] <= with_map["components"]["runtime"]["flash"]
    for region in ("flash", "ram"):
        assert sum(c[region] for c in comps.values()) == report["regions"][region]["used"]


def test_map_of_another_link_is_rejected_or_ignored(fw, tmp_path):
    small, big = fw("efr32", arena=4096), fw("efr32", arena=5120, extra=True)
    other_map = big.with_suffix(".map")
    with pytest.raises(QbuildError, match=r"map file .* does not belong to .*; pass the map written by the same link"):
        analyze(small, board="efr32", map_path=other_map)
    stale = tmp_path / "firmware.elf"                                # an auto-detected stale <elf>.map
    stale.write_bytes(small.read_bytes())
    stale.with_suffix(".map").write_bytes(other_map.read_bytes())
    assert analyze(stale, board="efr32")["attribution"] == "symbols"


MAP_SNIPPET = """\
Archive member included to satisfy reference by file (symbol)

/usr/lib/libc_nano.a(libc_a-memcpy.o)  main.o (memcpy)

Linker script and memory map

LOAD main.o
START GROUP
LOAD /usr/lib/libc_nano.a
END GROUP
                0x00002000                __qbuild_stack_size = 0x2000

.text           0x08000000      0x130
 *(.text .text.*)
 .text._ZN6qbuild5Model4loadEPKvPvj
                0x08000000       0x100 build/efr32/obj/runtime/src/model.o
                0x08000000                qbuild::Model::load(void const*, void*, unsigned int)
 .text.memcpy   0x08000100       0x2a /usr/lib/libc_nano.a(libc_a-memcpy.o)
 *fill*         0x0800012a        0x2 
 .text.main     0x0800012c        0x4 build/efr32/digits/main.o
 .text.unused   0x08000130        0x0 build/efr32/digits/main.o

ram_code        0x20000000       0x10 load address 0x08000130
 .ramfunc       0x20000000       0x10 build/efr32/obj/boards/support/startup_cortex_m.o
 COMMON         0x20000010        0x8 build/efr32/digits/sl_tflite_micro_model.o
OUTPUT(firmware.elf elf32-littlearm)

Cross Reference Table
.text          0x0 0x4 cross.o
"""


def test_parse_map_wrapped_fill_common_and_custom_sections(tmp_path):
    path = tmp_path / "fw.map"
    path.write_text(MAP_SNIPPET)
    records = parse_map(path)
    assert records == [
        (".text", 0x08000000, 0x100, "build/efr32/obj/runtime/src/model.o"),
        (".text", 0x08000100, 0x2A, "/usr/lib/libc_nano.a(libc_a-memcpy.o)"),
        (".text", 0x0800012C, 0x4, "build/efr32/digits/main.o"),
        ("ram_code", 0x20000000, 0x10, "build/efr32/obj/boards/support/startup_cortex_m.o"),
        ("ram_code", 0x20000010, 0x8, "build/efr32/digits/sl_tflite_micro_model.o"),
    ]
    assert [classify_object(r[3]) for r in records] == ["runtime", "libc", "app", "startup", "model"]
    assert classify_object("/home/me/runtime/build/main.o") == "app"     # checkout path named runtime
    path.write_text("not a map\n")
    with pytest.raises(QbuildError, match="is not a GNU ld map file"):
        parse_map(path)


def test_host_elf_has_no_limits(fw):
    report = analyze(fw("host"), board="host")
    assert report["ok"] and report["pointer_bits"] == 64
    for region in report["regions"].values():
        assert region["origin"] is None and region["limit"] is None and region["used"] > 0
    assert report["components"]["model"]["flash"] == MODEL_BYTES
    assert report["components"]["arena"]["ram"] == 4096


# --- budgets -------------------------------------------------------------------------------------------------------
def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "qbuild", "size", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


def test_too_big_for_efr32bg22_fails_with_breakdown_after_writing_reports(fw, tmp_path):
    elf = fw("efr32bg22", arena=72 * 1024)
    out_json, out_md = tmp_path / "footprint.json", tmp_path / "footprint.md"
    result = run_cli(elf, "--board", "efr32bg22", "--json", out_json, "--markdown", out_md)
    assert result.returncode == 1
    report = json.loads(out_json.read_text())                     # written before failing
    used = report["regions"]["ram"]["used"]
    assert used > 32768 and not report["ok"]
    expected = (f"qbuild size: error: ram over budget by {used - 32768:,} bytes (used {used:,} of 32,768); "
                f"biggest: arena 73,728, stack 4,096, heap 1,024")
    assert result.stderr.strip().splitlines() == [expected]
    assert "FAILED" in out_md.read_text() and "ram over budget" in out_md.read_text()
    assert "OVER" in result.stdout and "Traceback" not in result.stderr


def test_small_arena_fits_efr32bg22(fw):
    assert analyze(fw("efr32bg22", arena=4096), board="efr32bg22")["ok"]


def test_margin_both_from_argument_and_board_file(fw, tmp_path):
    elf = fw("efr32")
    used = analyze(elf, board="efr32")["regions"]["ram"]["used"]
    keep = 262144 - used + 1                                      # one byte too much to keep free
    report = analyze(elf, board="efr32", margin={"ram": keep})
    assert not report["ok"] and report["failures"][0].startswith("ram over budget by 1 bytes")
    assert analyze(elf, board="efr32", margin={"ram": keep - 1})["ok"]
    board_file = tmp_path / "efr32.toml"
    board_file.write_text(load_board("efr32").path.read_text() + '\n[budget]\nram_margin = "99%"\n')
    report = analyze(elf, board=board_file)
    assert report["regions"]["ram"]["margin"] == "99%" and report["regions"]["ram"]["limit"] == 2621
    assert "after a 99% margin" in report["failures"][0]


def test_flash_overflow_fails_too(fw):
    elf = fw("efr32")
    report = analyze(elf, regions=[Region("flash", 0x08000000, 4096), Region("ram", 0x20000000, 262144)])
    assert [f.split(" (")[0] for f in report["failures"]] == [
        f"flash over budget by {report['regions']['flash']['used'] - 4096:,} bytes"]


def test_elf_for_another_board_is_one_line(fw):
    report = analyze(fw("qemu-m33"), board="efr32bg22")
    assert len(report["failures"]) == 1 and "linked for another memory map" in report["failures"][0]


# --- baseline ------------------------------------------------------------------------------------------------------
def test_baseline_deltas_and_max_growth_both_ways(fw, tmp_path):
    small, big = fw("efr32", arena=4096), fw("efr32", arena=5120, extra=True)
    base_json = tmp_path / "base.json"
    write_reports(analyze(small, board="efr32"), base_json, None)

    grown = analyze(big, board="efr32", baseline=base_json)
    ram_delta = grown["baseline"]["regions"]["ram"]["delta"]
    assert ram_delta >= 1024 and grown["baseline"]["components"]["arena"]["ram"]["delta"] == 1024
    symbols = {s["name"]: s for s in grown["baseline"]["symbols"]}
    assert symbols["tensor_arena"]["status"] == "grown" and symbols["tensor_arena"]["delta"] == 1024
    assert symbols["extra_feature(int)"]["status"] == "new"

    over = run_cli(big, "--board", "efr32", "--baseline", base_json, "--max-growth", ram_delta - 1)
    assert over.returncode == 1
    assert over.stderr.strip() == (f"qbuild size: error: ram grew by {ram_delta:,} bytes since the baseline "
                                   f"(max_growth {ram_delta - 1:,}); growing: arena +1,024; biggest growth: tensor_arena +1,024")
    assert run_cli(big, "--board", "efr32", "--baseline", base_json, "--max-growth", ram_delta).returncode == 0

    big_json = tmp_path / "big.json"
    write_reports(grown, big_json, None)
    shrunk = analyze(small, board="efr32", baseline=big_json, max_growth=0)
    assert shrunk["ok"] and shrunk["baseline"]["regions"]["ram"]["delta"] == -ram_delta
    symbols = {s["name"]: s["status"] for s in shrunk["baseline"]["symbols"]}
    assert symbols["tensor_arena"] == "shrunk" and symbols["extra_feature(int)"] == "gone"
    md = render_markdown(shrunk)
    assert "#### Since the baseline" in md and f"| ram | {analyze(big, board='efr32')['regions']['ram']['used']:,}" in md


def test_reports_are_written_whole_with_normal_permissions(fw, tmp_path):
    report = analyze(fw("efr32"), board="efr32")
    write_reports(report, tmp_path / "fp.json", tmp_path / "fp.md")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("fp.json", "fp.md"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fp.json", "fp.md"]     # no temp files left
    assert json.loads((tmp_path / "fp.json").read_text()) == json.loads(json.dumps(report))


def test_bad_baseline_is_one_line(tmp_path, fw):
    bad = tmp_path / "b.json"
    bad.write_text('{"version": 99}')
    with pytest.raises(QbuildError, match="not a qbuild footprint.json version 1"):
        analyze(fw("efr32"), board="efr32", baseline=bad)


# --- schema --------------------------------------------------------------------------------------------------------
def validate(value, schema, path="$"):
    """The JSON Schema keywords SCHEMA uses: type, const, enum, minimum, properties, required,
    additionalProperties, items, oneOf. Returns a list of errors."""
    types = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool, "null": type(None)}
    errors = []
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if not validate(value, s, path)]
        return [] if len(matches) == 1 else [f"{path}: matches {len(matches)} of oneOf"]
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(isinstance(value, types[t]) and not (t == "integer" and isinstance(value, bool)) for t in allowed)
        if not ok:
            return [f"{path}: {value!r} is not {allowed}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and isinstance(value, int) and value < schema["minimum"]:
        errors.append(f"{path}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        errors += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                errors += validate(v, props[k], f"{path}.{k}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected {k}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += validate(v, schema["additionalProperties"], f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors


def test_json_validates_against_documented_schema(fw, foreign, tmp_path):
    base = analyze(fw("efr32"), board="efr32")
    write_reports(base, tmp_path / "base.json", None)
    reports = [base, analyze(foreign, regions=efr32_regions(), baseline=tmp_path / "base.json",
                                       max_growth=100), analyze(fw("host"), board="host")]
    for report in reports:
        on_disk = json.loads(json.dumps(report))
        assert validate(on_disk, SCHEMA) == []
    broken = json.loads(json.dumps(base))
    del broken["regions"]["ram"]["used"]
    broken["components"]["model"]["flash"] = -1
    assert validate(broken, SCHEMA) == ["$.regions.ram: missing used", "$.components.model.flash: -1 < 0"]
    documented = (ROOT / "docs" / "footprint.md").read_text()
    schema_block = re.search(r"```json\n(\{\n \"\$schema\".*?)\n```", documented, re.S).group(1)
    assert json.loads(schema_block) == json.loads(json.dumps(SCHEMA)), \
        "docs/footprint.md schema is stale: paste `python -m qbuild size --schema`"


# --- CLI and errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"not an elf at all\n", b"\x7fELF\x01\x01\x01" + b"\0" * 20])
def test_corrupt_or_non_elf_is_one_clear_line(tmp_path, content):
    bad = tmp_path / "firmware.elf"
    bad.write_bytes(content)
    result = run_cli(bad, "--board", "efr32")
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(rf"qbuild size: error: {re.escape(str(bad))} is (not a readable|a corrupt) "
                                        r"ELF file", lines[0]), lines


def test_truncated_real_elf_is_one_clear_line(foreign, tmp_path):
    bad = tmp_path / "cut.elf"
    bad.write_bytes(foreign.read_bytes()[:foreign.stat().st_size * 3 // 5])
    result = run_cli(bad, "--board", "efr32")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.fullmatch(rf"qbuild size: error: {re.escape(str(bad))} is a corrupt ELF file \(.*\); rebuild it\n",
                        result.stderr), result.stderr


def test_cli_explicit_regions_console_and_markdown(foreign, tmp_path):
    md = tmp_path / "fp.md"
    result = run_cli(foreign, "--flash", "0x08000000:1572864", "--ram", "0x20000000:262144", "--markdown", md)
    assert result.returncode == 0, result.stderr
    flash_line = next(line for line in result.stdout.splitlines() if line.startswith("flash"))
    assert re.search(r"0x08000000\s+4,804\s+1,572,864\s+0\.3%\s+\[\.+\]", flash_line), flash_line
    text = md.read_text()
    assert text.splitlines()[1] == "### Footprint: OK" and "| flash | 0x08000000 | 4,804 | 1,572,864 | 0.3 % |" in text
    bad = run_cli(foreign, "--flash", "0x08000000", "--ram", "0x20000000:1")
    assert bad.returncode == 2 and "ORIGIN:LENGTH in bytes" in bad.stderr
    assert run_cli(foreign).stderr.strip() == ("qbuild size: error: no memory map: pass --board ID or "
                                               "--flash ORIGIN:LEN --ram ORIGIN:LEN")
    margin = run_cli(foreign, "--board", "efr32", "--margin", "ram=98%", "--margin", "flash=1024")
    assert margin.returncode == 1 and margin.stderr.startswith("qbuild size: error: ram over budget by ")
    assert "after a 98% margin" in margin.stderr and "flash" not in margin.stderr
    assert "needs --baseline" in run_cli(foreign, "--board", "efr32", "--max-growth", "1").stderr


def test_prefixed_models_and_arenas_are_attributed():
    """Several models in one firmware: QbuildModel(symbol="kws") names the array kws_model_array in kws_model.o, and an
    application may give each model its own <prefix>_tensor_arena; the footprint counts them as model and arena."""
    from qbuild.footprint.attribution import carved_component

    assert [carved_component(s) for s in ("sl_tflite_model_array", "kws_model_array", "tensor_arena",
                                          "kws_tensor_arena", "model_array", "kws_model_len")] == \
        ["model", "model", "arena", "arena", None, None]
    assert [classify_object(p) for p in ("build/efr32/digits/sl_tflite_micro_model.o", "build/m/kws_model.o",
                                         "build/app.o", "build/mymodel.o")] == ["model", "model", "app", "app"]


def test_op_table_for_several_models(tmp_path):
    """`python -m qbuild ops A.tflite B.tflite out.h`: the switches are on for the union of the models' ops."""
    from qbuild.tflite.plan import SUPPORTED_OPS, check_ops
    from qbuild.tflite.reader import read_model

    mltk = ROOT / ".cache" / "mltk"
    models = [mltk / "image_example1.tflite", mltk / "anomaly_detection.tflite"]
    out = tmp_path / "qbuild_ops.h"
    subprocess.run([sys.executable, "-m", "qbuild", "ops", *map(str, models), str(out)], cwd=ROOT, check=True)
    on = set(re.findall(r"#define QBUILD_OP_(\w+) 1", out.read_text()))
    each = [set(check_ops(read_model(m.read_bytes()))) for m in models]
    assert on == each[0] | each[1] and each[0] != each[1]
    assert set(re.findall(r"#define QBUILD_OP_(\w+) [01]", out.read_text())) == set(SUPPORTED_OPS)
