"""The DSP-extension kernels (runtime/kernels/conv_dsp.cc: SXTB16/SXTAB16 + SMLAD/SMLABB) against TFLM, on the
emulated Cortex-M33 (Armv8-M Mainline, qemu-m33) and Cortex-M4 (Armv7E-M, qemu-m4), on shapes that reach every path
and edge of those kernels: odd channel counts (tails of 1-3 values and 1-3 output channels), SAME padding (partial
filter rows and columns), strides, dilation (the per-tap run path), depth multiplier > 1 and grouped conv (handed back
to the portable loop), per-channel and per-tensor weights, batches, a one-channel first layer (10x4 and 3x3 filters),
and extreme input/output zero points (-128 and 127: the input offset 128 / -127 rides in 16-bit lanes).
The runtime is cross-compiled with real arm-none-eabi-g++ and run under real QEMU; the oracle is the tflite_micro wheel.
"""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from tests.harness import build_firmware_harness, run_firmware_harness
from test_runtime_corpus import MLTK_DIR, convert, corpus, random_inputs, tflm_outputs  # noqa: F401
from test_runtime_qemu import harness_cases

pytestmark = pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                                reason="arm-none-eabi-g++ / qemu-system-arm missing: run scripts/setup")


def _models(keras):
    """name -> (keras model, converter options)."""
    L = keras.layers
    m = {}

    def build(name, shape, body, batch=1, **opts):
        x = keras.Input(shape=shape, batch_size=batch)
        m[name] = (keras.Model(x, body(x)), opts)

    # CONV_2D 1x1 and FULLY_CONNECTED: one run per pixel.
    build("pw_odd", (5, 7, 13), lambda x: L.Conv2D(11, 1)(x), int8_io=True)
    build("pw_per_tensor", (4, 6, 20), lambda x: L.Conv2D(9, 1, activation="relu")(x), per_tensor=True, int8_io=True)
    build("pw_batch2_s2", (7, 5, 6), lambda x: L.Conv2D(5, 1, strides=2)(x), batch=2)
    build("fc_odd", (37,), lambda x: L.Dense(13)(x), int8_io=True)
    build("fc_per_tensor", (50,), lambda x: L.Dense(12, activation="relu")(x), per_tensor=True, int8_io=True)
    build("fc_tiny", (3,), lambda x: L.Dense(2)(x))
    # One input channel (keyword spotting's first layer): rows of 4 / 3 taps, SAME borders.
    build("first_10x4_s2", (21, 10, 1), lambda x: L.Conv2D(8, (10, 4), strides=2, padding="same",
                                                           activation="relu")(x), int8_io=True)
    build("first_3x3_valid", (9, 8, 1), lambda x: L.Conv2D(5, 3)(x), int8_io=True)
    build("first_5x5_same_pt", (8, 7, 1), lambda x: L.Conv2D(6, 5, padding="same")(x), per_tensor=True)
    # General CONV_2D: partial rows/columns, strides, dilation in either direction.
    build("conv3x3_same", (9, 7, 6), lambda x: L.Conv2D(10, 3, padding="same")(x), int8_io=True)
    build("conv_s2_odd_relu6", (11, 13, 5), lambda x: L.Conv2D(7, (3, 2), strides=2, padding="same",
                                                               activation="relu6")(x))
    build("conv_dilated", (12, 10, 4), lambda x: L.Conv2D(6, 3, dilation_rate=2)(x), int8_io=True)
    build("conv_dilated_h_same", (12, 10, 3), lambda x: L.Conv2D(5, (3, 2), dilation_rate=(2, 1),
                                                                 padding="same")(x))
    build("conv_dilated_w_same_pt", (9, 11, 5), lambda x: L.Conv2D(4, (2, 3), dilation_rate=(1, 2),
                                                                   padding="same")(x), per_tensor=True)
    build("conv_grouped", (7, 7, 4), lambda x: L.Conv2D(6, 3, groups=2, padding="same")(x))
    # DEPTHWISE_CONV_2D: 4-channel passes, 1-3 channel tails, 3-tap rows and other widths, multiplier > 1.
    build("dw3x3_same_relu", (9, 8, 12), lambda x: L.DepthwiseConv2D(3, padding="same", activation="relu")(x),
          int8_io=True)
    build("dw_s2_odd", (11, 9, 7), lambda x: L.DepthwiseConv2D(3, strides=2, padding="same")(x), int8_io=True)
    build("dw_dilated", (12, 11, 9), lambda x: L.DepthwiseConv2D((5, 3), dilation_rate=2)(x))
    build("dw_1x3_3x1", (6, 9, 5), lambda x: L.DepthwiseConv2D((3, 1), padding="same")(
        L.DepthwiseConv2D((1, 3), padding="same")(x)))
    build("dw_mult2", (7, 7, 3), lambda x: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(x))
    build("dw_per_tensor", (7, 7, 8), lambda x: L.DepthwiseConv2D(3, padding="same")(x), per_tensor=True,
          int8_io=True)
    build("dw_batch3_5x5", (6, 6, 6), lambda x: L.DepthwiseConv2D(5, padding="same")(x), batch=3)
    # A depthwise-separable block as in the KWS model.
    build("ds_block64", (6, 5, 64), lambda x: L.Conv2D(64, 1, activation="relu")(
        L.DepthwiseConv2D(3, padding="same", activation="relu")(x)), int8_io=True)
    return m


