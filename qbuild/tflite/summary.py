"""What a model costs, op by op: shapes, parameters, MACs, activation bytes live at each op, quantization; totals.

    python -m qbuild summarize build/models/digits/digits.tflite [--json] [--pointer-size 4|8]

Nothing here is computed twice: the graph comes from `qbuild.tflite.reader`, the arena and each activation's lifetime
from the planner mirror (`qbuild.tflite.plan`, so the arena is what the runtime reports), MACs from
`op_macs` below (the numbers the profiler divides by). "Live at op i" is the sum of the activation
buffers whose planned lifetime covers op i; its maximum is the plan's lower bound. "Extent" is the top of the highest of
those buffers in the activation region (the planner may leave gaps, so extent >= live).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.tflite.plan import plan_model, scratch_bytes
from qbuild.tflite.reader import Graph, Tensor, as_graph

SUMMARY_VERSION = 1
# Ops whose constant inputs are learned parameters (filters, biases, constant operands). Constant inputs of the other
# ops (RESHAPE's shape, PAD's paddings, MEAN's axes, ...) are configuration, not parameters.
PARAMETER_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "ADD", "SUB", "MUL"}
WEIGHTED_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}  # input 1 is the filter



def op_macs(g: Graph, op) -> int:
    """Multiply-accumulates of an op: output elements times the weights each output reads."""
    if op.name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") or len(op.inputs) < 2:
        return 0
    out_n = 1
    for d in g.tensors[op.outputs[0]].shape:
        out_n *= d
    f = g.tensors[op.inputs[1]].shape
    per_output = {"CONV_2D": lambda: f[1] * f[2] * f[3], "DEPTHWISE_CONV_2D": lambda: f[1] * f[2],
                  "FULLY_CONNECTED": lambda: f[-1]}[op.name]()
    return out_n * per_output

def _elements(t: Tensor) -> int:
    n = 1
    for d in t.shape:
        n *= d
    return n


def shape_text(shape: list[int]) -> str:
    return "x".join(map(str, shape)) or "scalar"


def _quantization(g: Graph, op) -> dict:
    """Filter quantization (per-tensor / per-channel and its scale range) of a weighted op, and the output's."""
    q: dict = {"weights": None, "channels": 0, "weight_scale_min": None, "weight_scale_max": None,
               "output_type": None, "output_scale": None, "output_zero_point": None}
    if op.name in WEIGHTED_OPS and len(op.inputs) > 1 and op.inputs[1] >= 0:
        w = g.tensors[op.inputs[1]]
        if w.scales:
            q.update(weights="per-channel" if len(w.scales) > 1 else "per-tensor", channels=len(w.scales),
                     weight_scale_min=min(w.scales), weight_scale_max=max(w.scales))
    if op.outputs:
        out = g.tensors[op.outputs[0]]
        q.update(output_type=out.type, output_scale=out.scales[0] if out.scales else None,
                 output_zero_point=out.zero_points[0] if out.zero_points else None)
    return q


def summarize(model: "bytes | Graph", pointer_size: int = 4) -> dict:
    """The summary as JSON-able data (version 1). A model the runtime cannot run still gets its ops, parameters and
    MACs; its arena fields are then None and `runtime_error` says why."""
    g = as_graph(model)
    try:
        plan, runtime_error = plan_model(g, pointer_size), None
    except QbuildError as e:
        if pointer_size not in (4, 8):
            raise
        plan, runtime_error = None, str(e)
    ops = []
    for i, op in enumerate(g.ops):
        consts = [g.tensors[t] for t in op.inputs if t >= 0 and g.tensors[t].const] if op.name in PARAMETER_OPS else []
        row = {"index": op.index, "type": op.name,
               "inputs": [shape_text(g.tensors[t].shape) for t in op.inputs if t >= 0 and not g.tensors[t].const],
               "outputs": [shape_text(g.tensors[t].shape) for t in op.outputs],
               "output_name": g.output_name(op),
               "parameters": sum(_elements(t) for t in consts), "parameter_bytes": sum(t.bytes() for t in consts),
               "macs": op_macs(g, op), "live_bytes": None, "extent_bytes": None,
               "quantization": _quantization(g, op)}
        filt = g.tensors[op.inputs[1]].shape if len(op.inputs) > 1 and op.inputs[1] >= 0 else []
        if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(filt) == 4:
            row["kernel"] = f"{filt[1]}x{filt[2]}"  # filter [out, h, w, in]
        if plan is not None:
            live = [t for t, (first, last) in plan.lifetimes.items() if first <= i <= last]
            scratch = scratch_bytes(g, op) if i in plan.scratch_offsets else 0  # e.g. TRANSPOSE_CONV's int32 sums
            row["live_bytes"] = sum(g.tensors[t].bytes() for t in live) + scratch
            row["extent_bytes"] = max([plan.offsets[t] + g.tensors[t].bytes() for t in live]
                                      + ([plan.scratch_offsets[i] + scratch] if scratch else []), default=0)
        ops.append(row)
    const_bytes = sum(t.bytes() for t in g.tensors if t.const)
    io = {w: [{"name": g.tensors[t].name, "type": g.tensors[t].type, "shape": list(g.tensors[t].shape),
               "scale": g.tensors[t].scales[0] if g.tensors[t].scales else None,
               "zero_point": g.tensors[t].zero_points[0] if g.tensors[t].zero_points else None}
              for t in (g.inputs if w == "inputs" else g.outputs)] for w in ("inputs", "outputs")}
    live = [r["live_bytes"] for r in ops if r["live_bytes"] is not None]
    return {
        "version": SUMMARY_VERSION, "pointer_size": pointer_size,
        "tflite_bytes": None if isinstance(model, Graph) else len(model),
        **io, "ops": ops,
        "totals": {"ops": len(ops), "parameters": sum(r["parameters"] for r in ops),
                   "parameter_bytes": sum(r["parameter_bytes"] for r in ops), "const_bytes": const_bytes,
                   "macs": sum(r["macs"] for r in ops), "peak_live_bytes": max(live) if live else None,
                   "per_channel_ops": sum(r["quantization"]["weights"] == "per-channel" for r in ops)},
        "arena": None if plan is None else {
            "arena_bytes": plan.arena_bytes, "persistent_bytes": plan.persistent_bytes,
            "activation_bytes": plan.activation_bytes, "lower_bound_bytes": plan.lower_bound_bytes},
        "runtime_error": runtime_error,
    }


