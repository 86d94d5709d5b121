"""The Keras layer matrix: one small model around each common Keras layer, converted to int8 exactly as the build does
(qbuild.model.quantize: ConverterFactory, unrolled recurrent layers, float32 I/O). Shared by tests/test_layer_matrix.py
(bit-exact on host and qemu-m33) and bench/layer_table.py (docs/layers.md).

A layer that cannot run is listed in EXPECTED_UNSUPPORTED with the reason and the exact set of ops the runtime refuses:
the test fails when such a layer starts working or fails differently.
"""
from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

SEED = 3

# case -> (Keras layer shown in docs/layers.md, input shape without batch, body(keras, x) -> y)
CASES = {
    "Dense": ("Dense", (12,), lambda k, x: k.layers.Dense(6, activation="relu")(x)),
    "Dense_3d": ("Dense", (4, 6), lambda k, x: k.layers.Dense(3)(x)),
    "Conv1D": ("Conv1D", (16, 3), lambda k, x: k.layers.Conv1D(4, 3, strides=2, padding="same")(x)),
    "Conv2D": ("Conv2D", (9, 8, 3), lambda k, x: k.layers.Conv2D(5, 3, strides=2, activation="relu")(x)),
    "DepthwiseConv2D": ("DepthwiseConv2D", (7, 7, 3),
                        lambda k, x: k.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(x)),
    "SeparableConv2D": ("SeparableConv2D", (8, 7, 3), lambda k, x: k.layers.SeparableConv2D(4, 3)(x)),
    "Conv2DTranspose_same_s2": ("Conv2DTranspose", (5, 4, 3),
                                lambda k, x: k.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)),
    "Conv2DTranspose_valid": ("Conv2DTranspose", (4, 5, 2),
                              lambda k, x: k.layers.Conv2DTranspose(3, (3, 2), strides=(1, 2), padding="valid")(x)),
    "MaxPooling1D": ("MaxPooling1D", (15, 3), lambda k, x: k.layers.MaxPooling1D(3, strides=2)(x)),
    "MaxPooling2D": ("MaxPooling2D", (9, 8, 3), lambda k, x: k.layers.MaxPooling2D(2, padding="same")(x)),
    "AveragePooling1D": ("AveragePooling1D", (15, 3), lambda k, x: k.layers.AveragePooling1D(2)(x)),
    "AveragePooling2D": ("AveragePooling2D", (9, 8, 3), lambda k, x: k.layers.AveragePooling2D((3, 2))(x)),
    "GlobalAveragePooling1D": ("GlobalAveragePooling1D", (10, 4), lambda k, x: k.layers.GlobalAveragePooling1D()(x)),
    "GlobalAveragePooling2D": ("GlobalAveragePooling2D", (6, 5, 4),
                               lambda k, x: k.layers.GlobalAveragePooling2D()(x)),
    "GlobalMaxPooling1D": ("GlobalMaxPooling1D", (10, 4), lambda k, x: k.layers.GlobalMaxPooling1D()(x)),
    "GlobalMaxPooling2D": ("GlobalMaxPooling2D", (6, 5, 4), lambda k, x: k.layers.GlobalMaxPooling2D()(x)),
    "BatchNormalization": ("BatchNormalization", (6, 5, 4), lambda k, x: k.layers.BatchNormalization()(x)),
    "BatchNormalization_after_conv": ("BatchNormalization", (6, 5, 3),
                                      lambda k, x: k.layers.BatchNormalization()(k.layers.Conv2D(4, 3)(x))),
    "LayerNormalization": ("LayerNormalization", (5, 8), lambda k, x: k.layers.LayerNormalization()(x)),
    "LayerNormalization_conv": ("LayerNormalization", (5, 4, 3),
                                lambda k, x: k.layers.LayerNormalization()(k.layers.Conv2D(6, 1)(x))),
    "ReLU": ("ReLU", (6, 5, 3), lambda k, x: k.layers.ReLU()(x)),
    "ReLU6": ("ReLU6", (6, 5, 3), lambda k, x: k.layers.ReLU(max_value=6.0)(x)),
    "LeakyReLU": ("LeakyReLU", (6, 5, 3), lambda k, x: k.layers.LeakyReLU(negative_slope=0.2)(x)),
    "PReLU": ("PReLU", (6, 5, 3), lambda k, x: k.layers.PReLU()(k.layers.Conv2D(4, 1)(x))),
    "PReLU_shared_axes": ("PReLU", (6, 5, 3), lambda k, x: k.layers.PReLU(shared_axes=[1, 2])(x)),
    "sigmoid": ("Activation('sigmoid')", (20,), lambda k, x: k.layers.Activation("sigmoid")(x)),
    "tanh": ("Activation('tanh')", (20,), lambda k, x: k.layers.Activation("tanh")(x)),
    "hard_swish": ("Activation('hard_swish')", (20,), lambda k, x: k.layers.Activation("hard_swish")(x)),
    "softmax": ("Softmax", (10,), lambda k, x: k.layers.Softmax()(k.layers.Dense(7)(x))),
    "Add": ("Add", (6, 5, 3), lambda k, x: k.layers.Add()([x, k.layers.Conv2D(3, 1)(x)])),
    "Multiply": ("Multiply", (6, 5, 3), lambda k, x: k.layers.Multiply()([x, k.layers.Conv2D(3, 1)(x)])),
    "Subtract": ("Subtract", (6, 5, 3), lambda k, x: k.layers.Subtract()([x, k.layers.Conv2D(3, 1)(x)])),
    "Concatenate": ("Concatenate", (6, 5, 3), lambda k, x: k.layers.Concatenate()([x, k.layers.Conv2D(2, 1)(x)])),
    "Reshape": ("Reshape", (6, 4, 2), lambda k, x: k.layers.Dense(3)(k.layers.Reshape((12, 4))(x))),
    "Flatten": ("Flatten", (5, 4, 3), lambda k, x: k.layers.Dense(4)(k.layers.Flatten()(x))),
    "Permute": ("Permute", (4, 5, 3), lambda k, x: k.layers.Permute((2, 1, 3))(x)),
    "Permute_3d": ("Permute", (6, 4), lambda k, x: k.layers.Permute((2, 1))(x)),
    "ZeroPadding2D": ("ZeroPadding2D", (5, 4, 3), lambda k, x: k.layers.ZeroPadding2D(((1, 2), (0, 1)))(x)),
    "Cropping2D": ("Cropping2D", (7, 6, 3), lambda k, x: k.layers.Cropping2D(((1, 2), (0, 1)))(x)),
    "UpSampling2D": ("UpSampling2D", (4, 3, 2), lambda k, x: k.layers.UpSampling2D(2)(x)),
    "UpSampling2D_bilinear": ("UpSampling2D(interpolation='bilinear')", (4, 3, 2),
                              lambda k, x: k.layers.UpSampling2D(2, interpolation="bilinear")(x)),
    "LSTM": ("LSTM", (6, 4), lambda k, x: k.layers.LSTM(5)(x)),
    "GRU": ("GRU", (6, 4), lambda k, x: k.layers.GRU(5)(x)),
    "SimpleRNN": ("SimpleRNN", (6, 4), lambda k, x: k.layers.SimpleRNN(5, return_sequences=True)(x)),
    "Embedding": ("Embedding", (6,), lambda k, x: k.layers.Flatten()(k.layers.Embedding(10, 4)(x))),
    "Bidirectional_LSTM": ("Bidirectional(LSTM)", (5, 3), lambda k, x: k.layers.Bidirectional(k.layers.LSTM(4))(x)),
    "Dropout": ("Dropout", (10,), lambda k, x: k.layers.Dense(4)(k.layers.Dropout(0.3)(x))),
    "Rescaling": ("Rescaling", (6, 5, 3), lambda k, x: k.layers.Rescaling(0.5, offset=-0.2)(x)),
    "Average": ("Average", (6, 5, 3), lambda k, x: k.layers.Average()([x, k.layers.Conv2D(3, 1)(x)])),
    "Maximum": ("Maximum", (6, 5, 3), lambda k, x: k.layers.Maximum()([x, k.layers.Conv2D(3, 1)(x)])),
    "Minimum": ("Minimum", (6, 5, 3), lambda k, x: k.layers.Minimum()([x, k.layers.Conv2D(3, 1)(x)])),
    "Dot": ("Dot", (6,), lambda k, x: k.layers.Dot(axes=1)([x, k.layers.Dense(6)(x)])),
    "swish": ("Activation('swish')", (20,), lambda k, x: k.layers.Activation("swish")(x)),
    "elu": ("Activation('elu')", (20,), lambda k, x: k.layers.Activation("elu")(x)),
    "gelu": ("Activation('gelu')", (20,), lambda k, x: k.layers.Activation("gelu")(x)),
    "ZeroPadding1D": ("ZeroPadding1D", (8, 3), lambda k, x: k.layers.ZeroPadding1D((1, 2))(x)),
    "Cropping1D": ("Cropping1D", (8, 3), lambda k, x: k.layers.Cropping1D((1, 2))(x)),
    "UpSampling1D": ("UpSampling1D", (6, 3), lambda k, x: k.layers.UpSampling1D(2)(x)),
    "RepeatVector": ("RepeatVector", (6,), lambda k, x: k.layers.RepeatVector(3)(x)),
    "DepthwiseConv1D": ("DepthwiseConv1D", (10, 3), lambda k, x: k.layers.DepthwiseConv1D(3)(x)),
    "Conv1DTranspose": ("Conv1DTranspose", (6, 3),
                        lambda k, x: k.layers.Conv1DTranspose(4, 3, strides=2, padding="same")(x)),
}

