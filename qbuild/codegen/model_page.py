"""The model page: one self-contained `index.html` a person reads first — summary, accuracy, sizes, per-layer cost and
quantization error, the advisor's findings, the on-target profile — made from the artifacts already on disk.

    write_model_page("build/models/digits/index.html", model_dir="build/models/digits")
    write_model_page("build/efr32/kws/index.html", model_dir="build/models/kws", board_dir="build/efr32/kws")

model_dir must hold `<name>.tflite` (name = the folder's name, else its only .tflite, or pass tflite=); metrics.json,
quantization_report.csv and advice.json are used when present. board_dir adds footprint.json and profile.json when
present. Python formats every number (3 significant digits for measurements, thousands separators for counts); the
template only lays out. No server, no script, no external resources: inline CSS (the charts are CSS bars), relative
links to the raw files.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from qbuild.advise.findings import DEFAULT_THRESHOLDS
from qbuild.codegen.templates import render
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic
from qbuild.tflite.summary import shape_text, sig3, summarize

TEMPLATES = ("model_page.html.j2",)
RMSE_ROUNDING = 0.289  # rmse/scale of pure rounding error of a uniform signal (1/sqrt(12))
NAME_WIDTH = 28        # characters of a layer name shown; the full name is on hover
CHART_SPAN = 88.0      # % of the chart track the longest bar may take (the rest holds its value)
# What the page reads (page_inputs) and what it only links to when present, in model_dir and board_dir.
MODEL_INPUTS = ("metrics.json", "quantization_report.csv", "advice.json")
MODEL_LINKS = ("quantization_report.html",)
BOARD_INPUTS = ("footprint.json", "profile.json")
BOARD_LINKS = ("footprint.md", "profile.csv", "profile.html", "run.json")


def count(v) -> str:
    """An integer count or size with thousands separators; '-' when unknown."""
    return "-" if v is None else f"{int(round(float(v))):,}"


def kib(v) -> str:
    """KiB with 3 significant digits up to 999 ('85.9 KiB'), whole KiB above ('1,536 KiB')."""
    if v is None:
        return "-"
    k = v / 1024
    return f"{k:,.0f} KiB" if k >= 999.5 else f"{float(f'{k:.3g}'):g} KiB"


def pct(v, digits: int = 2) -> str:
    return "-" if v is None else f"{100.0 * v:.{digits}f} %"


def short_name(name: str, width: int = NAME_WIDTH) -> str:
    """A converter tensor name for people: the first of its ';'-joined parts, without the model's top scope, cut to
    `width` characters ('digits_1/re_lu_1/Relu;digits_1/batch_norm...' -> 're_lu_1/Relu')."""
    first = name.split(";")[0]
    parts = first.split("/")
    if len(parts) > 2:
        parts = parts[1:]
    s = "/".join(parts)
    return s if len(s) <= width else s[:width - 1] + "…"


def _json(path: Path):
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise QbuildError(f"{path} is not valid JSON ({e}); delete it and rebuild") from None


def _tflite(model_dir: Path, tflite: Path | None) -> Path:
    if tflite is not None:
        if not tflite.is_file():
            raise QbuildError(f"model '{tflite}' not found; build the model first (scons model=<name>)")
        return tflite
    path = model_dir / f"{model_dir.name}.tflite"
    if path.is_file():
        return path
    found = sorted(model_dir.glob("*.tflite"))
    if len(found) != 1:
        raise QbuildError(f"{model_dir} holds {len(found)} .tflite files, not one '{path.name}'; build the model "
                          f"first (scons model={model_dir.name}) or pass its build/models/<model> folder")
    return found[0]


def _op_kind(row: dict) -> str:
    return row["type"] + (f" {row['kernel']}" if "kernel" in row else "")


def _op_label(row: dict) -> str:
    return f"#{row['index']} {_op_kind(row)}"


def weights_text(q: dict) -> str:
    """'ch×64 0.00127–0.00763' (per-channel: channels, scale range) or 'tensor 0.0306' (one scale)."""
    if q["weights"] == "per-channel":
        return f"ch×{q['channels']} {sig3(q['weight_scale_min'])}–{sig3(q['weight_scale_max'])}"
    return f"tensor {sig3(q['weight_scale_min'])}" if q["weights"] == "per-tensor" else "-"


def layer_rows(summary: dict) -> tuple[list[dict], dict]:
    """The per-op table: every value a formatted string, plus bar widths (0..1) for live bytes and MACs."""
    top_live = max((r["live_bytes"] or 0 for r in summary["ops"]), default=0) or 1
    top_macs = max((r["macs"] for r in summary["ops"]), default=0) or 1
    rows = [{"index": r["index"], "op": _op_kind(r), "name": short_name(r["output_name"]), "full": r["output_name"],
             "input": ", ".join(r["inputs"]) or "-", "output": ", ".join(r["outputs"]),
             "params": count(r["parameters"]), "macs": count(r["macs"]), "live": count(r["live_bytes"]),
             "live_w": (r["live_bytes"] or 0) / top_live, "macs_w": r["macs"] / top_macs,
             "weights": weights_text(r["quantization"]), "out_scale": sig3(r["quantization"]["output_scale"])
             if r["quantization"]["output_scale"] is not None else r["quantization"]["output_type"] or "-"}
            for r in summary["ops"]]
    t = summary["totals"]
    totals = {"params": count(t["parameters"]), "macs": count(t["macs"]), "live": count(t["peak_live_bytes"])}
    return rows, totals


def _match_ops(report: list[dict], summary: dict) -> list[dict | None]:
    """The op each report row measures. The report's tensor indices are the debugger model's, not the .tflite's, so
    rows are matched in execution order: the next op of the row's type, preferring an equal output name."""
    ops, out, at = summary["ops"], [], 0
    for row in report:
        same = [o for o in ops[at:] if o["type"] == row.get("op_name")]
        hit = next((o for o in same if o["output_name"] == row.get("tensor_name")), same[0] if same else None)
        out.append(hit)
        if hit is not None:
            at = hit["index"] + 1
    return out


