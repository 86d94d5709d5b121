"""Run qbuild's SConstruct in a fresh copy of the repository (like a fresh clone), so tests never share build/."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPY = ["SConstruct", "site_scons", "qbuild", "templates", "boards", "runtime", "models/digits"]
SCONS = str(Path(sys.executable).with_name("scons"))


def fresh_tree(dst: Path, extra=()) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for rel in COPY + list(extra):
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, dst / rel, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    return dst


def scons(tree: Path, *args, check=True, importtime=False, timeout=900) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", SOURCE_DATE_EPOCH="1700000000")
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else []) + [SCONS, *args]
    p = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"scons {' '.join(args)} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return p


def steps_run(p: subprocess.CompletedProcess) -> list[str]:
    """The qbuild steps an scons run executed ('qbuild: <step> -> <target>' lines)."""
    return [ln.split(":", 1)[1].split("->")[0].strip() for ln in p.stdout.splitlines()
            if ln.startswith("qbuild: ") and " -> " in ln]
