"""Before/after evidence for each quantization tip (docs/quantization-tips.md), measured on the digits data.

    .venv/bin/python bench/advisor_evidence.py [--seeds 3] [--epochs 12]

For each (tip, before, after) pair and each seed: train the Keras model, convert it exactly as the build does (int8,
float32 I/O, static batch 1, 500 representative samples), recompute the quantization report, and measure float and int8
test accuracy (TFLite reference kernels), the worst `rmse/scale` (and its layer), the number of report rows flagged
(range > 255 or rmse/scale > 0.5), the .tflite op count and size, and which advisor checks fire.
Prints a Markdown table (mean, and min..max over seeds); `advisor ms` is the median time of `advise.run_all`
(all four checks, given the converted model and report rows) per model.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

from bench import advisor_models as am  # noqa: E402
from qbuild.advise import checks as advise  # noqa: E402
from qbuild.advise.cli import convert_and_report  # noqa: E402
from qbuild.model.preprocess import preprocess  # noqa: E402
from qbuild.model.spec import ConverterSettings  # noqa: E402
from qbuild.tflite.reader import read_model  # noqa: E402

# (tip, label, variant, raw max pixel value, model parameters)
CASES = [
    ("input", "before: 0..1023 (10-bit) fed as is", "plain", 1023, {}),
    ("input", "after: rescale 1/1023", "plain", 1023, {"samplewise_norm.rescale": 1 / 1023}),
    ("input", "before: 0..255 fed as is", "plain", 255, {}),
    ("input", "after: rescale 1/255", "plain", 255, {"samplewise_norm.rescale": 1 / 255}),
    ("input", "before: 0..255 fed as is (Conv-BN-ReLU)", "bn_before_act", 255, {}),
    ("input", "after: rescale 1/255 (Conv-BN-ReLU)", "bn_before_act", 255, {"samplewise_norm.rescale": 1 / 255}),
    ("batchnorm", "before: Conv/Dense(relu) -> BN", "act_before_bn", 16, {"samplewise_norm.rescale": 1 / 16}),
    ("batchnorm", "after: Conv/Dense -> BN -> ReLU", "bn_before_act", 16, {"samplewise_norm.rescale": 1 / 16}),
    ("layernorm", "before: Dense(relu) -> LN", "ln_after_act", 16, {"samplewise_norm.rescale": 1 / 16}),
    ("layernorm", "after: Dense -> LN -> ReLU", "ln_before_act", 16, {"samplewise_norm.rescale": 1 / 16}),
]


def measure(variant, max_value, params, seed, epochs):
    xtr, ytr, xte, yte = am.digits(max_value)
    xf, xtf = preprocess(params, xtr), preprocess(params, xte)
    model = am.trained(variant, xf, ytr, epochs=epochs, seed=seed)
    tflite, rows = convert_and_report(model, xf, ConverterSettings().canonical())
    worst = max(rows, key=lambda r: float(r["rmse/scale"]))
    t0 = time.perf_counter()
    findings = advise.run_all(model, xf, tflite, rows, params=params)
    advisor_ms = 1000 * (time.perf_counter() - t0)
    th = advise.DEFAULT_THRESHOLDS
    return {
        "float": am.float_accuracy(model, xtf, yte),
        "int8": am.int8_accuracy(tflite, xtf, yte),
        "worst": float(worst["rmse/scale"]),
        "worst_at": advise.report_layer(worst["tensor_name"], model) or worst["tensor_name"],
        "flagged": sum(float(r["rmse/scale"]) > th["rmse_scale"] or float(r["range"]) > th["range"] for r in rows),
        "max_range": max(float(r["range"]) for r in rows),
        "ops": len(read_model(tflite).ops),
        "bytes": len(tflite),
        "checks": sorted({f.check for f in findings}),
        "advisor_ms": advisor_ms,
    }


def _span(values, fmt):
    values = list(values)
    mean = fmt.format(float(np.mean(values)))
    if min(values) == max(values):
        return mean
    return f"{mean} ({fmt.format(min(values))}..{fmt.format(max(values))})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--only", help="run only this tip (input, batchnorm, layernorm)")
    args = ap.parse_args(argv)
    t0 = time.time()
    print(f"digits 8x8, {args.epochs} epochs, seeds 0..{args.seeds - 1}; test split 359 samples; mean (min..max)\n")
    print("| tip | model | float acc % | int8 acc % | worst rmse/scale (layer) | rows flagged | max range | ops | "
          ".tflite B | advisor checks fired | advisor ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for tip, label, variant, max_value, params in CASES:
        if args.only and tip != args.only:
            continue
        runs = [measure(variant, max_value, params, s, args.epochs) for s in range(args.seeds)]
        worst_at = max(runs, key=lambda r: r["worst"])["worst_at"]
        checks = sorted({c for r in runs for c in r["checks"]})
        print(f"| {tip} | {label} | {_span([100 * r['float'] for r in runs], '{:.1f}')} | "
              f"{_span([100 * r['int8'] for r in runs], '{:.1f}')} | {_span([r['worst'] for r in runs], '{:.3f}')} "
              f"({worst_at}) | {_span([r['flagged'] for r in runs], '{:.1f}')} | "
              f"{_span([r['max_range'] for r in runs], '{:.0f}')} | {_span([r['ops'] for r in runs], '{:.0f}')} | "
              f"{_span([r['bytes'] for r in runs], '{:.0f}')} | {', '.join(checks) or 'none'} | "
              f"{np.median([r['advisor_ms'] for r in runs]):.0f} |", flush=True)
    print(f"\n({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