# case -> (reason, the ops check_ops refuses). Kept exact: a change in either direction fails the matrix test.
EXPECTED_UNSUPPORTED = {
    "UpSampling2D": ("Keras 3 lowers nearest-neighbour UpSampling2D to TILE, which TFLM does not implement either "
                     "(its interpreter refuses the model)", {"TILE"}),
    "Embedding": ("the build converts with a float32 input: Embedding becomes CAST/LESS/ADD(int32)/SELECT/GATHER on "
                  "int32 indices; TFLM has no SELECT kernel (its interpreter refuses the model)",
                  {"CAST", "LESS", "SELECT", "GATHER"}),
    "UpSampling1D": ("as UpSampling2D: TILE, which TFLM does not implement", {"TILE"}),
    "RepeatVector": ("TILE, which TFLM does not implement", {"TILE"}),
    "Dot": ("BATCH_MATMUL is not in the runtime yet", {"BATCH_MATMUL"}),
    "elu": ("the converter leaves ELU in float32 (no int8 ELU), which the int8 runtime does not run", {"ELU"}),
    "gelu": ("GELU, which TFLM does not implement either", {"GELU"}),
}

# Cases whose .tflite TFLM's interpreter itself cannot run (no kernel for an op it contains).
TFLM_REFUSES = {"UpSampling2D", "Embedding", "UpSampling1D", "RepeatVector", "gelu"}


