"""The model pipeline as plain functions: dataset -> train -> quantize (+report, metrics, parameters) -> C array.

SCons calls these from its actions (site_scons/site_tools/qbuild); `python -m qbuild build` calls them for Make/CMake.
Every step writes its outputs atomically: a failed step leaves nothing half-written.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from qbuild import data as rawdata
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic
from qbuild.preprocess import norm_mode, preprocess

TOP_REPORT_ROWS = 5


def log(msg: str) -> None:
    print(f"qbuild: {msg}", flush=True)


def write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def build_date(epoch: str | None) -> str:
    """ISO date for the parameters: from SOURCE_DATE_EPOCH (or the inputs' commit time), never the wall clock."""
    ts = int(epoch) if epoch not in (None, "") else 0
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- steps -------------------------------------------------------------------------------------------------------------
def step_dataset(spec_path: Path, out_npz: Path) -> None:
    from qbuild.spec import load_spec

    spec = load_spec(spec_path)
    log(f"{spec.name}: generating the dataset")
    t0 = time.time()
    d = rawdata.check_dataset(spec.load_dataset(), f"{spec_path} dataset")
    rawdata.save_npz(out_npz, d)
    log(f"{spec.name}: dataset {len(d['x_train'])} train / {len(d.get('x_test', []))} test samples, "
        f"{d['x_train'].dtype} {d['x_train'].shape[1:]} ({time.time() - t0:.1f} s)")


def model_input(x_raw: np.ndarray, params: dict, input_shape) -> np.ndarray:
    """Raw samples -> float32 model input (preprocessing exactly as on the device, then reshaped)."""
    return preprocess(params, x_raw).reshape((len(x_raw),) + tuple(input_shape))


def step_train(spec_path: Path, data_npz: Path, out_keras: Path) -> None:
    from qbuild.spec import load_spec
    from qbuild.tfenv import seed_everything

    spec = load_spec(spec_path)
    d = rawdata.load_npz(data_npz)
    seed_everything(spec.seed)
    y = d.get("y_train")
    num_classes = len(spec.classes) or (int(y.max()) + 1 if y is not None else 0)
    model = spec.build_model(d["x_train"].shape[1:], num_classes)
    shape = tuple(model.inputs[0].shape[1:])
    rawdata.check_raw(d["x_train"], f"{data_npz} x_train", shape)
    x = model_input(d["x_train"], spec.model_parameters, shape)
    xv = model_input(d["x_test"], spec.model_parameters, shape) if "x_test" in d else None
    log(f"{spec.name}: training {model.count_params():,} parameters on {len(x)} samples ({spec.epochs} epochs)")
    t0 = time.time()
    model = spec.train_model(model, x, y, xv, d.get("y_test"))
    log(f"{spec.name}: trained in {time.time() - t0:.1f} s")
    tmp = out_keras.with_name(out_keras.stem + ".tmp.keras")
    model.save(tmp)
    os.replace(tmp, out_keras)


def load_keras(path: Path):
    import keras

    from qbuild.tfenv import import_tf

    import_tf()
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise QbuildError(f"'{path}' is not a loadable Keras model ({first}); pass a .keras file saved with model.save()") from None


def step_quantize(settings: dict, keras_path: Path, data_path: Path, out: dict) -> dict:
    """.keras + raw data -> .tflite with parameters, report CSV/HTML, metrics.json. `out` maps kind -> path."""
    from qbuild import advise, report
    from qbuild import params as qparams
    from qbuild import plan as qplan
    from qbuild.evaluate import accuracy, tflm_outputs
    from qbuild.quantize import ConverterFactory, check_int8, convert, representative_samples
    from qbuild.tflite_model import read_ops

    name, conv_settings = settings["name"], settings["tflite_converter"]
    params = dict(settings["model_parameters"])
    norm_mode(params)
    d = rawdata.load_user_npz(data_path) if settings.get("user_data") else rawdata.load_npz(data_path)
    model = load_keras(keras_path)
    shape = tuple(model.inputs[0].shape[1:])
    rawdata.check_raw(d["x_train"], f"{data_path}", shape)
    x_train = model_input(d["x_train"], params, shape)

    log(f"{name}: quantizing to int8 ({conv_settings['inference_input_type']} input, "
        f"{conv_settings['inference_output_type']} output)")
    t0 = time.time()
    rep = representative_samples(x_train, int(conv_settings["representative_dataset_max_samples"]))
    factory = ConverterFactory(model)
    tflite = convert(factory, rep, conv_settings)
    problems = check_int8(tflite)
    if problems and not (conv_settings["denylisted_nodes"] or conv_settings["denylisted_ops"]):
        msg = f"{name}: ops left in float after int8 conversion: " + "; ".join(problems)
        if settings.get("strict"):
            raise QbuildError(msg + " (strict=1); replace those layers or denylist them on purpose")
        log("warning: " + msg)
    t_convert = time.time() - t0

    rows, t_report = [], 0.0
    rmse_t, range_t = conv_settings["report_rmse_scale_threshold"], conv_settings["report_range_threshold"]
    if conv_settings["generate_quantization_report"]:
        t0 = time.time()
        rows = report.debugger_rows(factory, rep, conv_settings)
        t_report = time.time() - t0
        worst = sorted(rows, key=lambda r: -float(r["rmse/scale"]))[:TOP_REPORT_ROWS]
        log(f"{name}: quantization report, worst rmse/scale (≈0.289 is ideal, > {rmse_t:g} flagged):")
        for r in worst:
            log(f"  {float(r['rmse/scale']):6.3f}  range {float(r['range']):7.2f}  {r['op_name']:<18} {r['tensor_name'][:70]}")

    # The advisor names the Keras layer behind each problem and the fix; strict=1 stops here, before any output.
    findings = advise.run_all(keras_model=model, x_float32=x_train, tflite_bytes=tflite, report_rows=rows,
                              thresholds={"rmse_scale": rmse_t, "range": range_t}, params=params,
                              strict=settings.get("strict", False))
    if findings:
        print(advise.format_findings(findings), flush=True)

    # The model artifacts do not depend on a board: a model qbuild's runtime cannot run (e.g. an op kept in float on
    # purpose) still gets its .tflite, without runtime_memory_size; the firmware build then fails with the op check.
    ops = [op.name for op in read_ops(tflite)]
    try:
        arena = qplan.plan_model(tflite, pointer_size=4).arena_bytes
    except QbuildError as e:
        arena = None
        log(f"warning: {name}: no runtime_memory_size: {e}")
    all_params = {**qparams.default_params(name=name, version=settings["version"], date=settings["date"], hash="",
                                           classes=settings["classes"], runtime_memory_size=arena), **params}
    all_params["hash"] = qparams.model_hash(tflite, all_params)
    tflite = qparams.embed_params(tflite, all_params)

    metrics = {"name": name, "tflite_bytes": len(tflite), "arena_bytes": arena, "ops": ops,
               "convert_seconds": round(t_convert, 3), "report_seconds": round(t_report, 3), "float_accuracy": None, "int8_accuracy": None,
               "test_samples": 0, "ops_left_in_float": problems, "advice_findings": len(findings)}
    y_test = d.get("y_test")
    if y_test is not None and "x_test" in d:
        x_test = model_input(d["x_test"], params, shape)
        float_acc = accuracy(np.asarray(model.predict(x_test, verbose=0)), y_test)
        int8_acc = accuracy(tflm_outputs(tflite, x_test), y_test)
        metrics.update(float_accuracy=round(float_acc, 6), int8_accuracy=round(int8_acc, 6), test_samples=len(y_test))
        log(f"{name}: accuracy on {len(y_test)} test samples: float {100 * float_acc:.2f} %   int8 {100 * int8_acc:.2f} %")
    log(f"{name}: {len(tflite):,} B .tflite, {len(ops)} ops"
        + (f", arena {arena:,} B (32-bit target)" if arena is not None else ""))

    # Everything is computed: only now write the outputs (a failure above leaves the previous ones untouched).
    if rows:
        report.write_csv(rows, out["csv"])
        report.write_html(rows, out["html"], name, rmse_t, range_t, advice=advise.advice_lines(findings),
                          sources=settings.get("sources", ""))
    advise.write_advice_json(findings, out["advice"], {"rmse_scale": rmse_t, "range": range_t})
    write_json(out["metrics"], metrics)
    write_atomic(out["tflite"], tflite)
    return metrics


def step_copy_tflite(src: Path, dst: Path) -> None:
    """model=path.tflite: already quantized; validated and copied into the build tree."""
    from qbuild.tflite_model import read_ops

    b = Path(src).read_bytes()
    read_ops(b, where=str(src))
    write_atomic(dst, b)


# --- `python -m qbuild build` (Make/CMake) -----------------------------------------------------------------------------
def cli_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m qbuild build",
                                 description="Build a model's artifacts into OUT (the same steps SCons runs).")
    ap.add_argument("model", help="model name (models/<name>), path to a model.py, a .keras or a .tflite")
    ap.add_argument("--data", help="raw .npz (array 'x', optional 'y') for a .keras model")
    ap.add_argument("--norm", default="none", help="rescale:<factor> | mean_std | none (for a .keras model)")
    ap.add_argument("--out", default="build/models", help="output directory root (default build/models)")
    args = ap.parse_args(argv)
    from qbuild.pipeline import ModelTargets

    targets = ModelTargets.resolve(args.model, Path.cwd(), data=args.data, norm=args.norm, out_root=Path(args.out))
    targets.build_all()
    print(json.dumps({k: str(v) for k, v in targets.artifacts().items()}, indent=2, sort_keys=True))
    return 0