def quant_report(path: Path, summary: dict, threshold: float, range_threshold: float) -> dict | None:
    """quantization_report.csv as formatted rows, and a bar chart of rmse/scale labelled by op."""
    if not path.is_file():
        return None
    with path.open(newline="") as f:
        raw = list(csv.DictReader(f))

    def num(row, key):
        try:
            return float(row.get(key) or "nan")
        except ValueError:
            return float("nan")

    rows = []
    for r, op in zip(raw, _match_ops(raw, summary)):
        value, rng = num(r, "rmse/scale"), num(r, "range")
        label = _op_label(op) if op else r.get("op_name", "?")
        rows.append({"op": label, "name": short_name(r.get("tensor_name", "")), "full": r.get("tensor_name", ""),
                     "elements": count(num(r, "num_elements")), "scale": sig3(num(r, "scale")),
                     "zero_point": r.get("zero_point", ""), "range": sig3(rng),
                     "max_abs_error": sig3(num(r, "max_abs_error")), "mean_error": sig3(num(r, "mean_error")),
                     "stddev": sig3(num(r, "stddev")), "rmse_scale": sig3(value), "value": value,
                     "bad": value > threshold or rng > range_threshold})
    finite = [r["value"] for r in rows if r["value"] == r["value"]]
    top = max(finite + [threshold * 1.1, RMSE_ROUNDING * 1.1])
    for r in rows:  # positions in % of the chart's track; CHART_SPAN leaves room for the value after the bar
        r["x"] = CHART_SPAN * (r["value"] / top if r["value"] == r["value"] else 0.0)
    return {"rows": rows, "threshold": sig3(threshold), "range_threshold": sig3(range_threshold),
            "threshold_x": CHART_SPAN * threshold / top, "rounding_x": CHART_SPAN * RMSE_ROUNDING / top,
            "rounding": sig3(RMSE_ROUNDING), "bad": sum(r["bad"] for r in rows)}


