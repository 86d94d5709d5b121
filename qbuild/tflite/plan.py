"""Build-time mirror of the runtime's memory planner and op check (runtime/src/model.cc, planner.cc).

`plan_model(tflite_bytes, pointer_size)` computes, without compiling anything, exactly the arena bytes that
`qbuild::Model::arena_used_bytes()` reports on a target with that pointer size (4 on Cortex-M, 8 on x86-64 hosts):

    arena = [TensorView x tensors][OpNode x ops][op data, 8-byte aligned per block][pad to 16]
            [activations: greedy plan, each buffer 16-byte aligned]

Activations are the non-constant tensors some op (or the graph I/O) uses, live from their first to their last use
(graph inputs from op 0, graph outputs to the last op). Placement: largest first (ties by tensor index), each at the
lowest 16-aligned offset that does not overlap an already-placed buffer with an overlapping lifetime.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.tflite.placement import (GRAPH_INPUT, GRAPH_OUTPUT, lower_bound, plan_buffers,  # noqa: F401
                                     search_buffers, share_in_place)
from qbuild.tflite.reader import Graph, as_graph, read_model

ALIGN = 16            # QBUILD_ARENA_ALIGN
MODEL_OBJECT_BYTES = {4: 76, 8: 112}  # sizeof(qbuild::Model): the application's RAM besides the arena


def op_node_bytes(pointer_size: int) -> int:
    """sizeof(qbuild::OpNode): eval pointer, op position, op data and scratch offsets."""
    return 16 if pointer_size == 4 else 24


def prepared_table_bytes(tensors: int, ops: int, op_data: int, pointer_size: int) -> int:
    """Flash of the build-time path's tables: tensor views, op nodes, op data and the PreparedModel header (11
    uint32 fields, padded to the pointer size, then 4 pointers)."""
    header = _align(4 * 11, pointer_size) + 4 * pointer_size
    return tensors * tensor_view_bytes(pointer_size) + ops * op_node_bytes(pointer_size) + op_data + header
PLAN_RECORD_BYTES = 16  # sizeof(PlanBuffer): the planner's temporary records share the activation region

# Persistent bytes per op (sizeof of the kernel params struct the glue allocates; static_asserts in runtime/src/ops).
OP_DATA_BYTES = {
    "ADD": 48, "AVERAGE_POOL_2D": 72, "CONCATENATION": 0, "CONV_2D": 72, "DEPTHWISE_CONV_2D": 72, "DEQUANTIZE": 8,
    "FULLY_CONNECTED": 72, "HARD_SWISH": 24, "LOGISTIC": 16, "MAX_POOL_2D": 72, "MEAN": 24, "MUL": 28, "PACK": 0,
    "PAD": 0, "QUANTIZE": 16, "RELU": 24, "RELU6": 8, "RESHAPE": 0, "SHAPE": 0, "SOFTMAX": 12, "SPLIT": 0, "STRIDED_SLICE": 0,
    "TANH": 16, "UNPACK": 0,
    "LEAKY_RELU": 24, "PRELU": 28, "REDUCE_MAX": 4, "SUB": 48, "TRANSPOSE": 0, "TRANSPOSE_CONV": 24,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": 136, "NEG": 0, "RSQRT": 16, "SQUARED_DIFFERENCE": 36,
    "RESIZE_BILINEAR": 12, "MAXIMUM": 0, "MINIMUM": 0,
}
SUPPORTED_OPS = sorted(OP_DATA_BYTES)
# Ops whose per-channel filters (input 1 with more than one scale) get C int32 multipliers and C int8 shifts.
PER_CHANNEL_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
# Ops that keep the two arrays (output channels, dimension 3 of the output) even for a per-tensor filter, as TFLM does.
CHANNEL_ARRAY_OPS = {"TRANSPOSE_CONV"}


def scratch_bytes(g: Graph, op) -> int:
    """Bytes of the scratch buffer an op's glue requests in Prepare (ctx.scratch_bytes; planned live at that op only)."""
    if op.name == "TRANSPOSE_CONV":  # one int32 accumulator per output value
        return 4 * math.prod(g.tensors[op.outputs[0]].shape)
    if op.name == "UNIDIRECTIONAL_SEQUENCE_LSTM":  # four int16 gate buffers of batches x state (input 18: the state)
        return 4 * 2 * math.prod(g.tensors[op.inputs[18]].shape)
    return 0

# Ops whose output must be int8 (everything but the data-movement ops and DEQUANTIZE).
_INT8_OUTPUT_OPS = set(OP_DATA_BYTES) - {"CONCATENATION", "PACK", "PAD", "RESHAPE", "SHAPE", "SPLIT", "STRIDED_SLICE",
                                         "TRANSPOSE", "UNPACK", "DEQUANTIZE", "NEG"}


