"""qbuild installed with pip and used from a separate firmware project, as a user would: a venv outside the checkout
(reusing the set-up's packages through a .pth file; pip installs only qbuild, offline), then examples/own-firmware
(its own SConstruct, compiler flags, startup and linker script) copied to a temp dir and built with that venv."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from qbuild.tflite.plan import check_ops
from qbuild.tflite.reader import read_model
from tests.scons_helpers import ROOT

PACKAGE_FILES = ["pyproject.toml", "README.md", "qbuild", "templates", "boards", "runtime", "cmake"]


def _clean_env() -> dict:
    """No PYTHONPATH and a cwd outside the checkout: only the installed qbuild can be imported."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SOURCE_DATE_EPOCH="1700000000")
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for rel in PACKAGE_FILES:  # a copy: pip's in-tree build writes scratch files into the source folder
        (shutil.copytree if (ROOT / rel).is_dir() else shutil.copy2)(
            ROOT / rel, src / rel, **({"ignore": shutil.ignore_patterns("__pycache__")} if (ROOT / rel).is_dir() else {}))
    venv = base / "venv"
    subprocess.run([sys.base_prefix + "/bin/python3", "-m", "venv", str(venv)], check=True, timeout=300)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "setup-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                        str(src)], capture_output=True, text=True, timeout=600, env=_clean_env(), cwd=base)
    assert p.returncode == 0, p.stdout + p.stderr
    return venv


def test_installed_package_carries_its_data(venv, tmp_path):
    py = str(venv / "bin" / "python")
    code = ("import qbuild, qbuild.resources as r, qbuild.scons; "
            "print(qbuild.__file__); print(r.installed()); print(r.data_dir('runtime')); print(qbuild.scons.TOOLPATH)")
    out = subprocess.run([py, "-c", code], cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, check=True)
    where, installed, runtime, toolpath = out.stdout.split("\n")[:4]
    assert str(venv) in where and installed == "True"
    assert (Path(runtime) / "src" / "ops" / "registry.cc").is_file()
    assert (Path(toolpath) / "qbuild_tool.py").is_file()
    # The console script and python -m both work outside the checkout.
    schema = subprocess.run([str(venv / "bin" / "qbuild"), "size", "--schema"], cwd=tmp_path, env=_clean_env(),
                            capture_output=True, text=True, check=True)
    assert json.loads(schema.stdout)["title"]
    boards = subprocess.run([py, "-m", "qbuild", "linker", "qemu-m33"], cwd=tmp_path, env=_clean_env(),
                            capture_output=True, text=True, check=True)
    assert "MEMORY" in boards.stdout


