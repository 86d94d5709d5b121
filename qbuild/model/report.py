"""Quantization report: QuantizationDebugger per-layer statistics + `range` and `rmse/scale`, as CSV and HTML."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from qbuild.fsutil import write_atomic
from qbuild.model.tfenv import captured_fds

TEMPLATES = ("quantization_report.html.j2",)

DEBUGGER_COLUMNS = ["op_name", "tensor_idx", "num_elements", "stddev", "mean_error", "max_abs_error",
                    "mean_squared_error", "scale", "zero_point", "tensor_name"]
COLUMNS = DEBUGGER_COLUMNS + ["range", "rmse/scale"]
WELL_QUANTIZED = 0.289  # rmse/scale of a uniformly distributed rounding error: 1/sqrt(12)


def debugger_rows(factory, rep: list, settings: dict) -> list[dict]:
    """Run TFLite's QuantizationDebugger on a *fresh* converter and return its rows with the derived columns."""
    tf = factory.tf
    with captured_fds():
        dbg = tf.lite.experimental.QuantizationDebugger(converter=factory.make(rep, settings),
                                                        debug_dataset=lambda: ([r] for r in rep))
        dbg.run()
        buf = io.StringIO()
        dbg.layer_statistics_dump(buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    return [with_derived(r) for r in rows]


def with_derived(row: dict) -> dict:
    scale = float(row["scale"])
    mse = float(row["mean_squared_error"])
    out = {k: row[k] for k in DEBUGGER_COLUMNS}
    out["range"] = repr(255.0 * scale)
    out["rmse/scale"] = repr(math.sqrt(mse) / scale) if scale > 0 else "inf"
    return out


def flagged(rows: list[dict], rmse_threshold: float = 0.5, range_threshold: float = 255.0) -> list[dict]:
    return [r for r in rows if float(r["rmse/scale"]) > rmse_threshold or float(r["range"]) > range_threshold]


def flag_line(row: dict, rmse_threshold: float, range_threshold: float) -> str:
    why = []
    if float(row["range"]) > range_threshold:
        why.append(f"range {float(row['range']):.1f} > {range_threshold:g}: normalize the inputs of this layer "
                   "(samplewise_norm.*) or add BatchNormalization before its activation")
    if float(row["rmse/scale"]) > rmse_threshold:
        why.append(f"rmse/scale {float(row['rmse/scale']):.3f} > {rmse_threshold:g}: add BatchNorm/LayerNorm before the "
                   "activation, or keep it in float with tflite_converter['denylisted_nodes']")
    return f"{row['op_name']} '{row['tensor_name']}': " + "; ".join(why)


def write_csv(rows: list[dict], path: Path) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_atomic(path, buf.getvalue())


def write_html(rows: list[dict], path: Path, title: str, rmse_threshold: float, range_threshold: float,
               advice: list | None = None, sources: str = "") -> None:
    from qbuild.codegen.templates import render

    bars, worst = [], max([float(r["rmse/scale"]) for r in rows] + [WELL_QUANTIZED * 2])
    for i, r in enumerate(rows):
        v = float(r["rmse/scale"])
        bars.append({"i": i, "label": r["tensor_name"], "op": r["op_name"], "value": v,
                     "width": 0 if math.isinf(v) else v / worst, "bad": r in flagged([r], rmse_threshold, range_threshold)})
    html = render("quantization_report.html.j2", title=title, columns=COLUMNS, rows=rows, bars=bars,
                  line=WELL_QUANTIZED / worst, threshold=rmse_threshold, threshold_x=min(rmse_threshold / worst, 1.0),
                  range_threshold=range_threshold, advice=advice or [], sources=sources)
    write_atomic(path, html)
