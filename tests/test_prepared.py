"""The build-time load path (Model::load(bytes, PreparedModel), tables from `python -m qbuild prepare`) against the
run-time path and TFLM: the same model through both paths in one program, on the host (64-bit pointers) and on
Cortex-M33 under QEMU (32-bit), every output byte equal to TFLM's; the prepared arena equals the build-time plan."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from qbuild.codegen import carray
from qbuild.codegen.prepared import render_prepared, tables
from qbuild.target.runtime import CXXFLAGS, WARNINGS, include_dirs, sources
from qbuild.tflite.plan import plan_model
from test_runtime_corpus import CORPUS_NAMES, MLTK_DIR, corpus, random_inputs, tflm_outputs  # noqa: F401

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]

MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "qbuild/qbuild.h"
#include "cases.h"
#ifdef QBUILD_TEST_BOARD
#include "qbuild_board.h"
#else
static void qbuild_write(const char* s, size_t n) { fwrite(s, 1, n, stdout); }
#endif
alignas(16) static unsigned char g_arena[QBUILD_TEST_ARENA];
static qbuild::Model g_model;
static void put(const char* s) { qbuild_write(s, strlen(s)); }
static void put_uint(unsigned long v) {
  char b[24];
  int n = 23;
  b[n] = 0;
  do { b[--n] = (char)('0' + v % 10); v /= 10; } while (v);
  put(b + n);
}
static void run(const Case& c, bool prepared) {
  qbuild::Status s = prepared ? g_model.load(c.model, *c.len, *c.prepared)
                              : g_model.load(c.model, *c.len, g_arena, sizeof(g_arena));
  put("case "); put(c.name); put(prepared ? " prepared " : " runtime "); put_uint((unsigned)s); put(" ");
  put_uint(g_model.arena_used_bytes()); put(" ");
  if (s == qbuild::Status::kOk) {
    const unsigned char* in = c.input;
    for (size_t i = 0; i < g_model.inputs_size(); ++i) {
      qbuild::TensorView* t = g_model.input(i);
      memcpy(t->data.raw, in, t->bytes);
      in += t->bytes;
    }
    s = g_model.invoke();
    put_uint((unsigned)s); put(" ");
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; s == qbuild::Status::kOk && i < g_model.outputs_size(); ++i) {
      const qbuild::TensorView* t = g_model.output(i);
      for (uint32_t k = 0; k < t->bytes; ++k) {
        char h[2] = {hex[t->data.uint8[k] >> 4], hex[t->data.uint8[k] & 15]};
        qbuild_write(h, 2);
      }
    }
  }
  put("\n");
}
int main() {
  for (unsigned i = 0; i < kCaseCount; ++i) {
    run(kCases[i], true);
    run(kCases[i], false);
    run(kCases[i], true);  // again after the run-time path used the other arena: nothing of it is left over
  }
#ifdef QBUILD_TEST_BOARD
  qbuild_exit(0);
#endif
  return 0;
}
"""


def write_sources(models: dict, out, tool_dir) -> tuple[list, int]:
    """The C array, prepared tables and input of every model plus the case table; returns (sources, arena bytes)."""
    out.mkdir(parents=True, exist_ok=True)
    srcs, decls, rows = [], [], []
    for k, (name, (path, inp)) in enumerate(sorted(models.items())):
        names = carray.naming(f"m{k}")
        data = path.read_bytes()
        (out / names.source).write_text(carray.render_model_c(data, path.name, names=names))
        (out / names.header).write_text(carray.render_model_h(path.name, names=names))
        ctx = tables(path, tool_dir, f"m{k}")
        (out / f"m{k}_prepared.cc").write_text(render_prepared(ctx, path.name))
        body = ",".join(str(b) for b in b"".join(x.tobytes() for x in inp)) or "0"
        decls.append(f'#include "{names.header}"\nextern "C" const qbuild::PreparedModel {ctx["prepared"]};\n'
                     f"alignas(16) static const unsigned char m{k}_input[] = {{{body}}};")
        rows.append(f'  {{"{name}", {names.array}, &{names.length}, &{ctx["prepared"]}, m{k}_input}},')
        srcs += [out / names.source, out / f"m{k}_prepared.cc"]
    (out / "cases.h").write_text(
        '#include <stdint.h>\n#include "qbuild/qbuild.h"\n' + "\n".join(decls) +
        "\nstruct Case { const char* name; const uint8_t* model; const uint32_t* len; "
        "const qbuild::PreparedModel* prepared; const unsigned char* input; };\n"
        "static const Case kCases[] = {\n" + "\n".join(rows) + "\n};\n"
        "static const unsigned kCaseCount = sizeof(kCases) / sizeof(kCases[0]);\n")
    (out / "main.cc").write_text(MAIN)
    return srcs + [out / "main.cc"], max(plan_model(p.read_bytes(), 8).arena_bytes for p, _ in models.values())


def parse(text: str) -> dict:
    got = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] == "case":
            got.setdefault(parts[1], []).append((parts[2], int(parts[3]), int(parts[4]),
                                                 bytes.fromhex(parts[6]) if len(parts) > 6 else None))
    return got


