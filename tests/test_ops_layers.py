"""Edge cases of the ops the Keras layer matrix added (LEAKY_RELU, PRELU, SUB, REDUCE_MAX, TRANSPOSE, TRANSPOSE_CONV,
LayerNormalization's SQUARED_DIFFERENCE, RSQRT and float NEG, RESIZE_BILINEAR, MAXIMUM, MINIMUM):
small converted models, some with options or quantization the converter rarely writes (edited in the flatbuffer),
each run through the whole runtime (qbuild-run) against TFLM on every int8 input value or random inputs, with the
arena equal to the Python plan."""
from __future__ import annotations

import contextlib
import sys

import numpy as np
import pytest

from qbuild.tflite.plan import plan_model
from tests.kernels.tflite_ops import OP, mutate
from test_runtime_corpus import convert, random_inputs, tflm_outputs
from test_runtime_exact import host_tool, run_host  # noqa: F401


def _op(m, code):
    for op in m.subgraphs[0].operators:
        c = m.operatorCodes[op.opcodeIndex]
        if max(c.builtinCode, c.deprecatedBuiltinCode) == code:
            return op
    raise AssertionError(f"op {code} not found")


def _quant(m, code, which, index, scale=None, zero_point=None):
    """Sets the quantization of an op's input/output tensor `index`."""
    op = _op(m, code)
    t = (op.inputs if which == "in" else op.outputs)[index]
    q = m.subgraphs[0].tensors[t].quantization
    if scale is not None:
        q.scale = [float(np.float32(scale))]
    if zero_point is not None:
        q.zeroPoint = [int(zero_point)]


