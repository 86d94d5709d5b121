"""qbuild's C++ runtime as build inputs: its sources and include dirs, and the host harness `qbuild-run`.

Other builders (firmware, examples) compile `sources()` with `include_dirs()` and `CXXFLAGS`; the firmware's main.cc
only needs `#include "qbuild/qbuild.h"`.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from qbuild.errors import QbuildError

RUNTIME_DIR = Path(__file__).resolve().parents[1] / "runtime"

# Flags every build of the runtime needs (preprocess.cc relies on -ffp-contract=off for bit-exact float math).
CXXFLAGS = ["-std=c++17", "-fno-exceptions", "-fno-rtti", "-ffp-contract=off", "-Wall", "-Wextra"]


def sources() -> list[Path]:
    """Every .cc of the library (loader, planner, op glue, kernels), sorted; not the tools or fuzz harness."""
    dirs = [RUNTIME_DIR / "src", RUNTIME_DIR / "src" / "ops", RUNTIME_DIR / "kernels"]
    return sorted(p for d in dirs for p in d.glob("*.cc"))


def include_dirs() -> list[Path]:
    return [RUNTIME_DIR / "include"]


def headers() -> list[Path]:
    dirs = [RUNTIME_DIR / "include" / "qbuild", RUNTIME_DIR / "src", RUNTIME_DIR / "src" / "ops", RUNTIME_DIR / "kernels"]
    return sorted(p for d in dirs for p in d.glob("*.h"))


def _digest(files: list[Path], flags: list[str]) -> str:
    h = hashlib.sha256(" ".join(flags).encode())
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def build_host_tool(out_dir, sanitize: bool = False, cxx: str = "g++", extra_flags: list[str] | None = None) -> Path:
    """Compiles runtime/tools/qbuild_run.cc with the runtime into out_dir/qbuild-run[-asan]; cached by content hash."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = CXXFLAGS + ["-O2"] + list(extra_flags or [])
    if sanitize:
        flags += ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    tool = RUNTIME_DIR / "tools" / "qbuild_run.cc"
    inputs = sources() + headers() + [tool]
    exe = out_dir / ("qbuild-run-asan" if sanitize else "qbuild-run")
    stamp = exe.with_suffix(".sha")
    digest = _digest(inputs, flags + [cxx])
    if exe.exists() and stamp.exists() and stamp.read_text() == digest:
        return exe
    tmp = exe.with_name(exe.name + ".tmp")
    cmd = [cxx, *flags, *[f"-I{d}" for d in include_dirs()], *map(str, sources()), str(tool), "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise QbuildError(f"building qbuild-run failed ({cxx}): {r.stderr.strip().splitlines()[0] if r.stderr else '?'}")
    os.replace(tmp, exe)
    stamp.write_text(digest)
    return exe


def build_fuzzer(out_dir, cxx: str = "clang++") -> Path:
    """libFuzzer + ASan + UBSan build of runtime/fuzz/fuzz_load.cc (clang 14 with libclang-rt)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = CXXFLAGS + ["-O1", "-g", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all"]
    harness = RUNTIME_DIR / "fuzz" / "fuzz_load.cc"
    exe = out_dir / "fuzz-load"
    stamp = exe.with_suffix(".sha")
    digest = _digest(sources() + headers() + [harness], flags + [cxx])
    if exe.exists() and stamp.exists() and stamp.read_text() == digest:
        return exe
    tmp = exe.with_name(exe.name + ".tmp")
    cmd = [cxx, *flags, *[f"-I{d}" for d in include_dirs()], *map(str, sources()), str(harness), "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise QbuildError(f"building the fuzzer failed ({cxx}): {r.stderr.strip().splitlines()[0] if r.stderr else '?'}")
    os.replace(tmp, exe)
    stamp.write_text(digest)
    return exe