def _scons(venv: Path, project: Path, *args) -> subprocess.CompletedProcess:
    p = subprocess.run([str(venv / "bin" / "python"), "-m", "SCons", "-Q", *args], cwd=project, env=_clean_env(),
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p


def test_own_firmware_project(venv, tmp_path):
    project = tmp_path / "fw"
    shutil.copytree(ROOT / "examples" / "own-firmware", project)
    shutil.copytree(ROOT / "models" / "digits", project / "models" / "digits",
                    ignore=shutil.ignore_patterns("__pycache__"))
    first = _scons(venv, project, "model=models/digits/model.py")

    # The runtime is compiled with the project's own compiler and flags plus the runtime's required ones, from the
    # installed package (not from a checkout).
    runtime_compiles = [ln for ln in first.stdout.splitlines()
                        if ln.startswith("arm-none-eabi-g++") and "/qbuild/data/runtime/" in ln.split()[-1]]
    assert len(runtime_compiles) > 20
    for ln in runtime_compiles:
        assert str(venv) in ln and str(ROOT) not in ln
        for flag in ("-DAPP_BOARD_REV=3", "-Os", "-mcpu=cortex-m33", "-fwrapv", "-ffp-contract=off", "-fno-rtti"):
            assert flag in ln.split(), (flag, ln)

    # Only the model's ops are linked: the runtime's op entry points in the ELF are exactly the model's ops.
    elf = project / "build" / "app.elf"
    tflite = project / "build" / "models" / "digits" / "digits.tflite"
    used = {op.lower() for op in check_ops(read_model(tflite.read_bytes()))}
    nm = subprocess.run(["arm-none-eabi-nm", "-C", str(elf)], capture_output=True, text=True, check=True).stdout
    linked = set(re.findall(r"qbuild::ops::eval_(\w+)\(", nm))
    assert linked == used, (linked, used)

    # The footprint check of the project's own ELF against its memory map, with per-object attribution from its map.
    fp = json.loads((project / "build" / "footprint.json").read_text())
    assert fp["ok"] and fp["attribution"] == "map"
    assert fp["components"]["model"]["flash"] > 0 and fp["components"]["runtime"]["flash"] > 0
    assert fp["components"]["arena"]["ram"] > 0 and fp["components"]["app"]["flash"] > 0
    assert str(tmp_path) not in (project / "build" / "footprint.md").read_text()

    # Nothing to do the second time.
    second = _scons(venv, project, "model=models/digits/model.py")
    assert all("is up to date" in ln for ln in second.stdout.splitlines() if ln.strip()), second.stdout


APP_TEMPLATE = """// {{ sources }}
#include <stdio.h>
#include "qbuild/qbuild.h"
#include "sl_tflite_micro_model.h"
alignas(16) static uint8_t arena[{{ arena_bytes }} + 1024];  // + host pointer bookkeeping
int main() {
  static qbuild::Model m;
  if (m.load(sl_tflite_model_array, sl_tflite_model_len, arena, sizeof arena) != qbuild::Status::kOk) return 1;
  printf("vendored: %d samples of %d values, %d inputs, arena %d\\n", {{ samples|length }}, {{ sample_size }},
         (int)m.input(0)->elements(), {{ arena_bytes }});
  return 0;
}
"""


def test_vendored_checkout_own_template(tmp_path):
    """qbuild vendored as third_party/qbuild, loaded through toolpath: the project's own main template (QbuildMain)
    and the runtime with the project's host compiler and flags (QbuildRuntime), built and run; qbuild's own firmware
    builder declares in the same tree."""
    from tests.scons_helpers import SCONS, fresh_tree

    project = tmp_path / "fw"
    fresh_tree(project / "third_party" / "qbuild")
    shutil.copytree(ROOT / "models" / "digits", project / "ml" / "digits", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "app.cc.j2").write_text(APP_TEMPLATE)
    (project / "SConstruct").write_text(
        "import os\n"
        "env = Environment(ENV=os.environ.copy(), toolpath=['third_party/qbuild/site_scons/site_tools'],\n"
        "                  tools=['default', 'qbuild_tool'], CXXFLAGS=['-O1'], CPPDEFINES=['VENDORED=1'])\n"
        "model = env.QbuildModel('ml/digits/model.py')\n"
        "main = env.QbuildMain(model, board='host', template='app.cc.j2', target='build/app/main.cc')\n"
        "runtime = env.QbuildRuntime(model)\n"
        "env.Append(CPPPATH=[str(model.targets.out_dir)])\n"
        "app = env.Program('build/app/app', [main, model['carray'][0], runtime])\n"
        "fw = env.QbuildFirmware(model, board='qemu-m33')\n"
        "Default(app)\n")
    run = dict(cwd=project, capture_output=True, text=True, timeout=900, env=_clean_env())
    p = subprocess.run([sys.executable, SCONS, "-Q"], **run)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    runtime_compiles = [ln for ln in p.stdout.splitlines() if ln.split()[-1].startswith("third_party/qbuild/runtime/")]
    assert runtime_compiles and all("-O1" in ln.split() and "-DVENDORED=1" in ln.split() and "-fwrapv" in ln.split()
                                    for ln in runtime_compiles)
    main_cc = (project / "build" / "app" / "main.cc").read_text()
    assert main_cc.startswith("// build/models/digits/digits.tflite, build/models/digits/data.npz, "
                              "third_party/qbuild/boards/host.toml, app.cc.j2\n")
    out = subprocess.run([str(project / "build" / "app" / "app")], capture_output=True, text=True, check=True).stdout
    assert re.fullmatch(r"vendored: \d+ samples of 64 values, 64 inputs, arena \d+\n", out), out
    # qbuild's own firmware for a board declares in the same tree (objects keyed by their own folders).
    n = subprocess.run([sys.executable, SCONS, "-n", "-Q", "build/qemu-m33/digits/firmware.elf"], **run)
    assert n.returncode == 0, n.stdout[-2000:] + n.stderr[-2000:]
    assert "qemu-m33: link build/qemu-m33/digits/firmware.elf" in n.stdout
