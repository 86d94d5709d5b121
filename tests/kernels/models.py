"""Small single-purpose Keras models, converted to int8 .tflite with TF, that exercise every kernel option.

Each case: name -> (build(keras) -> model, input shapes, input data amplitude, converter flags).
Weights (and biases) are random so biases are non-zero; calibration uses random data.
"""
import numpy as np


def _conv_chain(k, shape, layers):
    inp = k.Input(shape=shape, batch_size=1)
    x = inp
    for layer in layers:
        x = layer(x)
    return k.Model(inp, x)


def _conv_chain_b(k, batch, shape, layers):
    inp = k.Input(shape=shape, batch_size=batch)
    x = inp
    for layer in layers:
        x = layer(x)
    return k.Model(inp, x)


def _cases(k):
    L = k.layers
    c = {}
    # CONV_2D: stride, dilation, SAME/VALID on odd sizes, odd channel counts, fused activations, 1x1.
    c["conv_same_s2_relu"] = (lambda: _conv_chain(k, (9, 7, 3), [L.Conv2D(5, (3, 3), strides=2, padding="same", activation="relu")]), [(1, 9, 7, 3)], 1.0, {})
    c["conv_valid_s1_none"] = (lambda: _conv_chain(k, (6, 8, 4), [L.Conv2D(7, (2, 3), padding="valid")]), [(1, 6, 8, 4)], 3.0, {})
    c["conv_dilation2_relu6"] = (lambda: _conv_chain(k, (11, 10, 2), [L.Conv2D(6, (3, 3), dilation_rate=2, padding="same", activation="relu6")]), [(1, 11, 10, 2)], 4.0, {})
    c["conv_kws_10x4_s2"] = (lambda: _conv_chain(k, (49, 40, 1), [L.Conv2D(16, (10, 4), strides=2, padding="same", activation="relu")]), [(1, 49, 40, 1)], 20.0, {})
    c["conv_1x1_pertensor"] = (lambda: _conv_chain(k, (1, 1, 9), [L.Conv2D(3, (1, 1))]), [(1, 1, 1, 9)], 1.0, {"per_tensor": True})
    c["conv_s2_valid_pertensor_relu"] = (lambda: _conv_chain(k, (8, 5, 6), [L.Conv2D(10, (3, 2), strides=(2, 1), padding="valid", activation="relu")]), [(1, 8, 5, 6)], 0.01, {"per_tensor": True})
    # DEPTHWISE_CONV_2D: multipliers 1/2/3, stride 2 SAME odd, dilation.
    c["dw_m1_same_s2"] = (lambda: _conv_chain(k, (7, 9, 5), [L.DepthwiseConv2D((3, 3), strides=2, padding="same", activation="relu")]), [(1, 7, 9, 5)], 2.0, {})
    c["dw_m2_valid"] = (lambda: _conv_chain(k, (6, 6, 3), [L.DepthwiseConv2D((3, 3), depth_multiplier=2, padding="valid")]), [(1, 6, 6, 3)], 1.0, {})
    c["dw_m3_dil2_relu6"] = (lambda: _conv_chain(k, (10, 9, 2), [L.DepthwiseConv2D((3, 3), depth_multiplier=3, dilation_rate=2, padding="same", activation="relu6")]), [(1, 10, 9, 2)], 5.0, {})
    c["dw_pertensor"] = (lambda: _conv_chain(k, (5, 4, 6), [L.DepthwiseConv2D((2, 2), padding="same")]), [(1, 5, 4, 6)], 100.0, {"per_tensor": True})
    # FULLY_CONNECTED: per-channel (TF 2.21 default), per-tensor, rank-3 inputs (keep_num_dims), activations.
    c["fc_perchannel_relu"] = (lambda: _conv_chain(k, (37,), [L.Dense(11, activation="relu")]), [(1, 37)], 1.0, {})
    c["fc_pertensor"] = (lambda: _conv_chain(k, (20,), [L.Dense(7)]), [(1, 20)], 10.0, {"per_tensor": True})
    c["fc_keep_dims"] = (lambda: _conv_chain(k, (5, 6), [L.Dense(3, activation="relu6")]), [(1, 5, 6)], 1.0, {})
    c["fc_keep_dims_pertensor"] = (lambda: _conv_chain(k, (4, 9), [L.Dense(5)]), [(1, 4, 9)], 0.1, {"per_tensor": True})
    # Pools, MEAN, SOFTMAX (the KWS tail).
    c["avgpool_same_s2"] = (lambda: _conv_chain(k, (9, 7, 3), [L.AveragePooling2D((3, 3), strides=2, padding="same")]), [(1, 9, 7, 3)], 1.0, {})
    c["avgpool_valid"] = (lambda: _conv_chain(k, (8, 6, 5), [L.AveragePooling2D((2, 3), padding="valid")]), [(1, 8, 6, 5)], 3.0, {})
    c["maxpool_same_s2"] = (lambda: _conv_chain(k, (9, 7, 3), [L.MaxPooling2D((3, 3), strides=2, padding="same")]), [(1, 9, 7, 3)], 1.0, {})
    c["maxpool_valid"] = (lambda: _conv_chain(k, (5, 8, 2), [L.MaxPooling2D((2, 2), padding="valid")]), [(1, 5, 8, 2)], 2.0, {})
    c["gap_mean"] = (lambda: _conv_chain(k, (7, 5, 6), [L.Conv2D(6, (3, 3), padding="same", activation="relu"), L.GlobalAveragePooling2D()]), [(1, 7, 5, 6)], 1.0, {})
    c["gap_mean_keepdims"] = (lambda: _conv_chain(k, (6, 4, 3), [L.GlobalAveragePooling2D(keepdims=True)]), [(1, 6, 4, 3)], 2.0, {})
    c["softmax"] = (lambda: _conv_chain(k, (10,), [L.Dense(12), L.Softmax()]), [(1, 10)], 3.0, {})
    c["softmax_rows"] = (lambda: _conv_chain(k, (4, 7), [L.Softmax()]), [(1, 4, 7)], 8.0, {})
    # Batches, other MEAN axes, grouped conv, a big softmax.
    c["conv_batch2"] = (lambda: _conv_chain_b(k, 2, (5, 6, 3), [L.Conv2D(4, (3, 3), strides=2, padding="same")]), [(2, 5, 6, 3)], 1.0, {})
    c["fc_batch3"] = (lambda: _conv_chain_b(k, 3, (13,), [L.Dense(6, activation="relu")]), [(3, 13)], 1.0, {})
    c["conv_groups2"] = (lambda: _conv_chain(k, (6, 5, 4), [L.Conv2D(6, (3, 3), padding="same", groups=2)]), [(1, 6, 5, 4)], 1.0, {})
    c["mean_axis_c"] = (lambda: _conv_chain(k, (4, 5, 6), [L.Lambda(lambda t: k.ops.mean(t, axis=-1, keepdims=True))]), [(1, 4, 5, 6)], 2.0, {})
    c["mean_axis_h"] = (lambda: _conv_chain(k, (4, 5, 6), [L.Conv2D(3, (1, 1)), L.Lambda(lambda t: k.ops.mean(t, axis=1))]), [(1, 4, 5, 6)], 2.0, {})
    c["softmax_wide"] = (lambda: _conv_chain(k, (600,), [L.Softmax()]), [(1, 600)], 2.0, {})
    c["softmax_big"] = (lambda: _conv_chain(k, (100,), [L.Dense(100), L.Softmax()]), [(1, 100)], 2.0, {})
    # Activations standalone.
    c["relu"] = (lambda: _conv_chain(k, (5, 6), [L.ReLU()]), [(1, 5, 6)], 2.0, {})
    c["relu6"] = (lambda: _conv_chain(k, (5, 6), [L.ReLU(max_value=6.0)]), [(1, 5, 6)], 10.0, {})
    c["logistic"] = (lambda: _conv_chain(k, (64,), [L.Activation("sigmoid")]), [(1, 64)], 8.0, {})
    c["tanh"] = (lambda: _conv_chain(k, (64,), [L.Activation("tanh")]), [(1, 64)], 3.0, {})
    c["hard_swish"] = (lambda: _conv_chain(k, (64,), [L.Activation("hard_swish")]), [(1, 64)], 5.0, {})
    return c


