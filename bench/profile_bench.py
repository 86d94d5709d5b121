"""Executed instructions per inference and per layer of qbuild firmware under QEMU, counted exactly by the TCG plugin
runtime/tools/qemu_insn_plugin.c (no sampling, no timers: the same ELF gives the same numbers).

  .venv/bin/python bench/profile_bench.py --model build/models/kws/kws.tflite
      builds the runtime's firmware harness (runtime/tools/qemu_run.cc with the model linked in) for the board twice,
      with the portable kernels (-DQBUILD_KERNELS_DSP=0, the code before the DSP kernels) and with the DSP kernels,
      both with the board's flags at -Os (the firmware setting), runs each once under the plugin and prints
      instructions per inference and per op side by side (markdown).
  .venv/bin/python bench/profile_bench.py --elf build/qemu-m33/kws/firmware.elf --model build/models/kws/kws.tflite
      profiles an existing firmware (e.g. `scons board=qemu-m33 model=kws`'s): every call of Model::invoke() is one
      inference.

How the spans are found (arm-none-eabi-objdump of the ELF): an inference is the `bl qbuild::Model::invoke()`
instruction up to the instruction after it; an op is the one indirect call (`blx`) inside Model::invoke(), the call
of its eval, up to the instruction after it. So per-op counts are the op's eval (glue + kernel); the remainder of an
inference is the interpreter loop (reading the operator table, resolving tensors). MACs per op are computed from the
.tflite (CONV_2D: output elements x kh x kw x filter depth; DEPTHWISE_CONV_2D: output elements x kh x kw;
FULLY_CONNECTED: output elements x accum depth).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qbuild.target import profile  # noqa: E402
from qbuild.target.boards import load_board  # noqa: E402
from tests.harness import build_firmware_harness  # noqa: E402


# The plugin, the disassembly and the QEMU run are the product's (qbuild.target.profile, which `scons ... profile`
# uses); this script adds the side-by-side comparison and the synthetic models.
def build_plugin(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    return profile.build_plugin(out_dir / "qemu_insn_plugin.so")


def disassemble(elf: Path, board_id: str = "qemu-m33") -> dict[str, list[tuple[int, str, str]]]:
    return profile.disassemble(load_board(board_id), elf)


def mac_instruction_ranges(funcs, mnemonics: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """[addr, addr + size) of every instruction with one of these mnemonics (e.g. smlad), for a plugin ranges file."""
    out = []
    for name, insns in funcs.items():
        for i, (addr, mn, _) in enumerate(insns[:-1]):
            if mn in mnemonics:
                out.append((addr, insns[i + 1][0], mn))
    return out


def run_with_plugin(plugin: Path, board_id: str, elf: Path, spans=(), ranges_file: Path | None = None,
                    work: Path | None = None) -> dict:
    work = Path(work or tempfile.mkdtemp())
    return profile.count(load_board(board_id), elf, plugin, spans, work, ranges_file=ranges_file)


def profile_elf(plugin: Path, board_id: str, elf: Path, work: Path) -> dict:
    return profile.inference_counts(load_board(board_id), elf, plugin, work)


# ---- the model ----------------------------------------------------------------------------------------------------
def model_ops(tflite: bytes) -> list[dict]:
    """Operators in execution order: type (with the kernel size of convolutions), output shape, MACs."""
    from qbuild.tflite.reader import read_model
    from qbuild.tflite.summary import op_macs

    g = read_model(tflite)
    ops = []
    for op in g.ops:
        name = op.name
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            f = g.tensors[op.inputs[1]].shape
            name = "CONV_2D 1x1" if f[1] == f[2] == 1 else f"{name} {f[1]}x{f[2]}"
        ops.append({"type": name, "shape": "x".join(map(str, g.tensors[op.outputs[0]].shape)), "macs": op_macs(g, op)})
    return ops


def _ds_cnn(keras, x, filters=64):
    L = keras.layers
    x = L.Conv2D(filters, (10, 4), strides=2, padding="same", activation="relu")(x)
    for _ in range(4):
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.Conv2D(filters, 1, activation="relu")(x)
    return L.Dense(12, activation="softmax")(L.GlobalAveragePooling2D()(x))


# Models built with random weights and converted to int8 by TF: the layer shapes of the real thing without a
# training run (instruction counts depend on shapes, not on weight values, up to a few data-dependent branches).
#   kws-like:     models/kws's DS-CNN (49x40 features, Conv 64 10x4 stride 2, 4 depthwise-separable blocks, GAP,
#                 Dense 12), as `scons model=kws` builds it
#   dscnn-mlperf: MLPerf Tiny's KWS DS-CNN (49x10 MFCC input, same layers, ~2.66 M MACs)
#   kws-pool:     models/kws since issue 19: the 49x40 features averaged over 4 channels (AVERAGE_POOL_2D 1x4), then
#                 the dscnn-mlperf layers
#   mobilenet-v1-025: MobileNetV1 alpha 0.25, 96x96x3 (MLPerf Tiny visual wake words), 2 classes
SYNTHETIC = {
    "kws-like": ((49, 40, 1), lambda keras, x: _ds_cnn(keras, x)),
    "dscnn-mlperf": ((49, 10, 1), lambda keras, x: _ds_cnn(keras, x)),
    "kws-pool": ((49, 40, 1), lambda keras, x: _ds_cnn(keras, keras.layers.AveragePooling2D((1, 4))(x))),
    "mobilenet-v1-025": ((96, 96, 3), lambda keras, x: _mobilenet_v1(keras, x, 0.25)),
}


def _mobilenet_v1(keras, x, alpha):
    """MobileNetV1 (conv 3x3 stride 2, 13 depthwise-separable blocks, GAP, Dense), ReLU6, BatchNorm folded away."""
    L = keras.layers
    x = L.Conv2D(int(32 * alpha), 3, strides=2, padding="same", activation="relu6")(x)
    for filters, stride in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
                            (512, 1), (512, 1), (1024, 2), (1024, 1)):
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", activation="relu6")(x)
        x = L.Conv2D(int(filters * alpha), 1, activation="relu6")(x)
    return L.Dense(2)(L.GlobalAveragePooling2D()(x))  # logits: a softmax on random-weight logits overflows


def synthetic_model(name: str, path: Path) -> bytes:
    if path.exists():
        return path.read_bytes()
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    keras.utils.set_random_seed(3)
    shape, body = SYNTHETIC[name]
    inp = keras.Input(shape=shape, batch_size=1)
    return convert_int8_io(keras.Model(inp, body(keras, inp)), shape, path)


def convert_int8_io(model, shape, path: Path) -> bytes:
    """Full int8 conversion with int8 input and output, calibrated on 16 uniform [-1, 1) samples (seed 3); written to
    `path`. The converter's own stdout lines go to stderr (they are not results)."""
    import contextlib

    import tensorflow as tf

    rng = np.random.default_rng(3)
    samples = [rng.uniform(-1, 1, (1, *shape)).astype(np.float32) for _ in range(16)]
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([s] for s in samples)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    with contextlib.redirect_stdout(sys.stderr):
        data = conv.convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def random_input(tflite: bytes, seed: int = 1) -> bytes:
    """Random int8 bytes for every graph input (float inputs get float32 values), from the .tflite's own shapes."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    g = s.ModelT.InitFromPackedBuf(tflite, 0).subgraphs[0]
    rng = np.random.default_rng(seed)
    out = b""
    for i in g.inputs:
        t = g.tensors[i]
        shape = [int(x) for x in t.shape]
        if t.type == s.TensorType.FLOAT32:
            out += (rng.standard_normal(shape) * 2).astype(np.float32).tobytes()
        else:
            out += rng.integers(-128, 128, size=shape, dtype=np.int8).tobytes()
    return out


def build_harness(tflite: bytes, board_id: str, out_dir: Path, dsp: bool) -> Path:
    cases = [("model", tflite, random_input(tflite))]
    defines = [] if dsp else ["QBUILD_KERNELS_DSP=0"]
    return build_firmware_harness(out_dir, cases, 256 * 1024 - 16 * 1024, board_id=board_id, opt="-Os",
                                     defines=defines)


def table(ops: list[dict], columns: dict[str, dict]) -> str:
    names = list(columns)
    head = "| # | op | output | MACs | " + " | ".join(f"{n} instr | {n} /MAC" for n in names) + " |"
    sep = "|---:|---|---|---:|" + "---:|---:|" * len(names)
    lines = [head, sep]
    for i, op in enumerate(ops):
        cells = []
        for n in names:
            c = columns[n]["ops"][i]
            cells += [f"{c:,}", f"{c / op['macs']:.2f}" if op["macs"] else ""]
        lines.append(f"| {i} | {op['type']} | {op['shape']} | {op['macs']:,} | " + " | ".join(cells) + " |")
    macs = sum(op["macs"] for op in ops)
    cells = []
    for n in names:
        inf = columns[n]["inferences"][0]
        cells += [f"**{inf:,}**", f"**{inf / macs:.2f}**"]
    lines.append(f"| | **inference** (Model::invoke) | | {macs:,} | " + " | ".join(cells) + " |")
    cells = []
    for n in names:
        c = columns[n]
        cells += [f"{c['inferences'][0] - sum(c['ops']):,}", ""]
    lines.append("| | interpreter loop (invoke minus op evals) | | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=ROOT / "build" / "models" / "kws" / "kws.tflite",
                    help=f"a .tflite, or one of {sorted(SYNTHETIC)} (random weights, see SYNTHETIC)")
    ap.add_argument("--board", default="qemu-m33")
    ap.add_argument("--elf", type=Path, action="append", help="profile these ELFs instead of building harnesses")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "profile")
    args = ap.parse_args()
    if str(args.model) in SYNTHETIC:
        tflite = synthetic_model(str(args.model), args.out / f"{args.model}.tflite")
    else:
        tflite = args.model.read_bytes()
    ops = model_ops(tflite)
    plugin = build_plugin(args.out)
    columns = {}
    if args.elf:
        for elf in args.elf:
            columns[elf.parent.name + "/" + elf.name] = profile_elf(plugin, args.board, elf, args.out)
    else:
        for label, dsp in (("portable", False), ("DSP", True)):
            d = args.out / f"{args.board}-{label}"
            if d.exists():
                shutil.rmtree(d)
            elf = build_harness(tflite, args.board, d, dsp)
            columns[label] = profile_elf(plugin, args.board, elf, args.out)
    for name, c in columns.items():
        if len(c["ops"]) % len(ops) != 0:
            raise RuntimeError(f"{name}: {len(c['ops'])} op evals for {len(ops)} ops")
        c["ops"] = c["ops"][: len(ops)]  # the first inference
    print(f"model {args.model} ({len(ops)} ops), board {args.board}, -Os, executed instructions (QEMU TCG plugin)")
    print(table(ops, columns))


if __name__ == "__main__":
    main()
