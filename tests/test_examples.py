"""The examples run: qbuild as a tool inside an existing SCons firmware build, and from CMake via `python -m qbuild build`."""
import shutil
import subprocess
import sys

import pytest

from tests.scons_helpers import SCONS, fresh_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return fresh_tree(tmp_path_factory.mktemp("examples"), extra=["examples"])


def test_scons_tool_in_an_existing_firmware_build(tree):
    d = tree / "examples" / "scons-firmware"
    subprocess.run([sys.executable, SCONS, "-Q"], cwd=d, check=True, capture_output=True, text=True, timeout=900)
    out = subprocess.run([str(d / "build" / "app")], check=True, capture_output=True, text=True).stdout
    assert "image of 0: class" in out and "image of 16: class" in out
    again = subprocess.run([sys.executable, SCONS, "-Q"], cwd=d, check=True, capture_output=True, text=True)
    assert "qbuild:" not in again.stdout and "g++" not in again.stdout


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is installed by scripts/setup")
def test_cmake_calls_python_m_qbuild_build(tree):
    b = tree / "build" / "cmake"
    env_py = f"-DQBUILD_PYTHON={sys.executable}"
    subprocess.run(["cmake", "-S", str(tree / "examples" / "cmake"), "-B", str(b), env_py], check=True,
                   capture_output=True, text=True)
    subprocess.run(["cmake", "--build", str(b), "-j2"], check=True, capture_output=True, text=True, timeout=900)
    out = subprocess.run([str(b / "app")], check=True, capture_output=True, text=True).stdout
    assert "image of 16: class" in out
    # The qbuild step keeps its own up-to-date stamps: a second `python -m qbuild build` does no work.
    p = subprocess.run([sys.executable, "-m", "qbuild", "build", "models/digits/model.py", "--out", str(b / "models")],
                       cwd=tree, check=True, capture_output=True, text=True)
    assert "training" not in p.stdout and "quantizing" not in p.stdout and '"tflite"' in p.stdout
