"""16x8 mode (int16 activations, int8 weights): every int16 kernel against the TFLM interpreter, bit for bit.

Small Keras graphs around each op the 16x8 converter emits (CONV_2D with and without bias, DEPTHWISE_CONV_2D with a depth
multiplier, FULLY_CONNECTED, both pools, MEAN, SOFTMAX, ADD/SUB/MUL with and without broadcasting, QUANTIZE/DEQUANTIZE), converted once through qbuild's own
converter path (`supported_ops`), run on the host harness and in one Cortex-M33 QEMU harness at -Os, with inputs that
also leave the calibrated range (int16 saturation). Plus a digits-like classifier trained for two epochs on
scikit-learn's digits, the spec setting, the op check and the op table switch.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from qbuild.errors import QbuildError
from qbuild.tflite import params as qparams
from qbuild.tflite.plan import check_ops, plan_model
from qbuild.tflite.reader import read_model
from tests.harness import build_firmware_harness, run_firmware_harness
from test_runtime_corpus import tflm_outputs
from test_runtime_exact import host_tool, run_host  # noqa: F401

MODE_16X8 = ["EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"]
SETTINGS = {"inference_input_type": "float32", "inference_output_type": "float32", "denylisted_nodes": [],
            "denylisted_ops": [], "supported_ops": MODE_16X8}


def _graphs(keras):
    """name -> (keras model, op that must be in the converted graph)."""
    L = keras.layers

    def model(shape, *layers):
        x = inp = keras.Input(shape)
        for layer in layers:
            x = layer(x)
        return keras.Model(inp, x)

    def branches(shape, f):
        inp = keras.Input(shape)
        return keras.Model(inp, f(inp))

    return {
        "conv_relu6_same": (model((9, 7, 3), L.Conv2D(5, 3, padding="same", activation="relu6",
                                                      bias_initializer="random_normal")), "CONV_2D"),
        "conv_stride_valid": (model((10, 9, 2), L.Conv2D(6, (3, 2), strides=2, activation="relu")), "CONV_2D"),
        "conv_dilated_nobias": (model((11, 11, 4), L.Conv2D(3, 3, dilation_rate=2, use_bias=False)), "CONV_2D"),
        "dw_mult2": (model((8, 6, 3), L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")),
                     "DEPTHWISE_CONV_2D"),
        "dw_nobias_stride": (model((9, 9, 4), L.DepthwiseConv2D(3, strides=2, use_bias=False)), "DEPTHWISE_CONV_2D"),
        "fc": (model((20,), L.Dense(7, bias_initializer="random_normal")), "FULLY_CONNECTED"),
        "fc_nobias_relu": (model((3, 12), L.Flatten(), L.Dense(9, use_bias=False, activation="relu")), "FULLY_CONNECTED"),
        "avgpool": (model((9, 10, 3), L.AveragePooling2D((2, 3), padding="same")), "AVERAGE_POOL_2D"),
        "maxpool": (model((9, 10, 3), L.Conv2D(4, 1), L.MaxPooling2D(3, strides=2, padding="same")), "MAX_POOL_2D"),
        "gap_mean": (model((5, 6, 7), L.Conv2D(8, 1), L.GlobalAveragePooling2D()), "MEAN"),
        "softmax": (model((13,), L.Dense(11), L.Softmax()), "SOFTMAX"),
        "add_residual_relu": (branches((6, 5, 4), lambda x: L.ReLU()(L.Add()([L.Conv2D(4, 1)(x), x]))), "ADD"),
        "add_broadcast": (branches((6, 5, 4), lambda x: L.Add()([x, L.GlobalAveragePooling2D(keepdims=True)(x)])),
                          "ADD"),
        "sub": (branches((7, 3, 5), lambda x: L.Subtract()([L.Conv2D(5, 1)(x), x])), "SUB"),
        "mul_gate": (branches((6, 5, 4), lambda x: L.Multiply()(
            [x, L.Conv2D(4, 1)(L.GlobalAveragePooling2D(keepdims=True)(x))])), "MUL"),
        "mul_same": (branches((9, 4), lambda x: L.Multiply()([L.Dense(4)(x), x])), "MUL"),
    }


def _convert(keras_model, rep):
    from qbuild.model.quantize import ConverterFactory, convert

    tflite = convert(ConverterFactory(keras_model), rep, SETTINGS)
    # embed_params aligns every buffer (the int64 biases need 8 bytes), as the build's quantize step does.
    return qparams.embed_params(tflite, qparams.default_params("t", 1, 0, "", []))


def _digits(keras):
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 8, 8, 1)
    y = d.target
    keras.utils.set_random_seed(0)
    L = keras.layers
    inp = keras.Input((8, 8, 1))
    h = L.MaxPooling2D(2)(L.Conv2D(16, 3, padding="same", activation="relu")(inp))
    h = L.Dense(32, activation="relu")(L.Flatten()(h))
    m = keras.Model(inp, L.Dense(10, activation="softmax")(h))
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.fit(x[:1400], y[:1400], epochs=2, batch_size=32, verbose=0)
    return m, x


@pytest.fixture(scope="module")
def models():
    """name -> (tflite bytes, list of float32 inputs). ~15 s: one TF import, one conversion per graph."""
    import keras

    rng = np.random.default_rng(7)
    keras.utils.set_random_seed(7)
    out = {}
    for name, (m, op) in sorted(_graphs(keras).items()):
        shape = (1,) + tuple(m.inputs[0].shape[1:])
        rep = [rng.standard_normal(shape).astype(np.float32) for _ in range(32)]
        tflite = _convert(m, rep)
        assert op in check_ops(read_model(tflite)), name
        # In range, 4x the calibrated range (saturates int16) and all zeros.
        out[name] = (tflite, [rep[0], rep[1] * 4.0, np.zeros(shape, np.float32)])
    m, x = _digits(keras)
    out["digits"] = (_convert(m, [x[i:i + 1] for i in range(0, 1400, 7)]), [x[i:i + 1] for i in range(1400, 1410)])
    return out


def test_converted_graphs_are_int16x8(models):
    for name, (tflite, _) in models.items():
        g = read_model(tflite)
        acts = {g.tensors[t].type for op in g.ops for t in op.outputs if op.name != "DEQUANTIZE"}
        assert acts == {"int16"}, (name, acts)
        assert all(g.tensors[op.inputs[1]].type == "int8" for op in g.ops
                   if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")), name


def test_every_int16_kernel_bit_exact_on_host(models, host_tool, tmp_path):
    for name, (tflite, inputs) in models.items():
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(tflite)
        for i, x in enumerate(inputs):
            result, got = run_host(host_tool, path, [x], tmp_path)
            assert result["status"] == "ok", (name, result)
            assert got == tflm_outputs(tflite, [x])[0].tobytes(), f"{name} input {i}: differs from TFLM"
        assert result["arena_used_bytes"] == plan_model(tflite, 8).arena_bytes, name


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ / qemu-system-arm missing: run scripts/setup")
def test_every_int16_kernel_bit_exact_on_cortex_m33(models, tmp_path):
    cases, expected = [], {}
    for name, (tflite, inputs) in models.items():
        for i, x in enumerate(inputs[:3]):
            cases.append((f"{name}.{i}", tflite, x.tobytes()))
            expected[f"{name}.{i}"] = (tflm_outputs(tflite, [x])[0].tobytes(), plan_model(tflite, 4).arena_bytes)
    elf = build_firmware_harness(tmp_path, cases, max(a for _, a in expected.values()), opt="-Os")
    results = run_firmware_harness(elf)
    for case, (out, arena) in expected.items():
        assert results[case]["status"] == 0, case
        assert results[case]["out"] == out, f"{case}: Cortex-M33 output differs from TFLM"
        assert results[case]["arena"] == arena, case


def test_supported_ops_setting():
    from qbuild.model.spec import ConverterSettings, quantization_mode

    c = ConverterSettings()
    assert "supported_ops" not in c.canonical() and quantization_mode(c.canonical()) == "int8"
    c["supported_ops"] = MODE_16X8
    assert c.canonical()["supported_ops"] == MODE_16X8 and quantization_mode(c.canonical()) == "int16x8"

    class OpsSet:  # what tf.lite.OpsSet members look like to the setting (MLTK passes the enum)
        name = MODE_16X8[0]

    c["supported_ops"] = [OpsSet()]
    assert c["supported_ops"] == MODE_16X8
    with pytest.raises(QbuildError, match="supported_ops"):
        c["supported_ops"] = ["TFLITE_BUILTINS"]


def test_op_check_and_op_table_know_int16(models, tmp_path):
    from qbuild.codegen.op_table import write_op_table

    tflite = models["digits"][0]
    (tmp_path / "d.tflite").write_bytes(tflite)
    write_op_table(tmp_path / "d.tflite", "d.tflite", tmp_path / "ops.h")
    assert "#define QBUILD_INT16 1" in (tmp_path / "ops.h").read_text()


def test_variant_spec_builds_the_base_spec_in_16x8(tmp_path):
    from pathlib import Path

    from qbuild.model.spec import describe, load_spec

    root = Path(__file__).resolve().parents[1]
    info = describe(root / "models/_variants/kws_16x8/model.py", cache_dir=tmp_path)
    base = load_spec(root / "models/kws/model.py")
    assert info.name == "kws_16x8"
    assert info.settings["tflite_converter"]["supported_ops"] == MODE_16X8
    # Same data (the base's dataset files, recordings folder, environment) and training; the base's code retrains it.
    assert set(info.dataset_files) == {str(p) for p in base.dataset_files()}
    assert info.data_dirs == [str(d) for d in base.resolved_data_dirs()]
    assert {str(p) for p in base.model_files()} <= set(info.model_files)
    assert info.settings["training"] == base.settings()["training"]
    assert info.settings["model_parameters"] == base.settings()["model_parameters"]


def test_variant_described_again_when_its_base_changes(tmp_path):
    from qbuild.model.spec import describe

    base, var = tmp_path / "base", tmp_path / "var"
    base.mkdir()
    var.mkdir()
    (base / "model.py").write_text("from qbuild.model.spec import ModelSpec\nmy_model = ModelSpec(classes=['a'])\n"
                                   "my_model.epochs = 3\n")
    (var / "model.py").write_text("from pathlib import Path\nfrom qbuild.spec import load_spec\n"
                                  "my_model = load_spec(Path(__file__).parents[1] / 'base' / 'model.py').variant('v')\n"
                                  f"my_model.tflite_converter['supported_ops'] = {MODE_16X8!r}\n")
    assert describe(var / "model.py", cache_dir=tmp_path / "cache").settings["training"]["epochs"] == 3
    (base / "model.py").write_text((base / "model.py").read_text().replace("= 3", "= 5"))
    info = describe(var / "model.py", cache_dir=tmp_path / "cache")
    assert info.settings["training"]["epochs"] == 5 and str((base / "model.py").resolve()) in info.model_files


def test_int16_models_on_the_build_time_path_bit_exact_on_host(models, tmp_path):
    """The prepared tables of every 16x8 model call the entry points the op table would (`eval_<op>_any`, which pick
    the int16 glue): prepared, run-time and prepared again in one program, each equal to TFLM's output."""
    from qbuild.codegen.prepared import tables
    from test_prepared import check_both_paths_on_host

    cases = {}
    for name, (tflite, inputs) in models.items():
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(tflite)
        cases[name] = (path, [inputs[1]])  # 4x the calibrated range: saturates int16
    evals = {o["eval"] for o in tables(cases["conv_dilated_nobias"][0], tmp_path / "tool")["ops"]}
    assert "eval_conv_2d_any" in evals and "eval_conv_2d" not in evals
    check_both_paths_on_host(cases, tmp_path)