def check(got: dict, models: dict) -> None:
    assert sorted(got) == sorted(models)
    for name, (path, inp) in models.items():
        data = path.read_bytes()
        expected = b"".join(o.tobytes() for o in tflm_outputs(data, inp))
        (p1, s1, a1, o1), (p2, s2, a2, o2), (p3, s3, a3, o3) = got[name]
        assert (p1, p2, p3) == ("prepared", "runtime", "prepared") and s1 == s2 == s3 == 0, (name, got[name][:3])
        assert o1 == expected and o2 == expected and o3 == expected, f"{name}: differs from TFLM"
        assert a1 == plan_model(data, 4, search=True).activation_bytes, name


def selection(corpus) -> dict:
    models = {n: corpus[n] for n in CORPUS_NAMES}
    models.update({p.stem: p for p in sorted(MLTK_DIR.glob("*.tflite"))} if MLTK_DIR.is_dir() else {})
    digits = ROOT / "build" / "models" / "digits" / "digits.tflite"
    if digits.is_file():
        models["digits"] = digits
    out = {}
    for name, path in models.items():
        out[name] = (path, random_inputs(path.read_bytes(), 2))
    return out


def check_both_paths_on_host(models: dict, tmp_path) -> None:
    """name -> (.tflite path, inputs): one host program runs each model prepared, run-time and prepared again; every
    output must equal TFLM's and the prepared activations the build-time plan's."""
    srcs, arena = write_sources(models, tmp_path / "src", tmp_path / "tool")
    exe = tmp_path / "prepared"
    subprocess.run(["g++", *CXXFLAGS, *WARNINGS, "-O1", f"-DQBUILD_TEST_ARENA={arena}",
                    *[f"-I{d}" for d in include_dirs()], f"-I{tmp_path / 'src'}", *map(str, sources() + srcs),
                    "-lm", "-o", str(exe)], check=True, capture_output=True, text=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300, check=True)
    check(parse(r.stdout), models)


def test_prepared_path_equals_runtime_path_and_tflm_on_host(corpus, tmp_path):
    check_both_paths_on_host(selection(corpus), tmp_path)


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ / qemu-system-arm missing: run scripts/setup")
def test_prepared_path_equals_runtime_path_and_tflm_on_cortex_m33(corpus, tmp_path):
    from qbuild.codegen.linker import write_linker_script
    from qbuild.target.boards import load_board
    from qbuild.target.firmware import run_firmware

    models = selection(corpus)
    srcs, _ = write_sources(models, tmp_path / "src", tmp_path / "tool")
    arena = max(plan_model(p.read_bytes(), 4).arena_bytes for p, _ in models.values())
    board = load_board("qemu-m33")
    script = write_linker_script(board, tmp_path / "fw.ld")
    inc = [f"-I{d}" for d in [*include_dirs(), *board.include_dirs(), tmp_path / "src"]]
    objs = []
    jobs = [(s, board.cxx if s.suffix == ".cc" else board.cc,
             [*board.cflags, *(board.cxx_only_flags + CXXFLAGS if s.suffix == ".cc" else []), "-Os"])
            for s in sources() + srcs]
    jobs += [(s, board.cc, [*board.cflags, "-Os"]) for s in board.support_sources()]
    for i, (src, compiler, flags) in enumerate(jobs):
        obj = tmp_path / f"{i:03d}_{src.stem}.o"
        r = subprocess.run([compiler, *flags, "-DQBUILD_TEST_BOARD", f"-DQBUILD_TEST_ARENA={arena}", *inc, "-c",
                            str(src), "-o", str(obj)], capture_output=True, text=True)
        assert r.returncode == 0, (src.name, r.stderr[-600:])
        objs.append(str(obj))
    elf = tmp_path / "fw.elf"
    r = subprocess.run([board.link, *board.link_flags(script, tmp_path / "fw.map"), "-Os", *objs, "-lm", "-o",
                        str(elf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-600:]
    code, text = run_firmware(board, elf)
    assert code == 0, text[-400:]
    check(parse(text), models)

    # An application that only calls the build-time load links no loader, planner or prepare.
    only = tmp_path / "only.cc"
    only.write_text('#include "cases.h"\n#include "qbuild_board.h"\nstatic qbuild::Model m;\nint main() {\n'
                    "  qbuild::Status s = m.load(kCases[0].model, *kCases[0].len, *kCases[0].prepared);\n"
                    "  qbuild_exit(s == qbuild::Status::kOk ? static_cast<int>(m.invoke()) : 1);\n}\n")
    main_obj = next(o for o in objs if o.endswith("_main.o"))
    r = subprocess.run([board.cxx, *board.cflags, *board.cxx_only_flags, *CXXFLAGS, "-Os", *inc, "-c", str(only),
                        "-o", str(tmp_path / "only.o")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-600:]
    r = subprocess.run([board.link, *board.link_flags(script, tmp_path / "only.map"), "-Os",
                        *[o for o in objs if o != main_obj], str(tmp_path / "only.o"), "-lm", "-o",
                        str(tmp_path / "only.elf")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-600:]
    nm = subprocess.run(["arm-none-eabi-nm", "-C", str(tmp_path / "only.elf")], capture_output=True, text=True).stdout
    linked = nm.splitlines()
    assert not [f for f in linked if "prepare_" in f or "load_impl" in f or "plan_buffers" in f], linked[:20]
    assert any("eval_" in f for f in linked)
