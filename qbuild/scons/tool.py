"""The SCons side of qbuild (the only package that imports SCons): builders registered on an environment.

    env = Environment(tools=["default", "qbuild_tool"])
    model = env.QbuildModel("digits")                 # or "path/model.py", "m.keras" (+ data=, norm=), "m.tflite"
    fw = env.QbuildFirmware(model, board="efr32")     # main.cc, firmware.elf, footprint check

    # or inside your own firmware build (your compiler and flags; qbuild adds only what the runtime needs):
    lib = env.QbuildRuntime(model)                    # the runtime with only the model's ops
    main = env.QbuildMain(model, board="efr32")       # qbuild's main.cc for a board, or template="my_main.cc.j2"
    env.QbuildFootprint(elf, board="efr32", map="app.map")   # or memory={"flash": (o, n), "ram": (o, n)}

docs/scons-tool.md describes every builder, its sources, targets and construction variables.

Decisions (what a model= means, which files and settings an artifact depends on) come from qbuild.pipeline; the steps
themselves live in qbuild.model, qbuild.tflite, qbuild.codegen, qbuild.footprint and qbuild.target.
"""
from __future__ import annotations

from qbuild.scons.firmware import qbuild_firmware
from qbuild.scons.integrate import qbuild_footprint, qbuild_main, qbuild_runtime
from qbuild.scons.model import qbuild_model
from qbuild.scons.options import help_text, parse_options

__all__ = ["exists", "generate", "help_text", "parse_options", "qbuild_firmware", "qbuild_footprint", "qbuild_main",
           "qbuild_model", "qbuild_runtime"]


def generate(env):
    env.AddMethod(qbuild_model, "QbuildModel")
    env.AddMethod(qbuild_firmware, "QbuildFirmware")
    env.AddMethod(qbuild_runtime, "QbuildRuntime")
    env.AddMethod(qbuild_main, "QbuildMain")
    env.AddMethod(qbuild_footprint, "QbuildFootprint")


def exists(env):
    return True
