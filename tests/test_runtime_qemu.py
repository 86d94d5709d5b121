"""The runtime cross-compiled for Cortex-M33 (arm-none-eabi-g++) and run under QEMU mps2-an505: every corpus and MLTK
model gives the same bytes as TFLM on the host, and arena_used_bytes() equals the Python plan for pointer size 4.
Both at -O2 and at -Os, the firmware build's setting (kernels without unrolling, one shared requantize)."""
from __future__ import annotations

import shutil

import pytest

from qbuild.tflite.plan import plan_model
from tests.harness import build_firmware_harness, run_firmware_harness
from test_runtime_corpus import MLTK_DIR, corpus, random_inputs, tflm_outputs  # noqa: F401

pytestmark = pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                                reason="arm-none-eabi-g++ / qemu-system-arm missing: run scripts/setup")


def harness_cases(models: dict, seed: int) -> tuple[list, dict]:
    """Random inputs for each model: the harness cases and {name: (TFLM output bytes, planned M33 arena)}."""
    cases, expected = [], {}
    for name, path in models.items():
        data = path.read_bytes()
        inputs = random_inputs(data, seed)
        cases.append((name, data, b"".join(x.tobytes() for x in inputs)))
        expected[name] = (b"".join(o.tobytes() for o in tflm_outputs(data, inputs)), plan_model(data, 4).arena_bytes)
    return cases, expected


@pytest.fixture(scope="module", params=["-O2", "-Os"])
def qemu_results(request, corpus, tmp_path_factory):
    models = dict(corpus)
    models.update({p.stem: p for p in sorted(MLTK_DIR.glob("*.tflite"))})
    cases, expected = harness_cases(models, 11)
    arena = max(a for _, a in expected.values())
    elf = build_firmware_harness(tmp_path_factory.mktemp("qemu_harness"), cases, arena, opt=request.param)
    return run_firmware_harness(elf), expected


def test_every_model_runs_on_cortex_m33_bit_exact(qemu_results):
    results, expected = qemu_results
    assert sorted(results) == sorted(expected)
    for name, (out, _) in expected.items():
        assert results[name]["status"] == 0, name
        assert results[name]["out"] == out, f"{name}: Cortex-M33 output differs from TFLM"


def test_arena_on_cortex_m33_equals_python_plan(qemu_results):
    results, expected = qemu_results
    for name, (_, arena) in expected.items():
        assert results[name]["arena"] == arena, name