def keras_model(keras, name: str):
    """The case's model, with seeded random weights (biases and BatchNormalization statistics included)."""
    _, shape, body = CASES[name]
    keras.utils.set_random_seed(SEED)
    x = keras.Input(shape)
    model = keras.Model(x, body(keras, x))
    rng = np.random.default_rng(SEED)
    for w in model.weights:
        v = rng.normal(0.0, 0.4, w.shape)
        if "variance" in w.path:
            v = np.abs(v) + 0.5
        w.assign(v.astype(np.float32))
    return model


def samples(name: str, count: int, seed: int) -> list[np.ndarray]:
    """Float32 (1, ...) inputs: N(0, 1), or token ids for Embedding."""
    _, shape, _ = CASES[name]
    rng = np.random.default_rng(seed)
    if name == "Embedding":
        return [rng.integers(0, 10, (1, *shape)).astype(np.float32) for _ in range(count)]
    return [rng.standard_normal((1, *shape)).astype(np.float32) for _ in range(count)]


def convert_all(names=None) -> dict[str, bytes]:
    """case -> int8 .tflite, converted the way the build's quantize step does (float32 I/O, 16 calibration samples)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    from qbuild.model.quantize import ConverterFactory, convert

    settings = {"inference_input_type": np.float32, "inference_output_type": np.float32}
    out = {}
    for name in names or CASES:
        model = keras_model(keras, name)
        with contextlib.redirect_stdout(sys.stderr):  # the converter's "Saved artifact" chatter
            out[name] = convert(ConverterFactory(model), samples(name, 16, 0), settings)
    return out


def refused_ops(tflite: bytes) -> set[str]:
    """The ops of the model the runtime does not implement (empty: the runtime takes the model)."""
    from qbuild.tflite.plan import SUPPORTED_OPS
    from qbuild.tflite.reader import read_model

    return {op.name for op in read_model(tflite).ops} - set(SUPPORTED_OPS)
