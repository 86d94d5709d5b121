"""Random small architectures (seeded) through the runtime, against TFLM: layer stacks drawn from conv (grouped and
dilated), depthwise (any multiplier), pools, residual ADD, MUL, concatenation, padding, activations and a global-pool /
flatten / rank-3 Dense / softmax head, with random shapes, strides, padding, per-tensor or per-channel weights and
float or int8 I/O. Every model must give TFLM's bytes on the host (-O2) and on Cortex-M33 under QEMU (-Os, the
firmware build), with arena_used_bytes() equal to the Python plan. A sweep of 100 such models found the loader's
old activation-scale bound (tests/test_runtime_exact.py::test_layer_calibrated_to_zero_runs_bit_exact)."""
from __future__ import annotations

import contextlib
import shutil
import sys

import numpy as np
import pytest

from qbuild.tflite.plan import plan_model
from test_runtime_corpus import convert, random_inputs, tflm_outputs
from test_runtime_exact import host_tool, run_host  # noqa: F401

SEEDS = range(24)
LAYERS = ("conv", "conv_groups", "depthwise", "avg_pool", "max_pool", "add", "mul", "concat", "pad", "activation")


def random_model(keras, seed: int):
    """A Keras model and converter options drawn from `seed`; the same seed gives the same model."""
    L = keras.layers
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    x = inp = keras.Input((int(rng.integers(3, 14)), int(rng.integers(3, 14)), int(rng.integers(1, 9))), batch_size=1)
    for _ in range(int(rng.integers(1, 5))):
        kind = str(rng.choice(LAYERS))
        kh, kw = int(rng.integers(1, min(x.shape[1], 4) + 1)), int(rng.integers(1, min(x.shape[2], 4) + 1))
        padding = str(rng.choice(["same", "valid"]))
        strides = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        dilation = int(rng.integers(1, 3)) if strides == (1, 1) else 1
        act = str(rng.choice(["linear", "relu", "relu6"]))
        channels = x.shape[-1]
        try:
            if kind == "conv":
                y = L.Conv2D(int(rng.integers(1, 11)), (kh, kw), strides=strides, dilation_rate=dilation,
                             padding=padding, activation=act)(x)
            elif kind == "conv_groups":
                groups = 2 if channels % 2 == 0 else 1
                y = L.Conv2D(groups * int(rng.integers(1, 4)), (kh, kw), groups=groups, padding=padding,
                             activation=act)(x)
            elif kind == "depthwise":
                y = L.DepthwiseConv2D((kh, kw), strides=strides, dilation_rate=dilation, padding=padding,
                                      depth_multiplier=int(rng.integers(1, 4)), activation=act)(x)
            elif kind == "avg_pool":
                y = L.AveragePooling2D((kh, kw), strides=strides, padding=padding)(x)
            elif kind == "max_pool":
                y = L.MaxPooling2D((kh, kw), strides=strides, padding=padding)(x)
            elif kind == "add":
                y = L.Add()([x, L.Conv2D(channels, 1)(x)])
            elif kind == "mul":
                y = L.Multiply()([x, L.Conv2D(1, 1, activation="sigmoid")(x)])
            elif kind == "concat":
                y = L.Concatenate()([x, L.Conv2D(int(rng.integers(1, 4)), 1)(x)])
            elif kind == "pad":
                y = L.ZeroPadding2D(tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(2)))(x)
            else:
                y = L.Activation(str(rng.choice(["sigmoid", "tanh", "hard_swish", "relu6", "relu"])))(
                    L.Conv2D(int(rng.integers(1, 6)), 1)(x))
        except ValueError:  # a window larger than the (dilated) input: draw the next layer
            continue
        if min(y.shape[1], y.shape[2]) >= 1:
            x = y
    head = str(rng.choice(["global_pool", "flatten", "dense_3d", "softmax"]))
    if head == "global_pool":
        x = L.Dense(int(rng.integers(2, 8)), activation="softmax")(L.GlobalAveragePooling2D()(x))
    elif head == "flatten":
        x = L.Dense(int(rng.integers(2, 8)))(L.Flatten()(x))
    elif head == "dense_3d":
        x = L.Dense(int(rng.integers(2, 6)), activation="relu")(L.Reshape((-1, x.shape[-1]))(x))
    else:
        x = L.Softmax()(L.Conv2D(int(rng.integers(2, 6)), 1)(x))
    options = {"per_tensor": bool(rng.integers(0, 2)), "int8_io": bool(rng.integers(0, 2))}
    return keras.Model(inp, x), options, rng


@pytest.fixture(scope="module")
def random_models(tmp_path_factory):
    import keras

    out = tmp_path_factory.mktemp("random_models")
    paths = {}
    for seed in SEEDS:
        model, options, rng = random_model(keras, seed)
        with contextlib.redirect_stdout(sys.stderr):  # the converter's "Saved artifact" chatter
            data = convert(model, options, rng)
        paths[f"random_{seed}"] = out / f"random_{seed}.tflite"
        paths[f"random_{seed}"].write_bytes(data)
    return paths


def test_random_models_bit_exact_on_host(random_models, host_tool, tmp_path):
    for name, path in random_models.items():
        data = path.read_bytes()
        inputs = random_inputs(data, 1)
        result, got = run_host(host_tool, path, inputs, tmp_path)
        assert result["status"] == "ok", (name, result)
        assert got == b"".join(r.tobytes() for r in tflm_outputs(data, inputs)), f"{name}: differs from TFLM"
        assert result["arena_used_bytes"] == plan_model(data, pointer_size=8).arena_bytes, name


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ / qemu-system-arm missing: run scripts/setup")
@pytest.mark.parametrize("board", ["qemu-m33", "qemu-m4"])  # Armv8-M and Armv7E-M: both take the DSP kernels
def test_random_models_bit_exact_on_cortex_m_at_os(random_models, tmp_path, board):
    from tests.harness import build_firmware_harness, run_firmware_harness
    from test_runtime_qemu import harness_cases

    cases, expected = harness_cases(random_models, 2)
    elf = build_firmware_harness(tmp_path, cases, max(a for _, a in expected.values()), board_id=board, opt="-Os")
    results = run_firmware_harness(elf, board_id=board)
    for name, (out, arena) in expected.items():
        assert results[name]["status"] == 0, name
        assert results[name]["out"] == out, f"{name}: {board} output differs from TFLM"
        assert results[name]["arena"] == arena, name
