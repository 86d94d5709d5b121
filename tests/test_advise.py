"""Advisor checks that need no conversion: input statistics, graph lint, formatting, advice.json, thresholds."""
import json

import numpy as np
import pytest

from qbuild.advise import checks as advise
from qbuild.errors import QbuildError


# input ----------------------------------------------------------------------------------------------------------------
def test_input_0_255_fires_with_the_rescale_that_maps_max_to_one():
    x = np.linspace(0, 255, 64, dtype=np.float32).reshape(1, 8, 8, 1)
    [f] = advise.check_inputs(x)
    assert f.check == "input_range" and f.layer == "input"
    assert f.data["max"] == 255.0 and f.data["min"] == 0.0
    assert f.data["suggested_rescale"] == pytest.approx(1 / 255)
    assert "samplewise_norm.rescale'] = 0.00392157" in f.message and "norm=rescale:0.00392157" in f.message
    assert "mean_and_std" in f.message


def test_input_suggestion_accounts_for_the_current_rescale():
    raw = np.arange(0, 1024, dtype=np.float32).reshape(16, 64)
    x = raw * np.float32(1 / 16)  # rescale 1/16 of a 10-bit signal still reaches 64
    [f] = advise.check_inputs(x, params={"samplewise_norm.rescale": 1 / 16})
    assert f.data["suggested_rescale"] == pytest.approx(1 / 1023)  # in terms of the raw data the device sees


def test_input_silent_when_rescaled_or_standardized():
    rng = np.random.RandomState(0)
    assert advise.check_inputs(rng.randint(0, 17, (50, 8, 8, 1)).astype(np.float32) / 16) == []
    assert advise.check_inputs(rng.normal(0, 1, (50, 64)).astype(np.float32)) == []


def test_input_off_centre_suggests_mean_std():
    x = np.full((10, 16), 2.5, np.float32) + np.linspace(-0.5, 0.5, 16, dtype=np.float32)
    [f] = advise.check_inputs(x)
    assert f.check == "input_offset" and "mean_and_std'] = True" in f.message


def test_input_outliers_fire_on_a_spiky_signal_only():
    rng = np.random.RandomState(0)
    x = rng.normal(0, 1, (20, 1000)).astype(np.float32)
    assert advise.check_inputs(x) == []
    x[3, 7] = 40.0  # one value 40 sigma out
    [f] = advise.check_inputs(x, params={"samplewise_norm.mean_and_std": True})
    assert f.check == "input_outliers" and f.data["max_std"] > 16 and "clip or compress" in f.message
    # mean_std output with a 9-sigma peak (like the kws features): |x| > 4 is expected there, no finding
    y = rng.normal(0, 1, (20, 1000)).astype(np.float32)
    y[0, 0] = 9.3
    assert advise.check_inputs(y, params={"samplewise_norm.mean_and_std": True}) == []


def test_input_thresholds_are_configurable_and_checked():
    x = np.linspace(0, 3, 30, dtype=np.float32)[None]
    assert [f.check for f in advise.check_inputs(x, {"input_max_abs": 2.0})] == ["input_range"]
    assert advise.check_inputs(x, {"input_max_abs": 8.0, "input_mean_abs": 2.0}) == []
    with pytest.raises(QbuildError, match="unknown advisor threshold 'input_max'"):
        advise.check_inputs(x, {"input_max": 2.0})


def test_input_each_of_several_inputs_is_named():
    ok, bad = np.zeros((4, 3), np.float32), np.full((4, 3), 100.0, np.float32)
    fs = advise.check_inputs([ok, bad])
    assert [f.layer for f in fs] == ["input 1"]


# graph lint (Keras models, not trained: lint only reads the graph) ----------------------------------------------------
@pytest.fixture(scope="module")
def am():
    from bench import advisor_models
    return advisor_models


def _checks(findings):
    return sorted((f.check, f.layer) for f in findings)


def test_lint_activation_before_bn_names_each_layer(am):
    fs = advise.lint_keras(am.build("act_before_bn"))
    assert _checks(fs) == [("activation_before_bn", "conv1"), ("activation_before_bn", "conv2"),
                           ("activation_before_bn", "fc")]
    msg = next(f.message for f in fs if f.layer == "conv1")
    assert "conv1 (Conv2D) applies 'relu' before BatchNormalization 'bn1'" in msg
    assert "activation=None and put the activation after bn1" in msg


def test_lint_silent_on_recommended_orders(am):
    for variant in ("bn_before_act", "ln_before_act", "plain"):
        assert advise.lint_keras(am.build(variant)) == [], variant


