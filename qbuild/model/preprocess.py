"""The one definition of input preprocessing, driven by the `samplewise_norm.*` model parameters.

The firmware (runtime/include/qbuild/preprocess.h, used by the generated main.cc) does the same float32 arithmetic in the
same order, so the Python reference and the device agree bit for bit:

    rescale:       dst[i] = (float)x[i] * scale
    mean_and_std:  sum += (float)x[i]  (sequentially);  mean = sum / n
                   acc += d * d with d = (float)x[i] - mean  (sequentially);  var = acc / n;  std = sqrtf(var)
                   dst[i] = ((float)x[i] - mean) / (std + 1e-6f)
    none:          dst[i] = (float)x[i]

numpy's `sum` uses pairwise summation, so sequential float32 accumulation is done with `np.add.accumulate`.
"""
from __future__ import annotations

import math

import numpy as np

from qbuild.errors import QbuildError

EPSILON = np.float32(1e-6)
RESCALE = "samplewise_norm.rescale"
MEAN_STD = "samplewise_norm.mean_and_std"


def parse_norm(norm: str | None, option: str = "norm") -> dict:
    """`rescale:0.0625` | `rescale:1/16` | `mean_std` | `none` -> model parameters (the one parser: scons norm= and
    `python -m qbuild build/advise --norm`)."""
    text = (norm or "none").strip()
    if text == "none":
        return {}
    if text == "mean_std":
        return {MEAN_STD: True}
    if text.startswith("rescale:"):
        factor = text.split(":", 1)[1]
        try:
            num, _, den = factor.partition("/")
            value = float(num) / float(den) if den else float(num)
        except (ValueError, ZeroDivisionError):
            value = math.nan
        if math.isfinite(value) and value != 0.0:
            return {RESCALE: value}
        raise QbuildError(f"{option}={text} needs a finite, non-zero factor; e.g. rescale:0.0625 or rescale:1/16")
    raise QbuildError(f"{option}='{text}' is not understood; use rescale:<factor> (e.g. rescale:0.0625 or rescale:1/16), "
                      "mean_std or none")


def norm_mode(params: dict) -> tuple[str, float | None]:
    """('rescale', scale) | ('mean_std', None) | ('none', None) from the model parameters."""
    mean_std = bool(params.get(MEAN_STD, False))
    # Older MLTK models say the same with two keys.
    mean, std = bool(params.get("samplewise_norm.mean", False)), bool(params.get("samplewise_norm.std", False))
    if mean != std:
        raise QbuildError("model parameters set only one of 'samplewise_norm.mean' / 'samplewise_norm.std'; qbuild "
                          f"supports both together (same as '{MEAN_STD}') or neither")
    mean_std = mean_std or (mean and std)
    scale = params.get(RESCALE)
    if scale is not None and (isinstance(scale, (bool, str, bytes)) or not isinstance(scale, (int, float))
                              or not math.isfinite(scale)):
        raise QbuildError(f"model parameter '{RESCALE}' is {scale!r}; it must be a finite number (e.g. 0.00390625): "
                          "re-export the model with a numeric value")
    if mean_std and scale not in (None, 0, 0.0):
        raise QbuildError(f"model parameters set both '{RESCALE}' and '{MEAN_STD}'; keep one of them")
    if mean_std:
        return "mean_std", None
    if scale not in (None, 0, 0.0):
        return "rescale", float(scale)
    return "none", None


def _sequential_sum(a: np.ndarray) -> np.ndarray:
    """Row-wise float32 sum accumulated left to right (like a C loop), for a 2-D float32 array."""
    return np.add.accumulate(a, axis=1, dtype=np.float32)[:, -1]


def preprocess(params: dict, raw: np.ndarray) -> np.ndarray:
    """Raw samples (N, ...) in the device's dtype -> float32 model input, exactly as the firmware computes it."""
    raw = np.asarray(raw)
    if raw.ndim < 1 or raw.shape[0] == 0:
        raise QbuildError("raw data is empty; provide at least one sample (array 'x' of shape (N, ...))")
    mode, scale = norm_mode(params)
    x = raw.astype(np.float32)
    if mode == "rescale":
        return x * np.float32(scale)
    if mode == "none":
        return x
    flat = x.reshape(x.shape[0], -1)
    n = np.float32(flat.shape[1])
    mean = _sequential_sum(flat) / n
    d = flat - mean[:, None]
    var = _sequential_sum(d * d) / n
    std = np.sqrt(var, dtype=np.float32)
    out = d / (std + EPSILON)[:, None]
    return out.astype(np.float32).reshape(x.shape)


def round_half_away(v: np.ndarray) -> np.ndarray:
    """C's roundf (halves away from zero), exactly: np.round rounds halves to even."""
    v = np.asarray(v, dtype=np.float32)
    r = np.trunc(v)
    frac = v - r  # exact in float32
    return r + np.where(np.abs(frac) >= np.float32(0.5), np.sign(v), np.float32(0)).astype(np.float32)


def model_input(x_raw: np.ndarray, params: dict, input_shape) -> np.ndarray:
    """Raw samples -> float32 model input (preprocessing exactly as on the device, then reshaped)."""
    return preprocess(params, x_raw).reshape((len(x_raw),) + tuple(input_shape))
