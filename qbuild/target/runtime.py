"""qbuild's C++ runtime as build inputs: its sources, include dirs and the one flag set every compile of it uses.

Every path that compiles the runtime — board firmware (`QbuildFirmware`), `QbuildRuntime` in a user's SCons build, the
CMake example (`python -m qbuild runtime --cxxflags`) and the test harnesses — adds `CXXFLAGS`; tests/test_flags.py
reads each path's real compile commands and checks. The firmware's main.cc only needs `#include "qbuild/qbuild.h"`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbuild.resources import data_dir

RUNTIME_DIR = data_dir("runtime")

# Flags every build of the runtime needs: -ffp-contract=off keeps preprocess.cc's float math bit-exact; -fwrapv
# gives int32 accumulator overflow (possible only with adversarial weights/bias) the wraparound TFLM gets on hardware
# (runtime/kernels/REQUESTS.md); no exceptions or RTTI (the runtime uses neither, and small firmware links neither).
CXXFLAGS = ["-std=c++17", "-fno-exceptions", "-fno-rtti", "-ffp-contract=off", "-fwrapv"]
WARNINGS = ["-Wall", "-Wextra"]


def sources() -> list[Path]:
    """Every .cc of the library (loader, planner, op glue, kernels), sorted; not the tools or fuzz harness."""
    dirs = [RUNTIME_DIR / "src", RUNTIME_DIR / "src" / "ops", RUNTIME_DIR / "kernels"]
    return sorted(p for d in dirs for p in d.glob("*.cc"))


def include_dirs() -> list[Path]:
    return [RUNTIME_DIR / "include"]


# The one source that reads the op switches: compiled with `-include qbuild_ops.h` (`python -m qbuild ops`) so that only
# the model's ops are in the op table and every other op's glue and kernels are dropped at link time.
OP_TABLE_SOURCE = RUNTIME_DIR / "src" / "ops" / "registry.cc"


def headers() -> list[Path]:
    dirs = [RUNTIME_DIR / "include" / "qbuild", RUNTIME_DIR / "src", RUNTIME_DIR / "src" / "ops", RUNTIME_DIR / "kernels"]
    return sorted(p for d in dirs for p in d.glob("*.h"))


def cli_main(argv) -> int:
    """`python -m qbuild runtime --cxxflags | --sources | --include-dirs | --op-table-source`: the runtime for other
    build systems (CMake, Make), one item per line. To link only a model's ops, compile `--op-table-source` (one of
    `--sources`) with `-include qbuild_ops.h`, the header `python -m qbuild ops MODEL.tflite qbuild_ops.h` writes."""
    ap = argparse.ArgumentParser(prog="python -m qbuild runtime", description="qbuild runtime sources and flags")
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--cxxflags", action="store_true", help="the flags every compile of the runtime needs")
    what.add_argument("--sources", action="store_true", help="every .cc of the runtime library")
    what.add_argument("--include-dirs", action="store_true", help="include directories (for qbuild/qbuild.h)")
    what.add_argument("--op-table-source", action="store_true",
                      help="the source to compile with -include qbuild_ops.h (only the model's ops are linked)")
    args = ap.parse_args(argv)
    if args.op_table_source:
        items = [OP_TABLE_SOURCE]
    else:
        items = CXXFLAGS if args.cxxflags else sources() if args.sources else include_dirs()
    sys.stdout.write("".join(f"{i}\n" for i in items))
    return 0
