"""Model spec loading, converter settings and model= resolution (no TensorFlow)."""
import subprocess
import sys

import numpy as np
import pytest

from qbuild.errors import QbuildError
from qbuild.model.preprocess import parse_norm
from qbuild.pipeline.targets import ModelTargets
from qbuild.model.spec import ModelSpec, describe, load_spec, resolve_spec_path
from tests.conftest import ROOT


def test_unknown_converter_key_names_the_valid_ones():
    spec = ModelSpec(name="m")
    with pytest.raises(QbuildError, match="unknown tflite_converter key 'optimise'.*representative_dataset_max_samples"):
        spec.tflite_converter["optimise"] = True


def test_io_type_must_be_float32_or_int8():
    spec = ModelSpec(name="m")
    spec.tflite_converter["inference_input_type"] = np.int8
    with pytest.raises(QbuildError, match="use np.float32 or np.int8"):
        spec.tflite_converter["inference_output_type"] = np.uint8


def test_unknown_model_lists_valid_models():
    with pytest.raises(QbuildError, match=r"unknown model 'nope'; valid models: .*digits"):
        resolve_spec_path("nope", ROOT)


def test_spec_import_error_shows_its_own_line(tmp_path):
    p = tmp_path / "model.py"
    p.write_text("import numpy\nraise RuntimeError('boom in my spec')\n")
    with pytest.raises(QbuildError, match="failed to import: RuntimeError: boom in my spec"):
        load_spec(p)


def test_spec_without_my_model(tmp_path):
    p = tmp_path / "model.py"
    p.write_text("x = 1\n")
    with pytest.raises(QbuildError, match="defines no `my_model"):
        load_spec(p)


def test_digits_spec_does_not_import_tensorflow():
    code = ("import sys; from qbuild.model.spec import load_spec; s = load_spec('models/digits/model.py'); "
            "print(s.name, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["digits", "False", "False"]


def test_describe_is_cached_by_content(tmp_path):
    d = tmp_path / "m1"
    d.mkdir()
    (d / "model.py").write_text("from qbuild.model.spec import ModelSpec\nmy_model = ModelSpec(classes=['a'])\n"
                                "my_model.model_parameters['samplewise_norm.rescale'] = 0.5\n")
    info = describe(d / "model.py", cache_dir=tmp_path / "cache")
    assert info.name == "m1" and info.settings["model_parameters"] == {"samplewise_norm.rescale": 0.5}
    (d / "model.py").write_text((d / "model.py").read_text().replace("0.5", "0.25"))
    assert describe(d / "model.py", cache_dir=tmp_path / "cache").settings["model_parameters"][
        "samplewise_norm.rescale"] == 0.25


@pytest.mark.parametrize("norm,expected", [("none", {}), ("mean_std", {"samplewise_norm.mean_and_std": True}),
                                           ("rescale:0.0625", {"samplewise_norm.rescale": 0.0625}),
                                           ("rescale:1/16", {"samplewise_norm.rescale": 0.0625})])
def test_parse_norm(norm, expected):
    assert parse_norm(norm) == expected


def test_parse_norm_rejects_garbage():
    with pytest.raises(QbuildError, match="norm='scale:2' is not understood"):
        parse_norm("scale:2")


def test_keras_model_needs_data(tmp_path):
    k = tmp_path / "m.keras"
    k.write_bytes(b"x")
    with pytest.raises(QbuildError, match="needs raw samples: add data="):
        ModelTargets.resolve(str(k), ROOT)


def test_data_dirs_and_env_invalidate_the_cached_description(tmp_path, monkeypatch):
    d = tmp_path / "m2"
    d.mkdir()
    (d / "model.py").write_text("from qbuild.model.spec import ModelSpec\nmy_model = ModelSpec(classes=['a'])\n"
                                "my_model.data_dirs = ['recordings']\nmy_model.data_env = ['QB_TEST_REC']\n"
                                "my_model.dataset(lambda: {})\n")
    cache = tmp_path / "cache"
    monkeypatch.delenv("QB_TEST_REC", raising=False)
    first = describe(d / "model.py", cache_dir=cache)
    assert [p for p in first.dataset_files if "recordings" in p] == [] and first.data_env == {"QB_TEST_REC": ""}
    (d / "recordings" / "yes").mkdir(parents=True)
    (d / "recordings" / "yes" / "a.wav").write_bytes(b"RIFF")
    second = describe(d / "model.py", cache_dir=cache)  # a new file in a data folder: described again
    assert any(p.endswith("recordings/yes/a.wav") for p in second.dataset_files)
    monkeypatch.setenv("QB_TEST_REC", "/elsewhere")
    assert describe(d / "model.py", cache_dir=cache).data_env == {"QB_TEST_REC": "/elsewhere"}


def test_bad_source_date_epoch_is_one_line_before_any_step(tmp_path):
    import os
    import subprocess
    import sys

    from tests.scons_helpers import SCONS, fresh_tree

    tree = fresh_tree(tmp_path / "t")
    env = dict(os.environ, SOURCE_DATE_EPOCH="abc")
    p = subprocess.run([sys.executable, SCONS, "-Q", "model=digits"], cwd=tree, env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "qbuild: error: SOURCE_DATE_EPOCH='abc' is not a whole number of seconds since 1970; fix or unset it"]
    assert not (tree / "build" / "models" / "digits").exists()
