"""The mode comparison (`compare_modes=1`): float, int8, 16x8 and selective float measured on test data, each with
accuracy, .tflite size and arenas; a mode TFLite cannot convert is a row that says why. One small digits model
(trained three epochs), ~20 s."""
from __future__ import annotations

import numpy as np
import pytest

from qbuild.model.modes import flagged_tensor_names, render_table, runtime_gap


@pytest.fixture(scope="module")
def digits():
    import keras
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 8, 8, 1)
    keras.utils.set_random_seed(0)
    L = keras.layers
    inp = keras.Input((8, 8, 1))
    h = L.MaxPooling2D(2)(L.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp))
    out = L.Dense(10, activation="softmax", name="out")(L.Flatten()(h))
    m = keras.Model(inp, out)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.fit(x[:1400], d.target[:1400], epochs=3, verbose=0)
    return m, x, d.target


def test_every_mode_measured(digits):
    from qbuild.model.modes import compare_modes
    from qbuild.model.spec import ConverterSettings

    m, x, y = digits
    settings = ConverterSettings().canonical() | {"representative_dataset_max_samples": 100}
    fake_rows = [{"tensor_name": "StatefulPartitionedCall:0", "rmse/scale": "0.9", "range": "1.0"},
                 {"tensor_name": "ok", "rmse/scale": "0.2", "range": "1.0"}]
    flagged = flagged_tensor_names(fake_rows, 0.5, 255.0)
    assert flagged == ["StatefulPartitionedCall:0"]
    results = compare_modes(m, x[:1400], x[1400:1500], y[1400:1500], settings, flagged)
    by = {r["mode"]: r for r in results}
    assert list(by) == ["float", "int8", "16x8", "selective float"]
    for r in results:
        assert 0.3 < r["accuracy"] <= 1.0 and r["tflite_bytes"] > 1000 and r["tflm_arena_bytes"] > 0, r
    # int8 and 16x8 run on qbuild's runtime (16x8 activations take twice the bytes); float does not.
    assert by["float"]["qbuild_arena_bytes"] is None and "float32 CONV_2D" in by["float"]["note"]
    assert 0 < by["int8"]["qbuild_arena_bytes"] < by["16x8"]["qbuild_arena_bytes"]
    assert by["16x8"]["note"] == "" and by["int8"]["tflite_bytes"] < by["float"]["tflite_bytes"]
    assert "1 flagged tensor(s) in float" in by["selective float"]["note"]
    table = render_table("t", results, 100)
    assert "| 16x8 |" in table and table.count("\n| ") == 5  # header + four modes


def test_runtime_gap_empty_for_a_runnable_model(digits):
    from qbuild.model.modes import compare_modes  # noqa: F401  (import check only)
    from qbuild.model.quantize import ConverterFactory, convert
    from qbuild.model.spec import ConverterSettings

    m, x, _ = digits
    tflite = convert(ConverterFactory(m), [x[i:i + 1] for i in range(50)], ConverterSettings().canonical())
    assert runtime_gap(tflite) == ""


def test_advise_cli_compare_needs_labelled_test_data():
    from qbuild.advise.cli import compare
    from qbuild.errors import QbuildError

    with pytest.raises(QbuildError, match="--compare-modes needs labelled test data"):
        compare(None, np.zeros((1, 8, 8, 1), np.float32), None, {}, {}, [], {"rmse_scale": 0.5, "range": 255.0})
