"""Accuracy of the float Keras model and of the int8 .tflite (run by the TFLM interpreter, our oracle)."""
from __future__ import annotations

import numpy as np

from qbuild.model.preprocess import round_half_away

ORACLE_ARENA = 8 * 1024 * 1024


def tflm_interpreter(tflite: bytes, arena_size: int = ORACLE_ARENA):
    from tflite_micro.python.tflite_micro import runtime
    return runtime.Interpreter.from_bytes(bytes(tflite), arena_size=arena_size)


def quantize_input(x_float: np.ndarray, detail: dict) -> np.ndarray:
    """float32 model input -> the .tflite input dtype (int8 models: round(x/scale)+zp, like TFLite's QUANTIZE)."""
    dtype = detail["dtype"]
    if dtype == np.float32:
        return x_float.astype(np.float32)
    scale, zp = detail["quantization_parameters"]["scales"][0], detail["quantization_parameters"]["zero_points"][0]
    q = round_half_away(x_float.astype(np.float32) / np.float32(scale)) + zp
    info = np.iinfo(dtype)
    return np.clip(q, info.min, info.max).astype(dtype)


def tflm_outputs(tflite: bytes, x_float: np.ndarray) -> np.ndarray:
    """Run every sample (float32 model input, shape (N, ...)) through TFLM; outputs stacked (N, ...)."""
    interp = tflm_interpreter(tflite)
    detail = interp.get_input_details(0)
    shape = tuple(detail["shape"])
    outs = []
    for sample in x_float:
        interp.set_input(quantize_input(sample.reshape(shape), detail), 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0)).reshape(-1))
    return np.stack(outs)


def accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores.reshape(len(y), -1), axis=1) == y))
