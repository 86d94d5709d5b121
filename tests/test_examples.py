"""The examples run: qbuild as a tool inside an existing SCons firmware build, and the CMake module (cmake/qbuild.cmake)
and Make example cross-building digits for a Cortex-M board (qemu-m33): footprint check, only the model's ops linked,
a no-op second build, and the firmware bit-exact with the reference under QEMU."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from qbuild.tflite.plan import check_ops
from qbuild.tflite.reader import read_model
from tests.scons_helpers import SCONS, fresh_tree

CROSS = shutil.which("arm-none-eabi-gcc") is not None and shutil.which("qemu-system-arm") is not None
needs_cross = pytest.mark.skipif(not CROSS, reason="arm-none-eabi-gcc and qemu-system-arm are installed by scripts/setup")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return fresh_tree(tmp_path_factory.mktemp("examples"), extra=["examples", "cmake"])


def _models(tree: Path) -> Path:
    """`python -m qbuild build --out` shared by the CMake and Make builds: qbuild's stamps make the second one not
    retrain digits."""
    return tree / "build" / "models"


def _op_glue(elf: Path) -> set[str]:
    """Ops whose runtime glue (qbuild::ops::prepare_<op> / eval_<op>) is linked into the ELF."""
    found = set()
    with open(elf, "rb") as f:
        for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            m = re.match(r"_ZN6qbuild3ops(\d+)", sym.name)
            ident = sym.name[m.end():m.end() + int(m.group(1))] if m else ""
            if ident.startswith(("prepare_", "eval_")):
                found.add(ident.split("_", 1)[1])
    return found


def _check_only_model_ops(elf: Path, tflite: Path) -> None:
    used = {op.lower() for op in check_ops(read_model(tflite.read_bytes(), str(tflite)))}
    linked = _op_glue(elf)
    assert "conv_2d" in used and "conv_2d" in linked
    assert not {"add", "mean", "pad"} & used    # digits uses none of these: their glue must be absent
    assert linked <= used, f"ops linked that the model does not use: {sorted(linked - used)}"


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}"
    return p


def test_scons_tool_in_an_existing_firmware_build(tree):
    d = tree / "examples" / "scons-firmware"
    subprocess.run([sys.executable, SCONS, "-Q"], cwd=d, check=True, capture_output=True, text=True, timeout=900)
    out = subprocess.run([str(d / "build" / "app")], check=True, capture_output=True, text=True).stdout
    assert "image of 0: class" in out and "image of 16: class" in out
    again = subprocess.run([sys.executable, SCONS, "-Q"], cwd=d, check=True, capture_output=True, text=True)
    assert "qbuild:" not in again.stdout and "g++" not in again.stdout


@needs_cross
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is installed by scripts/setup")
def test_cmake_module_cross_builds_for_a_cortex_m_board(tree, tmp_path):
    b = tree / "build" / "cmake"
    _run(["cmake", "-S", tree / "examples" / "cmake", "-B", b, f"-DQBUILD_PYTHON={sys.executable}",
          f"-DQBUILD_MODELS_DIR={_models(tree)}", "-DQBUILD_BOARD=qemu-m33"])
    p = _run(["cmake", "--build", b, "-j2"])
    assert "qbuild: footprint of firmware on qemu-m33" in p.stdout and "flash    0x10000000" in p.stdout
    report = json.loads((b / "firmware-footprint.json").read_text())
    assert report["ok"] and report["board"] == "qemu-m33"
    elf = b / "firmware.elf"
    assert ELFFile(open(elf, "rb")).header["e_machine"] == "EM_ARM"
    _check_only_model_ops(elf, _models(tree) / "digits" / "digits.tflite")

    again = _run(["cmake", "--build", b, "-j2"]).stdout   # nothing rebuilt: no compile, link, model or footprint step
    assert not re.search(r"Building|Linking|qbuild:|Generating", again), again
    run = _run(["cmake", "--build", b, "--target", "firmware_run"]).stdout
    assert "firmware output identical to the reference on 5 samples" in run
    assert json.loads((b / "firmware-run.json").read_text())["ok"]

    # Over budget: the same build for a board with a 20,000-byte flash budget fails after writing the report, and
    # fails again on the next build (the check is not marked done).
    tight = tmp_path / "tight.toml"
    text = (tree / "boards" / "qemu-m33.toml").read_text().replace('id = "qemu-m33"', 'id = "tight"')
    tight.write_text(text + "\n[budget]\nflash = 20000\n")
    _run(["cmake", "-S", tree / "examples" / "cmake", "-B", b, f"-DQBUILD_BOARD={tight}"])
    for _ in range(2):
        p = subprocess.run(["cmake", "--build", b], capture_output=True, text=True, timeout=900)
        assert p.returncode != 0 and "qbuild size: error:" in p.stderr and "flash" in p.stderr, p.stdout + p.stderr
    assert not json.loads((b / "firmware-footprint.json").read_text())["ok"]


@needs_cross
def test_make_example_cross_builds_for_a_cortex_m_board(tree):
    d = tree / "examples" / "make"
    args = ["make", "-C", d, f"PYTHON={sys.executable}", f"MODELS={_models(tree)}"]
    built_before = (_models(tree) / "digits" / "digits.tflite").exists()
    p = _run(args + ["-j2"])
    assert "flash    0x10000000" in p.stdout
    if built_before:  # by the CMake test: `python -m qbuild build`'s own stamps, so the Make build does not retrain
        assert "training" not in p.stdout and "quantizing" not in p.stdout
    out = d / "build" / "qemu-m33"
    assert json.loads((out / "footprint.json").read_text())["ok"]
    _check_only_model_ops(out / "firmware.elf", _models(tree) / "digits" / "digits.tflite")
    assert "Nothing to be done for 'all'" in _run(args).stdout
    assert "firmware output identical to the reference on 5 samples" in _run(args + ["run"]).stdout
    assert "Nothing to be done for 'all'" in _run(args).stdout
