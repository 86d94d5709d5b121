"""End to end with SCons: `scons model=digits` in a fresh tree, then incremental behaviour, cleaning, reproducibility."""
import csv
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from tests.scons_helpers import ROOT, fresh_tree, scons, steps_run

ARTIFACTS = ["digits.tflite", "quantization_report.csv", "quantization_report.html", "metrics.json",
             "sl_tflite_micro_model.c", "sl_tflite_micro_model.h", "sl_tflite_micro_model_parameters.h"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    t = fresh_tree(tmp_path_factory.mktemp("digits"))
    first = scons(t, "model=digits")
    return t, first


def out(tree):
    return tree[0] / "build" / "models" / "digits"


def test_first_build_makes_every_artifact(tree):
    t, first = tree
    for name in ARTIFACTS:
        assert (out(tree) / name).is_file(), name
    assert steps_run(first) == ["dataset", "train", "quantize", "C array", "model page"]
    assert "accuracy on 359 test samples: float" in first.stdout


def test_second_build_is_a_noop_without_tensorflow(tree):
    p = scons(tree[0], "model=digits", importtime=True)
    assert steps_run(p) == []
    assert "is up to date" in p.stdout
    imported = {ln.split("|")[-1].strip().split(".")[0] for ln in p.stderr.splitlines() if ln.startswith("import time:")}
    assert "tensorflow" not in imported and "keras" not in imported
    assert "numpy" in imported  # the importtime listing really is there


def test_report_columns_and_formulas(tree):
    with open(out(tree) / "quantization_report.csv") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["op_name", "tensor_idx", "num_elements", "stddev", "mean_error", "max_abs_error",
                                 "mean_squared_error", "scale", "zero_point", "tensor_name", "range", "rmse/scale"]
    assert len(rows) >= 5
    for r in rows:
        scale = float(r["scale"])
        assert float(r["range"]) == pytest.approx(255 * scale, rel=1e-12)
        assert float(r["rmse/scale"]) == pytest.approx(math.sqrt(float(r["mean_squared_error"])) / scale, rel=1e-12)
    html = (out(tree) / "quantization_report.html").read_text()
    assert "<svg" in html and "0.289" in html and rows[0]["tensor_name"] in html


def test_int8_accuracy_within_two_points_of_float(tree):
    from qbuild.model import data
    from qbuild.model.evaluate import accuracy, tflm_outputs
    from qbuild.tflite.params import read_params
    from qbuild.model.preprocess import preprocess

    tflite = (out(tree) / "digits.tflite").read_bytes()
    d = data.load_npz(out(tree) / "data.npz")
    x = preprocess(read_params(tflite), d["x_test"])
    int8 = accuracy(tflm_outputs(tflite, x), d["y_test"])
    metrics = json.loads((out(tree) / "metrics.json").read_text())
    assert metrics["int8_accuracy"] == pytest.approx(int8)
    assert int8 > 0.9
    assert abs(metrics["float_accuracy"] - int8) <= 0.02


def test_parameters_are_embedded(tree):
    p = subprocess.run([sys.executable, "-m", "qbuild", "params", str(out(tree) / "digits.tflite")], cwd=ROOT,
                       capture_output=True, text=True, check=True)
    params = json.loads(p.stdout)
    assert params["samplewise_norm.rescale"] == 0.0625
    assert params["classes"] == [str(i) for i in range(10)]
    assert params["name"] == "digits" and params["date"] == "2023-11-14T22:13:20Z"
    assert params["runtime_memory_size"] > 0


def test_only_int8_ops_inside(tree):
    from qbuild.model.quantize import check_int8
    from qbuild.tflite.reader import read_model

    tflite = (out(tree) / "digits.tflite").read_bytes()
    assert check_int8(tflite) == []
    names = [op.name for op in read_model(tflite).ops]
    assert names[0] == "QUANTIZE" and names[-1] == "DEQUANTIZE"
    assert "RESHAPE" in names and not {"SHAPE", "STRIDED_SLICE", "PACK"} & set(names)


def test_template_edit_rebuilds_only_the_c_files(tree):
    t = tree[0]
    tpl = t / "templates" / "sl_tflite_micro_model.h.j2"
    tpl.write_text(tpl.read_text() + "{# a comment #}\n/* edited */\n")
    p = scons(t, "model=digits")
    assert steps_run(p) == ["C array"]
    assert "/* edited */" in (out(tree) / "sl_tflite_micro_model.h").read_text()


def test_help_lists_models_boards_options(tree):
    p = scons(tree[0], "-h")
    for word in ("models: digits", "boards:", "efr32", "qemu-m33", "model=", "board=", "strict=", "run"):
        assert word in p.stdout


def test_bad_inputs_fail_with_one_line(tree):
    t = tree[0]
    p = scons(t, "model=nope", check=False)
    assert p.returncode != 0 and "unknown model 'nope'; valid models: digits" in p.stderr
    p = scons(t, "model=digits", "colour=red", check=False)
    assert p.returncode != 0 and "unknown option(s) colour" in p.stderr
    assert "Traceback" not in p.stderr + p.stdout


def test_two_clean_builds_are_byte_identical_and_clean_removes_them(tree, tmp_path):
    # A second fresh tree, built with -j2 (TF steps serialised), must give the same bytes; then `scons -c` cleans it.
    t2 = fresh_tree(tmp_path / "again")
    scons(t2, "-j2", "model=digits")
    out2 = t2 / "build" / "models" / "digits"
    # sl_tflite_micro_model.h is left out: test_template_edit_rebuilds_only_the_c_files edits its template in tree 1.
    for name in ["digits.tflite", "quantization_report.csv", "sl_tflite_micro_model.c",
                 "sl_tflite_micro_model_parameters.h"]:
        assert (out(tree) / name).read_bytes() == (out2 / name).read_bytes(), name
    scons(t2, "-c", "model=digits")
    assert [n for n in ARTIFACTS if (out2 / n).exists()] == []
    assert (out2 / "data.npz").is_file() and (out2 / "digits.keras").is_file()  # minutes to remake: kept
    assert steps_run(scons(t2, "model=digits")) == ["quantize", "C array", "model page"]
    scons(t2, "-c", "model=digits", "clean=all")
    assert not (out2 / "data.npz").exists() and not (out2 / "digits.keras").exists()


def test_advisor_findings_in_build_and_strict_fails(tree):
    # The advisor's own evidence model: ReLU before BatchNorm (BN cannot fold).
    t = fresh_tree(tree[0] / "evidence", extra=["models/_evidence/digits_act_before_bn"])
    spec = "models/_evidence/digits_act_before_bn/model.py"
    p = scons(t, f"model={spec}", "strict=1", check=False)
    assert p.returncode != 0 and "quantization advice with strict=1" in p.stderr
    out_dir = t / "build" / "models" / "digits_act_before_bn"
    assert not (out_dir / "digits_act_before_bn.tflite").exists()
    p = scons(t, f"model={spec}")
    assert "quantization advice (" in p.stdout and "bn1" in p.stdout
    advice = json.loads((out_dir / "advice.json").read_text())
    assert advice["version"] == 1 and any(f["layer"] == "bn1" for f in advice["findings"])
    assert "<h2>Advice</h2>" in (out_dir / "quantization_report.html").read_text()


def test_compare_modes_through_scons(tree):
    """`compare_modes=1`: one extra step (the trained model is reused), float / int8 / 16x8 measured on the test data,
    the int8 row's arena as the planner's for the build's own .tflite, the table printed; a second build is a no-op."""
    from qbuild.tflite.plan import plan_model

    t, _ = tree
    p = scons(t, "model=digits", "compare_modes=1")
    assert steps_run(p) == ["compare modes"]
    report = json.loads((out(tree) / "modes.json").read_text())
    rows = {r["mode"]: r for r in report["modes"]}
    assert sorted(rows) == ["16x8", "float", "int8"] and report["test_samples"] == 359  # no flagged rows
    assert all(0.5 < r["accuracy"] <= 1 for r in rows.values())
    assert rows["int8"]["qbuild_arena_bytes"] == plan_model((out(tree) / "digits.tflite").read_bytes()).arena_bytes
    assert rows["16x8"]["qbuild_arena_bytes"] > rows["int8"]["qbuild_arena_bytes"]
    assert rows["float"]["qbuild_arena_bytes"] is None and "float32 CONV_2D" in rows["float"]["note"]
    assert "| int8 | " in p.stdout and (out(tree) / "modes.md").is_file()
    assert steps_run(scons(t, "model=digits", "compare_modes=1")) == []
