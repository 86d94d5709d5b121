"""qbuild's runtime (host harness qbuild-run) against TFLM's reference interpreter: 0 differing output values, and
the arena the C++ runtime uses equals the Python plan (pointer size 8 on this host)."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from qbuild.tflite.plan import plan_model
from tests.harness import build_host_tool
from test_runtime_corpus import CORPUS_NAMES, MLTK_DIR, corpus, random_inputs, tflm_outputs  # noqa: F401


_TOOL: list = []


@pytest.fixture(scope="session")
def host_tool(tmp_path_factory):
    # Imported by other test modules (one registration each): build once per process.
    if not _TOOL:
        _TOOL.append(build_host_tool(tmp_path_factory.mktemp("qbuild_run")))
    return _TOOL[0]


def run_host(tool, model_path, inputs, tmp_path, arena=None):
    """Runs qbuild-run; returns (json result, list of raw output bytes or None)."""
    inp, out = tmp_path / "in.bin", tmp_path / "out.bin"
    inp.write_bytes(b"".join(x.tobytes() for x in inputs))
    cmd = [str(tool), str(model_path), str(inp), str(out)] + (["--arena", str(arena)] if arena else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    result = json.loads(r.stdout)
    return result, (out.read_bytes() if result["status"] == "ok" else None)


def compare(tool, model_path, tmp_path, trials=3):
    data = model_path.read_bytes()
    for seed in range(trials):
        inputs = random_inputs(data, seed)
        ref = tflm_outputs(data, inputs)
        result, got = run_host(tool, model_path, inputs, tmp_path)
        assert result["status"] == "ok", result
        expected = b"".join(r.tobytes() for r in ref)
        assert len(got) == len(expected)
        diff = sum(int(np.sum(np.frombuffer(got, r.dtype)[: r.size] != r.ravel())) for r in ref[:1])
        assert got == expected, f"{model_path.name}: {diff} differing values (seed {seed})"
    assert result["arena_used_bytes"] == plan_model(data, pointer_size=8).arena_bytes


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_model_bit_exact_with_tflm(name, corpus, host_tool, tmp_path):
    compare(host_tool, corpus[name], tmp_path)


MLTK_MODELS = sorted(MLTK_DIR.glob("*.tflite")) if MLTK_DIR.is_dir() else []


@pytest.mark.skipif(not MLTK_MODELS, reason="MLTK sample models missing: run scripts/setup")
@pytest.mark.parametrize("path", MLTK_MODELS, ids=lambda p: p.stem)
def test_mltk_model_bit_exact_with_tflm(path, host_tool, tmp_path):
    compare(host_tool, path, tmp_path, trials=2)


def test_arena_of_exactly_the_planned_size_is_enough(corpus, host_tool, tmp_path):
    path = corpus["mean_keepdims_mul_logistic"]
    data = path.read_bytes()
    planned = plan_model(data, pointer_size=8).arena_bytes
    inputs = random_inputs(data, 0)
    ok, _ = run_host(host_tool, path, inputs, tmp_path, arena=planned)
    assert ok["status"] == "ok" and ok["arena_used_bytes"] == planned
    small, _ = run_host(host_tool, path, inputs, tmp_path, arena=planned - 16)
    assert small["status"].startswith("arena too small")


def test_layer_calibrated_to_zero_runs_bit_exact(host_tool, tmp_path):
    """A ReLU that is zero on every calibration sample (a dead layer) gets an activation scale near 1e-9 from the
    converter; TFLM runs such a model, so the runtime must too (it used to reject scales below 1e-8 at load)."""
    import keras

    from test_runtime_corpus import convert

    keras.utils.set_random_seed(5)
    x = keras.Input(shape=(6, 5, 3), batch_size=1)
    dead = keras.layers.Conv2D(4, 3, padding="same", activation="relu", kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(-1.0))(x)
    y = keras.layers.Dense(3)(keras.layers.Flatten()(dead))
    data = convert(keras.Model(x, y), {}, np.random.default_rng(5))
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
    m = schema.ModelT.InitFromPackedBuf(data, 0)
    scales = [t.quantization.scale[0] for t in m.subgraphs[0].tensors
              if m.buffers[t.buffer].data is None and t.quantization is not None and t.quantization.scale is not None
              and len(t.quantization.scale)]
    assert min(scales) < 1e-8, scales  # an activation scale of the dead layer: the case this test is about
    path = tmp_path / "dead_relu.tflite"
    path.write_bytes(data)
    compare(host_tool, path, tmp_path)