# Ops with 16x8 kernels (int16 activations, int8 weights: runtime/src/ops/int16.cc, QBUILD_INT16). Their op data has
# the int8 sizes above, so the plan does not depend on the activation type beyond the tensors' bytes.
INT16_OPS = {"ADD", "AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "DEQUANTIZE", "FULLY_CONNECTED", "MAX_POOL_2D",
             "MEAN", "MUL", "QUANTIZE", "SOFTMAX", "SUB"}


def _output_types(op_name: str) -> tuple[str, ...]:
    return ("int8", "int16") if op_name in INT16_OPS else ("int8",)


@dataclass
class Plan:
    arena_bytes: int                  # what arena_used_bytes() reports (size the static tensor_arena with this)
    ops: list[tuple[str, str]]        # (op name, first output tensor name), in execution order
    lower_bound_bytes: int            # max over ops of the bytes of activations live at once
    persistent_bytes: int             # TensorViews + op nodes + op data (16-aligned)
    activation_bytes: int             # planned activation region
    pointer_size: int
    offsets: dict[int, int] = field(default_factory=dict)  # tensor index -> offset in the activation region
    lifetimes: dict[int, tuple[int, int]] = field(default_factory=dict)  # buffer (root tensor) -> (first, last op)
    shared: dict[int, int] = field(default_factory=dict)  # tensor -> the tensor whose buffer it takes (in place)
    bound_bytes: int = 0              # lower bound with each buffer 16-aligned: what a perfect placement reaches
    placement_note: str = ""          # search=True: why the activations are what they are
    scratch_offsets: dict[int, int] = field(default_factory=dict)  # op index -> its scratch buffer's offset
    state_bytes: int = 0              # op state (variable tensors) at the head of the op data, 8-byte aligned blocks

    def as_dict(self) -> dict:
        return {"arena_bytes": self.arena_bytes, "lower_bound_bytes": self.lower_bound_bytes,
                "persistent_bytes": self.persistent_bytes, "activation_bytes": self.activation_bytes,
                "pointer_size": self.pointer_size, "ops": [list(o) for o in self.ops],
                "offsets": {str(k): v for k, v in sorted(self.offsets.items())}}


def _align(v: int, a: int) -> int:
    return (v + a - 1) // a * a


def tensor_view_bytes(pointer_size: int) -> int:
    """sizeof(qbuild::TensorView): data pointer, scale, zero point, 6 dims, bytes, 4 one-byte fields."""
    return _align(pointer_size + 4 + 4 + 4 * 6 + 4 + 4, pointer_size)


def _short(name: str, width: int = 60) -> str:
    return name if len(name) <= width else name[:width - 3] + "..."


def _listing(ops, g: Graph) -> list[str]:
    """One entry per op type, in order of first appearance: its count and the first output tensor."""
    first: dict[str, tuple[int, str]] = {}
    for op in ops:
        n, tensor = first.get(op.name, (0, g.output_name(op)))
        first[op.name] = (n + 1, tensor)
    return [f"{name} ({f'{n}x, first ' if n > 1 else ''}output tensor '{_short(tensor)}')"
            for name, (n, tensor) in first.items()]


MAX_DIMS = 6                    # QBUILD_MAX_DIMS (runtime/include/qbuild/port.h)
MAX_TENSOR_BYTES = 2**31 - 1    # the loader sizes tensors in 32 bits


def check_tensors(g: Graph) -> None:
    """The loader's tensor rules (runtime/src/model.cc init_tensor), so a model it would refuse fails here with the
    tensor's name: rank <= QBUILD_MAX_DIMS, every dimension >= 1, at most 2^31-1 bytes."""
    used = {i for op in g.ops for i in op.inputs + op.outputs} | set(g.inputs) | set(g.outputs)
    for t in g.tensors:
        if t.index not in used and 0 in t.shape and min(t.shape) == 0:  # an LSTM's empty intermediate: never used
            continue
        if len(t.shape) > MAX_DIMS:
            raise QbuildError(f"tensor '{t.name}' has rank {len(t.shape)}; the runtime takes at most {MAX_DIMS} "
                              f"dimensions (QBUILD_MAX_DIMS in runtime/include/qbuild/port.h)")
        bad = [d for d in t.shape if d < 1]
        if bad:
            raise QbuildError(f"tensor '{t.name}' has shape {t.shape}: dimension {bad[0]} is below 1; the runtime "
                              "needs static, non-empty shapes (re-export with a fixed batch of 1)")
        if t.element_bytes and t.bytes() > MAX_TENSOR_BYTES:
            raise QbuildError(f"tensor '{t.name}' of shape {t.shape} needs {t.bytes():,} bytes, above the runtime's "
                              f"limit of {MAX_TENSOR_BYTES:,} bytes per tensor; shrink the model")