def _models(keras):
    """name -> (keras model, converter options, [edits]); each edit: (suffix, fn(ModelT))."""
    L, ops = keras.layers, keras.ops
    m = {}

    def build(name, shape, body, edits=(), **opts):
        x = keras.Input(shape, batch_size=1)
        m[name] = (keras.Model(x, body(x)), opts, list(edits))

    def alpha(value):
        return lambda t: setattr(_op(t, OP.LEAKY_RELU).builtinOptions, "alpha", value)

    build("leaky", (256,), lambda x: L.LeakyReLU(negative_slope=0.1)(x), int8_io=True, edits=[
        ("alpha_1.7", alpha(1.7)), ("alpha_neg", alpha(-0.35)), ("alpha_0", alpha(0.0)),
        ("out_fine", lambda t: _quant(t, OP.LEAKY_RELU, "out", 0, 0.002, -100)),
        ("in_zp_127", lambda t: _quant(t, OP.LEAKY_RELU, "in", 0, None, 127))])
    build("prelu_channels", (4, 4, 16), lambda x: L.PReLU()(x), int8_io=True, edits=[
        ("alpha_zp", lambda t: _quant(t, OP.PRELU, "in", 1, None, 40)),
        ("out_coarse", lambda t: _quant(t, OP.PRELU, "out", 0, 0.3, 5))])
    build("prelu_shared", (5, 3, 4), lambda x: L.PReLU(shared_axes=[1, 2])(L.Conv2D(4, 1)(x)))
    build("prelu_full", (3, 4, 2), lambda x: L.PReLU()(x))
    build("sub_same", (256,), lambda x: L.Subtract()([x, L.Dense(256)(x)]), int8_io=True, edits=[
        ("relu6", lambda t: setattr(_op(t, OP.SUB).builtinOptions, "fusedActivationFunction", 3)),
        ("same_scales", lambda t: [_quant(t, OP.SUB, "in", i, 0.05, -3) for i in range(2)])])
    build("sub_broadcast", (5, 4, 3), lambda x: x - ops.mean(x, axis=(1, 2), keepdims=True))
    build("sub_broadcast_rows", (6, 5), lambda x: L.Dense(5)(x) - ops.max(x, axis=-1, keepdims=True))
    build("max_hw", (6, 5, 4), lambda x: ops.max(L.Conv2D(4, 1)(x), axis=(1, 2)), edits=[
        ("out_zp", lambda t: _quant(t, OP.REDUCE_MAX, "out", 0, None, 11))])
    build("max_last_keep", (6, 5, 4), lambda x: ops.max(x, axis=-1, keepdims=True))
    build("max_rank2", (7, 9), lambda x: ops.max(x, axis=0))
    build("max_all_but_c", (3, 4, 5), lambda x: ops.max(x, axis=(0, 1, 2)))
    build("transpose_nchw", (4, 5, 3), lambda x: ops.transpose(x, (0, 3, 1, 2)), int8_io=True)
    build("transpose_rank5", (2, 3, 4, 5), lambda x: ops.transpose(x, (0, 4, 2, 1, 3)))
    build("transpose_rank2", (7, 3), lambda x: ops.transpose(L.Dense(3)(x), (0, 2, 1)))
    build("tconv_s2_same", (4, 3, 5), lambda x: L.Conv2DTranspose(6, 3, strides=2, padding="same")(x))
    build("tconv_s3_gaps", (3, 4, 2), lambda x: L.Conv2DTranspose(3, 2, strides=3, padding="valid")(x))
    build("tconv_valid_rect", (5, 4, 3), lambda x: L.Conv2DTranspose(4, (3, 5), strides=(2, 1))(x),
          per_tensor=True, int8_io=True)
    build("tconv_no_bias", (4, 4, 3), lambda x: L.Conv2DTranspose(5, 4, strides=2, padding="same", use_bias=False)(x))
    build("tconv_1x1", (3, 3, 4), lambda x: L.Conv2DTranspose(2, 1)(x))
    def resize_opts(align, half):
        def edit(t):
            o = _op(t, OP.RESIZE_BILINEAR).builtinOptions
            o.alignCorners, o.halfPixelCenters = align, half
        return edit

    build("resize_up_3x2", (5, 4, 3), lambda x: L.UpSampling2D((3, 2), interpolation="bilinear")(x), int8_io=True,
          edits=[("align_corners", resize_opts(True, False)), ("corner_pixels", resize_opts(False, False))])
    build("resize_down_odd", (7, 9, 2), lambda x: L.Resizing(3, 5, interpolation="bilinear")(x))
    build("resize_up_odd", (3, 4, 2), lambda x: L.Resizing(7, 5, interpolation="bilinear")(x), edits=[
        ("align_corners", resize_opts(True, False))])
    build("maximum_bcast", (4, 5, 6), lambda x: ops.maximum(x, ops.mean(x, axis=-1, keepdims=True)), int8_io=True)
    build("minimum_rows", (6, 5), lambda x: ops.minimum(L.Dense(5)(x), ops.max(x, axis=1, keepdims=True)))
    build("sqdiff_bcast", (6, 5), lambda x: ops.square(L.Dense(5)(x) - ops.mean(x, axis=-1, keepdims=True)))
    build("rsqrt", (256,), lambda x: ops.rsqrt(ops.relu(x) + 0.05), int8_io=True, edits=[
        ("out_coarse", lambda t: _quant(t, OP.RSQRT, "out", 0, 0.5, -100)),
        ("out_fine", lambda t: _quant(t, OP.RSQRT, "out", 0, 0.01, 20)),
        ("in_zp", lambda t: setattr(_op(t, OP.RSQRT), "inputs", [t.subgraphs[0].inputs[0]]))])
    build("layernorm", (4, 16), lambda x: L.LayerNormalization()(x), int8_io=True, edits=[
        ("sqdiff_out", lambda t: _quant(t, OP.SQUARED_DIFFERENCE, "out", 0, 0.003, -128)),
        ("sqdiff_in_zp", lambda t: _quant(t, OP.SQUARED_DIFFERENCE, "in", 1, None, 30))])
    return m


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    out = tmp_path_factory.mktemp("ops_layers")
    paths = {}
    for name, (model, opts, edits) in _models(keras).items():
        for w in model.weights:
            w.assign(rng.normal(0.0, 0.4, w.shape).astype(np.float32))
        with contextlib.redirect_stdout(sys.stderr):
            data = convert(model, opts, rng)
        for suffix, fn in [("", None)] + edits:
            key = f"{name}_{suffix}" if suffix else name
            paths[key] = out / f"{key}.tflite"
            paths[key].write_bytes(mutate(data, fn) if fn else data)
    return paths


