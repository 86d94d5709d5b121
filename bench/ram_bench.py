"""RAM benchmark (issue 15): qbuild's RAM on both load paths vs TFLM's arena, measured in one run.

    .venv/bin/python bench/ram_bench.py [--out build/bench/ram]     (prints the Markdown table of bench/RESULTS.md)

Per model: TFLM's arena (`print_allocations` total of the tflite-micro wheel, x86-64 host), qbuild's run-time path
(Model::load(bytes, arena): arena = runtime data + activations, `python -m qbuild plan`), qbuild's build-time path
(Model::load(bytes, PreparedModel): the activation arena only, `python -m qbuild prepare`), each plus the Model object
(RAM = arena + runtime statics), at the host's pointer size (8, like for like with TFLM) and Cortex-M's (4);
activations vs the lower bound; the flash the prepared tables add vs the model's size.

Models: MLPerf-Tiny-like architectures built with TF and random weights (DS-CNN KWS 49x10, MobileNetV1-0.25 VWW
96x96, ResNet-8 CIFAR), MLTK's FC autoencoder (anomaly_detection: 640-128x4-8-128x4-640), qbuild's own `kws` and
`digits` (build/models/, from `scons model=kws model=digits`) and the other MLTK samples.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qbuild.codegen.prepared import figures, tables  # noqa: E402
from qbuild.tflite.plan import MODEL_OBJECT_BYTES, plan_model  # noqa: E402


def resnet8(path: Path) -> bytes:
    """MLPerf Tiny's ResNet-8 (CIFAR-10 32x32x3): conv 16, three residual stacks (16, 32, 64; 1x1 shortcut where the
    stride is 2), average pool, dense 10; random weights, int8 I/O."""
    if path.exists():
        return path.read_bytes()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from profile_bench import convert_int8_io

    L = keras.layers
    keras.utils.set_random_seed(3)
    inp = keras.Input(shape=(32, 32, 3), batch_size=1)
    x = L.Conv2D(16, 3, padding="same", activation="relu")(inp)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = L.Conv2D(filters, 3, strides=stride, padding="same", activation="relu")(x)
        y = L.Conv2D(filters, 3, padding="same")(y)
        if stride != 1:
            x = L.Conv2D(filters, 1, strides=stride)(x)
        x = L.ReLU()(L.Add()([x, y]))
    x = L.AveragePooling2D(8)(x)
    out = L.Dense(10, activation="softmax")(L.Flatten()(x))
    return convert_int8_io(keras.Model(inp, out), (32, 32, 3), path)


def bench_models(out: Path) -> dict[str, Path]:
    from profile_bench import synthetic_model

    models = {}
    for name, key in (("DS-CNN KWS 49x10", "dscnn-mlperf"), ("MobileNetV1-0.25 VWW 96x96", "mobilenet-v1-025")):
        path = out / f"{key}.tflite"
        with contextlib.redirect_stdout(sys.stderr):
            synthetic_model(key, path)
        models[name] = path
    resnet8(out / "resnet8.tflite")
    models["ResNet-8 CIFAR"] = out / "resnet8.tflite"
    mltk = ROOT / ".cache" / "mltk"
    models["FC autoencoder (MLTK anomaly_detection)"] = mltk / "anomaly_detection.tflite"
    for name in ("kws", "digits"):
        models[f"qbuild {name}"] = ROOT / "build" / "models" / name / f"{name}.tflite"
    for stem in ("tflite_micro_speech", "image_classification", "image_example1"):
        models[f"MLTK {stem}"] = mltk / f"{stem}.tflite"
    return {k: v for k, v in models.items() if v.is_file()}


def tflm_arena(data: bytes) -> int:
    from runtime_bench import tflm_allocation_total
    from tflite_micro.python.tflite_micro import runtime

    return tflm_allocation_total(runtime.Interpreter.from_bytes(data, arena_size=8 << 20))


def measure(path: Path, tool_dir: Path) -> dict:
    data = path.read_bytes()
    ctx = tables(path, tool_dir)
    row = {"model_bytes": len(data), "tflm": tflm_arena(data)}
    for ps in (8, 4):
        run = plan_model(data, ps)
        pre = figures(ctx, ps)
        row[ps] = {"runtime_ram": run.arena_bytes + MODEL_OBJECT_BYTES[ps], "runtime_data": run.persistent_bytes,
                   "runtime_act": run.activation_bytes, "prepared_ram": pre["ram_bytes"], "act": pre["arena_bytes"],
                   "bound": pre["lower_bound_bytes"], "flash": pre["table_flash_bytes"]}
    row["placement"] = ctx["placement_note"]
    row["fw"] = firmware_flash(path, tool_dir.parent / "fw")
    return row


MAIN = """#include "qbuild/qbuild.h"
#include "qbuild_board.h"
#include "sl_tflite_micro_model.h"
%s
static qbuild::Model m;
int main() {
  if (m.load(%s) != qbuild::Status::kOk) qbuild_exit(1);
  qbuild_exit(static_cast<int>(m.invoke()));
}
"""


def firmware_flash(path: Path, out: Path) -> dict:
    """Flash (text + data) of a minimal qemu-m33 -Os firmware that loads and invokes the model on each path: the
    run-time path links the loader, planner and the model's ops (prepare + eval, qbuild_ops.h); the build-time path
    the tables and the evals only. The difference is what the build-time path really adds to flash."""
    import subprocess

    from qbuild.codegen import carray
    from qbuild.codegen.linker import write_linker_script
    from qbuild.codegen.op_table import write_op_table
    from qbuild.codegen.prepared import render_prepared
    from qbuild.target.boards import load_board
    from qbuild.target.runtime import CXXFLAGS, OP_TABLE_SOURCE, include_dirs, sources

    board = load_board("qemu-m33")
    work = out / path.stem
    work.mkdir(parents=True, exist_ok=True)
    inc = [f"-I{d}" for d in [*include_dirs(), *board.include_dirs(), work]]

    def compile_(src: Path, obj: Path, extra=()) -> str:
        cxx = src.suffix == ".cc"
        if not obj.exists() or obj.stat().st_mtime < src.stat().st_mtime:
            flags = [*board.cflags, *((board.cxx_only_flags + CXXFLAGS) if cxx else []), "-Os", *extra]
            subprocess.run([board.cxx if cxx else board.cc, *flags, *inc, "-c", str(src), "-o", str(obj)], check=True)
        return str(obj)

    shared = out / "m33obj"
    shared.mkdir(exist_ok=True)
    common = [compile_(s, shared / f"{s.parent.name}_{s.stem}.o") for s in sources() if s != OP_TABLE_SOURCE]
    common += [compile_(s, shared / f"board_{s.stem}.o") for s in board.support_sources()]
    names = carray.naming(None)
    data = path.read_bytes()
    (work / names.source).write_text(carray.render_model_c(data, path.name, names=names))
    (work / names.header).write_text(carray.render_model_h(path.name, names=names))
    (work / "prepared.cc").write_text(render_prepared(tables(path, out / "tool"), path.name))
    write_op_table(path, path.name, work / "qbuild_ops.h")
    arena = plan_model(data, 4).arena_bytes
    (work / "main_rt.cc").write_text(MAIN % (f"alignas(16) static uint8_t arena[{arena}];",
                                             "sl_tflite_model_array, sl_tflite_model_len, arena, sizeof(arena)"))
    (work / "main_pre.cc").write_text(MAIN % ("extern \"C\" const qbuild::PreparedModel sl_tflite_model_prepared;",
                                              "sl_tflite_model_array, sl_tflite_model_len, sl_tflite_model_prepared"))
    model_o = compile_(work / names.source, work / "model.o")
    registry = compile_(OP_TABLE_SOURCE, work / "registry.o", ["-include", str(work / "qbuild_ops.h")])
    script = write_linker_script(board, work / "fw.ld")
    sizes = {}
    for kind, objs in (("runtime", [registry, compile_(work / "main_rt.cc", work / "main_rt.o")]),
                       ("prepared", [compile_(work / "prepared.cc", work / "prepared.o"),
                                     compile_(work / "main_pre.cc", work / "main_pre.o")])):
        elf = work / f"{kind}.elf"
        subprocess.run([board.link, *board.link_flags(script, work / f"{kind}.map"), "-Os", *common, model_o, *objs,
                        "-lm", "-o", str(elf)], check=True)
        text, dat = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True,
                                   check=True).stdout.splitlines()[1].split()[:2]
        sizes[kind] = int(text) + int(dat)
    return sizes


def table(rows: dict) -> str:
    lines = ["| model | .tflite B | TFLM arena (x86-64) | qbuild run-time RAM (x86-64) | qbuild prepared RAM (x86-64) | "
             "prepared / TFLM | prepared RAM (M33) | activations / lower bound | tables flash (M33) | tables / model | "
             "firmware flash run-time -> prepared (M33) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        h, m = r[8], r[4]
        lines.append(f"| {name} | {r['model_bytes']:,} | {r['tflm']:,} | {h['runtime_ram']:,} | {h['prepared_ram']:,} | "
                     f"{h['prepared_ram'] / r['tflm']:.2f}x | {m['prepared_ram']:,} | {m['act']:,} / {m['bound']:,} | "
                     f"{m['flash']:,} | {100 * m['flash'] / r['model_bytes']:.1f} % | {r['fw']['runtime']:,} -> "
                     f"{r['fw']['prepared']:,} ({r['fw']['prepared'] - r['fw']['runtime']:+,}) |")
    ratios = [r[8]["prepared_ram"] / r["tflm"] for r in rows.values()]
    lines.append("")
    lines.append(f"prepared / TFLM: mean {sum(ratios) / len(ratios):.2f}x, max {max(ratios):.2f}x over {len(ratios)} "
                 f"models; run-time path mean {sum(r[8]['runtime_ram'] / r['tflm'] for r in rows.values()) / len(rows):.2f}x")
    off = [f"{n}: {r['placement']}" for n, r in rows.items() if r[4]["act"] > r[4]["bound"]]
    lines.append("activations above the lower bound: " + ("; ".join(off) if off else "none"))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "ram")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = {name: measure(path, args.out / "tool") for name, path in bench_models(args.out).items()}
    print(table(rows))


if __name__ == "__main__":
    main()
