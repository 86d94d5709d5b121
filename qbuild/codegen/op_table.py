"""Build step `ops`: `qbuild_ops.h`, the runtime's op switches for one model (unused ops' code is never linked).
It is also the build-time op check: an unsupported op or one left in float fails here with one line."""
from __future__ import annotations

from pathlib import Path

from qbuild.codegen.templates import render
from qbuild.fsutil import write_atomic
from qbuild.tflite.plan import SUPPORTED_OPS, check_ops
from qbuild.tflite.reader import read_model

TEMPLATES = ("qbuild_ops.h.j2",)


def write_op_table(tflite_paths, sources: str, out: Path) -> None:
    """The op switches for one model's .tflite, or for several (the union: several models in one firmware)."""
    paths = [tflite_paths] if isinstance(tflite_paths, (str, Path)) else list(tflite_paths)
    graphs = [read_model(Path(p).read_bytes(), str(p)) for p in paths]
    used = {op for g in graphs for op in check_ops(g)}
    # a 16x8 model (QBUILD_INT16); an int8 LSTM's int16 cell state is a variable tensor, not an int16 activation
    int16 = any(t.type == "int16" and not t.const and not t.variable for g in graphs for t in g.tensors)
    write_atomic(out, render("qbuild_ops.h.j2", sources=sources, ops=[(op, op in used) for op in SUPPORTED_OPS],
                             int16=int16))


def cli_main(argv) -> int:
    """`python -m qbuild ops MODEL.tflite [MORE.tflite ...] OUT.h`: write the op table header for another build system, which
    compiles the runtime's op table source (`python -m qbuild runtime --op-table-source`) with `-include OUT.h`."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m qbuild ops",
                                 description="Write qbuild_ops.h: the runtime's op switches for one model.")
    ap.add_argument("tflite", type=Path, nargs="+", help="the model's .tflite (several: the union of their ops)")
    ap.add_argument("out", type=Path, help="header to write (e.g. build/qbuild_ops.h)")
    args = ap.parse_args(argv)
    write_op_table(args.tflite, ", ".join(p.name for p in args.tflite), args.out)
    return 0
