"""Advisor checks on real conversions: trained digits models with and without each problem, converted and reported the
way the build does (qbuild.model.quantize + qbuild.model.report), then the conversion check, the report advice and the CLI."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qbuild.advise import checks as advise

ROOT = Path(__file__).resolve().parents[1]
RESCALE16 = {"samplewise_norm.rescale": 1 / 16}


@pytest.fixture(scope="session")
def built():
    """variant key -> (keras model, preprocessed x, tflite bytes, report rows, params). ~1-2 s per model."""
    from bench import advisor_models as am
    from qbuild.advise.cli import convert_and_report
    from qbuild.model.preprocess import preprocess
    from qbuild.model.spec import ConverterSettings

    cases = {"act_before_bn": ("act_before_bn", 16, RESCALE16), "bn_before_act": ("bn_before_act", 16, RESCALE16),
             "ln_after_act": ("ln_after_act", 16, RESCALE16), "ln_before_act": ("ln_before_act", 16, RESCALE16),
             "raw1023": ("plain", 1023, {}), "rescaled1023": ("plain", 1023, {"samplewise_norm.rescale": 1 / 1023})}
    settings = ConverterSettings().canonical() | {"representative_dataset_max_samples": 200}
    out = {}
    for key, (variant, max_value, params) in cases.items():
        x_raw = am.digits(max_value)[0]
        x = preprocess(params, x_raw)
        model = am.trained(variant, x, am.digits(max_value)[1], epochs=3, seed=0)
        tflite, rows = convert_and_report(model, x, settings)
        out[key] = (model, x, tflite, rows, params)
    return out


def test_unfolded_batchnorms_are_named(built):
    model, _, tflite, _, _ = built["act_before_bn"]
    fs = advise.check_conversion(model, tflite)
    assert sorted(f.layer for f in fs) == ["bn1", "bn2"]  # bn_fc folds forward into the 'out' Dense
    f = next(f for f in fs if f.layer == "bn1")
    assert f.check == "bn_not_folded" and f.data["ops"] == ["MUL", "ADD"]
    assert f.data["cause"] == "activation_before_bn"
    assert "bn1 was not folded into 'conv1'" in f.message and "build conv1 with activation=None" in f.message


def test_folded_batchnorms_are_silent(built):
    model, _, tflite, _, _ = built["bn_before_act"]
    assert advise.check_conversion(model, tflite) == []


def _report(built, key, **kw):
    model, x, tflite, rows, params = built[key]
    return advise.advise_report(rows, model, tflite, **kw)


def test_report_rows_from_unnormalized_input_blame_the_input(built):
    model, x, tflite, rows, params = built["raw1023"]
    assert any(float(r["range"]) > 255 for r in rows)
    fs = advise.run_all(model, x, tflite, rows, params=params)
    report = [f for f in fs if f.check == "report_row"]
    conv1 = next(f for f in report if f.layer == "conv1")
    assert conv1.data["cause"] == "input" and conv1.data["worst_range"] > 255
    assert "samplewise_norm.rescale'] = 0.000977517" in conv1.message  # 1/1023
    # pooling/flatten rows share conv2's scale: folded into its finding instead of repeated
    assert not any(f.layer in ("pool1", "pool2", "flatten") for f in report)


def test_report_silent_about_input_once_rescaled(built):
    model, x, tflite, rows, params = built["rescaled1023"]
    fs = advise.run_all(model, x, tflite, rows, params=params)
    assert all(float(r["range"]) <= 255 for r in rows)
    assert not [f for f in fs if f.check == "input_range" or f.data.get("cause") == "input"]


def test_report_rows_of_batchnorm_ops_point_at_the_activation_order(built):
    # rmse_scale 0 flags every row: each row's cause is then decided by the graph alone.
    fs = _report(built, "act_before_bn", thresholds={"rmse_scale": 0.0})
    bn1 = next(f for f in fs if f.layer == "bn1")
    assert bn1.data["cause"] == "bn_not_folded"
    # its MUL and ADD rows, plus pool1's (same int8 scale as the ADD it pools)
    assert [r["op_name"] for r in bn1.data["rows"]] == ["MUL", "ADD", "MAX_POOL_2D"]
    out = next(f for f in fs if f.layer == "out")  # bn_fc folded forward into 'out': still caused by fc's relu
    assert out.data["cause"] == "activation_before_bn" and "build fc with activation=None" in out.message
    fixed = _report(built, "bn_before_act", thresholds={"rmse_scale": 0.0})
    assert fixed and not [f for f in fixed if f.data["cause"] in ("bn_not_folded", "activation_before_bn")]
    assert next(f for f in fixed if f.layer == "fc").data["cause"] == "weights"  # fc;bn_fc;relu_fc: normalized


def test_report_rows_of_unnormalized_layers_suggest_normalization(built):
    fs = _report(built, "rescaled1023", thresholds={"rmse_scale": 0.0})
    fc = next(f for f in fs if f.layer == "fc")
    assert fc.data["cause"] == "outliers"
    assert "add BatchNormalization/LayerNormalization before its activation" in fc.message
    assert "denylisted_nodes'] = ['plain_1/fc_1/" in fc.message


def test_report_rows_of_layernorm_after_activation(built):
    fs = _report(built, "ln_after_act", thresholds={"rmse_scale": 0.0})
    ln = [f for f in fs if f.layer == "ln_fc"]
    assert ln and all(f.data["cause"] == "ln_after_activation" for f in ln)
    fixed = _report(built, "ln_before_act", thresholds={"rmse_scale": 0.0})
    assert not [f for f in fixed if f.data["cause"] == "ln_after_activation"]


def test_recommended_models_have_no_graph_or_conversion_findings(built):
    for key in ("bn_before_act", "ln_before_act", "rescaled1023"):
        model, x, tflite, rows, params = built[key]
        fs = advise.run_all(model, x, tflite, None, params=params)
        assert fs == [], (key, advise.format_findings(fs))


def test_cli_on_a_keras_file(built, tmp_path):
    """`python -m qbuild advise m.keras --data raw.npz --norm ...` in a fresh process: exit codes, output, json."""
    from bench import advisor_models as am

    model = built["act_before_bn"][0]
    model.save(tmp_path / "m.keras")
    np.savez(tmp_path / "raw.npz", x=am.digits(1023)[0][:100])
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0")
    cmd = [sys.executable, "-m", "qbuild", "advise", str(tmp_path / "m.keras"), "--data", str(tmp_path / "raw.npz"),
           "--json", str(tmp_path / "advice.json")]
    bad = subprocess.run(cmd + ["--norm", "none", "--strict"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 1, bad.stderr[-2000:]
    err = [ln for ln in bad.stderr.splitlines() if ln.startswith("qbuild advise: error:")]
    assert len(err) == 1 and "strict=1" in err[0] and "Traceback" not in bad.stderr
    assert "[input] preprocessed input spans 0..1023" in bad.stdout
    assert "[conversion] BatchNormalization bn1" in bad.stdout
    checks = {f["check"] for f in json.loads((tmp_path / "advice.json").read_text())["findings"]}
    assert {"input_range", "activation_before_bn", "bn_not_folded"} <= checks

    ok = subprocess.run(cmd + ["--norm", "rescale:1/1023"], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "[input]" not in ok.stdout and "[graph] conv1 (Conv2D) applies 'relu'" in ok.stdout


def test_cli_rejects_bad_norm_and_missing_keras(tmp_path):
    from qbuild.__main__ import main

    assert main(["advise", str(tmp_path / "nope.keras")]) == 1
    assert main(["advise", "digits", "--norm", "rescale:abc"]) == 1


def _nested_model():
    """An outer model using a functional block and a Sequential block, each Conv2D(relu) -> BatchNormalization,
    with non-trivial BatchNorm statistics (an identity BatchNorm would be optimized away by the converter)."""
    import keras
    from keras import layers

    bi = keras.Input((8, 8, 1))
    block = keras.Model(bi, layers.BatchNormalization(name="bbn")(layers.Conv2D(4, 3, activation="relu",
                                                                                name="bconv")(bi)), name="block")
    seq = keras.Sequential([layers.Conv2D(4, 3, activation="relu", name="sconv"),
                            layers.BatchNormalization(name="sbn")], name="seqblock")
    i = keras.Input((8, 8, 1))
    out = layers.Dense(3, name="out")(layers.Flatten(name="flatten")(seq(block(i))))
    m = keras.Model(i, out, name="outer")
    rng = np.random.RandomState(0)
    for bn in (block.get_layer("bbn"), seq.get_layer("sbn")):
        gamma, beta, mean, var = (w.shape for w in bn.get_weights())
        bn.set_weights([rng.uniform(0.5, 2, gamma), rng.uniform(-1, 1, beta), rng.uniform(-1, 1, mean),
                        rng.uniform(0.5, 2, var)])
    return m


def test_nested_models_are_linted_and_their_batchnorms_checked():
    from qbuild.advise.cli import convert_and_report
    from qbuild.model.spec import ConverterSettings

    m = _nested_model()
    lint = advise.lint_keras(m)
    assert sorted((f.check, f.layer) for f in lint) == [("activation_before_bn", "bconv"),
                                                        ("activation_before_bn", "sconv")]
    x = np.random.RandomState(1).uniform(0, 1, (64, 8, 8, 1)).astype(np.float32)
    tflite, rows = convert_and_report(m, x, ConverterSettings().canonical())
    assert sorted(f.layer for f in advise.check_conversion(m, tflite)) == ["bbn", "sbn"]
    report = {f.layer: f.data["cause"] for f in advise.advise_report(rows, m, tflite, {"rmse_scale": 0.0})}
    assert report["sbn"] == "bn_not_folded" and report["out"] == "weights"  # 'out' via the renamed output tensor
    assert "block" not in report and "seqblock" not in report
