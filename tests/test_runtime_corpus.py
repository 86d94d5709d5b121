"""The runtime's test corpus: small Keras models with random weights, converted to int8 .tflite by TF, covering every
op and option the runtime implements. Built once per session (`corpus` fixture, imported by the other runtime tests)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from qbuild.tflite.plan import SUPPORTED_OPS, check_ops
from qbuild.tflite.reader import read_model


CORPUS_NAMES = [
    "conv_same_relu", "conv_s2_same_odd_relu6", "conv_valid_dilated", "conv_1x1_int8io", "conv_per_tensor",
    "dwconv_mult2_s2", "dwconv_dilated_valid", "dwconv_per_tensor_int8io", "fc_relu_softmax", "fc_per_tensor_int8io",
    "fc_3d_keep_dims", "pools", "mean_gap", "mean_keepdims_mul_logistic", "residual_add_relu", "relu6_tanh_logistic",
    "relu_relu6_standalone", "add_broadcast", "slices_stack", "hard_swish", "pad_concat_reshape", "dynamic_batch_flatten", "mul_broadcast_int8io",
    "split_unstack", "leaky_prelu_sub", "transpose_max", "transpose_conv",
    "layer_norm", "resize_bilinear", "max_min",
]
MLTK_DIR = Path(__file__).resolve().parents[1] / ".cache" / "mltk"
# Ops Keras 3 cannot produce for the corpus, with the test that covers them.
COVERED_ELSEWHERE = {"UNIDIRECTIONAL_SEQUENCE_LSTM": "tests/test_lstm_int8.py (a tf.keras LSTM, TFLM's conversion)"}


def random_inputs(tflite_bytes: bytes, seed: int) -> list[np.ndarray]:
    """One random array per model input (float32 ~N(0, 2), int8 uniform), from the model's own input details."""
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(tflite_bytes, arena_size=8 << 20)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(len(read_model(tflite_bytes).inputs)):
        d = it.get_input_details(i)
        if d["dtype"] == np.float32:
            out.append((rng.standard_normal(d["shape"]) * 2).astype(np.float32))
        else:
            info = np.iinfo(d["dtype"])
            out.append(rng.integers(info.min, info.max + 1, d["shape"]).astype(d["dtype"]))
    return out


