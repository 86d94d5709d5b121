"""Build step `ops`: `qbuild_ops.h`, the runtime's op switches for one model (unused ops' code is never linked).
It is also the build-time op check: an unsupported op or one left in float fails here with one line."""
from __future__ import annotations

from pathlib import Path

from qbuild.codegen.templates import render
from qbuild.fsutil import write_atomic
from qbuild.tflite.plan import SUPPORTED_OPS, check_ops
from qbuild.tflite.reader import read_model

TEMPLATES = ("qbuild_ops.h.j2",)


def write_op_table(tflite_path: Path, sources: str, out: Path) -> None:
    used = set(check_ops(read_model(Path(tflite_path).read_bytes(), str(tflite_path))))
    write_atomic(out, render("qbuild_ops.h.j2", sources=sources, ops=[(op, op in used) for op in SUPPORTED_OPS]))