def test_lint_layernorm_after_activation(am):
    [f] = advise.lint_keras(am.build("ln_after_act"))
    assert (f.check, f.layer) == ("ln_after_activation", "ln_fc")
    assert "after the activation 'relu' of 'fc'" in f.message and "activation=None" in f.message


def test_lint_layernorm_after_an_activation_layer():
    import keras
    from keras import layers
    i = keras.Input((16,))
    h = layers.Dense(8, name="fc")(i)
    h = layers.Activation("relu", name="act")(h)
    h = layers.LayerNormalization(name="ln")(h)
    [f] = advise.lint_keras(keras.Model(i, layers.Dense(2, name="out")(h)))
    assert f.layer == "ln" and "fc -> ln -> act" in f.message


def test_lint_bn_not_after_foldable_layer():
    import keras
    from keras import layers
    i = keras.Input((8, 8, 1))
    h = layers.Conv2D(4, 3, name="conv")(i)
    h = layers.MaxPooling2D(name="pool")(h)
    h = layers.BatchNormalization(name="bn_pool")(h)
    h = layers.BatchNormalization(name="bn_bn")(h)
    h = layers.Flatten()(h)
    fs = advise.lint_keras(keras.Model(i, layers.Dense(2, name="out")(h)))
    assert _checks(fs) == [("bn_not_after_foldable", "bn_bn"), ("bn_not_after_foldable", "bn_pool")]
    assert "follows 'pool' (MaxPooling2D)" in next(f.message for f in fs if f.layer == "bn_pool")


def test_lint_bn_after_conv_with_a_second_consumer():
    import keras
    from keras import layers
    i = keras.Input((8, 8, 1))
    c = layers.Conv2D(4, 3, padding="same", name="conv")(i)
    b = layers.BatchNormalization(name="bn")(c)
    out = layers.Add(name="skip")([c, b])
    [f] = advise.lint_keras(keras.Model(i, out))
    assert (f.check, f.layer) == ("bn_not_after_foldable", "bn") and "also feeds skip" in f.message
    assert f.message.endswith("make bn the only consumer of conv (take skip's input from after bn) or accept "
                              "the MUL+ADD")


def test_lint_unsupported_activation_in_sequential_model():
    import keras
    from keras import layers
    m = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="gelu", name="fc"), layers.ELU(name="elu"),
                          layers.Dense(3, activation="softmax", name="out")])
    fs = advise.lint_keras(m)
    assert _checks(fs) == [("unsupported_activation", "elu"), ("unsupported_activation", "fc")]
    assert all(f.severity == "error" for f in fs)
    msg = next(f.message for f in fs if f.layer == "fc")
    assert msg.startswith("fc (Dense): activation 'gelu' becomes GELU and the target runtime has no GELU; use relu")
    assert advise.lint_keras(m, supported_activations={"gelu", "elu", "softmax"}) == []
    assert advise.lint_keras(m, supported_activations=None) == []


def test_supported_activations_follow_the_runtime_op_list():
    from qbuild.tflite.plan import SUPPORTED_OPS
    runs = advise.SUPPORTED_ACTIVATIONS
    assert {"relu", "relu6", "sigmoid", "tanh", "softmax", "swish", "hard_swish", "leaky_relu"} <= runs
    assert not {"gelu", "elu", "mish"} & runs
    assert all(set(advise.ACTIVATION_OPS[a]) <= set(SUPPORTED_OPS) for a in runs)
    assert "leaky_relu" not in advise.activations_for_ops(sorted(set(SUPPORTED_OPS) - {"LEAKY_RELU"}))


def test_lint_clipped_relu_other_than_relu6():
    import keras
    from keras import layers
    i = keras.Input((4,))
    h = layers.ReLU(max_value=4.0, name="clip4")(layers.Dense(8, name="fc")(i))
    [f] = advise.lint_keras(keras.Model(i, h))
    assert f.layer == "clip4" and "'relu(max_value=4.0)' becomes MINIMUM+RELU" in f.message


# formatting, json, strict ---------------------------------------------------------------------------------------------
def _sample_findings():
    return [advise.Finding("bn_not_folded", "warning", "bn1", "bn1 was not folded; fix it", {"ops": ["MUL", "ADD"]}),
            advise.Finding("input_range", "warning", "input", "input spans 0..255; rescale", {"max": np.float32(255)}),
            advise.Finding("report_row", "warning", "bn1", "bn1 was not folded; fix it", {}),
            advise.Finding("unsupported_activation", "error", "fc", "fc uses gelu; use relu", {})]


