"""Quantization advisor: the tips that make a model quantize well, checked on every build.

Four checks, each returning `Finding`s that name the layer and the concrete fix:

    check_inputs(x, thresholds, params)        preprocessed representative data far from about -1..1, off-centre,
                                               or dominated by outliers
    lint_keras(model, supported_activations)   activation before BatchNorm, BatchNorm not after a Conv/Dense,
                                               LayerNorm after the activation, activations the runtime lacks
    check_conversion(model, tflite)            BatchNorms left in the .tflite as MUL/ADD (not folded)
    advise_report(rows, model, tflite, ...)    flagged report rows -> Keras layer -> most likely cause

`run_all` runs what its inputs allow; `format_findings` prints them for the build; `write_advice_json` writes
advice.json.
Plain Python: Keras is only touched through the model object it is given, TensorFlow is never imported here.
"""
from __future__ import annotations
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np

from qbuild.errors import QbuildError
from qbuild.advise.findings import (ADVICE_VERSION, CHECK_GROUPS, DEFAULT_THRESHOLDS, GROUP_ORDER, Finding,
                                    advice_dict, advice_lines, format_findings, raise_if_any, thresholds_with,
                                    write_advice_json)
from qbuild.advise.graph import (ACTIVATION_OPS, SUPPORTED_ACTIVATIONS, activations_for_ops, check_conversion,
                                 lint_keras, tensor_layers)
from qbuild.advise.inputs import check_inputs
from qbuild.advise.rows import advise_report, normalizes_its_input, report_layer

__all__ = ["ACTIVATION_OPS", "ADVICE_VERSION", "CHECK_GROUPS", "DEFAULT_THRESHOLDS", "GROUP_ORDER", "Finding",
           "SUPPORTED_ACTIVATIONS", "activations_for_ops", "advice_dict", "advice_lines", "advise_report",
           "check_conversion", "check_inputs", "format_findings", "lint_keras", "raise_if_any", "report_layer",
           "run_all", "tensor_layers", "thresholds_with", "write_advice_json"]

def run_all(keras_model=None, x_float32=None, tflite_bytes: bytes | None = None, report_rows: list[dict] | None = None,
            thresholds: dict | None = None, params: dict | None = None,
            supported_activations=SUPPORTED_ACTIVATIONS, strict: bool = False) -> list[Finding]:
    """Every check its inputs allow, in order input, graph, conversion, report. strict=True: findings -> QbuildError."""
    th = thresholds_with(thresholds)
    findings = []
    if x_float32 is not None:
        findings += check_inputs(x_float32, th, params)
        if keras_model is not None and normalizes_its_input(keras_model):
            findings = [f for f in findings if f.check == "input_outliers"]
    if keras_model is not None:
        lint = lint_keras(keras_model, supported_activations)
        findings += lint
        if tflite_bytes is not None:
            findings += check_conversion(keras_model, tflite_bytes, lint=lint)
        if report_rows:
            findings += advise_report(report_rows, keras_model, tflite_bytes, th, context=list(findings))
    if strict:
        raise_if_any(findings)
    return findings


