"""Build step `quantize`: .keras + raw data -> int8 .tflite with its parameters, the quantization report (CSV, HTML),
the advisor's findings and metrics.json. Everything is computed before anything is written."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from qbuild.advise import checks as advise
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic, write_json
from qbuild.log import log
from qbuild.model import data as rawdata
from qbuild.model import report
from qbuild.model.evaluate import accuracy, tflm_outputs
from qbuild.model.preprocess import model_input, norm_mode
from qbuild.model.quantize import ConverterFactory, check_int8, convert, representative_samples
from qbuild.model.spec import quantization_mode
from qbuild.model.tfenv import load_keras
from qbuild.tflite import params as qparams
from qbuild.tflite import plan as qplan
from qbuild.tflite.reader import read_model

TOP_REPORT_ROWS = 5
MODE_LABELS = {"int8": "int8", "int16x8": "16x8"}  # how logs, the report and the model page name a mode


def step_quantize(settings: dict, keras_path: Path, data_path: Path, out: dict) -> dict:
    """.keras + raw data -> .tflite with parameters, report CSV/HTML, metrics.json. `out` maps kind -> path."""
    name, conv_settings = settings["name"], settings["tflite_converter"]
    params = dict(settings["model_parameters"])
    norm_mode(params)
    d = rawdata.load_user_npz(data_path) if settings.get("user_data") else rawdata.load_npz(data_path)
    model = load_keras(keras_path)
    shape = tuple(model.inputs[0].shape[1:])
    rawdata.check_raw(d["x_train"], f"{data_path}", shape)
    x_train = model_input(d["x_train"], params, shape)

    mode = quantization_mode(conv_settings)
    label = MODE_LABELS[mode]
    if mode != "int8" and "int8" in (str(conv_settings["inference_input_type"]), str(conv_settings["inference_output_type"])):
        raise QbuildError(f"{name}: 16x8 quantization (supported_ops) takes float32 model input and output; set "
                          "tflite_converter['inference_input_type'] and ['inference_output_type'] to np.float32")
    log(f"{name}: quantizing to {label} ({conv_settings['inference_input_type']} input, "
        f"{conv_settings['inference_output_type']} output)")
    t0 = time.time()
    rep = representative_samples(x_train, int(conv_settings["representative_dataset_max_samples"]))
    factory = ConverterFactory(model)
    tflite = convert(factory, rep, conv_settings)
    problems = check_int8(read_model(tflite, "converted model"), mode=mode)
    if problems and not (conv_settings["denylisted_nodes"] or conv_settings["denylisted_ops"]):
        msg = f"{name}: ops left in float after {label} conversion: " + "; ".join(problems)
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
        # TFLite's QuantizationDebugger analyses int8 only (measured: a 16x8 converter gives the same rows), so in 16x8
        # mode the report says what int8 would do to each layer.
        log(f"{name}: {'' if mode == 'int8' else 'int8 (TFLite debugger; this build is ' + label + ') '}quantization "
            f"report, worst rmse/scale (≈0.289 is ideal, > {rmse_t:g} flagged):")
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
    graph = read_model(tflite, "converted model")
    ops = [op.name for op in graph.ops]
    try:
        arena = qplan.plan_model(graph, pointer_size=4).arena_bytes
    except QbuildError as e:
        arena = None
        log(f"warning: {name}: no runtime_memory_size: {e}")
    all_params = {**qparams.default_params(name=name, version=settings["version"], date=settings["date"], hash="",
                                           classes=settings["classes"], runtime_memory_size=arena), **params}
    all_params["hash"] = qparams.model_hash(tflite, all_params)
    tflite = qparams.embed_params(tflite, all_params)

    # int8_accuracy is the quantized model's accuracy whatever the mode (its key predates 16x8); `quantization` says
    # which mode it is.
    metrics = {"name": name, "quantization": mode, "tflite_bytes": len(tflite), "arena_bytes": arena, "ops": ops,
               "convert_seconds": round(t_convert, 3), "report_seconds": round(t_report, 3), "float_accuracy": None, "int8_accuracy": None,
               "test_samples": 0, "ops_left_in_float": problems, "advice_findings": len(findings)}
    y_test = d.get("y_test")
    if y_test is not None and "x_test" in d:
        classes = int(model.outputs[0].shape[-1])
        y_test = rawdata.check_labels(y_test, len(d["x_test"]), f"{data_path} test labels", num_classes=classes)
        x_test = model_input(d["x_test"], params, shape)
        float_acc = accuracy(np.asarray(model.predict(x_test, verbose=0)), y_test)
        int8_acc = accuracy(tflm_outputs(tflite, x_test), y_test)
        metrics.update(float_accuracy=round(float_acc, 6), int8_accuracy=round(int8_acc, 6), test_samples=len(y_test))
        log(f"{name}: accuracy on {len(y_test)} test samples: float {100 * float_acc:.2f} %   {label} {100 * int8_acc:.2f} %")
    log(f"{name}: {label}, {len(tflite):,} B .tflite, {len(ops)} ops"
        + (f", arena {arena:,} B (32-bit target)" if arena is not None else ""))

    # Everything is computed: only now write the outputs (a failure above leaves the previous ones untouched).
    if rows:
        report.write_csv(rows, out["csv"])
        title = name if mode == "int8" else f"{name} ({label} build; rows: TFLite's int8 QuantizationDebugger)"
        report.write_html(rows, out["html"], title, rmse_t, range_t, advice=advise.advice_lines(findings),
                          sources=settings.get("sources", ""))
    advise.write_advice_json(findings, out["advice"], {"rmse_scale": rmse_t, "range": range_t})
    write_json(out["metrics"], metrics)
    write_atomic(out["tflite"], tflite)
    return metrics
