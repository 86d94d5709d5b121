"""Parameters::get (SL_PARAMSv1 read in place by the C++ runtime) agrees with qbuild.tflite.params on MLTK-made and
qbuild-made models, for every key and every requested type."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from qbuild.tflite.params import embed_params, read_params
from test_runtime_corpus import MLTK_DIR, corpus  # noqa: F401
from test_runtime_exact import host_tool  # noqa: F401


def cpp_get(tool, path, key) -> dict:
    r = subprocess.run([str(tool), str(path), "--param", key], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def expected(value) -> dict:
    if isinstance(value, str):
        return {"float": None, "int32": None, "bool": None, "str": value}
    if isinstance(value, (list, tuple, bytes)):
        return {"float": None, "int32": None, "bool": None, "str": None}
    integral = float(value).is_integer() and -2**31 <= value < 2**31
    return {"float": float(np.float32(value)), "int32": int(value) if integral else None, "bool": bool(value),
            "str": None}


def check_all_keys(tool, path):
    params = read_params(path.read_bytes())
    assert params
    for key, value in params.items():
        got = cpp_get(tool, path, key)
        want = expected(value)
        if got["float"] is not None:
            got["float"] = float(np.float32(got["float"]))
        assert got == want, key
    assert cpp_get(tool, path, "no.such.key") == {"float": None, "int32": None, "bool": None, "str": None}


@pytest.mark.skipif(not (MLTK_DIR / "tflite_micro_speech.tflite").is_file(), reason="run scripts/setup")
def test_mltk_parameters(host_tool):
    check_all_keys(host_tool, MLTK_DIR / "tflite_micro_speech.tflite")


def test_qbuild_embedded_parameters(corpus, host_tool, tmp_path):
    params = {"samplewise_norm.rescale": 0.0625, "samplewise_norm.mean_and_std": False, "runtime_memory_size": 1234,
              "name": "digits", "zero": 0.0, "negative": -7, "big": 3_000_000_000, "classes": ["a", "b"]}
    path = tmp_path / "m.tflite"
    path.write_bytes(embed_params(corpus["conv_same_relu"].read_bytes(), params))
    check_all_keys(host_tool, path)


def test_model_without_metadata_has_no_parameters(corpus, host_tool):
    path = corpus["pools"]
    info = json.loads(subprocess.run([str(host_tool), str(path), "--info"], capture_output=True, text=True).stdout)
    assert info["parameters"] == 0
    assert cpp_get(host_tool, path, "name")["str"] is None
