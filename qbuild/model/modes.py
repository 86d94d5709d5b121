"""Mode comparison: float vs int8 vs 16x8 vs selective float, measured on the test data, so that a user whose report
rows are flagged picks a mode with numbers (`scons model=... compare_modes=1`: modes.md and modes.json).

Each mode is converted from the same Keras model and the same representative samples as the build, then measured the
same way: accuracy with the TFLM interpreter (the oracle qbuild's runtime matches bit for bit), the .tflite size, the
arena qbuild's runtime plans for a 32-bit target (only int8 and 16x8 run on it: float ops do not) and TFLM's own arena
on this 64-bit host (every mode runs there, so that column compares all four).

    float            no quantization (float32 weights and activations)
    int8             the build's default (TFLITE_BUILTINS_INT8)
    16x8             int16 activations, int8 weights (EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8)
    selective float  int8 with the flagged report rows' tensors kept in float (tflite_converter['denylisted_nodes'])
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np

from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic, write_json
from qbuild.log import log
from qbuild.model import data as rawdata
from qbuild.model import report
from qbuild.model.evaluate import accuracy, tflm_interpreter, tflm_outputs
from qbuild.model.preprocess import model_input, norm_mode
from qbuild.model.quantize import ConverterFactory, convert, representative_samples
from qbuild.model.tfenv import captured_fds, load_keras
from qbuild.tflite import plan as qplan
from qbuild.tflite.reader import read_model

INT16X8 = ["EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"]
MODES = ("float", "int8", "16x8", "selective float")
_TFLM_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")


def tflm_arena_bytes(tflite: bytes) -> int | None:
    """TFLM's arena for this model on this host (its RecordingMicroAllocator total), None when it cannot tell."""
    interp = tflm_interpreter(tflite)
    with captured_fds() as text:
        interp.print_allocations()
    found = _TFLM_TOTAL.search(text())
    return int(found.group(1)) if found else None


def qbuild_arena_bytes(tflite: bytes) -> int | None:
    """The qbuild runtime's planned arena on a 32-bit target; None when the runtime cannot run the model."""
    try:
        return qplan.plan_model(read_model(tflite, "compared model"), pointer_size=4).arena_bytes
    except QbuildError:
        return None


def float_tflite(factory: ConverterFactory) -> bytes:
    tf = factory.tf
    with captured_fds():
        return bytes(tf.lite.TFLiteConverter.from_concrete_functions([factory.concrete], factory.holder).convert())


def runtime_gap(tflite: bytes) -> str:
    """Why qbuild's runtime cannot run a model: its arithmetic ops on tensor types it has no kernels for."""
    g = read_model(tflite, "compared model")
    bad = set()
    for op in g.ops:
        kind = g.tensors[op.outputs[0]].type if op.outputs else ""
        if op.name not in qplan.OP_DATA_BYTES:
            bad.add(op.name)
        elif op.name not in ("DEQUANTIZE", "RESHAPE") and kind not in ("int8", "int32", "bool") and not (
                kind == "int16" and op.name in qplan.INT16_OPS):
            bad.add(f"{kind} {op.name}")
    return "off qbuild's runtime: " + ", ".join(sorted(bad)) if bad else ""


def measure(mode: str, tflite: bytes, x_test: np.ndarray, y_test: np.ndarray, note: str = "") -> dict:
    arena = qbuild_arena_bytes(tflite)
    gap = runtime_gap(tflite) if arena is None else ""
    return {"mode": mode, "accuracy": round(accuracy(tflm_outputs(tflite, x_test), y_test), 6),
            "tflite_bytes": len(tflite), "qbuild_arena_bytes": arena, "tflm_arena_bytes": tflm_arena_bytes(tflite),
            "note": "; ".join(n for n in (note, gap) if n)}


