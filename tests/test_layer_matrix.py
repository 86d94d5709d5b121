"""Every common Keras layer (tests/layer_matrix.py), converted to int8 as the build does, runs bit-exact with TFLM on
the host and on Cortex-M33 under QEMU, with arena_used_bytes() equal to the Python plan; the layers that cannot run
are exactly the listed ones, for exactly the listed ops. All models convert in this one process, the host runs use one
qbuild-run binary and the QEMU runs one firmware holding every case."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from qbuild.tflite.plan import check_ops, plan_model
from test_runtime_corpus import tflm_outputs
from test_runtime_exact import host_tool, run_host  # noqa: F401
from tests.layer_matrix import CASES, EXPECTED_UNSUPPORTED, TFLM_REFUSES, convert_all, refused_ops, samples

TRIALS = 2  # random inputs per case


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    out = tmp_path_factory.mktemp("layer_matrix")
    paths = {}
    for name, data in convert_all().items():
        paths[name] = out / f"{name}.tflite"
        paths[name].write_bytes(data)
    return paths


@pytest.fixture(scope="module")
def supported(matrix):
    return {n: p for n, p in matrix.items() if n not in EXPECTED_UNSUPPORTED}


def _inputs(name: str, trial: int) -> list[np.ndarray]:
    # Twice the calibration spread: saturation at both ends is exercised too.
    return [x * 2 for x in samples(name, 1, 100 + trial)]


def test_unsupported_layers_are_exactly_the_listed_ones(matrix):
    assert set(EXPECTED_UNSUPPORTED) <= set(CASES)
    got = {n: refused_ops(p.read_bytes()) for n, p in matrix.items()}
    assert {n: ops for n, ops in got.items() if ops} == {n: ops for n, (_, ops) in EXPECTED_UNSUPPORTED.items()}
    for name, path in matrix.items():
        if name not in EXPECTED_UNSUPPORTED:
            check_ops(path.read_bytes())  # int8 where the runtime needs it


def test_the_builds_int8_check_sees_no_leaked_batch(matrix):
    """Cropping2D and the unrolled GRU slice data with STRIDED_SLICE, SimpleRNN packs steps: no dynamic batch."""
    from qbuild.model.quantize import check_int8

    import contextlib
    import sys

    import keras

    from test_runtime_corpus import convert

    leaks = {n: p for n, path in matrix.items() for p in check_int8(path.read_bytes()) if "dynamic batch" in p}
    assert leaks == {}
    # A real leak (Flatten under a dynamic batch, converted without the build's static signature) is still named.
    x = keras.Input((4, 5, 3))
    with contextlib.redirect_stdout(sys.stderr):
        data = convert(keras.Model(x, keras.layers.Dense(4)(keras.layers.Flatten()(x))), {}, np.random.default_rng(0))
    assert [p.split(" at ")[0] for p in check_int8(data) if "dynamic batch" in p] == ["SHAPE", "STRIDED_SLICE", "PACK"]


def test_tflm_refuses_exactly_the_listed_cases(matrix):
    refused = set()
    for name, path in matrix.items():
        try:
            tflm_outputs(path.read_bytes(), samples(name, 1, 0))
        except RuntimeError:
            refused.add(name)
    assert refused == TFLM_REFUSES


def test_supported_layers_bit_exact_on_host(supported, host_tool, tmp_path):
    failures = []
    for name, path in supported.items():
        data = path.read_bytes()
        for trial in range(TRIALS):
            inputs = _inputs(name, trial)
            result, got = run_host(host_tool, path, inputs, tmp_path)
            expected = b"".join(r.tobytes() for r in tflm_outputs(data, inputs))
            if result["status"] != "ok" or got != expected:
                failures.append(f"{name} (trial {trial}): {result['status']}, differs from TFLM")
                break
        if result["status"] == "ok" and result["arena_used_bytes"] != plan_model(data, pointer_size=8).arena_bytes:
            failures.append(f"{name}: arena {result['arena_used_bytes']} != plan")
    assert not failures, "\n".join(failures)


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ / qemu-system-arm missing: run scripts/setup")
def test_supported_layers_bit_exact_on_cortex_m33(supported, tmp_path):
    from tests.harness import build_firmware_harness, run_firmware_harness

    cases, expected = [], {}
    for name, path in supported.items():
        data = path.read_bytes()
        for trial in range(TRIALS):
            inputs = _inputs(name, trial)
            key = f"{name}#{trial}"
            cases.append((key, data, b"".join(x.tobytes() for x in inputs)))
            expected[key] = (b"".join(o.tobytes() for o in tflm_outputs(data, inputs)), plan_model(data, 4).arena_bytes)
    elf = build_firmware_harness(tmp_path, cases, max(a for _, a in expected.values()), opt="-Os")
    results = run_firmware_harness(elf)
    failures = [key for key, (out, arena) in expected.items()
                if results.get(key, {}).get("status") != 0 or results[key]["out"] != out or results[key]["arena"] != arena]
    assert not failures, f"differ from TFLM (or the plan) on qemu-m33: {failures}"


def test_every_supported_layer_on_the_build_time_path_bit_exact_on_host(supported, tmp_path):
    """The build-time tables of every supported layer's model (the ops issue 16 added included): prepared, run-time and
    prepared again in one host program, each equal to TFLM's output, activations as the build-time plan."""
    from test_prepared import check_both_paths_on_host

    check_both_paths_on_host({n: (p, _inputs(n, 0)) for n, p in supported.items()}, tmp_path)
