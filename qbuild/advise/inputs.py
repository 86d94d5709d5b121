"""Advisor check 1: the preprocessed representative data (range, centre, outliers)."""
from __future__ import annotations


import numpy as np

from qbuild.advise.findings import Finding, fmt_number, thresholds_with

# 1. input -------------------------------------------------------------------------------------------------------------
def check_inputs(x_float32, thresholds: dict | None = None, params: dict | None = None) -> list[Finding]:
    """Per model input: min/max/mean/std of the preprocessed data; warn when far from about -1..1 (`input_range`),
    off-centre (`input_offset`), or dominated by a few outliers (`input_outliers`: int8 quantization does not care
    about the scale of the input, only about how much of its 256 steps the bulk of the values gets).

    `x_float32`: one array (N, ...) or a list of them (one per model input). `params`: the model parameters, so the
    suggested `samplewise_norm.rescale` is in terms of the raw data the device sees.
    """
    from qbuild.model.preprocess import norm_mode  # light: numpy only

    th = thresholds_with(thresholds)
    mode, scale = norm_mode(params or {})
    arrays = list(x_float32) if isinstance(x_float32, (list, tuple)) else [x_float32]
    findings = []
    for i, x in enumerate(arrays):
        x = np.asarray(x, dtype=np.float64)
        stats = {"min": float(x.min()), "max": float(x.max()), "mean": float(x.mean()), "std": float(x.std()),
                 "norm": mode}
        where = f"input {i}" if len(arrays) > 1 or i else "input"
        seen = f"preprocessed {where} spans {fmt_number(stats['min'])}..{fmt_number(stats['max'])} (mean {fmt_number(stats['mean'])}, " \
               f"std {fmt_number(stats['std'])})"
        max_abs = max(abs(stats["min"]), abs(stats["max"]))
        spread = max(stats["max"] - stats["mean"], stats["mean"] - stats["min"])
        stats["max_std"] = spread / stats["std"] if stats["std"] > 0 else 0.0
        if mode != "mean_std" and max_abs > th["input_max_abs"]:
            new = (scale or 1.0) / max_abs
            stats["suggested_rescale"] = new
            findings.append(Finding(
                "input_range", "warning", where,
                f"{seen}, far outside about -1..1 (limit +-{fmt_number(th['input_max_abs'])}); set model_parameters"
                f"['samplewise_norm.rescale'] = {fmt_number(new)} (maps the observed max to 1.0; norm=rescale:{fmt_number(new)}) or "
                "['samplewise_norm.mean_and_std'] = True (norm=mean_std)", stats))
        elif mode != "mean_std" and abs(stats["mean"]) > th["input_mean_abs"]:
            findings.append(Finding(
                "input_offset", "warning", where,
                f"{seen}: not centred around 0 (|mean| > {fmt_number(th['input_mean_abs'])}); set "
                "model_parameters['samplewise_norm.mean_and_std'] = True (norm=mean_std)", stats))
        elif stats["max_std"] > th["input_outlier_std"]:
            findings.append(Finding(
                "input_outliers", "warning", where,
                f"{seen}: some values lie {stats['max_std']:.1f} standard deviations from the mean (limit "
                f"{fmt_number(th['input_outlier_std'])}), so most of the 256 int8 input steps cover a few outliers; clip or "
                "compress (e.g. log) the raw values, the same way in the dataset and on the device", stats))
    return findings


