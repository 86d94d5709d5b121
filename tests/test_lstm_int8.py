"""TFLM's int8 LSTM: a row-by-row digit classifier (sklearn's 8x8 digits, each image fed as 8 time steps of 8
pixels: MNIST offline in miniature) built and converted the way TFLM's mnist_lstm example does it: a tf.keras (Keras 2)
LSTM with return_sequences, Flatten, Dense softmax, re-wrapped with a fixed batch of 1, from_keras_model, full int8
quantization. The converter fuses the layer into one UNIDIRECTIONAL_SEQUENCE_LSTM (int8 weights and hidden state, int16
cell state, both states variable tensors); the runtime must give TFLM's bytes on the host and on Cortex-M33, with
arena_used_bytes() equal to the Python plan (which counts the state and the gate scratch)."""
from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from qbuild.tflite.plan import plan_model
from qbuild.tflite.reader import read_model
from test_runtime_corpus import tflm_outputs
from test_runtime_exact import host_tool, run_host  # noqa: F401

UNITS = 16


@pytest.fixture(scope="module")
def lstm_model(tmp_path_factory):
    tf_keras = pytest.importorskip("tf_keras", reason="tf_keras (Keras 2) missing: run scripts/setup")
    import tensorflow as tf
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # (n, 8 rows = time steps, 8 pixels)
    y = digits.target
    tf_keras.utils.set_random_seed(0)
    L = tf_keras.layers
    model = tf_keras.Sequential([L.Input(shape=(8, 8)), L.LSTM(UNITS, return_sequences=True), L.Flatten(),
                                 L.Dense(10, activation="softmax")])
    model.compile(optimizer=tf_keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with contextlib.redirect_stdout(sys.stderr):
        model.fit(x[:1500], y[:1500], epochs=15, batch_size=32, verbose=0)
        fixed = L.Input(shape=(8, 8), batch_size=1)
        conv = tf.lite.TFLiteConverter.from_keras_model(tf_keras.Model(fixed, model(fixed)))
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([x[i:i + 1]] for i in range(0, 1500, 15))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        data = conv.convert()
    path = tmp_path_factory.mktemp("lstm_int8") / "digits_lstm_int8.tflite"
    path.write_bytes(data)
    return path, x[1500:], y[1500:]


def test_converter_fuses_one_int8_lstm(lstm_model):
    g = read_model(lstm_model[0].read_bytes())
    assert [op.name for op in g.ops].count("UNIDIRECTIONAL_SEQUENCE_LSTM") == 1
    lstm = next(op for op in g.ops if op.name == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    hidden, cell = g.tensors[lstm.inputs[18]], g.tensors[lstm.inputs[19]]
    assert (hidden.type, cell.type, hidden.variable, cell.variable) == ("int8", "int16", True, True)


def test_int8_lstm_firmware_links_no_int16_kernels(lstm_model, tmp_path):
    """The int16 cell state is op state, not a 16x8 activation: the op table keeps QBUILD_INT16 off."""
    from qbuild.codegen.op_table import write_op_table

    out = tmp_path / "qbuild_ops.h"
    write_op_table(lstm_model[0], "test", out)
    text = out.read_text()
    assert "#define QBUILD_INT16 0" in text and "#define QBUILD_OP_UNIDIRECTIONAL_SEQUENCE_LSTM 1" in text


def _tflm_classes(data: bytes, x: np.ndarray) -> list[int]:
    """TFLM's predictions, one interpreter reset between images (the LSTM state persists across invokes)."""
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(data, arena_size=1 << 20)
    out = []
    for i in range(len(x)):
        it.reset()
        it.set_input(x[i:i + 1], 0)
        it.invoke()
        out.append(int(np.argmax(it.get_output(0))))
    return out


def test_lstm_bit_exact_on_host(lstm_model, host_tool, tmp_path):
    path, x, y = lstm_model
    data = path.read_bytes()
    for i in range(0, len(x), 4):  # 75 of the held-out images, each a fresh load (state reset) as in TFLM
        inputs = [x[i:i + 1]]
        result, got = run_host(host_tool, path, inputs, tmp_path)
        assert result["status"] == "ok", result
        assert got == tflm_outputs(data, inputs)[0].tobytes(), f"image {i}: differs from TFLM"
    assert result["arena_used_bytes"] == plan_model(data, pointer_size=8).arena_bytes
    accuracy = float(np.mean(np.array(_tflm_classes(data, x)) == y))
    print(f"int8 LSTM digits: accuracy {accuracy:.3f} on {len(y)} held-out images; "
          f"arena {plan_model(data, pointer_size=4).arena_bytes} B on Cortex-M")
    assert accuracy > 0.8


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ / qemu-system-arm missing: run scripts/setup")
def test_lstm_bit_exact_on_cortex_m33(lstm_model, tmp_path):
    from tests.harness import build_firmware_harness, run_firmware_harness

    path, x, _ = lstm_model
    data = path.read_bytes()
    cases, expected = [], {}
    for i in range(12):
        inputs = [x[i:i + 1]]
        cases.append((f"lstm{i}", data, inputs[0].tobytes()))
        expected[f"lstm{i}"] = tflm_outputs(data, inputs)[0].tobytes()
    arena = plan_model(data, pointer_size=4).arena_bytes
    results = run_firmware_harness(build_firmware_harness(tmp_path, cases, arena, opt="-Os"))
    for name, out in expected.items():
        assert results[name]["status"] == 0, name
        assert results[name]["out"] == out, f"{name}: qemu-m33 output differs from TFLM"
        assert results[name]["arena"] == arena, name


def test_lstm_state_carries_over_invokes_like_tflm(lstm_model, host_tool, tmp_path):
    """Without a reload the state persists: the third invoke on one image continues from the second's state."""
    from tflite_micro.python.tflite_micro import runtime

    path, x, _ = lstm_model
    it = runtime.Interpreter.from_bytes(path.read_bytes(), arena_size=1 << 20)
    for _ in range(3):
        it.set_input(x[:1], 0)
        it.invoke()
    third = np.array(it.get_output(0))
    inp, out = tmp_path / "in.bin", tmp_path / "out.bin"
    inp.write_bytes(x[:1].tobytes())
    r = subprocess.run([str(host_tool), str(path), str(inp), str(out), "--invokes", "3"], capture_output=True, text=True)
    assert json.loads(r.stdout)["status"] == "ok"
    assert out.read_bytes() == third.tobytes()
    assert third.tobytes() != tflm_outputs(path.read_bytes(), [x[:1]])[0].tobytes()  # the state did change it


def test_an_empty_tensor_is_only_allowed_unused(lstm_model, host_tool, tmp_path):
    """The LSTM's quantization-only intermediates have shape [0]; any op or graph I/O using such a tensor is refused by
    the loader and by plan, as before."""
    from qbuild.errors import QbuildError
    from qbuild.tflite.plan import check_ops
    from tests.kernels.tflite_ops import mutate

    path, x, _ = lstm_model

    def edit(m):
        g = m.subgraphs[0]
        reshape = next(op for op in g.operators if m.operatorCodes[op.opcodeIndex].builtinCode == 22)
        empty = next(i for i, t in enumerate(g.tensors) if list(t.shape) == [0])
        reshape.outputs = [empty]
    bad = tmp_path / "empty.tflite"
    bad.write_bytes(mutate(path.read_bytes(), edit))
    with pytest.raises(QbuildError, match="below 1"):
        check_ops(bad.read_bytes())
    result, _ = run_host(host_tool, bad, [x[:1]], tmp_path)
    assert "dimension below 1" in result["status"]


def test_lstm_on_the_build_time_path_bit_exact_on_host(lstm_model, tmp_path):
    """The build-time tables of a model with op state: the state in the tables' RAM array, reset by load(), every output
    equal to TFLM's and to the run-time path's (prepared, run-time, prepared again in one program)."""
    from qbuild.codegen.prepared import figures, tables
    from qbuild.tflite.plan import ram_figures
    from test_prepared import check_both_paths_on_host
    from test_runtime_corpus import random_inputs

    path = lstm_model[0]
    check_both_paths_on_host({"lstm": (path, random_inputs(path.read_bytes(), 3))}, tmp_path)
    g = read_model(path.read_bytes())
    ctx = tables(path, tmp_path / "tool")
    state = sum(t.bytes() for t in g.tensors if t.variable)  # int8 hidden + int16 cell state, each 8-aligned here
    assert ctx["state_bytes"] == state and sum(t["is_variable"] for t in ctx["tensors"]) == 2
    f = figures(ctx)
    assert f["ram_bytes"] == f["arena_bytes"] + state + f["model_object_bytes"]
    build_time = ram_figures(g, plan_model(g, 4))["build_time"]
    assert (build_time["state_bytes"], build_time["table_flash_bytes"]) == (state, f["table_flash_bytes"])
