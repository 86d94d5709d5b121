"""Mode comparison on digits models whose report rows are flagged (bench/RESULTS.md, "Quantization modes").

For each model of bench/advisor_models.py with a known quantization problem and each seed: train as
bench/advisor_evidence.py does, make the quantization report, then `qbuild.model.modes.compare_modes` (what
`scons ... compare_modes=1` runs): float, int8, 16x8 and int8 with the flagged tensors in float, each measured on the
359 held-out digits with the TFLM interpreter, with its .tflite size and arena.

    .venv/bin/python bench/mode_comparison.py --seeds 3
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from bench import advisor_models as am  # noqa: E402
from qbuild.advise.cli import convert_and_report  # noqa: E402
from qbuild.model.modes import compare_modes, flagged_tensor_names  # noqa: E402
from qbuild.model.preprocess import model_input  # noqa: E402
from qbuild.model.spec import ConverterSettings  # noqa: E402

# (label, advisor_models variant, raw maximum, parameters): the "before" models of the advisor evidence that flag rows.
CASES = [
    ("10-bit input fed as is", "plain", 1023, {}),
    ("Conv/Dense(relu) -> BN", "act_before_bn", 16, {"samplewise_norm.rescale": 1 / 16}),
    ("Dense(relu) -> LN", "ln_after_act", 16, {"samplewise_norm.rescale": 1 / 16}),
]


def run(label, variant, max_value, params, seed, epochs):
    xtr, ytr, xte, yte = am.digits(max_value)
    shape = xtr.shape[1:]
    xf, xtf = model_input(xtr, params, shape), model_input(xte, params, shape)
    model = am.trained(variant, xf, ytr, epochs=epochs, seed=seed)
    settings = ConverterSettings().canonical()
    _, rows = convert_and_report(model, xf, settings)
    flagged = flagged_tensor_names(rows, settings["report_rmse_scale_threshold"], settings["report_range_threshold"])
    return flagged, compare_modes(model, xf, xtf, np.asarray(yte), settings, flagged)


def _short_note(note: str) -> str:
    if note.startswith("conversion failed"):  # keep TFLite's reason, not the fix line around it
        found = re.search(r"RuntimeError: ([^.;]+)", note)
        return "conversion failed: " + (found.group(1) if found else note[:80])
    return note.split(";")[-1].strip()


def _cell(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    mean = fmt.format(float(np.mean(values)))
    return mean if min(values) == max(values) else f"{mean} ({fmt.format(min(values))}..{fmt.format(max(values))})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=12)
    args = ap.parse_args(argv)
    print("| model | flagged rows | mode | accuracy % | .tflite B | qbuild arena B | TFLM arena B | note |")
    print("|---|---|---|---|---|---|---|---|")
    for label, variant, max_value, params in CASES:
        per_mode, flagged_counts = {}, []
        for seed in range(args.seeds):
            flagged, results = run(label, variant, max_value, params, seed, args.epochs)
            flagged_counts.append(len(flagged))
            for r in results:
                per_mode.setdefault(r["mode"], []).append(r)
        for mode, rs in per_mode.items():
            acc = [None if r["accuracy"] is None else 100 * r["accuracy"] for r in rs]
            notes = sorted({_short_note(r["note"]) for r in rs if r["note"]})
            print(f"| {label} | {_cell(flagged_counts, '{:.1f}')} | {mode} ({len(rs)} seeds) | {_cell(acc, '{:.1f}')} | "
                  f"{_cell([r['tflite_bytes'] for r in rs], '{:.0f}')} | {_cell([r['qbuild_arena_bytes'] for r in rs], '{:.0f}')} | "
                  f"{_cell([r['tflm_arena_bytes'] for r in rs], '{:.0f}')} | {'; '.join(notes)[:160]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
