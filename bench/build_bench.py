"""Build-system benchmarks (issue 2): no-op rebuild time, and qbuild's quantize+report vs the bare TF calls.

    .venv/bin/python bench/build_bench.py [--runs 7]

1. No-op rebuild: a fresh tree, `scons model=digits` once, then N timed no-op runs (median, min, max).
2. Overhead: on the trained digits model, in one process, alternating: (a) the bare TF calls a user would write —
   TFLiteConverter.from_keras_model + convert(), then QuantizationDebugger on a fresh converter, run() and
   layer_statistics_dump(); (b) qbuild's ConverterFactory + convert() + report.debugger_rows() (static batch 1,
   fd capture, derived columns). Medians of N each; ratio b/a.
"""
import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.scons_helpers import fresh_tree, scons  # noqa: E402


def noop_rebuild(tree: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = scons(tree, "model=digits")
        times.append(time.perf_counter() - t0)
        assert "qbuild:" not in p.stdout, p.stdout
    return times


def overhead(tree: Path, runs: int):
    import keras
    import numpy as np
    import tensorflow as tf

    from qbuild.model import data
    from qbuild.model import report
    from qbuild.model.preprocess import preprocess
    from qbuild.model.quantize import ConverterFactory, convert, representative_samples
    from qbuild.model.spec import CONVERTER_DEFAULTS
    from qbuild.model.tfenv import captured_fds

    out = tree / "build" / "models" / "digits"
    model = keras.saving.load_model(out / "digits.keras", compile=False)
    d = data.load_npz(out / "data.npz")
    x = preprocess({"samplewise_norm.rescale": 1 / 16}, d["x_train"]).reshape(len(d["x_train"]), 8, 8, 1)
    rep = representative_samples(x, 500)
    settings = dict(CONVERTER_DEFAULTS, inference_input_type="float32", inference_output_type="float32")

    def bare_converter():
        c = tf.lite.TFLiteConverter.from_keras_model(model)
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.representative_dataset = lambda: ([r] for r in rep)
        c.inference_input_type = tf.float32
        c.inference_output_type = tf.float32
        return c

    def bare():
        with captured_fds():  # silence both alike; the capture itself is part of qbuild's cost below
            bare_converter().convert()
            dbg = tf.lite.experimental.QuantizationDebugger(converter=bare_converter(),
                                                            debug_dataset=lambda: ([r] for r in rep))
            dbg.run()
            dbg.layer_statistics_dump(io.StringIO())

    def qbuild_way():
        factory = ConverterFactory(model)
        convert(factory, rep, settings)
        report.debugger_rows(factory, rep, settings)

    bare(), qbuild_way()  # warm-up: graph tracing caches
    a, b = [], []
    for _ in range(runs):
        t0 = time.perf_counter(); bare(); a.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); qbuild_way(); b.append(time.perf_counter() - t0)
    return a, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree = fresh_tree(Path(tmp) / "t")
        scons(tree, "model=digits")
        t = noop_rebuild(tree, args.runs)
        print(f"no-op rebuild (scons model=digits), {args.runs} runs: median {statistics.median(t):.3f} s, "
              f"min {min(t):.3f} s, max {max(t):.3f} s")
        a, b = overhead(tree, args.runs)
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"bare TF convert + debugger: median {ma:.3f} s; qbuild convert + report: median {mb:.3f} s; "
              f"ratio {mb / ma:.2f}x ({args.runs} runs each, alternating)")
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores; {load}")


if __name__ == "__main__":
    main()
