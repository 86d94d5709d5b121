"""Boards as data: validation, derived flags, generated linker script, and the startup/stdout support proven on
real toolchains (QEMU runs hello, faults and digits on every QEMU board, Cortex-M0 to M55; real-board images are checked
against the board map, and the Cortex-M0+ board builds digits within its footprint)."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from qbuild.target.boards import CPUS, load_board, list_boards
from qbuild.errors import QbuildError
from qbuild.codegen.linker import render_linker_script, write_linker_script
from tests.scons_helpers import fresh_tree, scons

BOARDS = ["efr32", "efr32bg22", "host", "qemu-m0", "qemu-m3", "qemu-m33", "qemu-m4", "qemu-m55", "qemu-m7", "samd21"]
# Every board that runs its firmware under QEMU (a runner command, not "native"/"none"): the list follows the data.
QEMU_BOARDS = [b for b in BOARDS if isinstance(load_board(b).runner, tuple)]
REAL_BOARDS = [b for b in BOARDS if load_board(b).runner == "none"]

HELLO_C = r"""
#include <math.h>
#include <stdio.h>
#include "qbuild_board.h"
static volatile float scale = 1.5f;      /* a float op right after reset: needs the FPU enabled */
static volatile double half = 2.5;        /* libm (round) must link with the board's flags */
int initialised = 41;                     /* .data copied from flash */
static int zeroed[8];                     /* .bss zeroed */
static int constructed;
__attribute__((constructor)) static void ctor(void) { constructed = 1; }   /* __libc_init_array ran */
int main(void) {
    char buf[96];
    int n = snprintf(buf, sizeof buf, "hello %d %d %d %d %d\n", initialised + 1, (int)(scale * 300.0f), zeroed[3],
                     constructed, (int)round(half));
    qbuild_write(buf, (size_t)n);
    printf("via printf\n");
    fflush(stdout);
    return 7;
}
"""

FAULT_C = r"""
#include "qbuild_board.h"
volatile int depth;
int recurse(int n) { volatile char pad[256]; pad[0] = (char)n; depth++; return recurse(n + 1) + pad[0]; }
int main(void) {
#ifdef OVERFLOW
    return recurse(0);
#else
    __asm volatile("udf #0");
    return 0;
#endif
}
"""


def build(board, src: Path, out_dir: Path, name: str, defines=()) -> Path:
    """Compile + link one C file with the board's flags, support sources and (bare metal) generated script."""
    out_dir.mkdir(parents=True, exist_ok=True)
    elf = out_dir / f"{name}.elf"
    script = write_linker_script(board, out_dir / f"{name}.ld") if board.bare_metal else None
    includes = [f"-I{d}" for d in board.include_dirs()]
    # Link flags first, as SCons puts LINKFLAGS before the objects: they must not depend on their position.
    cmd = [board.link, *board.link_flags(script, out_dir / f"{name}.map" if board.bare_metal else None),
           *board.cflags, "-O2", "-Wall", "-Werror", "-Wno-infinite-recursion", *includes, *defines, str(src),
           *map(str, board.support_sources()), "-o", str(elf)]
    if not board.bare_metal:
        cmd.append("-lm")   # the host links libm like any hosted program
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return elf


@pytest.fixture(scope="session")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("board_src")
    (d / "hello.c").write_text(HELLO_C)
    (d / "fault.c").write_text(FAULT_C)
    return d


