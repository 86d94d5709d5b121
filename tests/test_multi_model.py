"""Two models in one firmware: digits (`--symbol digits`) and MLTK's micro_speech keyword spotter (`--symbol kws`) linked
into one C program, run on the host and on Cortex-M33 under QEMU, every output bit-exact with TFLM — once with one
arena both models use in turn (reloading before each run), once with one arena each (both loaded, runs interleaved).
Plus the SCons side: `env.QbuildModel(..., symbol=)` names the files and a changed symbol rebuilds only the C array."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile

from qbuild.target.firmware import io_details, model_input
from qbuild.tflite.params import read_params
from qbuild.tflite.plan import plan_model
from tests.harness import run_firmware_harness
from test_c_api import BOARDS, build_digits, build_program, example_samples
from test_runtime_corpus import tflm_outputs

ROOT = Path(__file__).resolve().parents[1]
KWS = ROOT / ".cache" / "mltk" / "tflite_micro_speech.tflite"
RUNS = 3

MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "qbuild/qbuild.h"
#include "digits_model.h"
#include "digits_model_parameters.h"
#include "kws_model.h"
#include "kws_model_parameters.h"
#include "inputs.h"

#if SHARED_ARENA
static _Alignas(16) uint8_t shared_arena[SHARED_ARENA_BYTES];  /* the larger of the two models' arenas */
#define DIGITS_ARENA shared_arena
#define KWS_ARENA shared_arena
#define DIGITS_ARENA_SIZE sizeof(shared_arena)
#define KWS_ARENA_SIZE sizeof(shared_arena)
#else
static _Alignas(16) uint8_t digits_arena[DIGITS_ARENA_BYTES];
static _Alignas(16) uint8_t kws_arena[KWS_ARENA_BYTES];
#define DIGITS_ARENA digits_arena
#define KWS_ARENA kws_arena
#define DIGITS_ARENA_SIZE sizeof(digits_arena)
#define KWS_ARENA_SIZE sizeof(kws_arena)
#endif
static qbuild_model digits, kws;

static int load(qbuild_model* m, const uint8_t* data, uint32_t len, uint8_t* arena, size_t size) {
  qbuild_status s = qbuild_load(m, data, len, arena, size);
  if (s != QBUILD_STATUS_OK) printf("load failed: %s\n", qbuild_status_str(s));
  return s == QBUILD_STATUS_OK;
}

/* One line per run: case <name> status <code> arena <bytes used> out <hex of the output bytes>. */
static int run(qbuild_model* m, const char* name, int i, const uint8_t* input, size_t n) {
  qbuild_tensor in, out;
  qbuild_status s;
  size_t k;
  if (qbuild_input(m, 0, &in) != QBUILD_STATUS_OK || in.bytes != n) return 0;
  memcpy(in.data, input, n);
  s = qbuild_invoke(m);
  printf("case %s%d status %d arena %u out ", name, i, (int)s, (unsigned)qbuild_arena_used_bytes(m));
  if (qbuild_output(m, 0, &out) != QBUILD_STATUS_OK) return 0;
  for (k = 0; k < out.bytes; ++k) printf("%02x", ((const uint8_t*)out.data)[k]);
  printf("\n");
  return s == QBUILD_STATUS_OK;
}

int main(void) {
  int i;
  /* Both parameter headers in one translation unit: each model's macros carry its prefix. */
  printf("models %s %s %d %d\n", DIGITS_MODEL_NAME, KWS_MODEL_NAME, KWS_MODEL_FE_N_CHANNELS, DIGITS_MODEL_VERSION);
  if (!SHARED_ARENA && !(load(&digits, digits_model_array, digits_model_len, DIGITS_ARENA, DIGITS_ARENA_SIZE) &&
                         load(&kws, kws_model_array, kws_model_len, KWS_ARENA, KWS_ARENA_SIZE))) return 1;
  for (i = 0; i < RUNS; ++i) {
    /* With one arena, loading a model replaces the other: load before every run. */
    if (SHARED_ARENA && !load(&digits, digits_model_array, digits_model_len, DIGITS_ARENA, DIGITS_ARENA_SIZE)) return 1;
    if (!run(&digits, "digits", i, digits_inputs[i], sizeof(digits_inputs[i]))) return 1;
    if (SHARED_ARENA && !load(&kws, kws_model_array, kws_model_len, KWS_ARENA, KWS_ARENA_SIZE)) return 1;
    if (!run(&kws, "kws", i, kws_inputs[i], sizeof(kws_inputs[i]))) return 1;
  }
  return 0;
}
"""