def check_ops(model: bytes | Graph) -> list[str]:
    """Op names in execution order; raises QbuildError naming every unsupported op, its tensor and the supported list.
    Also applies the loader's tensor rules (check_tensors)."""
    g = as_graph(model)
    check_tensors(g)
    if g.subgraphs != 1:
        raise QbuildError(f"the model has {g.subgraphs} subgraphs; the qbuild runtime runs exactly one")
    bad = _listing([op for op in g.ops if op.name not in OP_DATA_BYTES], g)
    if bad:
        raise QbuildError(f"the qbuild runtime does not support {', '.join(bad)}; supported ops: "
                          f"{', '.join(SUPPORTED_OPS)} (replace the layer or keep it out of the int8 graph)")
    # Arithmetic ops run in int8 (and in int16 for the 16x8 ops): a float op left by the converter fails here, not
    # on the device.
    wrong = [op for op in g.ops if op.name in _INT8_OUTPUT_OPS and op.outputs
             and g.tensors[op.outputs[0]].type not in _output_types(op.name)]
    if wrong:
        types = " or ".join(sorted({g.tensors[op.outputs[0]].type for op in wrong}))
        raise QbuildError(f"the qbuild runtime runs these ops in int8 only, but the model has them in {types}: "
                          f"{', '.join(_listing(wrong, g))}; quantize the whole graph (TFLITE_BUILTINS_INT8; in 16x8 "
                          f"mode only {', '.join(sorted(INT16_OPS))} take int16)")
    return [op.name for op in g.ops]


def plan_model(model: bytes | Graph, pointer_size: int = 4, search: bool = False) -> Plan:
    """The run-time path's arena (Model::load(bytes, arena)); with `search`, the build-time path's placement
    (qbuild.codegen.prepared: no runtime data, no planner records, the exhaustive search when the orders miss the
    bound)."""
    if pointer_size not in (4, 8):
        raise QbuildError(f"--pointer-size {pointer_size} is not supported; use 4 (Cortex-M) or 8 (64-bit host)")
    g = as_graph(model)
    check_ops(g)
    nt, nops = len(g.tensors), len(g.ops)

    fixed = cursor = _align(nt * tensor_view_bytes(pointer_size), 8) + nops * op_node_bytes(pointer_size)
    for t in g.tensors:  # variable tensors (op state) first, in tensor order (model.cc)
        if t.variable:
            cursor = _align(cursor, 8) + t.bytes()
    state = _align(cursor - fixed, 8)  # fixed is 8-aligned: the op data starts right after the state
    for op in g.ops:
        name, ins, outs = op.name, op.inputs, op.outputs
        cursor = _align(cursor, 8)
        size = OP_DATA_BYTES[name]
        if size:
            cursor = _align(cursor, 8) + size
        if name in PER_CHANNEL_OPS and len(ins) > 1 and len(g.tensors[ins[1]].scales) > 1:
            filt = g.tensors[ins[1]].shape
            channels = filt[0] if name == "FULLY_CONNECTED" else g.tensors[outs[0]].shape[3]
            cursor = _align(cursor, 8) + 4 * channels  # int32 multipliers
            cursor = _align(cursor, 8) + channels      # int8 shifts
        if name in CHANNEL_ARRAY_OPS:
            channels = g.tensors[outs[0]].shape[3]
            cursor = _align(_align(cursor, 8) + 4 * channels, 8) + channels
    persistent = _align(cursor, ALIGN)

    first: dict[int, int] = {}
    last: dict[int, int] = {}
    io: dict[int, int] = {}

    def use(t: int, op: int, flag: int = 0) -> None:
        if t < 0 or g.tensors[t].const or g.tensors[t].variable:
            return
        first[t] = min(first.get(t, op), op)
        last[t] = max(last.get(t, op), op)
        io[t] = io.get(t, 0) | flag

    for t in g.inputs:
        use(t, 0, GRAPH_INPUT)
    for i, op in enumerate(g.ops):
        for t in op.inputs + op.outputs:
            use(t, i)
    for t in g.outputs:
        use(t, max(nops - 1, 0), GRAPH_OUTPUT)
    root = share_in_place(g, first, last, io)
    buffers = [{"tensor": t, "order": k, "size": g.tensors[t].bytes(), "first": first[t], "last": last[t]}
               for k, t in enumerate(t for t in sorted(first) if root[t] == t)]
    # One scratch record per op that asks for one, after the tensors' (model.cc), live at that op only.
    scratch = [{"tensor": -1, "order": len(buffers) + k, "size": size, "first": i, "last": i}
               for k, (i, size) in enumerate((i, s) for i, s in ((i, scratch_bytes(g, op)) for i, op in enumerate(g.ops))
                                             if s)]
    planned, note = search_buffers(buffers + scratch) if search else (plan_buffers(buffers + scratch), "")
    buffers += scratch
    temp = 0 if search else (nt + len(scratch)) * PLAN_RECORD_BYTES
    region = max(planned, temp)
    lower = max((sum(b["size"] for b in buffers if b["first"] <= op <= b["last"]) for op in range(max(nops, 1))),
                default=0)
    ops = [(op.name, g.tensors[op.outputs[0]].name if op.outputs else "") for op in g.ops]
    placed = {b["tensor"]: b for b in buffers}
    if search:
        persistent = 0
    return Plan(arena_bytes=persistent + region, ops=ops, lower_bound_bytes=lower, persistent_bytes=persistent,
                activation_bytes=region, pointer_size=pointer_size,
                offsets={t: placed[r]["offset"] for t, r in sorted(root.items())},
                lifetimes={b["tensor"]: (b["first"], b["last"]) for b in buffers if b["tensor"] >= 0},
                shared={t: r for t, r in sorted(root.items()) if r != t}, bound_bytes=lower_bound(buffers),
                placement_note=note, scratch_offsets={b["first"]: b["offset"] for b in scratch}, state_bytes=state)