def _set_zero_point(data: bytes, which: str, zp: int) -> bytes:
    """The graph input's (or output's) zero point set to zp; the first op reads it directly (int8 I/O models)."""
    from tests.kernels.tflite_ops import mutate

    def edit(m):
        g = m.subgraphs[0]
        t = g.tensors[g.inputs[0] if which == "input" else g.outputs[0]]
        t.quantization.zeroPoint = [zp]

    return mutate(data, edit)


ZP_EDITS = {"pw_odd": [("input", -128), ("input", 127), ("output", 127)],
            "first_10x4_s2": [("input", -128), ("input", 127)],
            "conv3x3_same": [("input", 127), ("output", -128)],
            "fc_odd": [("input", -128), ("output", -128)],
            "dw3x3_same_relu": [("input", -128), ("input", 127)],
            "dw_s2_odd": [("input", 127)],
            "ds_block64": [("input", -128), ("input", 127)]}


@pytest.fixture(scope="module")
def dsp_cases(tmp_path_factory):
    """Harness cases (two random inputs per model) and the TFLM output bytes of each."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(21)
    models = {}
    for name, (model, opts) in _models(keras).items():
        for w in model.weights:
            w.assign(rng.normal(0.0, 0.4, w.shape).astype(np.float32))
        data = convert(model, opts, rng)
        models[name] = data
        for which, zp in ZP_EDITS.get(name, []):
            models[f"{name}_{which}_zp{zp}"] = _set_zero_point(data, which, zp)
    cases, expected = [], {}
    for name, data in models.items():
        for seed in (1, 2):
            inputs = random_inputs(data, seed)
            case = f"{name}#{seed}"
            cases.append((case, data, b"".join(x.tobytes() for x in inputs)))
            expected[case] = b"".join(o.tobytes() for o in tflm_outputs(data, inputs))
    return cases, expected


def test_edge_models_cover_every_dsp_path(dsp_cases):
    cases, _ = dsp_cases
    names = {c[0].split("#")[0] for c in cases}
    assert len(names) >= 35
    assert any("zp-128" in n for n in names) and any("zp127" in n for n in names)


@pytest.mark.parametrize("board,opt", [("qemu-m33", "-Os"), ("qemu-m33", "-O2"), ("qemu-m4", "-Os")])
def test_dsp_kernels_bit_exact_with_tflm(dsp_cases, tmp_path, board, opt):
    cases, expected = dsp_cases
    elf = build_firmware_harness(tmp_path, cases, 96 * 1024, board_id=board, opt=opt)
    results = run_firmware_harness(elf, board)
    assert sorted(results) == sorted(expected)
    bad = [n for n, out in expected.items() if results[n]["status"] != 0 or results[n]["out"] != out]
    assert not bad, f"{board} {opt}: differs from TFLM: {bad}"


def test_every_model_runs_on_cortex_m4_bit_exact(corpus, tmp_path):
    """The runtime corpus and the MLTK models (what tests/test_runtime_qemu.py runs on the M33) on the Cortex-M4 at
    the firmware's -Os: same bytes as TFLM, and the same arena as on the M33 (the Python plan)."""
    models = dict(corpus)
    models.update({p.stem: p for p in sorted(MLTK_DIR.glob("*.tflite"))})
    cases, expected = harness_cases(models, 11)
    elf = build_firmware_harness(tmp_path, cases, max(a for _, a in expected.values()), board_id="qemu-m4", opt="-Os")
    results = run_firmware_harness(elf, "qemu-m4")
    assert sorted(results) == sorted(expected)
    for name, (out, arena) in expected.items():
        assert results[name]["status"] == 0, name
        assert results[name]["out"] == out, f"{name}: Cortex-M4 output differs from TFLM"
        assert results[name]["arena"] == arena, name