def _cases(data: bytes):
    """Random inputs, plus every int8 value once for the int8-input models."""
    trials = [random_inputs(data, s) for s in range(3)]
    x = trials[0][0]
    if x.dtype == np.int8:
        trials.append([np.resize(np.arange(-128, 128, dtype=np.int8), x.shape).astype(np.int8)])
    return trials


# Edits TFLM refuses at invoke (REDUCE_MAX copies raw values: input and output must share one quantization); the
# runtime refuses them at load.
REFUSED = {"max_hw_out_zp"}
# RSQRT of a value below its input zero point (a negative real) fails TFLM's invoke: the runtime's too (the edit feeds
# the graph's int8 input, about half of it negative, straight to RSQRT).
NEGATIVE_RSQRT = "rsqrt_in_zp"


def test_refused_edits_fail_in_both(models, host_tool, tmp_path):
    for name in REFUSED | {NEGATIVE_RSQRT}:
        data = models[name].read_bytes()
        inputs = random_inputs(data, 0)
        with pytest.raises(RuntimeError):
            tflm_outputs(data, inputs)
        result, _ = run_host(host_tool, models[name], inputs, tmp_path)
        assert result["status"] != "ok", name


def test_new_ops_bit_exact_on_host(models, host_tool, tmp_path):
    failures = []
    for name, path in models.items():
        if name in REFUSED or name == NEGATIVE_RSQRT:
            continue
        data = path.read_bytes()
        for inputs in _cases(data):
            result, got = run_host(host_tool, path, inputs, tmp_path)
            expected = b"".join(o.tobytes() for o in tflm_outputs(data, inputs))
            if result["status"] != "ok" or got != expected:
                ours = np.frombuffer(got or b"", np.int8)
                failures.append(f"{name}: {result['status']}, {np.count_nonzero(ours != np.frombuffer(expected, np.int8)) if len(ours) == len(expected) else 'size'} differ")
                break
        else:
            if result["arena_used_bytes"] != plan_model(data, pointer_size=8).arena_bytes:
                failures.append(f"{name}: arena {result['arena_used_bytes']} != plan")
    assert not failures, "\n".join(failures)


def test_transpose_conv_scratch_is_planned(models):
    plan = plan_model(models["tconv_s2_same"].read_bytes(), pointer_size=4)
    # the scratch (one int32 per output value: 8 x 6 x 6) is live at the op, on top of its input and output
    assert plan.lower_bound_bytes >= 8 * 6 * 6 * 4 + 8 * 6 * 6 + 4 * 3 * 5


def test_layer_norm_ops_are_the_ones_tested(models):
    from qbuild.tflite.reader import read_model

    ops = {op.name for op in read_model(models["sqdiff_bcast"].read_bytes()).ops}
    assert "SQUARED_DIFFERENCE" in ops
    ops = {op.name for op in read_model(models["layernorm"].read_bytes()).ops}
    assert {"NEG", "RSQRT", "SQUARED_DIFFERENCE"} <= ops


def test_resize_cases_hold_resize_bilinear(models):
    from qbuild.tflite.reader import read_model

    for name in ("resize_up_3x2", "resize_down_odd", "resize_up_odd"):
        assert "RESIZE_BILINEAR" in {op.name for op in read_model(models[name].read_bytes()).ops}, name


def test_max_min_cases_hold_the_ops(models):
    from qbuild.tflite.reader import read_model

    assert "MAXIMUM" in {op.name for op in read_model(models["maximum_bcast"].read_bytes()).ops}
    assert "MINIMUM" in {op.name for op in read_model(models["minimum_rows"].read_bytes()).ops}
