"""The build-time prepare: runs the runtime's own Model::load() on the host (runtime/tools/qbuild_prepare.cc) and
returns what it computed without pointers (tensor views, op nodes, op data). qbuild.codegen.prepared lays it out as the
const tables of the build-time load path.

The tool is compiled once per runtime content (sources, headers, flags) into build/host/qbuild-prepare with the host
C++ compiler ($CXX, default g++)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.fsutil import content_digest, is_fresh, record
from qbuild.target.runtime import CXXFLAGS, RUNTIME_DIR, headers, include_dirs, sources

TOOL_SOURCE = RUNTIME_DIR / "tools" / "qbuild_prepare.cc"


def build_prepare_tool(out_dir) -> Path:
    """Compiles qbuild-prepare into out_dir (cached by the content of every source, header and flag)."""
    cxx = os.environ.get("CXX", "g++")
    if not shutil.which(cxx):
        raise QbuildError(f"the build-time prepare needs a host C++ compiler; '{cxx}' was not found (install g++ or set "
                          "CXX)")
    out_dir = Path(out_dir)
    exe = out_dir / "qbuild-prepare"
    flags = [*CXXFLAGS, "-O1", *[f"-I{d}" for d in include_dirs()]]
    srcs = [*sources(), TOOL_SOURCE]
    digest = content_digest(sorted({*srcs, *headers()}), [cxx, flags])
    stamp = out_dir / "qbuild-prepare.stamp"
    if is_fresh(stamp, digest, [exe]):
        return exe
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="qbuild-prepare.", dir=out_dir)  # two builds at once never share it
    os.close(fd)
    r = subprocess.run([cxx, *flags, *map(str, srcs), "-lm", "-o", tmp], capture_output=True, text=True)
    if r.returncode != 0:
        os.unlink(tmp)
        raise QbuildError(f"compiling qbuild-prepare failed: {r.stderr.strip()[:400]}")
    os.chmod(tmp, 0o755)
    os.replace(tmp, exe)
    record(stamp, digest)
    return exe


def prepare_on_host(tflite_path, tool_dir) -> dict:
    """The JSON that qbuild-prepare prints for a model (format in runtime/tools/qbuild_prepare.cc)."""
    exe = build_prepare_tool(tool_dir)
    r = subprocess.run([str(exe), str(tflite_path)], capture_output=True, text=True, timeout=120)
    try:
        dump = json.loads(r.stdout)
    except json.JSONDecodeError:
        raise QbuildError(f"qbuild-prepare failed on '{Path(tflite_path).name}': {(r.stderr or r.stdout)[:300]}") from None
    if dump.get("status") != "ok":
        raise QbuildError(f"the runtime cannot load '{Path(tflite_path).name}': {dump.get('status')} at op "
                          f"{dump.get('error_op')}")
    return dump