def c_bytes(name: str, rows: list[bytes]) -> str:
    body = ",\n".join("  {" + ",".join(str(b) for b in row) + "}" for row in rows)
    return f"static const _Alignas(16) uint8_t {name}[{len(rows)}][{len(rows[0])}] = {{\n{body}\n}};\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The two C arrays (each with its own prefix) and, per model, RUNS inputs and TFLM's outputs for them."""
    digits_dir = build_digits(tmp_path_factory, "digits")
    out = tmp_path_factory.mktemp("kws-build")
    r = subprocess.run([sys.executable, "-m", "qbuild", "build", str(KWS), "--out", str(out), "--symbol", "kws"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    kws_dir = Path(json.loads(r.stdout)["kws_model.c"]).parent
    digits_tflite = (digits_dir / "digits.tflite").read_bytes()
    kws_tflite = KWS.read_bytes()
    x = model_input(read_params(digits_tflite), example_samples()[:RUNS], io_details(digits_tflite))
    kws_in = io_details(kws_tflite)["input"]
    assert kws_in["type"] == "int8"
    rng = np.random.default_rng(5)
    k = rng.integers(-128, 128, size=(RUNS, *kws_in["shape"])).astype(np.int8)
    inputs = {"digits": [s.tobytes() for s in x], "kws": [s.tobytes() for s in k]}
    expected = {}
    for name, tflite, xs in (("digits", digits_tflite, x), ("kws", kws_tflite, k)):
        for i in range(RUNS):
            x_i = xs[i].reshape(io_details(tflite)["input"]["shape"])
            expected[f"{name}{i}"] = b"".join(o.tobytes() for o in tflm_outputs(tflite, [x_i]))
    return {"dirs": [digits_dir, kws_dir], "tflite": {"digits": digits_tflite, "kws": kws_tflite},
            "inputs": inputs, "expected": expected}


def _symbol_sizes(elf: Path) -> dict:
    with open(elf, "rb") as f:
        return {s.name: s["st_size"] for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols()}


@pytest.mark.parametrize("shared", [True, False], ids=["shared-arena", "separate-arenas"])
@pytest.mark.parametrize("board", BOARDS)
def test_two_models_in_one_firmware_bit_exact(models, tmp_path, board, shared):
    pointer = 8 if board == "host" else 4
    arenas = {n: plan_model(t, pointer).arena_bytes for n, t in models["tflite"].items()}
    (tmp_path / "main.c").write_text(MAIN)
    (tmp_path / "inputs.h").write_text(c_bytes("digits_inputs", models["inputs"]["digits"])
                                       + c_bytes("kws_inputs", models["inputs"]["kws"]))
    digits_dir, kws_dir = models["dirs"]
    defines = [f"RUNS={RUNS}", f"SHARED_ARENA={int(shared)}", f"SHARED_ARENA_BYTES={max(arenas.values())}",
               f"DIGITS_ARENA_BYTES={arenas['digits']}", f"KWS_ARENA_BYTES={arenas['kws']}"]
    exe = build_program(board, tmp_path / "build", [tmp_path / "main.c", digits_dir / "digits_model.c",
                                                    kws_dir / "kws_model.c"],
                        [tmp_path, digits_dir, kws_dir], defines)
    results = run_firmware_harness(exe, board)
    assert sorted(results) == sorted(models["expected"])
    for case, out in models["expected"].items():
        assert results[case]["status"] == 0, case
        assert results[case]["out"] == out, f"{case} on {board}: output differs from TFLM"
        assert results[case]["arena"] == arenas[case.rstrip("0123456789")], case  # the plan, exactly
    sizes = _symbol_sizes(exe)  # the RAM the choice costs: max(a, b) shared, a + b separate
    if shared:
        assert sizes["shared_arena"] == max(arenas.values()) and "digits_arena" not in sizes
    else:
        assert (sizes["digits_arena"], sizes["kws_arena"]) == (arenas["digits"], arenas["kws"])


PREPARED_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "qbuild/qbuild.h"
#include "digits_model.h"
#include "kws_model.h"
#include "digits_prepared.h"
#include "kws_prepared.h"
#include "inputs.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* The one activation array both models' tables name (--shared-arena): the larger of the two. */
_Alignas(16) uint8_t shared_tensor_arena[MAX(DIGITS_MODEL_ACTIVATION_BYTES, KWS_MODEL_ACTIVATION_BYTES)];
static qbuild_model digits, kws;

""" + MAIN[MAIN.index("/* One line per run"):MAIN.index("int main(void)")] + r"""
int main(void) {
  int i;
  /* Loading computes nothing and touches no arena: both stay loaded; each run fills, invokes and reads one model. */
  if (qbuild_load_prepared(&digits, digits_model_array, digits_model_len, &digits_model_prepared) != QBUILD_STATUS_OK ||
      qbuild_load_prepared(&kws, kws_model_array, kws_model_len, &kws_model_prepared) != QBUILD_STATUS_OK) {
    printf("load failed\n");
    return 1;
  }
  if (qbuild_load_prepared(&kws, digits_model_array, digits_model_len, &kws_model_prepared) !=
      QBUILD_STATUS_BAD_FLATBUFFER) {
    return 1;  /* the tables of one model refuse the bytes of another */
  }
  if (qbuild_load_prepared(&kws, kws_model_array, kws_model_len, &kws_model_prepared) != QBUILD_STATUS_OK) return 1;
  for (i = 0; i < RUNS; ++i) {
    if (!run(&digits, "digits", i, digits_inputs[i], sizeof(digits_inputs[i]))) return 1;
    if (!run(&kws, "kws", i, kws_inputs[i], sizeof(kws_inputs[i]))) return 1;
  }
  return 0;
}
"""


@pytest.mark.parametrize("board", BOARDS)
def test_two_prepared_models_share_one_activation_array_from_c(models, tmp_path, board):
    """`python -m qbuild prepare --shared-arena`: both models' tables use the application's array (RAM: the larger of
    the two activation sizes, no runtime data), loaded from C with qbuild_load_prepared(); runs interleaved, every
    output bit-exact with TFLM."""
    digits_dir, kws_dir = models["dirs"]
    tflites = {"digits": digits_dir / "digits.tflite", "kws": KWS}
    needs = {}
    for name, tflite in tflites.items():
        r = subprocess.run([sys.executable, "-m", "qbuild", "prepare", str(tflite), str(tmp_path / f"{name}_prepared.cc"),
                            "--symbol", name, "--shared-arena", "shared_tensor_arena",
                            "--tool-dir", str(tmp_path / "tool")], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        needs[name] = json.loads(r.stdout)["arena_bytes"]
        assert f"#define {name.upper()}_MODEL_ACTIVATION_BYTES {needs[name]}u" in \
            (tmp_path / f"{name}_prepared.h").read_text()
        assert needs[name] == plan_model(models["tflite"][name], 4, search=True).activation_bytes
    (tmp_path / "main.c").write_text(PREPARED_MAIN)
    (tmp_path / "inputs.h").write_text(c_bytes("digits_inputs", models["inputs"]["digits"])
                                       + c_bytes("kws_inputs", models["inputs"]["kws"]))
    exe = build_program(board, tmp_path / "build", [tmp_path / "main.c", digits_dir / "digits_model.c",
                                                    kws_dir / "kws_model.c"],
                        [tmp_path, digits_dir, kws_dir], [f"RUNS={RUNS}"],
                        cxx_sources=[tmp_path / "digits_prepared.cc", tmp_path / "kws_prepared.cc"])
    results = run_firmware_harness(exe, board)
    assert sorted(results) == sorted(models["expected"])
    for case, out in models["expected"].items():
        assert results[case]["status"] == 0, case
        assert results[case]["out"] == out, f"{case} on {board}: output differs from TFLM"
        assert results[case]["arena"] == needs[case.rstrip("0123456789")], case
    sizes = _symbol_sizes(exe)
    assert sizes["shared_tensor_arena"] == max(needs.values())
    assert not any(n.endswith("_model_tensor_arena") for n in sizes)  # no array of the tables' own


def test_prepare_refuses_a_shared_arena_name_that_is_not_c(tmp_path):
    r = subprocess.run([sys.executable, "-m", "qbuild", "prepare", str(KWS), str(tmp_path / "k.cc"), "--shared-arena",
                        "my arena"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.count("error:") == 1 and "'my arena' is not a C identifier" in r.stderr
    assert not (tmp_path / "k.cc").exists()


SCONSTRUCT = """
import os
env = Environment(ENV=os.environ.copy(), toolpath=[{tools!r}], tools=["default", "qbuild_tool"])
env.QbuildModel("kws.tflite", symbol=ARGUMENTS.get("symbol", "kws") or None)
env.QbuildModel("img.tflite")
"""


def _scons(tree: Path, *args, check=True):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    p = subprocess.run([sys.executable, str(Path(sys.executable).with_name("scons")), "-Q", *args], cwd=tree, env=env,
                       capture_output=True, text=True, timeout=300)
    assert not check or p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return p


def test_scons_symbol_keyword_names_files_and_rebuilds_only_the_c_array(tmp_path):
    (tmp_path / "SConstruct").write_text(SCONSTRUCT.format(tools=str(ROOT / "site_scons" / "site_tools")))
    shutil.copy(KWS, tmp_path / "kws.tflite")
    shutil.copy(ROOT / ".cache" / "mltk" / "image_example1.tflite", tmp_path / "img.tflite")
    _scons(tmp_path)
    kws_dir = next((tmp_path / "build" / "models").glob("kws-*"))
    img_dir = next((tmp_path / "build" / "models").glob("img-*"))
    assert sorted(p.name for p in kws_dir.glob("*model*")) == ["kws_model.c", "kws_model.h", "kws_model_parameters.h"]
    assert (img_dir / "sl_tflite_micro_model.c").is_file()
    assert "const uint32_t kws_model_len" in (kws_dir / "kws_model.c").read_text()
    assert "qbuild:" not in _scons(tmp_path).stdout  # no-op
    p = _scons(tmp_path, "symbol=speech")
    assert [ln for ln in p.stdout.splitlines() if ln.startswith("qbuild:")] == [
        f"qbuild: C array -> {(kws_dir / 'speech_model.c').relative_to(tmp_path)}"]
    assert "speech_model_array" in (kws_dir / "speech_model.h").read_text()
    bad = _scons(tmp_path, "symbol=no way", check=False)
    assert bad.returncode == 2 and "qbuild: error: symbol 'no way' cannot prefix C names" in bad.stderr


def test_firmware_main_uses_the_prefixed_names(tmp_path):
    """QbuildFirmware's generated main.cc includes and loads the prefixed array; the firmware runs bit-exact."""
    (tmp_path / "SConstruct").write_text(
        "import os\n"
        f"env = Environment(ENV=os.environ.copy(), toolpath=[{str(ROOT / 'site_scons' / 'site_tools')!r}],\n"
        "                  tools=['default', 'qbuild_tool'])\n"
        "m = env.QbuildModel('img.tflite', symbol='img')\n"
        "env.QbuildFirmware(m, board='host')\n")
    shutil.copy(ROOT / ".cache" / "mltk" / "image_example1.tflite", tmp_path / "img.tflite")
    p = _scons(tmp_path, "run")
    main_cc = next((tmp_path / "build" / "host").glob("img-*/main.cc")).read_text()
    assert '#include "img_model.h"' in main_cc and "model.load(img_model_array, img_model_len," in main_cc
    assert "sl_tflite" not in main_cc
    assert "firmware output identical to the reference" in p.stdout
