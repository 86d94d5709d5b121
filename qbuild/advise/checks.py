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

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qbuild.errors import QbuildError

ADVICE_VERSION = 1

# Documented in docs/quantization-tips.md; every key can be overridden (build option / `advise --threshold k=v`).
DEFAULT_THRESHOLDS = {
    "input_max_abs": 8.0,    # preprocessed input reaching beyond +-8: rescale it towards -1..1
    "input_mean_abs": 1.0,   # |mean| above 1 (with values inside +-8): centre it with mean_and_std
    "input_outlier_std": 16.0,  # a value this many standard deviations from the mean: the int8 steps go to outliers
    "rmse_scale": 0.5,       # report rows with rmse/scale above this (0.289 = rounding error of a uniform signal)
    "range": 255.0,          # report rows with range = 255*scale above this (int8 step > 1.0)
}

# The .tflite ops each Keras activation becomes after int8 conversion (measured, TF 2.21, Dense(8, activation=...)).
# relu, relu6 and hard_sigmoid fuse into the layer before them; ELU stays float (DEQUANTIZE, ELU, QUANTIZE).
ACTIVATION_OPS = {
    "linear": (), "relu": (), "relu6": (), "hard_sigmoid": (),
    "sigmoid": ("LOGISTIC",), "tanh": ("TANH",), "softmax": ("SOFTMAX",), "log_softmax": ("LOG_SOFTMAX",),
    "swish": ("LOGISTIC", "MUL"), "silu": ("LOGISTIC", "MUL"), "hard_silu": ("HARD_SWISH",),
    "hard_swish": ("HARD_SWISH",), "leaky_relu": ("LEAKY_RELU",), "prelu": ("PRELU",), "elu": ("ELU",),
    "gelu": ("GELU",), "selu": ("GREATER", "MUL", "EXP", "SUB", "SELECT"), "softplus": ("EXP", "ADD", "LOG"),
    "softsign": ("ABS", "ADD", "DIV"), "mish": ("EXP", "ADD", "LOG", "TANH", "MUL"), "exponential": ("EXP",),
}


def activations_for_ops(ops) -> frozenset:
    """The activations whose ops are all in `ops` (a runtime's supported op names)."""
    ops = set(ops)
    return frozenset(a for a, needs in ACTIVATION_OPS.items() if set(needs) <= ops)


def _runtime_ops() -> list:
    from qbuild.plan import SUPPORTED_OPS  # the runtime's op list (plain Python, no TF)
    return SUPPORTED_OPS


# Activations qbuild's runtime runs (derived from its op list); the build may pass another target's list.
SUPPORTED_ACTIVATIONS = activations_for_ops(_runtime_ops())

# BatchNorm folds into these when it follows them directly (each checked with TF 2.21: no MUL/ADD left).
FOLDABLE = ("Conv2D", "DepthwiseConv2D", "Dense", "Conv1D", "SeparableConv2D", "Conv2DTranspose")
BATCHNORM = "BatchNormalization"
LAYERNORM = "LayerNormalization"
ACTIVATION_LAYERS = {"Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax"}
STANDALONE_BN_OPS = ("MUL", "ADD", "SUB")
# Ops whose output keeps their input's int8 scale: a flagged row of theirs repeats the producer's problem.
SCALE_SHARING_OPS = ("MAX_POOL_2D", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "PAD")

CHECK_GROUPS = {  # check -> group shown in the build output
    "input_range": "input", "input_offset": "input", "input_outliers": "input",
    "activation_before_bn": "graph", "bn_not_after_foldable": "graph", "ln_after_activation": "graph",
    "unsupported_activation": "graph",
    "bn_not_folded": "conversion",
    "report_row": "report",
}
GROUP_ORDER = ("input", "graph", "conversion", "report")


@dataclass
class Finding:
    check: str                # one of CHECK_GROUPS
    severity: str             # "warning" | "error" (error: the model will not run on the target as it is)
    layer: str                # Keras layer name, or "input <i>"
    message: str              # one line naming the layer and the concrete fix
    data: dict = field(default_factory=dict)   # JSON-able measurements behind the message