def _binary_cases(k):
    L = k.layers
    c = {}

    def two(shape_a, shape_b, fn, act=None):
        def build():
            a = k.Input(shape=shape_a, batch_size=1)
            b = k.Input(shape=shape_b, batch_size=1)
            y = fn(a, b)
            if act:
                y = L.Activation(act)(y)
            return k.Model([a, b], y)
        return build

    c["add_same"] = (two((4, 5, 3), (4, 5, 3), lambda a, b: L.Add()([a, b])), [(1, 4, 5, 3), (1, 4, 5, 3)], 1.0, {})
    c["add_relu"] = (two((6, 7), (6, 7), lambda a, b: L.Add()([a, b]), "relu"), [(1, 6, 7), (1, 6, 7)], 4.0, {})
    c["add_broadcast"] = (two((4, 5, 3), (1, 5, 3), lambda a, b: a + b), [(1, 4, 5, 3), (1, 1, 5, 3)], 2.0, {})
    c["add_broadcast_c"] = (two((3, 4, 6), (3, 4, 1), lambda a, b: a + b), [(1, 3, 4, 6), (1, 3, 4, 1)], 2.0, {})
    c["mul_same"] = (two((4, 5, 3), (4, 5, 3), lambda a, b: L.Multiply()([a, b])), [(1, 4, 5, 3), (1, 4, 5, 3)], 2.0, {})
    c["mul_broadcast"] = (two((2, 3, 5), (1, 1, 5), lambda a, b: a * b), [(1, 2, 3, 5), (1, 1, 1, 5)], 3.0, {})
    return c


def all_cases(k):
    c = _cases(k)
    c.update(_binary_cases(k))
    return c


def convert(k, tf, build, input_shapes, amplitude, flags, seed):
    """Returns int8 .tflite bytes (float32 I/O) and a list of test inputs."""
    rng = np.random.default_rng(seed)
    model = build()
    for w in model.weights:
        w.assign((rng.standard_normal(w.shape) * 0.5).astype(np.float32))

    def sample():
        return [(rng.standard_normal(s) * amplitude).astype(np.float32) for s in input_shapes]

    calib = [sample() for _ in range(24)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter(calib)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if flags.get("per_tensor"):
        conv._experimental_disable_per_channel = True
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    data = conv.convert()
    # Test inputs: partly outside the calibration range so saturation paths are hit too.
    tests = [sample() for _ in range(2)] + [[x * 3.0 for x in sample()]]
    return data, tests