def compare_modes(keras_model, x_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, settings: dict,
                  flagged_tensors: list[str]) -> list[dict]:
    """One result per mode (selective float only when there are flagged tensors), in MODES order."""
    rep = representative_samples(x_train, int(settings["representative_dataset_max_samples"]))
    factory = ConverterFactory(keras_model)
    base = {k: v for k, v in settings.items() if k not in ("supported_ops", "denylisted_nodes", "denylisted_ops")}
    base.update(denylisted_nodes=[], denylisted_ops=[])
    def one(mode: str, make, note: str = "") -> dict:
        try:
            tflite = make()
        except QbuildError as e:  # e.g. TFLite has no 16x8 version of an op: a row that says so, not a failed build
            return {"mode": mode, "accuracy": None, "tflite_bytes": None, "qbuild_arena_bytes": None,
                    "tflm_arena_bytes": None, "note": f"conversion failed: {e}"[:200]}
        return measure(mode, tflite, x_test, y_test, note)

    results = [one("float", lambda: float_tflite(factory)),
               one("int8", lambda: convert(factory, rep, base)),
               one("16x8", lambda: convert(factory, rep, dict(base, supported_ops=INT16X8)))]
    if flagged_tensors:
        selective = dict(base, denylisted_nodes=list(flagged_tensors))
        results.append(one("selective float", lambda: convert(factory, rep, selective),
                           note=f"{len(flagged_tensors)} flagged tensor(s) in float"))
    return results


def _num(v) -> str:
    return f"{v:,}" if isinstance(v, int) else "-"


def render_table(name: str, results: list[dict], samples: int) -> str:
    """Markdown: one row per mode (qbuild arena '-': the runtime does not run float ops)."""
    lines = [f"{name}: modes compared on {samples} test samples (accuracy by the TFLM interpreter; qbuild arena for "
             "a 32-bit target, '-' where the note names ops the runtime lacks; TFLM arena on this host)", "",
             "| mode | accuracy % | .tflite B | qbuild arena B | TFLM arena B | note |", "|---|---|---|---|---|---|"]
    for r in results:
        acc = "-" if r["accuracy"] is None else f"{100 * r['accuracy']:.2f}"
        lines.append(f"| {r['mode']} | {acc} | {_num(r['tflite_bytes'])} | "
                     f"{_num(r['qbuild_arena_bytes'])} | {_num(r['tflm_arena_bytes'])} | {r['note']} |")
    return "\n".join(lines) + "\n"


def flagged_tensor_names(rows: list[dict], rmse_threshold: float, range_threshold: float) -> list[str]:
    """Tensors of the flagged report rows, in report order, without repeats."""
    names = []
    for r in report.flagged(rows, rmse_threshold, range_threshold):
        if r["tensor_name"] not in names:
            names.append(r["tensor_name"])
    return names


def read_rows(csv_path: Path | None) -> list[dict]:
    import csv

    if not csv_path or not Path(csv_path).is_file():
        return []
    with open(csv_path, newline="") as f:
        return list(csv.DictReader(f))


def step_compare_modes(settings: dict, keras_path: Path, data_path: Path, csv_path: Path | None, out: dict) -> list:
    """Build step `compare modes` (compare_modes=1): modes.json and modes.md next to the model's artifacts."""
    name, conv = settings["name"], settings["tflite_converter"]
    params = dict(settings["model_parameters"])
    norm_mode(params)
    d = rawdata.load_user_npz(data_path) if settings.get("user_data") else rawdata.load_npz(data_path)
    if d.get("y_test") is None or "x_test" not in d:
        raise QbuildError(f"{name}: compare_modes=1 needs labelled test data (y_test, or labels 'y' with data=)")
    model = load_keras(keras_path)
    shape = tuple(model.inputs[0].shape[1:])
    x_train = model_input(d["x_train"], params, shape)
    x_test = model_input(d["x_test"], params, shape)
    classes = int(model.outputs[0].shape[-1])
    y_test = rawdata.check_labels(d["y_test"], len(x_test), f"{data_path} test labels", num_classes=classes)
    flagged = flagged_tensor_names(read_rows(csv_path), float(conv["report_rmse_scale_threshold"]),
                                   float(conv["report_range_threshold"]))
    if not flagged:
        log(f"{name}: compare_modes: no flagged report rows, so no selective-float mode; comparing float, int8, 16x8")
    t0 = time.time()
    results = compare_modes(model, x_train, x_test, y_test, conv, flagged)
    table = render_table(name, results, len(y_test))
    print(table, end="", flush=True)
    log(f"{name}: modes compared in {time.time() - t0:.1f} s")
    write_json(out["json"], {"name": name, "test_samples": len(y_test), "flagged_tensors": flagged, "modes": results})
    write_atomic(out["md"], table)
    return results
