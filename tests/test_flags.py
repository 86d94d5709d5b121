"""One flag set for the runtime: every path that compiles it — board firmware (QbuildFirmware), QbuildRuntime in a
user's SCons build, the CMake module's example, the Make example and the test harness — passes
qbuild.target.runtime.CXXFLAGS. Each test reads that path's real compile command lines."""
import json
import shlex
import shutil
import subprocess
import sys

import pytest

from qbuild.target.runtime import CXXFLAGS, RUNTIME_DIR, sources
from tests.harness import build_firmware_harness
from tests.scons_helpers import SCONS, fresh_tree, scons

RUNTIME_SOURCES = {p.name for p in sources()}


def _runtime_compiles(lines):
    """(source name, argv) of each command line that compiles a runtime .cc."""
    out = []
    for line in lines:
        argv = shlex.split(line) if isinstance(line, str) else list(line)
        srcs = [a for a in argv if a.endswith(".cc") and a.rsplit("/", 1)[-1] in RUNTIME_SOURCES and "runtime" in a]
        if srcs and "-c" in argv:
            out.append((srcs[0].rsplit("/", 1)[-1], argv))
    return out


def _check(compiles, expect_all=True):
    assert compiles, "no runtime compile command found"
    if expect_all:
        assert {name for name, _ in compiles} == RUNTIME_SOURCES
    for name, argv in compiles:
        missing = [f for f in CXXFLAGS if f not in argv]
        assert not missing, (name, missing, argv)


def test_board_firmware(tmp_path):
    tree = fresh_tree(tmp_path / "t")
    p = scons(tree, "-n", "board=qemu-m33", "model=digits", "verbose=1")
    _check(_runtime_compiles(p.stdout.splitlines()))


def test_qbuild_runtime_in_a_user_build(tmp_path):
    tree = fresh_tree(tmp_path / "t", extra=["examples"])
    d = tree / "examples" / "scons-firmware"
    p = subprocess.run([sys.executable, SCONS, "-n", "-Q"], cwd=d, check=True, capture_output=True, text=True)
    _check(_runtime_compiles(p.stdout.splitlines()))


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is installed by scripts/setup")
def test_cmake_example(tmp_path):
    from tests.scons_helpers import ROOT

    subprocess.run(["cmake", "-S", str(ROOT / "examples" / "cmake"), "-B", str(tmp_path), "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
                    f"-DQBUILD_PYTHON={sys.executable}"], check=True, capture_output=True, text=True)
    commands = json.loads((tmp_path / "compile_commands.json").read_text())
    _check(_runtime_compiles(c["command"] for c in commands))


def test_make_example(tmp_path):
    from tests.scons_helpers import ROOT

    # -n prints the commands (Make still writes the included $(BUILD)/qbuild.mk of qbuild's answers first)
    p = subprocess.run(["make", "-n", "-C", str(ROOT / "examples" / "make"), f"PYTHON={sys.executable}",
                        f"BUILD={tmp_path}"], check=True, capture_output=True, text=True)
    compiles = _runtime_compiles(p.stdout.splitlines())
    _check(compiles)
    registry = [argv for name, argv in compiles if name == "registry.cc"]
    assert registry and "-include" in registry[0]   # the op table with only the model's ops


def test_test_harness(tmp_path):
    commands = []
    build_firmware_harness(tmp_path, [], 1024, commands=commands, dry_run=True)
    _check(_runtime_compiles(commands))
    assert RUNTIME_DIR.is_dir()
