"""The activation planner's rules, mirrored exactly from runtime/src/planner.cc (in-place sharing, first-fit placement).

Buffers are dicts with "size", "first", "last" (op indices, inclusive) and "order" (index ties); plan_buffers sets
"offset". qbuild.tflite.plan builds the buffers from a model the way runtime/src/model.cc does.
"""
from __future__ import annotations

from qbuild.tflite.reader import Graph

ALIGN = 16  # QBUILD_ARENA_ALIGN


def _align(v: int, a: int) -> int:
    return (v + a - 1) // a * a


def plan_buffers(buffers: list[dict], align: int = ALIGN) -> int:
    """Greedy placement (same rules as runtime/src/planner.cc); sets b['offset'], returns the aligned total."""
    placed: list[dict] = []  # ascending offset, ties in placement order
    total = 0
    for b in sorted(buffers, key=lambda b: (-b["size"], b["order"])):
        candidate = 0
        for p in placed:
            if p["last"] < b["first"] or b["last"] < p["first"]:
                continue
            if candidate + b["size"] <= p["offset"]:
                break
            candidate = max(candidate, _align(p["offset"] + p["size"], align))
        b["offset"] = candidate
        at = 0
        while at < len(placed) and placed[at]["offset"] <= candidate:
            at += 1
        placed.insert(at, b)
        total = max(total, candidate + b["size"])
    return _align(total, align)


GRAPH_INPUT, GRAPH_OUTPUT = 1, 2  # kPlanGraphInput, kPlanGraphOutput
# In-place ops (runtime/src/planner.cc in_place_kind): the output aliases input 0 (RESHAPE), or overwrites an input
# that dies at the op and holds no graph I/O (kernels that read element i before writing element i).
ALIAS_OPS = {"RESHAPE"}
OVERWRITE_OPS = {"ADD", "MUL", "RELU", "RELU6", "LOGISTIC", "TANH", "HARD_SWISH", "QUANTIZE"}


def share_in_place(g: Graph, first: dict, last: dict, io: dict) -> dict[int, int]:
    """Groups tensors that share a buffer (planner.cc plan_share); returns tensor -> group root. Updates the roots'
    `last` and `io` to cover their group."""
    parent = {t: t for t in first}

    def find(t: int) -> int:
        while parent[t] != t:
            t = parent[t]
        return t

    for i, op in enumerate(g.ops):
        alias = op.name in ALIAS_OPS
        if not (alias or op.name in OVERWRITE_OPS) or len(op.outputs) != 1:
            continue
        out = op.outputs[0]
        for t in op.inputs[:1] if alias else op.inputs:
            if t < 0 or g.tensors[t].const or g.tensors[t].type != g.tensors[out].type:
                continue
            r = find(t)
            if (g.tensors[t].bytes() != g.tensors[out].bytes() or r == out or parent[out] != out or first[out] != i
                    or io[out] & GRAPH_INPUT):
                continue
            if not alias and (last[r] != i or io[r]):
                continue
            parent[out] = r
            last[r] = max(last[r], last[out])
            io[r] |= io[out]
            break
    return {t: find(t) for t in first}


