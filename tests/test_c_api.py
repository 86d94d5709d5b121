"""The C API (runtime/include/qbuild/qbuild_c.h): examples/c/main.c, plain C11 compiled with the C compiler, runs the
digits model on the host and on Cortex-M33 under QEMU, its outputs bit-exact with the TFLM interpreter; statuses,
tensor descriptions and parameters from C; "qbuild/qbuild.h" still gives the C++ API to C++."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from qbuild.codegen.linker import write_linker_script
from qbuild.target.boards import load_board
from qbuild.target.firmware import compare, parse_run, reference_outputs, run_firmware
from qbuild.target.runtime import CXXFLAGS, WARNINGS, include_dirs, sources

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "c"
C_FLAGS = ["-std=c11", *WARNINGS, "-Werror", "-pedantic"]
BOARDS = ["host", pytest.param("qemu-m33", marks=pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="arm-none-eabi-gcc / qemu-system-arm missing: run scripts/setup"))]


def build_digits(tmp_path_factory, symbol: str | None = None) -> Path:
    """`python -m qbuild build digits` into one folder per test session (trained once; another symbol only adds its C
    array); returns the model's folder."""
    out = tmp_path_factory.getbasetemp() / "digits-build"
    cmd = [sys.executable, "-m", "qbuild", "build", "digits", "--out", str(out)] + (["--symbol", symbol] if symbol else [])
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return out / "digits"