def cli_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m qbuild plan", description="op list and planned arena of a .tflite")
    ap.add_argument("model", type=Path)
    ap.add_argument("--pointer-size", type=int, default=4, choices=(4, 8),
                    help="target pointer size: 4 for Cortex-M (default), 8 for a 64-bit host")
    ap.add_argument("--json", action="store_true", help="print the plan as JSON")
    args = ap.parse_args(argv)
    if not args.model.is_file():
        raise QbuildError(f"model file '{args.model}' not found; pass the path of a .tflite")
    g = read_model(args.model.read_bytes(), str(args.model))
    plan = plan_model(g, args.pointer_size)
    ram = ram_figures(g, plan)
    if args.json:
        print(json.dumps({**plan.as_dict(), **ram}, indent=1))
        return 0
    for i, (name, tensor) in enumerate(plan.ops):
        print(f"{i:3d}  {name:<20} {tensor}")
    print(f"arena: {plan.arena_bytes} bytes (runtime data {plan.persistent_bytes}, activations "
          f"{plan.activation_bytes}; lower bound {plan.lower_bound_bytes}; pointer size {plan.pointer_size})")
    model = MODEL_OBJECT_BYTES[plan.pointer_size]
    print(f"RAM, run-time path (Model::load(bytes, arena)): arena {plan.arena_bytes:,} + Model object {model} = "
          f"{ram['ram_bytes']:,} bytes")
    b = ram["build_time"]
    if b:
        state = f" + op state {b['state_bytes']:,}" if b["state_bytes"] else ""
        print(f"RAM, build-time path (python -m qbuild prepare): activations {b['arena_bytes']:,}{state} + Model "
              f"object {model} = {b['ram_bytes']:,} bytes; its tables add {b['table_flash_bytes']:,} bytes of flash "
              f"(placement: {b['placement']})")
    return 0


def ram_figures(g: Graph, plan: Plan) -> dict:
    """RAM of both load paths at the plan's pointer size (arena + the Model object) and the flash the build-time
    path's tables add: tensor views, op nodes, op data (the run-time path's runtime data, moved to flash) and the
    PreparedModel header (qbuild/codegen/prepared.py writes them; tests/test_prepared.py runs them)."""
    ps = plan.pointer_size
    out = {"ram_bytes": plan.arena_bytes + MODEL_OBJECT_BYTES[ps], "build_time": None}
    built = plan_model(g, ps, search=True)
    nt, nops = len(g.tensors), len(g.ops)
    host = plan if ps == 8 else plan_model(g, 8)  # the op data is the host prepare's bytes, padding included
    state = plan.state_bytes  # op state heads the op data; on the build-time path it moves to RAM
    op_data = host.persistent_bytes - _align(nt * tensor_view_bytes(8), 8) - nops * op_node_bytes(8) - state
    out["build_time"] = {"ram_bytes": built.activation_bytes + state + MODEL_OBJECT_BYTES[ps],
                         "arena_bytes": built.activation_bytes, "state_bytes": state, "bound_bytes": built.bound_bytes,
                         "table_flash_bytes": prepared_table_bytes(nt, nops, op_data, ps),
                         "op_data_bytes": op_data, "placement": built.placement_note}
    return out


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
