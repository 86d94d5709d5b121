"""SCons tool `qbuild_tool` (named so it does not shadow the `qbuild` package): builders, emitters and aliases only; every decision lives in the plain-Python `qbuild` package.

    env = Environment(tools=["default", "qbuild_tool"])
    model = env.QbuildModel("digits")                 # or "path/model.py", "m.keras" (+ data=, norm=), "m.tflite"
    fw = env.QbuildFirmware(model, board="efr32")     # main.cc, firmware.elf, footprint check
    lib = env.QbuildRuntime()                         # or: the runtime built with *your* env, for your own main

TensorFlow work (dataset, training, quantization) runs in-process but serialised through one SideEffect node, so `-j`
never runs two TF actions at once.
"""
from __future__ import annotations

import sys
from pathlib import Path

QBUILD_ROOT = Path(__file__).resolve().parents[3]
if str(QBUILD_ROOT) not in sys.path:
    sys.path.insert(0, str(QBUILD_ROOT))

from qbuild.scons import tool  # noqa: E402  (qbuild.scons: the one package that knows SCons)


def generate(env):
    env.SetDefault(QBUILD_ROOT=str(QBUILD_ROOT))
    tool.generate(env)


def exists(env):
    return True
