"""KWS accuracy benchmark: synthesize (or load) the data set, train the spec's DS-CNN, convert to int8 (float32 I/O),
evaluate float with Keras and int8 with the TFLM interpreter on the held-out voices.

    .venv/bin/python bench/kws_accuracy.py [--data cache.npz] [--epochs N] [--out kws.tflite]

Stands in for the build's quantize step; the figures go to bench/RESULTS.md `## KWS`.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from qbuild.model.preprocess import preprocess  # noqa: E402
from qbuild.model.spec import load_spec  # noqa: E402


def load_data(spec, cache: Path | None) -> tuple[dict, float | None]:
    if cache and cache.is_file():
        with np.load(cache) as d:
            return {k: d[k] for k in d.files}, None
    start = time.monotonic()
    data = spec.load_dataset()
    seconds = time.monotonic() - start
    if cache:
        np.savez(cache, **data)
    return data, seconds


def batch_one(model):
    """The same model with a static batch of 1, so Flatten/Reshape converts to one static RESHAPE."""
    import keras

    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [1, *layer["config"]["batch_shape"][1:]]
    fixed = keras.Model.from_config(config)
    fixed.set_weights(model.get_weights())
    return fixed


def to_int8(model, representative: np.ndarray) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(batch_one(model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.float32
    converter.inference_output_type = tf.float32
    converter.representative_dataset = lambda: ([x[None]] for x in representative)
    return converter.convert()


def ops_of(tflite: bytes) -> list[str]:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(tflite, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return sorted({names[max(c.builtinCode, c.deprecatedBuiltinCode)] for c in m.operatorCodes})


def int8_accuracy(tflite: bytes, x: np.ndarray, y: np.ndarray) -> float:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(tflite, arena_size=256 * 1024)
    hits = 0
    for xi, yi in zip(x, y):
        interp.set_input(xi[None].astype(np.float32), 0)
        interp.invoke()
        hits += int(np.argmax(interp.get_output(0)) == yi)
    return hits / len(y)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default=str(ROOT / "models/kws/model.py"))
    ap.add_argument("--data", type=Path, help="cache the raw data set here (reused when it exists)")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--out", type=Path, help="write the int8 .tflite here")
    args = ap.parse_args()

    spec = load_spec(Path(args.spec))
    if args.epochs:
        spec.epochs = args.epochs
    data, data_seconds = load_data(spec, args.data)
    params = spec.model_parameters
    x_train = preprocess(params, data["x_train"])
    x_test = preprocess(params, data["x_test"])
    y_train, y_test = data["y_train"], data["y_test"]

    import keras

    keras.utils.set_random_seed(spec.seed)
    model = spec.build_model(x_train.shape[1:], len(spec.classes))
    start, cpu_start = time.monotonic(), time.process_time()
    model = spec.train_model(model, x_train, y_train, x_test, y_test)
    train_seconds, train_cpu_seconds = time.monotonic() - start, time.process_time() - cpu_start
    float_acc = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))

    n = spec.tflite_converter["representative_dataset_max_samples"]
    pick = np.random.default_rng(0).permutation(len(x_train))[:n]
    tflite = to_int8(model, x_train[pick])
    if args.out:
        args.out.write_bytes(tflite)
    result = {
        "clips_train": int(len(y_train)), "clips_test": int(len(y_test)),
        "dataset_seconds": None if data_seconds is None else round(data_seconds, 1),
        "epochs": spec.epochs, "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1), "load_average": round(os.getloadavg()[0], 1),
        "params": int(model.count_params()),
        "float_accuracy": round(100 * float_acc, 2),
        "int8_accuracy": round(100 * int8_accuracy(tflite, x_test, y_test), 2),
        "tflite_bytes": len(tflite), "ops": ops_of(tflite),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
