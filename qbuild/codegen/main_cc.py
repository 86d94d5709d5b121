"""Build step `main`: the board's `main.cc`. Python decides everything (samples as C literals, the input path, the
arena size from the planner); templates/main.cc.j2 only lays it out."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from qbuild.codegen.carray import naming
from qbuild.codegen.cformat import c_float
from qbuild.codegen.templates import render, render_file
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic
from qbuild.model.preprocess import norm_mode
from qbuild.target.firmware import C_TYPES, firmware_samples, input_path, io_details
from qbuild.tflite.params import read_params
from qbuild.tflite.plan import plan_model
from qbuild.tflite.reader import read_model

TEMPLATES = ("main.cc.j2",)


def main_context(tflite, samples: np.ndarray, board, arena_bytes: int, classes: list, sources: str,
                 symbol: str | None = None, prepared: bool = False) -> dict:
    """The template's variables for a model (bytes or a parsed Graph), its raw firmware samples and a board; `symbol`
    the model's C array prefix (None: the MLTK names); `prepared`: load with the build-time tables (`prepared` names
    their PreparedModel, None for the run-time path)."""
    io = io_details(tflite)
    params = read_params(tflite)
    mode, _ = norm_mode(params)
    raw_type = samples.dtype.name
    if raw_type not in C_TYPES:
        raise QbuildError(f"raw sample dtype {raw_type} has no firmware template; use one of {', '.join(C_TYPES)}")
    n_in = int(np.prod(io["input"]["shape"]))
    flat = samples.reshape(len(samples), -1)
    if flat.shape[1] != n_in:
        raise QbuildError(f"raw samples have {flat.shape[1]} values but the model input has {n_in}; fix the data")
    if raw_type == "float32":
        values = [[c_float(float(v)) for v in row] for row in flat]
    else:
        values = [[str(int(v)) for v in row] for row in flat]
    return {
        "sources": sources, "board": board, "arena_bytes": int(arena_bytes), "norm": mode,
        "input_type": io["input"]["type"], "output_type": io["output"]["type"],
        "input_path": input_path(io["input"]["type"], raw_type, mode),
        "raw_type": raw_type, "raw_ctype": C_TYPES[raw_type], "sample_size": n_in, "samples": values,
        "classes": list(classes), "output_size": int(np.prod(io["output"]["shape"])), "names": naming(symbol),
        "prepared": naming(symbol).base + "_prepared" if prepared else None,
    }


def write_main_cc(tflite_path: Path, data_path: Path | None, board, classes: list, sources: str, out: Path,
                  template: Path | None = None, symbol: str | None = None, prepared: bool = False) -> None:
    """main.cc from qbuild's board template, or from the user's own Jinja `template` (same variables)."""
    data = Path(tflite_path).read_bytes()
    graph = read_model(data, str(tflite_path))
    arena = plan_model(graph, pointer_size=board.pointer_size).arena_bytes  # also the tensor checks, before samples
    samples = firmware_samples(data_path, graph)
    context = main_context(graph, samples, board, arena, classes, sources, symbol, prepared)
    write_atomic(out, render_file(template, **context) if template else render("main.cc.j2", **context))
