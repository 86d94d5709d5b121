"""The quantize step with real TensorFlow: bad models and data give one clear line and write nothing; selective quantization."""
import numpy as np
import pytest

from qbuild.model.quantize_step import step_quantize
from qbuild.errors import QbuildError
from qbuild.pipeline.targets import ModelTargets
from tests.conftest import ROOT


def save_model(path, body):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(8,))
    model = keras.Model(inputs, body(layers, inputs))
    model.save(path)
    return path


def targets(tmp_path, keras_path, x, norm="none", strict=False):
    np.savez(tmp_path / "raw.npz", x=x)
    t = ModelTargets.resolve(str(keras_path), ROOT, data=str(tmp_path / "raw.npz"), norm=norm,
                             out_root=tmp_path / "out", strict=strict)
    t.out_dir.mkdir(parents=True, exist_ok=True)
    return t


def quantize(t):
    return step_quantize(t.settings, t.keras, t.data, t.quantize_outputs())


def assert_nothing_written(t):
    assert not any(t.out_dir.iterdir()), list(t.out_dir.iterdir())


def test_not_a_keras_file(tmp_path):
    k = tmp_path / "m.keras"
    k.write_bytes(b"this is not a zip")
    t = targets(tmp_path, k, np.zeros((4, 8), np.float32))
    with pytest.raises(QbuildError, match="is not a loadable Keras model .*pass a .keras file saved with model.save"):
        quantize(t)
    assert_nothing_written(t)


def test_raw_data_of_the_wrong_shape(tmp_path):
    k = save_model(tmp_path / "m.keras", lambda L, x: L.Dense(2)(x))
    t = targets(tmp_path, k, np.zeros((4, 9), np.float32))
    with pytest.raises(QbuildError, match=r"raw.npz: a raw sample has shape \(9,\) \(9 values\) but the model input is \(8,\)"):
        quantize(t)
    assert_nothing_written(t)


def erf_layer():
    import keras

    @keras.saving.register_keras_serializable(package="qbuild_tests")
    class Erf(keras.layers.Layer):
        def call(self, x):
            return keras.ops.erf(x)

    return Erf()


def test_op_tflite_cannot_quantize(tmp_path):
    k = save_model(tmp_path / "m.keras", lambda L, x: L.Dense(2)(erf_layer()(L.Dense(8)(x))))
    t = targets(tmp_path, k, np.random.RandomState(0).rand(16, 8).astype(np.float32))
    with pytest.raises(QbuildError, match="TFLite could not quantize the model to int8: 'tf.Erf' op is neither .*"
                                          "denylisted_ops"):
        quantize(t)
    assert_nothing_written(t)


def test_float_op_left_is_an_error_with_strict(tmp_path):
    k = save_model(tmp_path / "m.keras", lambda L, x: L.Dense(2)(L.LayerNormalization()(L.Dense(8)(x))))
    t = targets(tmp_path, k, np.random.RandomState(0).rand(16, 8).astype(np.float32), strict=True)
    with pytest.raises(QbuildError, match="ops left in float after int8 conversion: .*float32.*strict=1"):
        quantize(t)
    assert_nothing_written(t)


def test_missing_data_file(tmp_path):
    k = save_model(tmp_path / "m.keras", lambda L, x: L.Dense(2)(x))
    with pytest.raises(QbuildError, match="raw data file '.*nothere.npz' does not exist; pass data="):
        ModelTargets.resolve(str(k), ROOT, data=str(tmp_path / "nothere.npz"))


def test_selective_quantization_keeps_denylisted_ops_in_float(tmp_path):
    import keras
    from keras import layers

    from qbuild.tflite.reader import read_model

    i = keras.Input(shape=(6, 6, 2))
    x = layers.Conv2D(4, 3, activation="relu")(i)
    x = layers.GlobalAveragePooling2D()(x)
    keras.Model(i, layers.Dense(3)(x)).save(tmp_path / "m.keras")
    np.savez(tmp_path / "raw.npz", x=np.random.RandomState(0).rand(16, 6, 6, 2).astype(np.float32))
    t = ModelTargets.resolve(str(tmp_path / "m.keras"), ROOT, data=str(tmp_path / "raw.npz"), out_root=tmp_path / "o")
    t.settings["tflite_converter"]["denylisted_ops"] = ["MEAN"]
    t.out_dir.mkdir(parents=True)
    quantize(t)
    g = read_model(t.tflite.read_bytes())
    ops = {op.name: op for op in g.ops}
    types = lambda op, n: {g.tensors[i].type for i in op.inputs[:n] + op.outputs}  # noqa: E731
    assert types(ops["MEAN"], 1) == {"float32"}
    assert types(ops["CONV_2D"], 2) == {"int8"}
    # The runtime cannot run a float MEAN: the model artifacts are still built (no arena size), and the firmware
    # build's op check names the op.
    import json

    from qbuild.tflite.plan import check_ops

    assert json.loads((t.out_dir / "metrics.json").read_text())["arena_bytes"] is None
    with pytest.raises(QbuildError, match="MEAN"):
        check_ops(t.tflite.read_bytes())
