"""The SCons side of qbuild (the only package that imports SCons): builders registered on an environment.

    env = Environment(tools=["default", "qbuild_tool"])
    model = env.QbuildModel("digits")                 # or "path/model.py", "m.keras" (+ data=, norm=), "m.tflite"
    fw = env.QbuildFirmware(model, board="efr32")     # main.cc, firmware.elf, footprint check
    lib = env.QbuildRuntime()                         # or: the runtime built with *your* env, for your own main

Decisions (what a model= means, which files and settings an artifact depends on) come from qbuild.pipeline; the steps
themselves live in qbuild.model, qbuild.tflite, qbuild.codegen, qbuild.footprint and qbuild.target.
"""
from __future__ import annotations

from qbuild.scons.firmware import qbuild_firmware, qbuild_runtime
from qbuild.scons.model import qbuild_model
from qbuild.scons.options import help_text, parse_options

__all__ = ["generate", "help_text", "parse_options", "qbuild_firmware", "qbuild_model", "qbuild_runtime"]


def generate(env):
    env.AddMethod(qbuild_model, "QbuildModel")
    env.AddMethod(qbuild_firmware, "QbuildFirmware")
    env.AddMethod(qbuild_runtime, "QbuildRuntime")