def accuracy(metrics: dict | None) -> dict | None:
    if not metrics or metrics.get("float_accuracy") is None:
        return None
    f, q = metrics["float_accuracy"], metrics["int8_accuracy"]  # int8_accuracy: the quantized model, any mode
    return {"mode": {"int16x8": "16x8"}.get(metrics.get("quantization"), "int8"), "float": pct(f), "int8": pct(q), "float_w": f, "int8_w": q, "samples": count(metrics.get("test_samples")),
            "delta": f"{100.0 * (q - f):+.2f} points"}


def sizes(tflite: Path, summary: dict, footprint: dict | None) -> dict:
    arena = summary["arena"]
    out = {"tflite": count(tflite.stat().st_size), "params": count(summary["totals"]["parameter_bytes"]),
           "arena": count(arena["arena_bytes"]) if arena else "-",
           "activations": count(arena["activation_bytes"]) if arena else "-",
           "runtime_data": count(arena["persistent_bytes"]) if arena else "-",
           "pointer_size": summary["pointer_size"], "regions": [], "components": [], "board": None, "ok": None}
    if footprint:
        out["board"], out["ok"] = footprint.get("board"), footprint.get("ok")
        for name, r in sorted((footprint.get("regions") or {}).items()):
            budget = r.get("budget") or r.get("length") or 0
            out["regions"].append({"name": name, "used": count(r.get("used")), "budget": count(budget),
                                   "used_kib": kib(r.get("used")), "budget_kib": kib(budget),
                                   "share": pct(r["used"] / budget, 1) if budget else "-",
                                   "w": min(1.0, r["used"] / budget) if budget else 0.0})
        comps = footprint.get("components") or {}
        for name, c in sorted(comps.items(), key=lambda kv: -(kv[1].get("flash", 0) + kv[1].get("ram", 0))):
            out["components"].append({"name": name, "flash": count(c.get("flash", 0)), "ram": count(c.get("ram", 0))})
    return out


def profile_rows(profile: dict | None) -> dict | None:
    if not profile or not profile.get("ops"):
        return None
    total = profile.get("instructions_per_inference") or 1
    top = max(r["instructions"] for r in profile["ops"]) or 1
    rows = [{"index": r["index"], "op": r["op"], "output": r["output"], "macs": count(r["macs"]),
             "instructions": count(r["instructions"]),
             "per_mac": f"{r['per_mac']:.2f}" if r.get("per_mac") is not None else "-",
             "share": f"{100.0 * r['instructions'] / total:.1f} %", "w": r["instructions"] / top}
            for r in profile["ops"]]
    clock = profile.get("clock_hz")
    return {"rows": rows, "board": profile.get("board", "?"), "instructions": count(total),
            "macs": count(profile.get("macs")),
            "per_mac": f"{profile['per_mac']:.2f}" if profile.get("per_mac") else "-",
            "est_ms": sig3(profile.get("est_ms")), "clock_mhz": f"{clock / 1e6:g}" if clock else None,
            "estimate": profile.get("estimate", "")}


def findings(advice: dict | None) -> dict | None:
    if advice is None:
        return None
    return {"items": [{"severity": f.get("severity", "warning"), "check": f.get("check", ""),
                       "layer": f.get("layer", ""), "message": f.get("message", "")}
                      for f in advice.get("findings", [])],
            "thresholds": [(k, sig3(v)) for k, v in sorted((advice.get("thresholds") or {}).items())]}


def _io(summary: dict, which: str) -> str:
    return "; ".join(f"{t['type']} {shape_text(t['shape'])}" + (f" (scale {sig3(t['scale'])}, zero point "
                                                                 f"{t['zero_point']})" if t["scale"] else "")
                     for t in summary[which])


def page_inputs(model_dir, board_dir=None) -> list[Path]:
    """Every file the page reads besides the .tflite, present or not (a build declares them as sources; a missing one
    leaves its section saying so)."""
    return ([Path(model_dir) / n for n in MODEL_INPUTS]
            + ([Path(board_dir) / n for n in BOARD_INPUTS] if board_dir is not None else []))


