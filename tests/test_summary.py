"""qbuild.tflite.summary: per-op summary that agrees with the planner (arena, peak live bytes) and the profiler's MACs,
on the runtime corpus and the MLTK sample models; the CLI's text and JSON. (The digits build is checked in
tests/test_model_page.py, which builds it.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qbuild.tflite.summary import op_macs
from qbuild.tflite.plan import plan_model
from qbuild.tflite.reader import read_model
from qbuild.tflite.summary import render_text, summarize
from test_runtime_corpus import corpus  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
MLTK = sorted((ROOT / ".cache" / "mltk").glob("*.tflite"))


def check_agrees(data: bytes) -> dict:
    """summarize() against plan_model() and op_macs() at both pointer sizes; returns the pointer-size-4 summary."""
    g = read_model(data)
    out = {}
    for ps in (4, 8):
        s, plan = summarize(data, ps), plan_model(data, ps)
        assert s["arena"] == {"arena_bytes": plan.arena_bytes, "persistent_bytes": plan.persistent_bytes,
                              "activation_bytes": plan.activation_bytes, "lower_bound_bytes": plan.lower_bound_bytes}
        assert s["totals"]["peak_live_bytes"] == plan.lower_bound_bytes
        assert all(r["live_bytes"] <= r["extent_bytes"] <= plan.activation_bytes for r in s["ops"])
        out[ps] = s
    s = out[4]
    assert [r["macs"] for r in s["ops"]] == [op_macs(g, op) for op in g.ops]
    assert s["totals"]["macs"] == sum(op_macs(g, op) for op in g.ops)
    assert [r["type"] for r in s["ops"]] == [op.name for op in g.ops]
    assert s["tflite_bytes"] == len(data)
    # the pointer size changes the runtime data only
    assert out[8]["ops"] == s["ops"] and out[8]["arena"]["arena_bytes"] > s["arena"]["arena_bytes"]
    return s


@pytest.mark.skipif(not MLTK, reason="no MLTK sample models in .cache/mltk (run scripts/setup)")
@pytest.mark.parametrize("path", MLTK, ids=lambda p: p.stem)
def test_agrees_with_plan_and_profiler_on_mltk_models(path):
    s = check_agrees(path.read_bytes())
    assert s["totals"]["macs"] > 0 and s["totals"]["parameters"] > 0


def test_agrees_on_every_corpus_model(corpus):
    for path in corpus.values():
        check_agrees(path.read_bytes())


@pytest.mark.skipif(not (ROOT / ".cache/mltk/image_classification.tflite").is_file(), reason="no MLTK sample models")
def test_exact_figures_of_a_known_model():
    """MLTK's image_classification (a ResNet-like CIFAR model): figures checked by hand against its Keras layers."""
    s = summarize((ROOT / ".cache/mltk/image_classification.tflite").read_bytes())
    first = s["ops"][0]
    assert (first["type"], first["kernel"], first["inputs"], first["outputs"]) == \
        ("CONV_2D", "3x3", ["1x32x32x3"], ["1x32x32x16"])
    assert first["parameters"] == 3 * 3 * 3 * 16 + 16                    # filter + bias
    assert first["parameter_bytes"] == 3 * 3 * 3 * 16 + 4 * 16           # int8 filter, int32 bias
    assert first["macs"] == 32 * 32 * 16 * 3 * 3 * 3
    assert first["quantization"]["weights"] == "per-channel" and first["quantization"]["channels"] == 16
    assert first["live_bytes"] == 32 * 32 * 3 + 32 * 32 * 16             # input and output, both int8
    add = s["ops"][3]
    assert add["type"] == "ADD" and add["inputs"] == ["1x32x32x16"] * 2 and add["parameters"] == 0
    assert s["ops"][14]["quantization"]["weights"] == "per-tensor"      # MLTK's dense layer
    assert s["totals"]["parameters"] == 77_706 and s["totals"]["macs"] == 12_501_632


def test_cli_text_and_json(corpus):
    path = next(iter(corpus.values()))
    data = path.read_bytes()
    r = subprocess.run([sys.executable, "-m", "qbuild", "summarize", str(path), "--json", "--pointer-size", "8"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(json.dumps(summarize(data, 8)))
    code = ("import sys; from qbuild.__main__ import main; rc = main(['summarize', sys.argv[1]]); "
            "assert 'tensorflow' not in sys.modules, 'summarize imported TF'; sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == render_text(summarize(data, 4))
    s = summarize(data, 4)
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "op", "input", "output"]
    assert len([ln for ln in lines if ln[:3].strip().isdigit()]) == len(s["ops"])
    assert f"arena: {s['arena']['arena_bytes']:,} B" in r.stdout
    assert f"{s['totals']['macs']:,} MACs" in r.stdout


def test_cli_errors_are_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "qbuild", "summarize", str(tmp_path / "nope.tflite")], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "nope.tflite" in r.stderr
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all")
    r = subprocess.run([sys.executable, "-m", "qbuild", "summarize", str(bad)], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 1 and "TFL3" in r.stderr and "Traceback" not in r.stderr


def test_unsupported_op_still_summarized_without_arena(corpus):
    from tests.kernels.tflite_ops import mutate as repack

    def to_gelu(m):
        m.operatorCodes[0].builtinCode = 150  # GELU
        m.operatorCodes[0].deprecatedBuiltinCode = 127
    data = repack(corpus["fc_per_tensor_int8io"].read_bytes(), to_gelu)
    s = summarize(data)
    assert s["arena"] is None and "GELU" in s["runtime_error"]
    assert "GELU" in [r["type"] for r in s["ops"]] and all(r["live_bytes"] is None for r in s["ops"])
    assert "arena: not planned" in render_text(s)