def thresholds_with(overrides: dict | None = None) -> dict:
    """DEFAULT_THRESHOLDS updated with `overrides`; an unknown key is an error, not a silent no-op."""
    out = dict(DEFAULT_THRESHOLDS)
    for k, v in (overrides or {}).items():
        if k not in DEFAULT_THRESHOLDS:
            raise QbuildError(f"unknown advisor threshold '{k}'; valid: {', '.join(sorted(DEFAULT_THRESHOLDS))}")
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            raise QbuildError(f"advisor threshold '{k}' = {v!r} is not a number; "
                              f"give e.g. {k}={DEFAULT_THRESHOLDS[k]}") from None
    return out


def _g(v: float) -> str:
    return f"{v:.6g}"


# 1. input -------------------------------------------------------------------------------------------------------------
def check_inputs(x_float32, thresholds: dict | None = None, params: dict | None = None) -> list[Finding]:
    """Per model input: min/max/mean/std of the preprocessed data; warn when far from about -1..1 (`input_range`),
    off-centre (`input_offset`), or dominated by a few outliers (`input_outliers`: int8 quantization does not care
    about the scale of the input, only about how much of its 256 steps the bulk of the values gets).

    `x_float32`: one array (N, ...) or a list of them (one per model input). `params`: the model parameters, so the
    suggested `samplewise_norm.rescale` is in terms of the raw data the device sees.
    """
    from qbuild.preprocess import norm_mode  # light: numpy only

    th = thresholds_with(thresholds)
    mode, scale = norm_mode(params or {})
    arrays = list(x_float32) if isinstance(x_float32, (list, tuple)) else [x_float32]
    findings = []
    for i, x in enumerate(arrays):
        x = np.asarray(x, dtype=np.float64)
        stats = {"min": float(x.min()), "max": float(x.max()), "mean": float(x.mean()), "std": float(x.std()),
                 "norm": mode}
        where = f"input {i}" if len(arrays) > 1 or i else "input"
        seen = f"preprocessed {where} spans {_g(stats['min'])}..{_g(stats['max'])} (mean {_g(stats['mean'])}, " \
               f"std {_g(stats['std'])})"
        max_abs = max(abs(stats["min"]), abs(stats["max"]))
        spread = max(stats["max"] - stats["mean"], stats["mean"] - stats["min"])
        stats["max_std"] = spread / stats["std"] if stats["std"] > 0 else 0.0
        if mode != "mean_std" and max_abs > th["input_max_abs"]:
            new = (scale or 1.0) / max_abs
            stats["suggested_rescale"] = new
            findings.append(Finding(
                "input_range", "warning", where,
                f"{seen}, far outside about -1..1 (limit +-{_g(th['input_max_abs'])}); set model_parameters"
                f"['samplewise_norm.rescale'] = {_g(new)} (maps the observed max to 1.0; norm=rescale:{_g(new)}) or "
                "['samplewise_norm.mean_and_std'] = True (norm=mean_std)", stats))
        elif mode != "mean_std" and abs(stats["mean"]) > th["input_mean_abs"]:
            findings.append(Finding(
                "input_offset", "warning", where,
                f"{seen}: not centred around 0 (|mean| > {_g(th['input_mean_abs'])}); set "
                "model_parameters['samplewise_norm.mean_and_std'] = True (norm=mean_std)", stats))
        elif stats["max_std"] > th["input_outlier_std"]:
            findings.append(Finding(
                "input_outliers", "warning", where,
                f"{seen}: some values lie {stats['max_std']:.1f} standard deviations from the mean (limit "
                f"{_g(th['input_outlier_std'])}), so most of the 256 int8 input steps cover a few outliers; clip or "
                "compress (e.g. log) the raw values, the same way in the dataset and on the device", stats))
    return findings