def build_program(board_id: str, out_dir: Path, c_sources: list, includes: list, defines=(), opt="-Os",
                  cxx_sources=()) -> Path:
    """C sources (C11, warnings are errors) + C++ sources and the runtime (qbuild.target.runtime.CXXFLAGS) + the board's
    support, linked for `board_id` as the firmware build links them; returns the executable."""
    board = load_board(board_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    inc = [f"-I{d}" for d in [*includes, *include_dirs(), *board.include_dirs()]]
    defs = [f"-D{d}" for d in defines]
    jobs = [(s, [board.cc, *board.cflags, *C_FLAGS, opt, *defs]) for s in c_sources]
    jobs += [(s, [board.cxx, *board.cxxflags, *CXXFLAGS, *WARNINGS, opt]) for s in [*cxx_sources, *sources()]]
    jobs += [(s, [board.cc, *board.cflags, opt]) for s in board.support_sources()]

    def compile_one(i_job):
        i, (src, cmd) = i_job
        obj = out_dir / f"{i:02d}_{Path(src).stem}.o"
        r = subprocess.run([*cmd, *inc, "-c", str(src), "-o", str(obj)], capture_output=True, text=True)
        assert r.returncode == 0, f"{src}: {r.stderr[:2000]}"
        return str(obj)

    with ThreadPoolExecutor(2) as pool:
        objs = list(pool.map(compile_one, enumerate(jobs)))
    script = write_linker_script(board, out_dir / "fw.ld") if board.bare_metal else None
    exe = out_dir / "fw.elf"
    r = subprocess.run([board.link, *board.link_flags(script, out_dir / "fw.map"), opt, *objs, "-lm", "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[:2000]
    return exe


def run(board_id: str, exe: Path) -> str:
    code, text = run_firmware(load_board(board_id), exe)
    assert code == 0, text[-1000:]
    return text


def example_samples() -> np.ndarray:
    """The raw images of examples/c/samples.h, read back from the header."""
    text = (EXAMPLE / "samples.h").read_text()
    body = re.search(r"digits_samples\[[^]]*\]\[[^]]*\] = \{(.*?)\};", text, re.S).group(1)
    return np.array([int(v) for v in re.findall(r"\d+", body)], dtype=np.uint8).reshape(-1, 8, 8, 1)


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return build_digits(tmp_path_factory)


@pytest.mark.parametrize("board", BOARDS)
def test_c_example_is_bit_exact_with_tflm(digits, tmp_path, board):
    exe = build_program(board, tmp_path, [EXAMPLE / "main.c", digits / "sl_tflite_micro_model.c"], [EXAMPLE, digits])
    text = run(board, exe)
    raw = example_samples()
    reference = reference_outputs((digits / "digits.tflite").read_bytes(), raw)
    result = compare(parse_run(text, "float32"), reference, "float32")
    assert result["ok"] and result["samples"] == len(raw) == 6, result
    assert re.search(r"^model digits: 1 inputs, 1 outputs, arena \d+ of 16384 bytes$", text, re.M)
    predicted = [int(m) for m in re.findall(r"sample \d+: predicted (\d+), label \d+", text)]
    assert predicted == [int(np.argmax(r)) for r in reference]


CHECKS = r"""
#include <stdio.h>
#include <string.h>
#include "qbuild/qbuild.h"
#include "sl_tflite_micro_model.h"

static _Alignas(16) uint8_t arena[16 * 1024];
static qbuild_model m;  /* zero-initialised: "not loaded" before the first qbuild_load */

int main(void) {
  qbuild_tensor t;
  int32_t version = 0;
  float rescale = 0.0f;
  bool flag = true;
  const char* name = NULL;
  printf("unloaded %d %d %d\n", qbuild_invoke(&m), qbuild_input(&m, 0, &t), (int)qbuild_inputs_size(&m));
  printf("small %d %s\n", qbuild_load(&m, sl_tflite_model_array, sl_tflite_model_len, arena, 600),
         qbuild_status_str(qbuild_load(&m, sl_tflite_model_array, sl_tflite_model_len, arena, 600)));
  printf("garbage %d\n", qbuild_load(&m, "not a model, not a model", 24, arena, sizeof(arena)));
  printf("null %d\n", qbuild_load(&m, NULL, 0, arena, sizeof(arena)));
  flag = qbuild_load(&m, sl_tflite_model_array, sl_tflite_model_len, arena, sizeof(arena)) == QBUILD_STATUS_OK;
  printf("load %d %u\n", flag, (unsigned)qbuild_arena_used_bytes(&m));
  printf("io %u %u %d %d\n", (unsigned)qbuild_inputs_size(&m), (unsigned)qbuild_outputs_size(&m),
         qbuild_input(&m, 1, &t), qbuild_output(&m, 7, &t));
  qbuild_input(&m, 0, &t);
  printf("in %d %d %d %d %d %d %u %u %d %d\n", t.type, t.rank, t.dims[0], t.dims[1], t.dims[2], t.dims[3],
         (unsigned)t.elements, (unsigned)t.bytes, t.data == qbuild_input_data(&m, 0), qbuild_input_data(&m, 1) == NULL);
  qbuild_output(&m, 0, &t);
  printf("out %d %d %d %u %d\n", t.type, t.rank, t.dims[1], (unsigned)t.elements, t.data == qbuild_output_data(&m, 0));
  printf("params %u %d %d %d %d\n", (unsigned)qbuild_params_size(&m), qbuild_param_contains(&m, "name"),
         qbuild_param_contains(&m, "nope"), qbuild_param_int32(&m, "nope", &version), qbuild_param_str(&m, "version", &name));
  qbuild_param_int32(&m, "version", &version);
  qbuild_param_float(&m, "samplewise_norm.rescale", &rescale);
  qbuild_param_bool(&m, "version", &flag);
  qbuild_param_str(&m, "name", &name);
  printf("values %d %d %d %s\n", (int)version, rescale == 0.0625f, flag, name);
  {
    const uint16_t raw[4] = {1, 2, 3, 10};
    float a[4], b[4];
    qbuild_samplewise_mean_std(raw, a, 4);
    qbuild_samplewise_mean_std_u16(raw, b, 4);
    qbuild_scale_to_float((const int8_t*)"\x80\x7f", a, 2, 0.5f);
    printf("pre %d %g %g\n", memcmp(a + 2, b + 2, 2 * sizeof(float)) == 0, a[0], a[1]);
  }
  printf("model bytes %u\n", (unsigned)sizeof(qbuild_model));
  return 0;
}
"""


def test_statuses_tensors_and_parameters_from_c(digits, tmp_path):
    (tmp_path / "checks.c").write_text(CHECKS)
    exe = build_program("host", tmp_path / "build", [tmp_path / "checks.c", digits / "sl_tflite_micro_model.c"],
                        [digits], opt="-O1")
    lines = run("host", exe).splitlines()
    assert lines[0] == "unloaded 2 2 0"                                       # NOT_LOADED
    assert lines[1] == "small 15 arena too small (size it with: python -m qbuild plan model.tflite)"
    assert lines[2] == "garbage 4" and lines[3] == "null 1"                   # BAD_IDENTIFIER, NULL_ARGUMENT
    from qbuild.tflite.plan import plan_model
    assert lines[4] == f"load 1 {plan_model((digits / 'digits.tflite').read_bytes(), 8).arena_bytes}"
    assert lines[5] == "io 1 1 16 16"                                         # INDEX_OUT_OF_RANGE
    assert lines[6] == "in 0 4 1 8 8 1 64 256 1 1"                            # float32 [1, 8, 8, 1]
    assert lines[7] == "out 0 2 10 10 1"
    assert re.fullmatch(r"params \d+ 1 0 0 0", lines[8])
    assert lines[9] == "values 1 1 1 digits"
    assert lines[10] == "pre 1 -64 63.5"
    assert lines[11] == "model bytes 112"


def test_qbuild_h_gives_cxx_both_apis(tmp_path):
    src = tmp_path / "both.cc"
    src.write_text('#include "qbuild/qbuild.h"\n'
                   "static qbuild::Model cxx_model;\nstatic qbuild_model c_model;\n"
                   "int main() { return static_cast<int>(cxx_model.invoke()) + qbuild_invoke(&c_model); }\n")
    r = subprocess.run(["g++", *CXXFLAGS, *WARNINGS, "-Werror", "-pedantic", f"-I{ROOT / 'runtime' / 'include'}",
                        "-fsyntax-only", str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    c = tmp_path / "only.c"
    c.write_text('#include "qbuild/qbuild.h"\n#ifdef QBUILD_MODEL_H_\n#error C++ header in C\n#endif\n'
                 "int main(void) { static qbuild_model m; return qbuild_invoke(&m); }\n")
    for std in ("-std=c99", "-std=c11"):
        r = subprocess.run(["gcc", std, *WARNINGS, "-Werror", "-pedantic", f"-I{ROOT / 'runtime' / 'include'}",
                            "-fsyntax-only", str(c)], capture_output=True, text=True)
        assert r.returncode == 0, std + r.stderr
