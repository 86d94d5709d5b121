"""The activation planner's rules, mirrored exactly from runtime/src/planner.cc (in-place sharing, first-fit placement).

Buffers are dicts with "size", "first", "last" (op indices, inclusive) and "order" (index ties); plan_buffers sets
"offset". qbuild.tflite.plan builds the buffers from a model the way runtime/src/model.cc does.
"""
from __future__ import annotations

from qbuild.tflite.reader import Graph

ALIGN = 16  # QBUILD_ARENA_ALIGN


def _align(v: int, a: int) -> int:
    return (v + a - 1) // a * a


# Placement orders (planner.cc goes_before), ties by size (larger first) then "order".
STRATEGIES = (
    lambda b: (),                                               # larger first
    lambda b: (b["first"],),                                    # first use
    lambda b: (b["first"] - b["last"],),                        # longer lifetime
    lambda b: (-b["size"] * (b["last"] - b["first"] + 1),),     # larger size x lifetime
    lambda b: (-b["last"],),                                    # last use, latest first
)


def _overlap(a: dict, b: dict) -> bool:
    return not (a["last"] < b["first"] or b["last"] < a["first"])


def place(buffers: list[dict], align: int, strategy: int) -> int:
    """First fit in one order (planner.cc place); sets b['offset'], returns the aligned total."""
    placed: list[dict] = []  # ascending offset, ties in placement order
    total = 0
    key = STRATEGIES[strategy]
    for b in sorted(buffers, key=lambda b: key(b) + (-b["size"], b["order"])):
        candidate = 0
        for p in placed:
            if not _overlap(p, b):
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


def plan_buffers(buffers: list[dict], align: int = ALIGN) -> int:
    """The run-time planner (planner.cc plan_buffers): first fit in each order of STRATEGIES, the smallest total wins
    (ties: the earlier order); sets b['offset'], returns the aligned total."""
    totals = [place(buffers, align, k) for k in range(len(STRATEGIES))]
    best = totals.index(min(totals))
    return totals[-1] if best == len(STRATEGIES) - 1 else place(buffers, align, best)


def lower_bound(buffers: list[dict], align: int = ALIGN) -> int:
    """Max over ops of the aligned bytes live at once (planner.cc plan_lower_bound): no plan can be smaller."""
    ops = sorted({b["first"] for b in buffers})  # the live set only grows at a first use
    return max((sum(_align(b["size"], align) for b in buffers if b["first"] <= op <= b["last"]) for op in ops),
               default=0)


SEARCH_BUDGET = 20000  # search nodes; the build-time plan stays well under a few seconds on large graphs


def search_buffers(buffers: list[dict], align: int = ALIGN, budget: int = SEARCH_BUDGET) -> tuple[int, str]:
    """Build-time placement: plan_buffers, then, when that misses the lower bound, a depth-first search over
    placement orders for a smaller total. Sets b['offset']; returns (aligned total, why the total is what it is).

    Complete: placing the buffers of any packing in the order of their offsets by first fit gives a packing no larger,
    and repeating that reaches one that first fit reproduces in offset order. So the search only extends orders whose
    first-fit offsets never decrease (equal offsets in index order), and prunes a branch when a buffer not yet placed
    cannot end below the best total. Deterministic: children in (first-fit offset, larger, index) order."""
    best = plan_buffers(buffers, align)
    bound = lower_bound(buffers, align)
    if best <= bound:
        return best, "at the lower bound"
    n = len(buffers)
    size = [b["size"] for b in buffers]
    conflicts = [[j for j in range(n) if j != i and _overlap(buffers[i], buffers[j])] for i in range(n)]
    offsets: list = [None] * n
    best_offsets = [b["offset"] for b in buffers]
    state = {"best": best, "nodes": 0, "complete": True}

    def first_fit(i: int) -> int:
        candidate = 0
        for o, j in sorted((offsets[j], j) for j in conflicts[i] if offsets[j] is not None):
            if candidate + size[i] <= o:
                break
            candidate = max(candidate, _align(o + size[j], align))
        return candidate

    def dfs(left: list[int], last_offset: int, last_index: int, end: int) -> None:
        if not left:
            if _align(end, align) < state["best"]:
                state["best"] = _align(end, align)
                best_offsets[:] = offsets
            return
        state["nodes"] += 1
        if state["nodes"] > budget:
            state["complete"] = False
            return
        fits = {i: first_fit(i) for i in left}
        if any(_align(max(fits[i], last_offset) + size[i], align) >= state["best"] for i in left):
            return
        for i in sorted(left, key=lambda i: (fits[i], -size[i], i)):
            if fits[i] < last_offset or (fits[i] == last_offset and i < last_index):
                continue
            offsets[i] = fits[i]
            dfs([j for j in left if j != i], fits[i], i, max(end, fits[i] + size[i]))
            offsets[i] = None
            if state["best"] <= bound or not state["complete"]:
                return

    dfs(list(range(n)), 0, -1, 0)
    for b, o in zip(buffers, best_offsets):
        b["offset"] = o
    if state["best"] <= bound:
        return state["best"], "at the lower bound (search)"
    if state["complete"]:
        return state["best"], (f"{state['best'] - bound} B above the lower bound: an exhaustive search over placement "
                               "orders proves no packing of these lifetimes reaches it")
    return state["best"], (f"{state['best'] - bound} B above the lower bound: the search stopped after {budget} "
                           "nodes without reaching it")


GRAPH_INPUT, GRAPH_OUTPUT = 1, 2  # kPlanGraphInput, kPlanGraphOutput
# In-place ops (runtime/src/planner.cc in_place_kind): the output aliases input 0 (RESHAPE), or overwrites an input
# that dies at the op and holds no graph I/O (kernels that read element i before writing element i).
ALIAS_OPS = {"RESHAPE"}
OVERWRITE_OPS = {"ADD", "MUL", "SUB", "RELU", "RELU6", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU", "QUANTIZE"}


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