# 2. graph lint --------------------------------------------------------------------------------------------------------
def _keras_history(obj, out: list) -> None:
    """Collect parent layer names from a serialized inbound node: every nested `{"keras_history": [name, node, i]}`."""
    if isinstance(obj, dict):
        if "keras_history" in obj:
            out.append(obj["keras_history"][0])
            return
        for v in obj.values():
            _keras_history(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _keras_history(v, out)


@dataclass
class _Graph:
    order: list          # layer names, model order (topological for functional models)
    cls: dict            # name -> class name
    cfg: dict            # name -> layer config
    parents: dict        # name -> [parent names]
    children: dict       # name -> [child names]
    depth: dict          # name -> 0 for the model's own layers, 1 inside a nested model, ...


def _graph(model) -> _Graph:
    """The layer graph from `model.get_config()`; layers of nested models are included (edges inside each model)."""
    g = _Graph([], {}, {}, {}, {}, {})
    _add_layers(model.get_config(), g, 0)
    g.children = {n: [] for n in g.order}
    for n, ps in g.parents.items():
        for p in ps:
            g.children.setdefault(p, []).append(n)
    return g


def _add_layers(config: dict, g: _Graph, depth: int) -> None:
    layers = config.get("layers", [])
    functional = bool(layers) and all("inbound_nodes" in l for l in layers)
    previous = None
    for l in layers:
        name = l.get("config", {}).get("name") or l.get("name")
        g.order.append(name)
        g.cls[name] = l["class_name"]
        g.cfg[name] = l.get("config", {})
        g.depth[name] = depth
        if functional:
            found = []
            _keras_history(l["inbound_nodes"], found)
            g.parents[name] = list(dict.fromkeys(found))
        else:  # Sequential: a chain
            g.parents[name] = [previous] if previous else []
            previous = name
        if isinstance(g.cfg[name].get("layers"), list):  # a nested model: lint its layers too
            _add_layers(g.cfg[name], g, depth + 1)


def _activation_name(cls: str, cfg: dict) -> str | None:
    """The activation a layer applies ('relu', 'gelu', ...), None when it applies none (or 'linear')."""
    if cls == "ReLU":
        slope, top = cfg.get("negative_slope") or 0.0, cfg.get("max_value")
        if slope:
            return "leaky_relu"
        return "relu6" if top == 6 else ("relu" if top is None else f"relu(max_value={top})")
    if cls in ("LeakyReLU", "ELU", "PReLU", "Softmax"):
        return {"LeakyReLU": "leaky_relu", "ELU": "elu", "PReLU": "prelu", "Softmax": "softmax"}[cls]
    act = cfg.get("activation")
    if isinstance(act, dict):  # a serialized function or custom object
        act = act.get("config", {}).get("name") if isinstance(act.get("config"), dict) else act.get("class_name")
        act = act or "custom"
    if not act or act == "linear":
        return None
    return str(act)


def lint_keras(model, supported_activations=SUPPORTED_ACTIVATIONS) -> list[Finding]:
    """Graph lint on a (functional or Sequential) Keras model; each finding names the layer and the fix.

    `supported_activations`: activation names the target runs (None: skip that check).
    """
    g = _graph(model)
    supported = None if supported_activations is None else set(supported_activations) | {"linear"}
    findings = []
    for name in g.order:
        cls = g.cls[name]
        act = _activation_name(cls, g.cfg[name])
        if act and supported is not None and act not in supported:
            findings.append(_unsupported(name, cls, act, supported))
        if cls == BATCHNORM:
            findings += _lint_batchnorm(g, name)
        elif cls == LAYERNORM:
            findings += _lint_layernorm(g, name)
    return findings


def _unsupported(name: str, cls: str, act: str, supported: set) -> Finding:
    ops = ACTIVATION_OPS.get(act)
    if act.startswith("relu(max_value="):
        ops = ("MINIMUM", "RELU")  # a clipped ReLU other than relu6
    if ops is None:
        how = "is unknown to qbuild"
    else:
        missing = [op for op in ops if op not in _runtime_ops()] or list(ops)
        how = f"becomes {'+'.join(ops)} and the target runtime has no {', '.join(missing)}"
    return Finding("unsupported_activation", "error", name,
                   f"{name} ({cls}): activation '{act}' {how}; use relu or relu6 (runs: "
                   f"{', '.join(sorted(supported - {'linear'}))})", {"activation": act, "ops": list(ops or []),
                                                                     "layers": [name]})


def _lint_batchnorm(g: _Graph, bn: str) -> list[Finding]:
    ps = g.parents.get(bn, [])
    if len(ps) != 1:
        return []
    p = ps[0]
    pcls, pact = g.cls.get(p), _activation_name(g.cls.get(p, ""), g.cfg.get(p, {}))
    if pcls in FOLDABLE and pact:
        fix = f"build {p} with activation=None and put the activation after {bn}"
        return [Finding("activation_before_bn", "warning", p,
                        f"{p} ({pcls}) applies '{pact}' before BatchNormalization '{bn}', so {bn} cannot fold into it; "
                        f"{fix}", {"activation": pact, "batchnorm": bn, "layers": [p, bn], "fix": fix})]
    if pcls in FOLDABLE and len(g.children.get(p, [])) == 1:
        return []
    if pcls in FOLDABLE:
        others = ", ".join(c for c in g.children[p] if c != bn)
        why = f"'{p}' ({pcls}) also feeds {others}"
        fix = f"make {bn} the only consumer of {p} (take {others}'s input from after {bn}) or accept the MUL+ADD"
    else:
        why = f"it follows '{p}' ({pcls})"
        fix = "move it directly after a Conv2D/DepthwiseConv2D/Dense (activation=None), before the activation"
    return [Finding("bn_not_after_foldable", "warning", bn,
                    f"BatchNormalization {bn} cannot fold into a Conv/Dense layer: {why}; {fix}",
                    {"parent": p, "parent_class": pcls, "layers": [bn], "fix": fix})]


def _lint_layernorm(g: _Graph, ln: str) -> list[Finding]:
    ps = g.parents.get(ln, [])
    if len(ps) != 1:
        return []
    p = ps[0]
    pact = _activation_name(g.cls.get(p, ""), g.cfg.get(p, {}))
    if not pact or pact == "softmax":
        return []
    if g.cls[p] in ACTIVATION_LAYERS:
        src = g.parents.get(p, ["?"])[0] if g.parents.get(p) else "?"
        fix = f"order it {src} -> {ln} -> {p}"
    else:
        fix = f"build {p} with activation=None and apply '{pact}' after {ln}"
    return [Finding("ln_after_activation", "warning", ln,
                    f"LayerNormalization {ln} comes after the activation '{pact}' of '{p}'; normalize before the "
                    f"activation: {fix}", {"activation": pact, "after": p, "layers": [ln, p]})]


# 3. conversion --------------------------------------------------------------------------------------------------------
_SCOPE = re.compile(r"^(.*)_(\d+)$")


def tensor_layers(tensor_name: str, layer_names) -> list[str]:
    """Keras layers a TFLite tensor name comes from, in name order ('m_1/conv1_1/Relu;m_1/bn1_1/...' -> [conv1, bn1]).

    Keras 3 traces each layer in a name scope '<layer>_<k>'; the first path component is the model's own scope.
    """
    names = set(layer_names)
    out = []
    for part in tensor_name.split(";"):
        segs = part.split("/")
        for seg in segs[1:] if len(segs) > 1 else segs:
            m = _SCOPE.match(seg)
            hit = m.group(1) if m and m.group(1) in names else (seg if seg in names else None)
            if hit and hit not in out:
                out.append(hit)
    return out


def _read_ops(tflite_bytes: bytes):
    from qbuild.tflite_model import read_ops
    return read_ops(tflite_bytes, where="converted model")


def check_conversion(keras_model, tflite_bytes: bytes, lint: list[Finding] | None = None) -> list[Finding]:
    """Each BatchNormalization folded into its Conv/Dense? Names the ones left as standalone MUL/ADD ops."""
    g = _graph(keras_model)
    bns = [n for n in g.order if g.cls[n] == BATCHNORM]
    if not bns:
        return []
    lint = lint if lint is not None else lint_keras(keras_model, supported_activations=None)
    leftovers: dict[str, list] = {}
    for op in _read_ops(tflite_bytes):
        if op.name not in STANDALONE_BN_OPS:
            continue
        for tensor, _ in op.outputs:
            owners = [n for n in tensor_layers(tensor, g.order) if not _is_model(g, n)]
            if len(owners) == 1 and owners[0] in bns:
                leftovers.setdefault(owners[0], []).append((op.name, tensor))
    findings = []
    for bn in bns:
        if bn not in leftovers:
            continue
        ops = leftovers[bn]
        cause = next((f for f in lint if f.check in ("activation_before_bn", "bn_not_after_foldable")
                      and bn in f.data.get("layers", [])), None)
        fix = cause.data["fix"] if cause else ("put it directly after a Conv2D/DepthwiseConv2D/Dense with "
                                               "activation=None, before the activation")
        p = (g.parents.get(bn) or ["?"])[0]
        findings.append(Finding("bn_not_folded", "warning", bn,
                                f"BatchNormalization {bn} was not folded into '{p}': it runs as "
                                f"{'+'.join(o for o, _ in ops)} int8 ops (extra error and time); {fix}",
                                {"ops": [o for o, _ in ops], "tensors": [t for _, t in ops], "layers": [bn],
                                 "cause": cause.check if cause else None}))
    return findings


# 4. report advice -----------------------------------------------------------------------------------------------------
def advise_report(report_rows: list[dict], keras_model, tflite_bytes: bytes | None = None,
                  thresholds: dict | None = None, context: list[Finding] | None = None) -> list[Finding]:
    """Flagged report rows (range or rmse/scale above threshold) -> the Keras layer and its most likely cause.

    `context`: findings already computed (input, lint, conversion); computed here from the model when not given.
    """
    th = thresholds_with(thresholds)
    g = _graph(keras_model)
    if context is None:
        context = lint_keras(keras_model, supported_activations=None)
        if tflite_bytes is not None:
            context += check_conversion(keras_model, tflite_bytes, lint=context)
    by_layer: dict[tuple, Finding] = {}
    input_findings = [f for f in context if CHECK_GROUPS.get(f.check) == "input"]
    first_layers = _first_compute_layers(g)
    for row in report_rows:
        rng, rs = float(row["range"]), float(row["rmse/scale"])
        bad_range, bad_rmse = rng > th["range"], rs > th["rmse_scale"]
        if not (bad_range or bad_rmse):
            continue
        if row["op_name"] in SCALE_SHARING_OPS:
            # Exact in int8 (same scale in and out): never a cause of its own. Its rmse/scale can still read high
            # (measured: 2.6 on a RESHAPE right after a CONV_2D at 0.32), so only attach it to its producer's finding.
            same_scale = next((f for f in by_layer.values()
                               if any(r["scale"] == float(row["scale"]) for r in f.data["rows"])), None)
            if same_scale:
                same_scale.data["rows"].append(_row_brief(row))
            continue
        layers = tensor_layers(row["tensor_name"], g.order) or _output_alias(row["tensor_name"], g)
        layers.sort(key=g.order.index)
        layer = _owner(layers, g) or row["tensor_name"].split(";")[0]
        cause, fix = _likely_cause(layer, layers, context, input_findings, first_layers, bad_range, row,
                                   _normalized(layers, g))
        what = " and ".join(x for x, bad in ((f"range {rng:.1f} > {_g(th['range'])}", bad_range),
                                             (f"rmse/scale {rs:.3f} > {_g(th['rmse_scale'])}", bad_rmse)) if bad)
        key = (layer, cause)
        if key in by_layer:  # several rows from one layer (e.g. a BatchNorm's MUL and ADD): one finding
            f = by_layer[key]
            f.data["rows"].append(_row_brief(row))
            f.data["worst_rmse_scale"] = max(f.data["worst_rmse_scale"], rs)
            f.data["worst_range"] = max(f.data["worst_range"], rng)
            continue
        by_layer[key] = Finding("report_row", "warning", layer,
                                f"{layer} ({row['op_name']}): {what}; likely cause: {fix}",
                                {"cause": cause, "layers": layers, "rows": [_row_brief(row)],
                                 "worst_rmse_scale": rs, "worst_range": rng})
    return list(by_layer.values())


def _owner(layers: list, g: _Graph) -> str | None:
    """The layer an op belongs to: the computing one, not a BatchNorm or activation fused into it (a BatchNorm can
    also fold forward into the next Dense: 'bn_fc/mul_1;...;out/MatMul' belongs to 'out'), nor the nested model
    that contains it."""
    leaves = [n for n in layers if not _is_model(g, n)]
    compute = [n for n in leaves if g.cls[n] not in ACTIVATION_LAYERS | {BATCHNORM}]
    return (compute or leaves or layers or [None])[0]


def _is_model(g: _Graph, name: str) -> bool:
    return isinstance(g.cfg.get(name, {}).get("layers"), list)


def _output_alias(tensor_name: str, g: _Graph) -> list:
    """The converter renames the model's output tensor ('StatefulPartitionedCall:0', 'Identity'): the last layer."""
    if tensor_name.startswith(("StatefulPartitionedCall", "Identity")):
        top = [n for n in g.order if g.depth[n] == 0 and not g.children.get(n) and g.parents.get(n)]
        return top[-1:]
    return []


def report_layer(tensor_name: str, keras_model) -> str | None:
    """The Keras layer a report row / .tflite tensor belongs to (None for converter-made tensors like tfl.quantize)."""
    g = _graph(keras_model)
    layers = tensor_layers(tensor_name, g.order) or _output_alias(tensor_name, g)
    return _owner(sorted(layers, key=g.order.index), g)


def _row_brief(row: dict) -> dict:
    return {"op_name": row["op_name"], "tensor_name": row["tensor_name"], "scale": float(row["scale"]),
            "range": float(row["range"]), "rmse/scale": float(row["rmse/scale"])}


def _first_compute_layers(g: _Graph) -> set:
    """Layers that see the model input before any Conv/Dense/normalization (through reshapes, pads, pooling)."""
    passthrough = {"InputLayer", "Reshape", "Flatten", "ZeroPadding2D", "Cropping2D", "MaxPooling2D", "Permute",
                   "AveragePooling2D", "Dropout", "Rescaling"}
    out, todo = set(), [n for n in g.order if g.depth[n] == 0 and not g.parents.get(n)]
    todo = list(dict.fromkeys(todo))
    seen = set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        out.add(n)
        if g.cls[n] in passthrough or not g.parents.get(n):
            todo += g.children.get(n, [])
    return out


def _normalizes_its_input(keras_model) -> bool:
    """Does the model scale its own input first (Rescaling/Normalization)? The converter folds a Rescaling into the
    next Conv/Dense, and integer raw values quantize exactly, so the input range checks do not apply."""
    g = _graph(keras_model)
    return any(g.cls[n] in ("Rescaling", "Normalization") for n in _first_compute_layers(g))


def _normalized(layers: list, g: _Graph) -> bool:
    """Is this op's output already normalized (a BatchNorm fused into it, a BatchNorm/LayerNorm right after), or is it
    the model output (logits: nothing to normalize)?"""
    if any(g.cls[n] in (BATCHNORM, LAYERNORM) for n in layers):
        return True
    if layers and not any(g.children.get(n) for n in layers):
        return True
    return any(g.cls.get(c) in (BATCHNORM, LAYERNORM) for n in layers for c in g.children.get(n, []))


def _likely_cause(name, layers, context, input_findings, first_layers, bad_range, row, normalized) -> tuple[str, str]:
    related = [f for f in context if CHECK_GROUPS.get(f.check) in ("graph", "conversion")
               and set(layers) & set(f.data.get("layers", [f.layer]))]
    # The most specific first: a BatchNorm that did not fold, then the graph lint that explains it.
    for check in ("bn_not_folded", "activation_before_bn", "bn_not_after_foldable", "ln_after_activation"):
        f = next((f for f in related if f.check == check), None)
        if f:
            return check, f.message
    if input_findings and set(layers) & first_layers:
        return "input", input_findings[0].message
    if input_findings and bad_range:
        return "input", f"un-normalized input propagates here: {input_findings[0].message}"
    if bad_range:
        return "unnormalized_activations", (f"activations of {name} span more than {_g(float(row['range']))} units: "
                                            f"add BatchNormalization between {name} and its activation (or "
                                            "LayerNormalization before the activation)")
    deny = f"tflite_converter['denylisted_nodes'] = ['{row['tensor_name']}']"
    if normalized:
        return "weights", (f"{name} is already normalized (or is the output): the error comes from its own int8 "
                           "weights and rounding (each report row compares the op with its float version fed the same "
                           f"int8 inputs); if int8 accuracy drops, keep it in float with {deny}")
    return "outliers", (f"a few outliers stretch the int8 scale of {name}: add BatchNormalization/LayerNormalization "
                        f"before its activation, or keep it in float with {deny}")


# all together ---------------------------------------------------------------------------------------------------------
def run_all(keras_model=None, x_float32=None, tflite_bytes: bytes | None = None, report_rows: list[dict] | None = None,
            thresholds: dict | None = None, params: dict | None = None,
            supported_activations=SUPPORTED_ACTIVATIONS, strict: bool = False) -> list[Finding]:
    """Every check its inputs allow, in order input, graph, conversion, report. strict=True: findings -> QbuildError."""
    th = thresholds_with(thresholds)
    findings = []
    if x_float32 is not None:
        findings += check_inputs(x_float32, th, params)
        if keras_model is not None and _normalizes_its_input(keras_model):
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


def raise_if_any(findings: list[Finding]) -> None:
    if findings:
        more = f" (+{len(findings) - 1} more, see advice.json)" if len(findings) > 1 else ""
        raise QbuildError(f"quantization advice with strict=1: {findings[0].message}{more}")


def format_findings(findings: list[Finding]) -> str:
    """Short build output: grouped by check group, each message once. Empty string when there is nothing to say."""
    if not findings:
        return ""
    seen, groups = set(), {}
    for f in findings:
        if f.message in seen:
            continue
        seen.add(f.message)
        groups.setdefault(CHECK_GROUPS.get(f.check, "other"), []).append(f)
    n_err = sum(f.severity == "error" for f in findings)
    counts = f"{len(seen)} finding{'s' if len(seen) != 1 else ''}" + (f", {n_err} error{'s' if n_err != 1 else ''}"
                                                                        if n_err else "")
    lines = [f"quantization advice ({counts}):"]
    for group in list(GROUP_ORDER) + sorted(set(groups) - set(GROUP_ORDER)):
        for f in groups.get(group, []):
            lines.append(f"  [{group}] {'ERROR ' if f.severity == 'error' else ''}{f.message}")
    return "\n".join(lines)


def advice_lines(findings: list[Finding]) -> list[str]:
    """The lines of `format_findings` without the header: for the HTML report's advice list."""
    return [ln.strip() for ln in format_findings(findings).splitlines()[1:]]


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def advice_dict(findings: list[Finding], thresholds: dict | None = None) -> dict:
    return {"version": ADVICE_VERSION, "thresholds": thresholds_with(thresholds),
            "findings": [_jsonable(asdict(f)) for f in findings]}


def write_advice_json(findings: list[Finding], path, thresholds: dict | None = None) -> None:
    """`advice.json` (versioned, sorted keys): written to a temp file in the same directory, then renamed."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(advice_dict(findings, thresholds), indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def cli_main(argv) -> int:
    from qbuild.advise_cli import main
    return main(argv)
