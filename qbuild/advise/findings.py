"""What the advisor reports: `Finding`, thresholds, and findings as build output, advice.json and HTML lines."""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qbuild.errors import QbuildError

ADVICE_VERSION = 1

# Documented in docs/quantization-tips.md; every key can be overridden (build option / `advise --threshold k=v`).
DEFAULT_THRESHOLDS = {
    "input_max_abs": 8.0,    # preprocessed input reaching beyond +-8: rescale it towards -1..1
    "input_mean_abs": 1.0,   # |mean| above 1 (with values inside +-8): centre it with mean_and_std
    "input_outlier_std": 16.0,  # a value this many standard deviations from the mean: the int8 steps go to outliers
    "rmse_scale": 0.5,       # report rows with rmse/scale above this (0.289 = rounding error of a uniform signal)
    "range": 255.0,          # report rows with range = 255*scale above this (int8 step > 1.0)
}

# The .tflite ops each Keras activation becomes after int8 conversion (measured, TF 2.21, Dense(8, activation=...)).
# relu, relu6 and hard_sigmoid fuse into the layer before them; ELU stays float (DEQUANTIZE, ELU, QUANTIZE).
CHECK_GROUPS = {  # check -> group shown in the build output
    "input_range": "input", "input_offset": "input", "input_outliers": "input",
    "activation_before_bn": "graph", "bn_not_after_foldable": "graph", "ln_after_activation": "graph",
    "unsupported_activation": "graph",
    "bn_not_folded": "conversion",
    "report_row": "report",
}
GROUP_ORDER = ("input", "graph", "conversion", "report")


@dataclass
class Finding:
    check: str                # one of CHECK_GROUPS
    severity: str             # "warning" | "error" (error: the model will not run on the target as it is)
    layer: str                # Keras layer name, or "input <i>"
    message: str              # one line naming the layer and the concrete fix
    data: dict = field(default_factory=dict)   # JSON-able measurements behind the message


def thresholds_with(overrides: dict | None = None) -> dict:
    """DEFAULT_THRESHOLDS updated with `overrides`; an unknown key is an error, not a silent no-op."""
    out = dict(DEFAULT_THRESHOLDS)
    for k, v in (overrides or {}).items():
        if k not in DEFAULT_THRESHOLDS:
            raise QbuildError(f"unknown advisor threshold '{k}'; valid: {', '.join(sorted(DEFAULT_THRESHOLDS))}")
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            raise QbuildError(f"advisor threshold '{k}' = {v!r} is not a number; "
                              f"give e.g. {k}={DEFAULT_THRESHOLDS[k]}") from None
    return out


def fmt_number(v: float) -> str:
    return f"{v:.6g}"


def raise_if_any(findings: list[Finding]) -> None:
    if findings:
        more = f" (+{len(findings) - 1} more, see advice.json)" if len(findings) > 1 else ""
        raise QbuildError(f"quantization advice with strict=1: {findings[0].message}{more}")


def format_findings(findings: list[Finding]) -> str:
    """Short build output: grouped by check group, each message once. Empty string when there is nothing to say."""
    if not findings:
        return ""
    seen, groups = set(), {}
    for f in findings:
        if f.message in seen:
            continue
        seen.add(f.message)
        groups.setdefault(CHECK_GROUPS.get(f.check, "other"), []).append(f)
    n_err = sum(f.severity == "error" for f in findings)
    counts = f"{len(seen)} finding{'s' if len(seen) != 1 else ''}" + (f", {n_err} error{'s' if n_err != 1 else ''}"
                                                                        if n_err else "")
    lines = [f"quantization advice ({counts}):"]
    for group in list(GROUP_ORDER) + sorted(set(groups) - set(GROUP_ORDER)):
        for f in groups.get(group, []):
            lines.append(f"  [{group}] {'ERROR ' if f.severity == 'error' else ''}{f.message}")
    return "\n".join(lines)


def advice_lines(findings: list[Finding]) -> list[str]:
    """The lines of `format_findings` without the header: for the HTML report's advice list."""
    return [ln.strip() for ln in format_findings(findings).splitlines()[1:]]


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def advice_dict(findings: list[Finding], thresholds: dict | None = None) -> dict:
    return {"version": ADVICE_VERSION, "thresholds": thresholds_with(thresholds),
            "findings": [_jsonable(asdict(f)) for f in findings]}


def write_advice_json(findings: list[Finding], path, thresholds: dict | None = None) -> None:
    """`advice.json` (versioned, sorted keys): written to a temp file in the same directory, then renamed."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(advice_dict(findings, thresholds), indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


