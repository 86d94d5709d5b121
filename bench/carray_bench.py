"""Benchmark: parameters embedding and C array generation on a ~1 MB int8 .tflite made by the TF converter.

    .venv/bin/python bench/carray_bench.py            # prints a Markdown table (median of N runs)

The model (Dense 1024x1024 + Dense 1024x10, int8 weights, float32 I/O) is converted once and cached in
build/bench/carray_1mb.tflite. The figures go to bench/RESULTS.md, section "## C array".
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

MODEL = ROOT / "build" / "bench" / "carray_1mb.tflite"
RUNS = 10


def make_model() -> bytes:
    if MODEL.exists():
        return MODEL.read_bytes()
    import keras
    import numpy as np
    import tensorflow as tf

    inputs = keras.Input((1024,), batch_size=1)
    x = keras.layers.Dense(1024, activation="relu")(inputs)
    outputs = keras.layers.Dense(10)(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.representative_dataset = lambda: ([rng.standard_normal((1, 1024)).astype(np.float32)] for _ in range(20))
    data = converter.convert()
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    MODEL.write_bytes(data)
    return data


def median_ms(fn, runs=RUNS) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> int:
    tflite = make_model()
    from qbuild.codegen import carray
    from qbuild.tflite import params

    p = params.default_params("bench", 1, 0, "0" * 32, [str(i) for i in range(10)], runtime_memory_size=12345)
    p["samplewise_norm.rescale"] = 0.0625
    with_params = params.embed_params(tflite, p)
    out = Path(tempfile.mkdtemp(prefix="carray_bench."))
    src = out / "m.tflite"
    src.write_bytes(with_params)
    rows = [
        ("encode_params (6 keys)", median_ms(lambda: params.encode_params(p))),
        ("read_params", median_ms(lambda: params.read_params(with_params))),
        ("embed_params (add)", median_ms(lambda: params.embed_params(tflite, p))),
        ("embed_params (replace)", median_ms(lambda: params.embed_params(with_params, p))),
        ("model_hash", median_ms(lambda: params.model_hash(with_params, p))),
        ("render_model_c", median_ms(lambda: carray.render_model_c(with_params, "m.tflite"))),
        ("write_carray (3 files)", median_ms(lambda: carray.write_carray(src, out, "m.tflite"))),
    ]
    c_size = (out / carray.MODEL_C).stat().st_size
    print(f"model: {len(with_params):,} B .tflite -> {c_size:,} B .c; median of {RUNS} runs, "
          f"{os.cpu_count()} cores\n")
    print("| step | median ms |\n|---|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
