"""KWS model variants: train each on the spec's data set as the build's train step does, quantize it with the build's
own quantize step (report, advisor, planner, float and int8 accuracy on the held-out voices), count its MACs, print a
table.

    .venv/bin/python bench/kws_variants.py --data /tmp/kws.npz [--only a,b] [--epochs N] [--out DIR] [--json F]

`--data` caches the raw data set (made by the spec's @dataset function when the file does not exist). A variant is
keyword arguments of `ds_cnn` in models/kws/model.py plus training settings (epochs, the AUGMENT shifts); `shipped` is
the spec as it is (ARCH, AUGMENT, epochs), so the shipped model is measured by the same code as the others. MACs are
counted from the int8 .tflite: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED multiply-accumulates (AVERAGE_POOL_2D
and MEAN additions are listed apart in the JSON). Arena: the build's planner, as `python -m qbuild plan <tflite>`.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("qbuild") is None:   # a qbuild on PYTHONPATH wins (e.g. a pinned copy), else this tree's
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from qbuild.model import data as rawdata  # noqa: E402
from qbuild.model.quantize_step import step_quantize  # noqa: E402
from qbuild.model.spec import load_spec  # noqa: E402
from qbuild.model.train import train_spec  # noqa: E402

NO_AUGMENT = dict(time_shift=0, freq_shift=0)
DSCNN = dict(pool=None, filters=64, kernel=(10, 4), strides=(2, 2), blocks=4)     # the model before issue 19
POOL4 = dict(pool=(1, 4), filters=64, kernel=(10, 4), strides=(2, 2), blocks=4)   # MLPerf Tiny's DS-CNN on 49x10
# name -> (ds_cnn keyword arguments, epochs, augmentation)
VARIANTS = {
    "dscnn-25x20": (DSCNN, 14, NO_AUGMENT),
    "pool4-64x4": (POOL4, 14, NO_AUGMENT),
    "s24-32x4": (dict(pool=None, filters=32, kernel=(10, 4), strides=(2, 4), blocks=4), 14, NO_AUGMENT),
    "s24-40x4": (dict(pool=None, filters=40, kernel=(10, 4), strides=(2, 4), blocks=4), 14, NO_AUGMENT),
    "pool4-64x4-e30": (POOL4, 30, NO_AUGMENT),
    "pool4-64x4-shift": (POOL4, 30, dict(time_shift=4, freq_shift=2)),
    "s24-40x4-shift": (dict(pool=None, filters=40, kernel=(10, 4), strides=(2, 4), blocks=4), 30,
                       dict(time_shift=4, freq_shift=2)),
}


def macs(tflite: bytes) -> dict:
    """Multiply-accumulates (additions for pools and MEAN) per inference by op type, from the .tflite's shapes."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(tflite, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    sg = m.subgraphs[0]

    def shape(i):
        return [int(d) for d in sg.tensors[i].shape]

    out: dict[str, int] = {}
    for op in sg.operators:
        code = m.operatorCodes[op.opcodeIndex]
        name = names[max(code.builtinCode, code.deprecatedBuiltinCode)]
        o = int(np.prod(shape(op.outputs[0])))
        if name == "CONV_2D":                 # filter [out_c, kh, kw, in_c]
            n = o * int(np.prod(shape(op.inputs[1])[1:]))
        elif name == "DEPTHWISE_CONV_2D":     # filter [1, kh, kw, c]
            f = shape(op.inputs[1])
            n = o * f[1] * f[2]
        elif name == "FULLY_CONNECTED":       # filter [out, in]
            n = o * shape(op.inputs[1])[1]
        elif name == "AVERAGE_POOL_2D":
            n = o * op.builtinOptions.filterHeight * op.builtinOptions.filterWidth
        elif name == "MEAN":
            n = int(np.prod(shape(op.inputs[0])))
        else:
            continue
        out[name] = out.get(name, 0) + n
    return out


def settings_of(spec) -> dict:
    s = spec.settings()
    s.update(user_data=False, strict=False, date="1970-01-01T00:00:00Z", sources="bench/kws_variants.py")
    return s


