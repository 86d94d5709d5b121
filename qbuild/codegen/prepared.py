"""The build-time load path: a model's prepare as const C++ tables (`python -m qbuild prepare`).

The runtime's own prepare runs on the host (qbuild.target.prepare: Model::load() in qbuild-prepare); its op data (the
kernels' fixed-width params and per-channel multipliers/shifts) is copied byte for byte, its tensor views and op nodes
are written as C++ initialisers with real pointers, which the target's compiler lays out for its own pointer size. The
activations are placed by the build-time planner (qbuild.tflite.plan with search=True: the run-time planner's orders
plus an exhaustive search when they miss the lower bound), with the same in-place sharing as the run-time path.

RAM of this path = the activation arena + op state (variable tensors, if any) + the Model object; the tables add flash
(`figures()`), and the run-time path's loader, planner and every op's prepare are not linked when only
Model::load(PreparedModel) is called.
"""
from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from pathlib import Path

from qbuild.codegen.carray import array_body, naming, valid_c_name
from qbuild.codegen.templates import environment
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic
from qbuild.target.prepare import prepare_on_host
from qbuild.tflite.plan import INT16_OPS, MODEL_OBJECT_BYTES, plan_model, prepared_table_bytes
from qbuild.tflite.reader import read_model

PREPARED_VERSION = 1  # qbuild::kPreparedVersion
NO_SCRATCH = "qbuild::kNoScratch"
TEMPLATES = ("prepared_model.cc.j2", "prepared_model.h.j2")


def fnv1a32(data: bytes) -> int:
    """FNV-1a over the model bytes (Model::load(PreparedModel) refuses a model with another hash)."""
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _eval_entry(g, op) -> str:
    """The eval the run-time path's op table gives the op (runtime/src/ops/registry.cc): an op with 16x8 kernels whose
    tensors are int16 runs through the `_any` entry point, which picks the int16 glue (QBUILD_INT16, which the op table
    header turns on for such a model); every other op through its int8 eval."""
    name = "eval_" + op.name.lower()
    int16 = any(t >= 0 and g.tensors[t].type == "int16" for t in [*op.inputs, *op.outputs])
    return name + "_any" if op.name in INT16_OPS and int16 else name


def _align8(n: int) -> int:
    return (n + 7) // 8 * 8


def _hex_float(bits: int) -> str:
    v = struct.unpack("<f", struct.pack("<I", bits))[0]
    return f"{v.hex()}f"  # C++17 hex float: exact


def tables(tflite_path, tool_dir, symbol=None, shared_arena=None) -> dict:
    """The template context: the host prepare's dump, the build-time placement and the names. `shared_arena`: the C
    name of an activation array the application defines and several models' tables use (else the file has its own)."""
    if shared_arena is not None and not valid_c_name(shared_arena, 63):
        raise QbuildError(f"shared arena name '{shared_arena}' is not a C identifier qbuild writes; use letters, digits "
                          "and single '_' (start with a letter, at most 63 characters), e.g. shared_tensor_arena")
    data = Path(tflite_path).read_bytes()
    g = read_model(data, str(tflite_path))
    plan = plan_model(g, 4, search=True)
    dump = prepare_on_host(tflite_path, tool_dir)
    n = naming(symbol)
    # Op state (variable tensors: an LSTM's hidden and cell state) lies at the start of the host's op data; it moves to
    # a RAM array of the tables' own, and the op data in flash starts after it (its blocks are 8-byte aligned).
    state_bytes = _align8(max((t[1] + t[5] for t in dump["tensors"] if t[0] == 3), default=0))
    activations = {i for i, t in enumerate(dump["tensors"]) if t[0] == 2}
    if activations != set(plan.offsets):
        raise QbuildError(f"'{Path(tflite_path).name}': the runtime's activations differ from the plan's; "
                          "qbuild/tflite/plan.py is out of step with runtime/src/model.cc")
    tensors = []
    for i, (kind, offset, scale_bits, zero_point, dims, nbytes, ttype, rank, const) in enumerate(dump["tensors"]):
        ref = {0: "nullptr", 1: f"QBUILD_M({offset})", 2: f"QBUILD_A({plan.offsets.get(i, 0)})",
               3: f"QBUILD_S({offset})"}[kind]
        tensors.append({"data": ref, "scale": _hex_float(scale_bits), "zero_point": zero_point,
                        "dims": ", ".join(map(str, dims)), "bytes": nbytes, "type": ttype, "rank": rank,
                        "is_constant": const, "is_variable": int(kind == 3),
                        "name": g.tensors[i].name.replace("*/", "* /")[:60]})
    ops = []
    for i, (op_pos, data_off, has_scratch) in enumerate(dump["ops"]):
        scratch = plan.scratch_offsets.get(i)
        if bool(has_scratch) != (scratch is not None):
            raise QbuildError(f"op {i} ({g.ops[i].name}): the runtime's scratch request differs from the plan's")
        if data_off < state_bytes:
            raise QbuildError(f"op {i} ({g.ops[i].name}): its op data overlaps the op state; "
                              "runtime/tools/qbuild_prepare.cc is out of step with runtime/src/model.cc")
        ops.append({"eval": _eval_entry(g, g.ops[i]), "op_pos": op_pos, "data_off": data_off - state_bytes,
                    "scratch": f"{scratch}u" if scratch is not None else NO_SCRATCH, "index": i,
                    "name": g.ops[i].name})
    op_data = bytes.fromhex(dump["op_data"])[state_bytes:]
    return {"n": n, "prepared": n.base + "_prepared", "evals": sorted({o["eval"] for o in ops}), "tensors": tensors,
            "ops": ops, "op_data": op_data, "op_data_body": array_body(op_data) if op_data else "  0",
            "arena_bytes": plan.activation_bytes, "arena_alloc": max(plan.activation_bytes, 16),
            "arena_symbol": shared_arena or n.base + "_tensor_arena", "shared_arena": shared_arena is not None,
            "state_bytes": state_bytes, "state_symbol": n.base + "_state_tensor_arena",
            "placement_note": plan.placement_note, "model_size": len(data), "model_hash": fnv1a32(data),
            **{k: dump[k] for k in ("subgraph_pos", "inputs_pos", "inputs_len", "outputs_pos", "outputs_len")},
            "plan": plan}