def test_format_groups_and_prints_each_message_once():
    text = advise.format_findings(_sample_findings())
    lines = text.splitlines()
    assert lines[0] == "quantization advice (3 findings, 1 error):"
    assert lines[1].startswith("  [input] input spans")
    assert lines[2] == "  [graph] ERROR fc uses gelu; use relu"
    assert lines[3].startswith("  [conversion] bn1 was not folded")
    assert len(lines) == 4 and advise.format_findings([]) == ""


def test_advice_json_is_versioned_and_atomic(tmp_path):
    path = tmp_path / "advice.json"
    advise.write_advice_json(_sample_findings(), path, {"rmse_scale": 0.4})
    data = json.loads(path.read_text())
    assert data["version"] == 1 and data["thresholds"]["rmse_scale"] == 0.4 and data["thresholds"]["range"] == 255.0
    assert data["findings"][1] == {"check": "input_range", "severity": "warning", "layer": "input",
                                   "message": "input spans 0..255; rescale", "data": {"max": 255.0}}
    assert [p.name for p in tmp_path.iterdir()] == ["advice.json"]


def test_strict_turns_findings_into_one_line_error():
    x = np.full((2, 4), 300.0, np.float32)
    assert len(advise.run_all(x_float32=x)) == 1
    with pytest.raises(QbuildError) as e:
        advise.run_all(x_float32=x, strict=True)
    assert "\n" not in str(e.value) and "strict=1" in str(e.value) and "rescale" in str(e.value)
    assert advise.run_all(x_float32=x / 300, strict=True) == []


def test_tensor_layers_maps_keras3_scopes():
    names = ["conv", "conv_1", "bn", "re_lu"]
    t = "m_1/re_lu_1/Relu;m_1/bn_1/batchnorm/add_1;m_1/conv_1_1/BiasAdd;m_1/conv_1/convolution"
    assert advise.tensor_layers(t, names) == ["re_lu", "bn", "conv_1", "conv"]
    assert advise.tensor_layers("tfl.quantize", names) == []


def test_lint_knows_the_other_layers_batchnorm_folds_into():
    import keras
    from keras import layers
    i = keras.Input((16, 4))
    h = layers.ReLU()(layers.BatchNormalization(name="bn1d")(layers.Conv1D(8, 3, name="c1d")(i)))
    assert advise.lint_keras(keras.Model(i, h)) == []
    i = keras.Input((8, 8, 2))
    h = layers.BatchNormalization(name="bn")(layers.SeparableConv2D(8, 3, activation="relu", name="sep")(i))
    [f] = advise.lint_keras(keras.Model(i, h))
    assert (f.check, f.layer) == ("activation_before_bn", "sep")


def test_no_input_range_finding_when_the_model_rescales_its_input():
    import keras
    from keras import layers
    x = np.random.RandomState(0).randint(0, 256, (16, 8, 8, 1)).astype(np.float32)

    def model(first):
        i = keras.Input((8, 8, 1))
        h = layers.Conv2D(4, 3, name="conv")(first(i) if first else i)
        return keras.Model(i, layers.Dense(2, name="out")(layers.Flatten(name="flatten")(h)))

    assert [f.check for f in advise.run_all(model(None), x)] == ["input_range"]
    assert advise.run_all(model(layers.Rescaling(1 / 255, name="scale")), x) == []


def test_scale_sharing_rows_never_make_a_finding_of_their_own():
    import keras
    from keras import layers
    i = keras.Input((8, 8, 1))
    h = layers.Flatten(name="flatten")(layers.Conv2D(4, 3, name="conv")(i))
    m = keras.Model(i, layers.Dense(2, name="out")(h), name="m")

    def rows(conv_rmse):  # the shape of real debugger rows (measured: RESHAPE 2.6 after a CONV_2D at 0.32)
        return [{"op_name": "CONV_2D", "tensor_name": "m_1/conv_1/convolution1", "scale": "0.0079", "range": "2.0",
                 "rmse/scale": str(conv_rmse)},
                {"op_name": "RESHAPE", "tensor_name": "m_1/flatten_1/Reshape", "scale": "0.0079", "range": "2.0",
                 "rmse/scale": "2.59"}]

    assert advise.advise_report(rows(0.32), m) == []
    [f] = advise.advise_report(rows(0.7), m)
    assert f.layer == "conv" and [r["op_name"] for r in f.data["rows"]] == ["CONV_2D", "RESHAPE"]