def sig3(v: float | None) -> str:
    """A scale or error for people: 3 significant digits, no 15-digit floats."""
    return "-" if v is None else f"{v:.3g}"


def quant_text(q: dict) -> str:
    if q["weights"] == "per-channel":
        w = f"w/ch x{q['channels']} {sig3(q['weight_scale_min'])}..{sig3(q['weight_scale_max'])}"
    elif q["weights"] == "per-tensor":
        w = f"w {sig3(q['weight_scale_min'])}"
    else:
        w = ""
    out = f"out {sig3(q['output_scale'])}" if q["output_scale"] is not None else (q["output_type"] or "")
    return f"{w}; {out}" if w and out else w or out


def _count(v) -> str:
    return "-" if v is None else f"{v:,}"


def render_text(s: dict) -> str:
    """The console table: one row per op, then totals and the arena."""
    head = (f"{'#':>3}  {'op':<22} {'input':<14} {'output':<14} {'params':>9} {'MACs':>11} {'live B':>8}  "
            "quantization (scales)")
    lines = [head, "-" * len(head)]
    for r in s["ops"]:
        op = r["type"] + (f" {r['kernel']}" if "kernel" in r else "")
        lines.append(f"{r['index']:>3}  {op:<22} {' '.join(r['inputs']) or '-':<14} {' '.join(r['outputs']):<14} "
                     f"{_count(r['parameters']):>9} {_count(r['macs']):>11} {_count(r['live_bytes']):>8}  "
                     f"{quant_text(r['quantization'])}")
    t = s["totals"]
    lines.append("-" * len(head))
    lines.append(f"{t['ops']} ops, {t['parameters']:,} parameters ({t['parameter_bytes']:,} B; all constants "
                 f"{t['const_bytes']:,} B), {t['macs']:,} MACs, {t['per_channel_ops']} per-channel ops"
                 + (f", .tflite {s['tflite_bytes']:,} B" if s["tflite_bytes"] is not None else ""))
    a = s["arena"]
    if a is None:
        lines.append(f"arena: not planned ({s['runtime_error']})")
    else:
        lines.append(f"arena: {a['arena_bytes']:,} B (runtime data {a['persistent_bytes']:,}, activations "
                     f"{a['activation_bytes']:,}; peak live {a['lower_bound_bytes']:,}; "
                     f"pointer size {s['pointer_size']})")
    return "\n".join(lines) + "\n"


def cli_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m qbuild summarize",
                                 description="per-op shapes, parameters, MACs, live activations, quantization; totals")
    ap.add_argument("model", type=Path)
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--pointer-size", type=int, default=4, choices=(4, 8),
                    help="target pointer size for the arena: 4 for Cortex-M (default), 8 for a 64-bit host")
    args = ap.parse_args(argv)
    if not args.model.is_file():
        raise QbuildError(f"model file '{args.model}' not found; pass the path of a .tflite")
    s = summarize(args.model.read_bytes(), args.pointer_size)
    sys.stdout.write(json.dumps(s, indent=1) + "\n" if args.json else render_text(s))
    return 0


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
