"""Malformed models give an error status naming the problem, never a crash: status checks through qbuild-run, every
truncation of a model and a ~60 s libFuzzer run (ASan + UBSan) over mutated valid models, plus the regression inputs
in runtime/fuzz/regressions/ (every crash ever found)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from qbuild.target.runtime import RUNTIME_DIR
from tests.harness import build_fuzzer
from test_plan import repack
from test_runtime_corpus import MLTK_DIR, corpus  # noqa: F401
from test_runtime_exact import host_tool  # noqa: F401

REGRESSIONS = RUNTIME_DIR / "fuzz" / "regressions"
ARTIFACTS = RUNTIME_DIR.parent / "build" / "fuzz-artifacts"


def load_status(tool, data: bytes, tmp_path: Path) -> dict:
    p = tmp_path / "m.tflite"
    p.write_bytes(data)
    r = subprocess.run([str(tool), str(p), "--info"], capture_output=True, text=True, timeout=30)
    assert r.returncode in (0, 1), f"qbuild-run crashed ({r.returncode}): {r.stderr[-500:]}"
    return json.loads(r.stdout)


@pytest.mark.parametrize("edit,expected", [
    (lambda m: setattr(m, "version", 2), "unsupported TFLite schema version"),
    (lambda m: m.subgraphs.append(m.subgraphs[0]), "exactly one subgraph"),
    (lambda m: setattr(m.operatorCodes[0], "builtinCode", 150), "unsupported operator"),
    (lambda m: setattr(m.subgraphs[0].operators[0], "inputs", [999]), "tensor index out of range"),
    (lambda m: setattr(m.subgraphs[0].tensors[0], "type", 5), "unsupported tensor type"),  # STRING
    (lambda m: setattr(m.subgraphs[0].tensors[0], "shape", [1] * 7), "QBUILD_MAX_DIMS"),
    (lambda m: setattr(m.subgraphs[0].tensors[0], "shape", [1, 65536, 65536, 1]), "above 2^31-1 bytes"),
    (lambda m: setattr(m.subgraphs[0].tensors[0], "shape", [1, -3]), "a dimension below 1"),
])
def test_bad_model_gives_named_status(edit, expected, corpus, host_tool, tmp_path):
    data = repack(corpus["fc_per_tensor_int8io"].read_bytes(), edit)
    result = load_status(host_tool, data, tmp_path)
    assert expected in result["status"], result


def test_not_a_tflite_and_truncated(corpus, host_tool, tmp_path):
    data = corpus["fc_per_tensor_int8io"].read_bytes()
    assert "TFL3" in load_status(host_tool, b"\0" * 4 + b"ABCD" + data[8:], tmp_path)["status"]
    assert "truncated" in load_status(host_tool, data[:6], tmp_path)["status"]


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    if not shutil.which("clang++"):
        pytest.skip("clang++ missing: run scripts/setup")
    return build_fuzzer(tmp_path_factory.mktemp("fuzz"))


def test_every_truncation_and_regression_input_is_handled(fuzzer, corpus, tmp_path):
    data = corpus["mean_keepdims_mul_logistic"].read_bytes()
    cases = tmp_path / "cases"
    cases.mkdir()
    for n in range(0, len(data), max(1, len(data) // 300)):
        (cases / f"trunc_{n}").write_bytes(data[:n])
    inputs = [str(p) for p in sorted(cases.iterdir())] + [str(p) for p in sorted(REGRESSIONS.glob("*"))]
    r = subprocess.run([str(fuzzer), *inputs], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]


def test_fuzz_60_seconds_finds_nothing(fuzzer, corpus, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for p in corpus.values():
        shutil.copy(p, seeds)
    for p in REGRESSIONS.glob("*"):
        shutil.copy(p, seeds)
    work = tmp_path / "work"
    work.mkdir()
    # Findings are kept outside pytest's rotating tmp dirs, to be added to runtime/fuzz/regressions/.
    artifacts = ARTIFACTS
    artifacts.mkdir(parents=True, exist_ok=True)
    before = set(artifacts.iterdir())
    r = subprocess.run([str(fuzzer), "-max_total_time=60", "-max_len=40000", "-timeout=10", "-rss_limit_mb=2048",
                        f"-artifact_prefix={artifacts}/", str(work), str(seeds)],
                       capture_output=True, text=True, timeout=400)
    crashes = sorted(str(p) for p in set(artifacts.iterdir()) - before)
    assert r.returncode == 0 and not crashes, f"fuzzer found {crashes}: {r.stderr[-2000:]}"
    assert "Done" in r.stderr