def figures(ctx: dict, pointer_size: int = 4) -> dict:
    """RAM and flash of the build-time path on a target with this pointer size (tables: views, nodes, op data and the
    PreparedModel header; RAM: the activation arena, the op state and the Model object)."""
    flash = prepared_table_bytes(len(ctx["tensors"]), len(ctx["ops"]), len(ctx["op_data"]), pointer_size)
    return {"ram_bytes": ctx["arena_bytes"] + ctx["state_bytes"] + MODEL_OBJECT_BYTES[pointer_size],
            "arena_bytes": ctx["arena_bytes"], "state_bytes": ctx["state_bytes"],
            "model_object_bytes": MODEL_OBJECT_BYTES[pointer_size], "table_flash_bytes": flash,
            "op_data_bytes": len(ctx["op_data"]), "lower_bound_bytes": ctx["plan"].bound_bytes,
            "placement": ctx["placement_note"]}


def render_prepared(ctx: dict, sources_note: str) -> str:
    return environment().get_template(TEMPLATES[0]).render(inputs=sources_note, **ctx)


def render_prepared_header(ctx: dict, sources_note: str) -> str:
    guard = re.sub(r"\W", "_", ctx["prepared"]).upper() + "_H"
    return environment().get_template(TEMPLATES[1]).render(inputs=sources_note, guard=guard, **ctx)


def write_prepared(tflite_path, out_path, tool_dir, symbol=None, shared_arena=None, header=None) -> dict:
    """Writes the tables' .cc (and, given `header`, the C/C++ header declaring them); returns figures() for a
    4-byte-pointer target."""
    ctx = tables(tflite_path, tool_dir, symbol, shared_arena)
    write_atomic(out_path, render_prepared(ctx, Path(tflite_path).name))
    if header is not None:
        write_atomic(header, render_prepared_header(ctx, Path(tflite_path).name))
    return figures(ctx)


def cli_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m qbuild prepare",
                                 description="the build-time load path: a .tflite's prepare as const C++ tables")
    ap.add_argument("model", type=Path)
    ap.add_argument("out", type=Path, help="the .cc to write (compile it with the runtime's flags)")
    ap.add_argument("--symbol", help="C name prefix, as for the model array (kws -> kws_model_prepared)")
    ap.add_argument("--shared-arena", metavar="NAME",
                    help="use the application's activation array NAME (shared by several models' tables) instead of "
                         "an array of this file's own")
    ap.add_argument("--tool-dir", type=Path, default=Path("build/host"),
                    help="where the host prepare tool is built (default build/host)")
    args = ap.parse_args(argv)
    if not args.model.is_file():
        raise QbuildError(f"model file '{args.model}' not found; pass the path of a .tflite")
    if args.out.suffix != ".cc":
        raise QbuildError(f"'{args.out}' does not end in .cc; name the C++ tables file like model_prepared.cc (the "
                          "header goes next to it as .h)")
    print(json.dumps(write_prepared(args.model, args.out, args.tool_dir, args.symbol, args.shared_arena,
                                    header=args.out.with_suffix(".h"))))
    return 0


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