def run_variant(spec, module, name: str, variant: tuple, data_path: Path, d: dict, out_dir: Path, reuse: bool) -> dict:
    arch, epochs, augment = variant
    spec.epochs = epochs
    module.AUGMENT.clear()
    module.AUGMENT.update(augment)
    spec.build(lambda shape, n: module.ds_cnn(shape, n, **arch))   # trained exactly as the build's train step does
    out_dir.mkdir(parents=True, exist_ok=True)
    keras_path, trained = out_dir / "kws.keras", out_dir / "train.json"
    key = {"arch": repr(arch), "augment": augment, "training": spec.settings()["training"]}
    if reuse and keras_path.is_file() and trained.is_file() and json.loads(trained.read_text())["key"] == key:
        info = json.loads(trained.read_text())
        print(f"== {name}: reusing {keras_path} ({info['train_cpu_seconds']} CPU s of training)", flush=True)
    else:
        print(f"== {name}: {arch}, {epochs} epochs, shifts {augment}", flush=True)
        t0, c0 = time.monotonic(), time.process_time()
        model = train_spec(spec, d, where=str(data_path))
        info = {"key": key, "params": int(model.count_params()), "train_seconds": round(time.monotonic() - t0, 1),
                "train_cpu_seconds": round(time.process_time() - c0, 1), "load_average": round(os.getloadavg()[0], 2)}
        model.save(keras_path)
        trained.write_text(json.dumps(info) + "\n")
    out = {k: out_dir / f for k, f in [("tflite", "kws.tflite"), ("metrics", "metrics.json"), ("advice", "advice.json"),
                                       ("csv", "quantization_report.csv"), ("html", "quantization_report.html")]}
    metrics = step_quantize(settings_of(spec), keras_path, data_path, out)
    advice = json.loads(out["advice"].read_text())
    with out["csv"].open() as f:
        rows = list(csv.DictReader(f))
    counted = macs(out["tflite"].read_bytes())
    return {
        "name": name, "arch": {k: list(v) if isinstance(v, tuple) else v for k, v in arch.items()},
        "epochs": epochs, "augment": augment, "params": info["params"],
        "macs": sum(counted.get(k, 0) for k in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")),
        "macs_by_op": counted, "arena_bytes": metrics["arena_bytes"], "tflite_bytes": metrics["tflite_bytes"],
        "float_accuracy": round(100 * metrics["float_accuracy"], 2),
        "int8_accuracy": round(100 * metrics["int8_accuracy"], 2),
        "worst_rmse_scale": round(max(float(r["rmse/scale"]) for r in rows), 3), "report_rows": len(rows),
        "flagged_rows": len([f for f in advice["findings"] if f["check"] == "report_row"]),
        "advice_findings": len(advice["findings"]),
        "train_seconds": info["train_seconds"], "train_cpu_seconds": info["train_cpu_seconds"],
        "load_average": info["load_average"],
    }


def table(results: list[dict]) -> str:
    head = ("| variant | MACs | params | arena (B) | .tflite (B) | float % | int8 % | worst rmse/scale | flagged "
            "| epochs | train CPU s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [f"| {r['name']} | {r['macs'] / 1e6:.2f} M | {r['params']:,} | {r['arena_bytes']:,} | {r['tflite_bytes']:,} "
             f"| {r['float_accuracy']:.2f} | {r['int8_accuracy']:.2f} | {r['worst_rmse_scale']:.3f} | {r['flagged_rows']} "
             f"| {r['epochs']} | {r['train_cpu_seconds']:.0f} |" for r in results]
    return "\n".join([head, *lines])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, default=ROOT / "models/kws/model.py")
    ap.add_argument("--data", type=Path, required=True, help="raw data set cache (.npz), made when missing")
    ap.add_argument("--only", help="comma-separated variant names (default: all); 'shipped' = the spec as it is")
    ap.add_argument("--epochs", type=int, help="train every variant this many epochs (screening)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/kws_variants"), help="per-variant artifacts")
    ap.add_argument("--reuse", action="store_true", help="measure a variant's saved .keras again when it was trained "
                    "with the same architecture and training settings")
    ap.add_argument("--json", type=Path, help="append each result as one JSON line here")
    args = ap.parse_args()

    spec = load_spec(args.spec)
    module = sys.modules[spec._build.__module__]   # model.py itself: ds_cnn, ARCH, AUGMENT
    variants = dict(VARIANTS, shipped=(dict(module.ARCH), spec.epochs, dict(module.AUGMENT)))
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = [n for n in names if n not in variants]
    if unknown:
        ap.error(f"unknown variants {unknown}; choose from {', '.join(variants)}")
    if not args.data.is_file():
        rawdata.save_npz(args.data, rawdata.check_dataset(spec.load_dataset(), "kws dataset"))
    d = rawdata.load_npz(args.data)

    results = []
    for name in names:
        arch, epochs, augment = variants[name]
        variant = (arch, args.epochs or epochs, augment)
        r = run_variant(spec, module, name, variant, args.data, d, args.out / name, args.reuse)
        results.append(r)
        print(json.dumps(r), flush=True)
        if args.json:
            with args.json.open("a") as f:
                f.write(json.dumps(r) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
