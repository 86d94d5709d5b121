"""Speed of qbuild's int8 kernels vs TFLM's reference kernels, op by op, on the host.

For each case a one-op int8-I/O model is made with TF; TFLM's invoke() of that model is timed against our
kernel (prepare + eval through the ctypes shim, same inputs; the output is checked to be identical first).
Run: .venv/bin/python bench/kernels_bench.py   (about a minute)
"""
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tests.kernels import tflite_ops  # noqa: E402


class _Recorder:
    """Wraps the shim: remembers the last call so it can be repeated without Python argument building."""

    def __init__(self, lib):
        self.lib = lib
        self.last = None

    def __getattr__(self, name):
        fn = getattr(self.lib, name)

        def call(*args):
            self.last = (fn, args)
            return fn(*args)
        return call


def cases(keras):
    L = keras.layers

    def one(shape, layer):
        inp = keras.Input(shape=shape, batch_size=1)
        return keras.Model(inp, layer(inp)), (1, *shape)

    return {
        "CONV_2D 10x4 s2, 49x40x1 -> 25x20x64 (KWS first layer)": one((49, 40, 1), L.Conv2D(64, (10, 4), strides=2, padding="same", activation="relu")),
        "CONV_2D 1x1, 25x20x64 -> 64": one((25, 20, 64), L.Conv2D(64, (1, 1), activation="relu")),
        "CONV_2D 3x3, 16x16x16 -> 32": one((16, 16, 16), L.Conv2D(32, (3, 3), padding="same")),
        "DEPTHWISE_CONV_2D 3x3, 25x20x64": one((25, 20, 64), L.DepthwiseConv2D((3, 3), padding="same", activation="relu")),
        "FULLY_CONNECTED 256 -> 128": one((256,), L.Dense(128)),
        "AVERAGE_POOL_2D 2x2, 24x20x32": one((24, 20, 32), L.AveragePooling2D((2, 2))),
        "MAX_POOL_2D 2x2, 24x20x32": one((24, 20, 32), L.MaxPooling2D((2, 2))),
        "MEAN 25x20x64 (GAP)": one((25, 20, 64), L.GlobalAveragePooling2D()),
        "SOFTMAX 1000": one((1000,), L.Softmax()),
        "LOGISTIC 4096": one((4096,), L.Activation("sigmoid")),
    }


def convert(tf, model, shape, rng):
    for w in model.weights:
        w.assign((rng.standard_normal(w.shape) * 0.3).astype(np.float32))
    calib = [[rng.standard_normal(shape).astype(np.float32)] for _ in range(8)]
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: iter(calib)
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    return c.convert()


def best_of(fn, reps):
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t) / reps)
    return best


def main():
    import keras
    import tensorflow as tf
    from tflite_micro.python.tflite_micro import runtime

    out_dir = ROOT / "build" / "bench_kernels"
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = _Recorder(tflite_ops.build_shim(out_dir, extra=("-DNDEBUG",)))
    rng = np.random.default_rng(0)
    rows = []
    for name, (model, shape) in cases(keras).items():
        data = convert(tf, model, shape, rng)
        m = tflite_ops.Model(data)
        assert len(m.ops()) == 1, [tflite_ops.op_name(m.opcode(o)) for o in m.ops()]
        x = rng.integers(-128, 128, shape).astype(np.int8)
        it = runtime.Interpreter.from_bytes(data, arena_size=4_000_000,
                                            intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        it.set_input(x, 0)
        it.invoke()
        value = tflite_ops.tflm_tensor_getter(m, it)
        op = m.ops()[0]
        ours = tflite_ops.run_op(lib, m, op, value)
        assert np.array_equal(ours.reshape(-1), np.asarray(value(int(op.outputs[0]))).reshape(-1)), name
        fn, args = lib.last
        t_ours = best_of(lambda: fn(*args), 20)
        t_tflm = best_of(it.invoke, 20)
        rows.append((name, t_tflm * 1e6, t_ours * 1e6))
        print(f"{name:58s} TFLM {t_tflm * 1e6:9.1f} us   qbuild {t_ours * 1e6:9.1f} us   ratio {t_ours / t_tflm:5.2f}",
              flush=True)
    total_t = sum(r[1] for r in rows)
    total_o = sum(r[2] for r in rows)
    print(f"{'total':58s} TFLM {total_t:9.1f} us   qbuild {total_o:9.1f} us   ratio {total_o / total_t:5.2f}")


if __name__ == "__main__":
    main()