def tflm_outputs(tflite_bytes: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The oracle: TFLM's reference interpreter from the tflite-micro wheel."""
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(tflite_bytes, arena_size=8 << 20)
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return [np.array(it.get_output(i)) for i in range(len(read_model(tflite_bytes).outputs))]


def _models(keras):
    """name -> (keras model, options). Shapes are deliberately odd: 1x1, non-square, channels not multiple of 4."""
    L = keras.layers
    m = {}

    def build(name, shape, body, batch=1, **opts):
        x = keras.Input(shape=shape, batch_size=batch)
        m[name] = (keras.Model(x, body(x)), opts)

    build("conv_same_relu", (9, 7, 3), lambda x: L.Conv2D(5, 3, padding="same", activation="relu")(x))
    build("conv_s2_same_odd_relu6", (11, 13, 5),
          lambda x: L.Conv2D(6, (3, 2), strides=2, padding="same", activation="relu6")(x))
    build("conv_valid_dilated", (12, 10, 4), lambda x: L.Conv2D(3, 3, dilation_rate=2, padding="valid")(x))
    build("conv_1x1_int8io", (1, 1, 7), lambda x: L.Conv2D(5, 1)(x), int8_io=True)
    build("conv_per_tensor", (8, 6, 3), lambda x: L.Conv2D(7, 3, strides=(2, 1), padding="same")(x), per_tensor=True)
    build("dwconv_mult2_s2", (9, 11, 3),
          lambda x: L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu")(x))
    build("dwconv_dilated_valid", (10, 9, 5), lambda x: L.DepthwiseConv2D((3, 2), dilation_rate=2)(x))
    build("dwconv_per_tensor_int8io", (7, 7, 6), lambda x: L.DepthwiseConv2D(3, padding="same")(x),
          per_tensor=True, int8_io=True)
    build("fc_relu_softmax", (10,), lambda x: L.Dense(3, activation="softmax")(L.Dense(7, activation="relu")(x)))
    build("fc_per_tensor_int8io", (13,), lambda x: L.Dense(5)(x), per_tensor=True, int8_io=True)
    build("fc_3d_keep_dims", (4, 6), lambda x: L.Dense(3)(x))
    build("pools", (11, 9, 3), lambda x: L.MaxPooling2D((3, 2), strides=(2, 1))(
        L.AveragePooling2D(2, strides=2, padding="same")(x)))
    build("mean_gap", (7, 5, 6), lambda x: L.GlobalAveragePooling2D()(L.Conv2D(6, 3)(x)))
    build("mean_keepdims_mul_logistic", (6, 6, 5), lambda x: _se_block(L, x))
    build("residual_add_relu", (8, 8, 4), lambda x: L.ReLU()(L.Add()([x, L.Conv2D(4, 3, padding="same")(x)])))
    build("relu6_tanh_logistic", (5, 7, 3), lambda x: L.Concatenate()([
        L.Activation("tanh")(L.Conv2D(2, 1)(x)), L.Activation("sigmoid")(L.Conv2D(3, 1)(x)),
        L.ReLU(max_value=6.0)(L.Add()([x, x]))]))
    build("relu_relu6_standalone", (4, 6, 3), lambda x: L.ReLU(max_value=6.0)(L.Reshape((24, 6))(
        L.ReLU()(L.Concatenate()([x, L.Conv2D(3, 1)(x)])))))
    build("add_broadcast", (5, 3, 4), lambda x: L.Conv2D(4, 1)(x) + L.GlobalAveragePooling2D(keepdims=True)(x))
    build("slices_stack", (6, 5, 3), lambda x: _slices_stack(keras, x))
    build("hard_swish", (6, 5, 4), lambda x: L.Activation("hard_swish")(L.Conv2D(3, 3)(x)))
    build("pad_concat_reshape", (5, 6, 3), lambda x: L.Reshape((-1, 4))(L.Concatenate(axis=1)([
        L.ZeroPadding2D(((1, 2), (0, 1)))(x), L.ZeroPadding2D(((2, 1), (1, 0)))(L.Conv2D(3, 1)(x))])))
    build("dynamic_batch_flatten", (4, 5, 3), lambda x: L.Dense(4)(L.Flatten()(L.Conv2D(2, 3)(x))), batch=None)
    build("mul_broadcast_int8io", (5, 4, 3), lambda x: L.Multiply()([x, L.Conv2D(1, 1)(x)]), int8_io=True)
    build("split_unstack", (4, 6), lambda x: _split_unstack(keras, x))
    build("leaky_prelu_sub", (5, 4, 3), lambda x: L.Subtract()([L.LeakyReLU(0.2)(x), L.PReLU()(L.Conv2D(3, 1)(x))]))
    build("transpose_max", (4, 6, 3), lambda x: keras.ops.max(L.Permute((2, 1, 3))(x), axis=(1, 2)))
    build("transpose_conv", (4, 3, 2), lambda x: L.Conv2DTranspose(3, 3, strides=2, padding="same")(x))
    build("layer_norm", (4, 6), lambda x: L.LayerNormalization()(L.Dense(6)(x)))  # NEG, SQUARED_DIFFERENCE, RSQRT
    build("resize_bilinear", (3, 4, 2), lambda x: L.UpSampling2D(2, interpolation="bilinear")(x))
    build("max_min", (5, 4, 3), lambda x: L.Minimum()([L.Maximum()([x, L.Conv2D(3, 1)(x)]), L.Conv2D(3, 1)(x)]))
    return m


def _split_unstack(keras, x):
    # SPLIT on the last axis (pieces reordered), then UNPACK of the time axis, as an unrolled LSTM has them.
    y = keras.layers.Dense(6)(x)
    parts = keras.ops.split(y, 3, axis=-1)
    y = keras.layers.Concatenate()([parts[2], parts[0], parts[1]])
    steps = keras.ops.unstack(y, axis=1)
    return keras.layers.Dense(3)(keras.layers.Concatenate()([steps[3], steps[1], steps[0], steps[2]]))


def _slices_stack(keras, x):
    # int8 STRIDED_SLICE with negative and >1 strides, open ends, then a rank-5 PACK on a middle axis.
    y = keras.layers.Conv2D(3, 1)(x)
    a = y[:, 0:4:2, ::-2, :]
    b = y[:, 1::3, 1:4, :]
    return keras.layers.Reshape((4, 3, 3))(keras.ops.stack([a, b], axis=2))


def _se_block(L, x):
    y = L.Conv2D(5, 3, padding="same")(x)
    s = L.GlobalAveragePooling2D(keepdims=True)(y)
    s = L.Dense(5, activation="sigmoid")(s)
    return L.Multiply()([y, s])


def convert(model, opts, rng):
    import tensorflow as tf

    shape = tuple(d or 1 for d in model.inputs[0].shape)
    samples = [rng.standard_normal(shape).astype(np.float32) for _ in range(12)]
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([s] for s in samples)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if opts.get("int8_io"):
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    if opts.get("per_tensor"):
        conv._experimental_disable_per_channel = True
    return conv.convert()


def build_corpus(out: Path) -> dict[str, Path]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(7)
    paths = {}
    for name, (model, opts) in _models(keras).items():
        for w in model.weights:  # random biases too, so bias handling is exercised
            w.assign(rng.normal(0.0, 0.4, w.shape).astype(np.float32))
        p = out / f"{name}.tflite"
        p.write_bytes(convert(model, opts, rng))
        paths[name] = p
    return paths


_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path]:
    # Test modules import this fixture, which registers it once per module: build only once per process.
    if not _BUILT:
        _BUILT.update(build_corpus(tmp_path_factory.mktemp("runtime_corpus")))
    return dict(_BUILT)


def test_corpus_covers_every_supported_op(corpus):
    assert sorted(corpus) == sorted(CORPUS_NAMES)
    seen = set()
    for p in corpus.values():
        seen.update(check_ops(p.read_bytes()))
    assert sorted(seen | set(COVERED_ELSEWHERE)) == SUPPORTED_OPS