@pytest.fixture(scope="session")
def hello_elves(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("board_hello")
    return {b: build(load_board(b), sources / "hello.c", out / b, "hello") for b in BOARDS}


# --- data and validation -------------------------------------------------------------------------------------------
def test_every_board_file_validates():
    assert list_boards() == BOARDS
    for board_id in BOARDS:
        board = load_board(board_id)
        assert board.id == board_id
        assert board.pointer_size == (8 if board_id == "host" else 4)


def test_memory_maps_in_bytes():
    efr32, bg22, qemu = load_board("efr32"), load_board("efr32bg22"), load_board("qemu-m33")
    assert (efr32.flash.origin, efr32.flash.length, efr32.ram.origin, efr32.ram.length) == (
        0x08000000, 1536 * 1024, 0x20000000, 256 * 1024)
    assert (bg22.flash.length, bg22.ram.length) == (512 * 1024, 32 * 1024)
    assert (qemu.flash.origin, qemu.flash.length, qemu.ram.origin, qemu.ram.length) == (
        0x10000000, 1536 * 1024, 0x38000000, 256 * 1024)
    assert load_board("host").regions == ()
    assert efr32.budget("ram") == efr32.ram.length and load_board("host").budget("ram") is None


def test_flags_and_tools():
    m33 = load_board("efr32")
    assert m33.cflags[:4] == ["-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"]
    for flag in ("-ffp-contract=off", "-ffunction-sections", "-fdata-sections"):
        assert flag in m33.cflags and flag in m33.cxxflags
    for flag in ("-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics", "-fno-use-cxa-atexit"):
        assert flag in m33.cxxflags and flag not in m33.cflags
    assert {"--specs=nano.specs", "-nostartfiles", "-Wl,--gc-sections"} <= set(m33.ldflags)
    assert (m33.cc, m33.cxx, m33.objcopy, m33.size) == (
        "arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-objcopy", "arm-none-eabi-size")
    host = load_board("host")
    assert (host.cc, host.cxx, host.link) == ("gcc", "g++", "g++") and "-nostartfiles" not in host.ldflags
    assert m33.link_flags("fw.ld", "fw.map")[-3:] == ["-T", "fw.ld", "-Wl,-Map=fw.map"]
    assert host.link_flags(None, None) == host.ldflags


def test_runner_commands():
    qemu = load_board("qemu-m33").runner_command("fw.elf")
    assert qemu[0] == "timeout" and "qemu-system-arm" in qemu and qemu[-1] == "fw.elf"
    assert "enable=on,target=native,chardev=sh0" in qemu
    assert load_board("host").runner_command("/x/fw") == ["timeout", "--kill-after=5", "60", "/x/fw"]
    assert load_board("efr32").runner_command("fw.elf") is None


def test_support_sources_exist():
    for board_id in BOARDS:
        for src in load_board(board_id).support_sources():
            assert src.is_file(), src
    assert [s.name for s in load_board("qemu-m33").support_sources()] == [
        "startup_cortex_m.c", "newlib_syscalls.c", "stdout_semihosting.c", "qbuild_print.c"]
    assert [s.name for s in load_board("host").support_sources()] == ["stdout_stdio.c", "qbuild_print.c"]


def test_unknown_board_lists_valid_ones():
    with pytest.raises(QbuildError, match=r"unknown board 'efr33'; valid boards: efr32, efr32bg22, host, qemu-m0, "
                                          r"qemu-m3, qemu-m33, qemu-m4, qemu-m55, qemu-m7, samd21$"):
        load_board("efr33")


def test_every_board_cpu_is_in_the_cpu_table():
    assert QEMU_BOARDS == ["qemu-m0", "qemu-m3", "qemu-m33", "qemu-m4", "qemu-m55", "qemu-m7"]
    cpus = {load_board(b).cpu for b in BOARDS}
    assert cpus == {"cortex-m0", "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55",
                    "x86-64"} == set(CPUS)


def _broken(tmp_path, old: str | None, new: str) -> Path:
    """efr32.toml with `old` replaced by `new` (old=None: `new` appended, e.g. a table)."""
    text = (Path(load_board("efr32").path)).read_text()
    assert old is None or old in text
    path = tmp_path / "efr32.toml"
    path.write_text(text + new if old is None else text.replace(old, new))
    return path


@pytest.mark.parametrize("old,new,message", [
    ('stdout = "weak"\n', "", r"key 'stdout' is missing"),
    ('stack_size = 8192', 'stack_size = 8192\nstak_size = 1', r"key 'stak_size' is unknown; valid keys: .*stack_size"),
    ('length = 262144', 'length = "256K"', r"key 'length' must be an integer number of bytes, got '256K'"),
    ('length = 262144', 'length = 262144\nsize = 1', r"key 'memory.ram.size' is unknown"),
    ('origin = 0x20000000', 'origin = 0x08010000', r"key 'memory.ram.origin' overlaps memory.flash"),
    ('stdout = "weak"', 'stdout = "uart"', r"key 'stdout' must be one of semihosting, stdio, weak"),
    ('stack_size = 8192', 'stack_size = 1001', r"key 'stack_size' must be a multiple of 8"),
    ('runner = "none"', 'runner = ["qemu-system-arm"]', r"key 'runner' must be a non-empty list .*\{elf\}"),
    (None, '\n[budget]\nram = 300000', r"key 'budget.ram' is 300000 bytes, more than"),
    (None, '\n[budget]\nram_margin = "110%"', r"budget.ram_margin' must be bytes"),
    ('id = "efr32"', 'id = "efr32" x', r"invalid TOML"),
    # an unknown cpu fails at load (it used to validate and fail later at a missing startup_<cpu>.c)
    ('cpu = "cortex-m33"', 'cpu = "cortex-m4f"',
     r"key 'cpu' must be one of cortex-m0, cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55, "
     r"x86-64, got 'cortex-m4f'$"),
    ('cpu = "cortex-m33"', 'cpu = "x86-64"', r"key 'cpu' 'x86-64' is built with toolchain 'host', not 'arm-none-eabi'"),
    ('cpu = "cortex-m33"', 'cpu = "cortex-m4"', r"key 'flags' has -mcpu=cortex-m33 but cpu is 'cortex-m4'"),
])
def test_broken_board_file_names_file_and_key(tmp_path, old, new, message):
    path = _broken(tmp_path, old, new)
    with pytest.raises(QbuildError, match=message) as info:
        load_board(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_budget_and_margin_from_file(tmp_path):
    path = _broken(tmp_path, None, '\n[budget]\nram = 200000\nram_margin = "10%"')
    board = load_board(path)
    assert board.budget("ram") == 200000 and board.margin("ram") == "10%" and board.budget("flash") == 1536 * 1024


# --- linker script -------------------------------------------------------------------------------------------------
def test_linker_script_memory_block_from_board():
    text = render_linker_script(load_board("efr32bg22"))
    assert text.startswith("/* generated by qbuild from boards/efr32bg22.toml")
    assert "FLASH (rx)  : ORIGIN = 0x00000000" in text and "RAM   (rwx) : ORIGIN = 0x20000000" in text
    assert "__qbuild_stack_size = 4096;" in text and "__qbuild_heap_size = 1024;" in text
    for symbol in ("__StackTop", "__StackLimit", "__HeapBase", "__HeapLimit", "_sdata", "_edata", "_sidata",
                   "_sbss", "_ebss"):
        assert f"{symbol} = " in text
    with pytest.raises(QbuildError, match="no memory map"):
        render_linker_script(load_board("host"))


# --- the support code on real toolchains ---------------------------------------------------------------------------
def run(board, elf):
    return subprocess.run(board.runner_command(elf), capture_output=True, text=True, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_qemu_hello_prints_and_returns_exit_code(hello_elves, board_id):
    result = run(load_board(board_id), hello_elves[board_id])
    assert result.stdout == "hello 42 450 0 1 3\nvia printf\n"
    assert result.returncode == 7


def test_host_hello(hello_elves):
    result = run(load_board("host"), hello_elves["host"])
    assert (result.stdout, result.returncode) == ("hello 42 450 0 1 3\nvia printf\n", 7)


def symbols(elf_path):
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        return {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}


@pytest.mark.parametrize("board_id", [*REAL_BOARDS, "qemu-m0", "qemu-m33", "qemu-m55"])
def test_image_inside_board_map(hello_elves, board_id):
    board = load_board(board_id)
    elf_path = hello_elves[board_id]
    syms = symbols(elf_path)
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        vectors = elf.get_section_by_name(".vectors")
        assert vectors["sh_addr"] == board.flash.origin          # vector table at the flash origin
        initial_sp, reset = [int.from_bytes(vectors.data()[i:i + 4], "little") for i in (0, 4)]
        assert initial_sp == syms["__StackTop"] and board.ram.origin < initial_sp <= board.ram.end
        assert reset == syms["Reset_Handler"] | 1                # Thumb bit
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            region = board.flash if seg["p_flags"] & 1 else board.ram
            assert region.origin <= seg["p_vaddr"] and seg["p_vaddr"] + seg["p_memsz"] <= region.end
            if seg["p_filesz"]:
                assert board.flash.origin <= seg["p_paddr"] and seg["p_paddr"] + seg["p_filesz"] <= board.flash.end
        heap, stack = elf.get_section_by_name(".heap"), elf.get_section_by_name(".stack")
        assert (heap["sh_size"], stack["sh_size"]) == (board.heap_size, board.stack_size)
    assert syms["__StackTop"] - syms["__StackLimit"] == board.stack_size
    assert syms["__HeapLimit"] - syms["__HeapBase"] == board.heap_size
    assert Path(str(elf_path).replace(".elf", ".map")).is_file()


STACK_OVERFLOW = r"^qbuild: fault: stack overflow, raise stack_size in the board file cfsr=0x00100000"


@pytest.mark.parametrize("board_id,defines,message", [
    ("qemu-m33", (), r"^qbuild: fault pc=0x1000[0-9a-f]{4} lr=0x[0-9a-f]{8} cfsr=0x00010000 hfsr"),  # UNDEFINSTR
    ("qemu-m33", ("-DOVERFLOW",), STACK_OVERFLOW),
    ("qemu-m55", ("-DOVERFLOW",), STACK_OVERFLOW),   # Armv8.1-M: MSPLIM too
    ("qemu-m3", (), r"^qbuild: fault pc=0x0000[0-9a-f]{4} lr=0x[0-9a-f]{8} cfsr=0x00010000 hfsr"),
    # Armv6-M has no CFSR/HFSR (reading them would fault again): pc and lr only, from a Thumb-1 handler
    ("qemu-m0", (), r"^qbuild: fault pc=0x0000[0-9a-f]{4} lr=0x[0-9a-f]{8}\n$"),
])
def test_faults_print_a_line_and_exit_nonzero_under_qemu(sources, tmp_path, board_id, defines, message):
    board = load_board(board_id)
    elf = build(board, sources / "fault.c", tmp_path, "fault", defines)
    result = run(board, elf)
    assert result.returncode == 134
    assert result.stdout.count("\n") == 1
    assert re.match(message, result.stdout), result.stdout


def test_weak_stdout_is_overridable(sources, tmp_path):
    """efr32's qbuild_write is weak: a firmware's own definition wins at link time."""
    board = load_board("efr32")
    src = tmp_path / "uart.c"
    src.write_text('#include "qbuild_board.h"\nvolatile unsigned sent;\n'
                   'void qbuild_write(const char* s, size_t n) { (void)s; sent += n; }\n'
                   'int main(void) { qbuild_write("x", 1); return 0; }\n')
    elf = build(board, src, tmp_path, "uart")
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    assert any(line.endswith(" T qbuild_write") for line in out.splitlines())


def test_tools_present():
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "gcc"):
        assert shutil.which(tool), f"{tool} missing: run scripts/setup"


# --- digits on every QEMU board, and on the Cortex-M0+ part --------------------------------------------------------
@pytest.fixture(scope="module")
def digits_tree(tmp_path_factory):
    return fresh_tree(tmp_path_factory.mktemp("boards_digits"))


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_digits_runs_bit_exact_on_every_qemu_board(digits_tree, board_id):
    p = scons(digits_tree, f"board={board_id}", "model=digits", "run")
    result = json.loads((digits_tree / "build" / board_id / "digits" / "run.json").read_text())
    assert result["ok"] and result["samples"] == 5 and result["differences"] == [] and result["exit_code"] == 0
    assert f"{board_id}: firmware output identical to the reference on 5 samples" in p.stdout


def _instructions(elf: Path) -> list[str]:
    out = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    return [line.split("\t")[2] for line in out.splitlines() if line.count("\t") >= 2]


def test_cortex_m0plus_board_builds_digits_within_its_footprint(digits_tree):
    """samd21 (a real Cortex-M0+ part, 32 KB RAM): the firmware links Thumb-1 only, the portable kernels (no DSP, no
    hardware divide), and the footprint check passes against the part's map."""
    scons(digits_tree, "board=samd21", "model=digits")
    out = digits_tree / "build" / "samd21" / "digits"
    footprint = json.loads((out / "footprint.json").read_text())
    assert footprint["ok"] and footprint["failures"] == []
    assert footprint["regions"]["ram"]["limit"] == 32768 and footprint["regions"]["ram"]["used"] < 32768
    attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(out / "firmware.elf")], capture_output=True, text=True,
                           check=True).stdout
    assert "Tag_CPU_arch: v6S-M" in attrs and "Tag_THUMB_ISA_use: Thumb-1" in attrs
    mnemonics = set(_instructions(out / "firmware.elf"))
    assert mnemonics and not mnemonics & {"sdiv", "udiv", "smlad", "sxtb16", "sxtab16", "ssat"}