def page_context(out_html: Path, model_dir: Path, board_dir: Path | None, tflite: Path | None = None) -> dict:
    tflite = _tflite(model_dir, tflite)
    metrics = _json(model_dir / "metrics.json")
    advice = _json(model_dir / "advice.json")
    footprint = _json(board_dir / "footprint.json") if board_dir else None
    profile = _json(board_dir / "profile.json") if board_dir else None
    pointer_size = (footprint or {}).get("pointer_bits", 32) // 8
    summary = summarize(tflite.read_bytes(), pointer_size if pointer_size in (4, 8) else 4)
    thresholds = {**DEFAULT_THRESHOLDS, **((advice or {}).get("thresholds") or {})}
    layers, totals = layer_rows(summary)
    out_dir = out_html.parent
    raw = [tflite] + [model_dir / n for n in MODEL_INPUTS + MODEL_LINKS]
    if board_dir:
        raw += [board_dir / n for n in BOARD_INPUTS + BOARD_LINKS]
    build_root = model_dir.parent.parent  # build/: files outside the page's folder are named from there
    inputs = {tflite, *page_inputs(model_dir, board_dir)}
    files = [{"name": p.name if p.parent == out_dir else Path(os.path.relpath(p, build_root)).as_posix(),
              "href": Path(os.path.relpath(p, out_dir)).as_posix(), "input": p in inputs}
             for p in raw if p.is_file()]
    name = tflite.stem
    acc = accuracy(metrics)
    sz = sizes(tflite, summary, footprint)
    types = list(dict.fromkeys(r["type"] for r in summary["ops"]))  # first appearance order
    t, arena = summary["totals"], summary["arena"]
    facts = [("Input", _io(summary, "inputs"), ""), ("Output", _io(summary, "outputs"), ""),
             ("Ops", f"{t['ops']:,}", f"{len(types)} kinds ({', '.join(types[:3] + ['…'] * (len(types) > 3))})"),
             ("Parameters", count(t["parameters"]), f"{count(t['parameter_bytes'])} B; {t['per_channel_ops']} ops "
                                                    "quantized per channel"),
             ("MACs per inference", count(t["macs"]), ""),
             ("Tensor arena", f"{count(arena['arena_bytes'])} B" if arena else "not planned",
              f"peak live activations {count(t['peak_live_bytes'])} B" if arena else summary["runtime_error"]),
             (".tflite", f"{count(tflite.stat().st_size)} B", "")]
    if acc:
        facts.append(("Accuracy float → int8", f"{acc['float']} → {acc['int8']}", f"{acc['samples']} test samples"))
    facts += [(f"{r['name'].upper()} on {sz['board']}", f"{r['used_kib']} of {r['budget_kib']}", r["share"] + " used")
              for r in sz["regions"]]
    if profile and profile.get("instructions_per_inference"):
        facts.append(("Instructions per inference", count(profile["instructions_per_inference"]),
                      f"on {profile.get('board')}, exact (QEMU)"))
    return {
        "title": name if not board_dir else f"{name} on {sz['board'] or board_dir.parent.name}",
        "sources": ", ".join(f["name"] for f in files if f["input"]),
        "facts": facts, "layers": layers, "totals": totals, "pointer_size": summary["pointer_size"],
        "accuracy": acc, "sizes": sz,
        "quant": quant_report(model_dir / "quantization_report.csv", summary,
                              float(thresholds["rmse_scale"]), float(thresholds["range"])),
        "advice": findings(advice), "profile": profile_rows(profile), "files": files,
    }


def write_model_page(out_html, *, model_dir, board_dir=None, tflite=None) -> Path:
    """Render index.html (or any out_html) from model_dir's artifacts (and board_dir's); returns its path. `tflite`:
    the model file when it is not model_dir/<folder name>.tflite (file models build in <stem>-<hash>/)."""
    out_html, model_dir = Path(out_html), Path(model_dir)
    board_dir = Path(board_dir) if board_dir is not None else None
    if not model_dir.is_dir():
        raise QbuildError(f"model folder '{model_dir}' not found; build the model first (scons model=<name>)")
    context = page_context(out_html, model_dir, board_dir, Path(tflite) if tflite is not None else None)
    return write_atomic(out_html, render("model_page.html.j2", **context))
