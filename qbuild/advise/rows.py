"""Advisor check 4: flagged quantization-report rows -> the Keras layer behind each and its most likely cause."""
from __future__ import annotations



from qbuild.advise.findings import CHECK_GROUPS, Finding, fmt_number, thresholds_with
from qbuild.advise.graph import (ACTIVATION_LAYERS, BATCHNORM, LAYERNORM, SCALE_SHARING_OPS, LayerGraph, check_conversion,
                                 is_submodel, layer_graph, lint_keras, tensor_layers)

# 4. report advice -----------------------------------------------------------------------------------------------------
def advise_report(report_rows: list[dict], keras_model, tflite_bytes: bytes | None = None,
                  thresholds: dict | None = None, context: list[Finding] | None = None) -> list[Finding]:
    """Flagged report rows (range or rmse/scale above threshold) -> the Keras layer and its most likely cause.

    `context`: findings already computed (input, lint, conversion); computed here from the model when not given.
    """
    th = thresholds_with(thresholds)
    g = layer_graph(keras_model)
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
        what = " and ".join(x for x, bad in ((f"range {rng:.1f} > {fmt_number(th['range'])}", bad_range),
                                             (f"rmse/scale {rs:.3f} > {fmt_number(th['rmse_scale'])}", bad_rmse)) if bad)
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


def _owner(layers: list, g: LayerGraph) -> str | None:
    """The layer an op belongs to: the computing one, not a BatchNorm or activation fused into it (a BatchNorm can
    also fold forward into the next Dense: 'bn_fc/mul_1;...;out/MatMul' belongs to 'out'), nor the nested model
    that contains it."""
    leaves = [n for n in layers if not is_submodel(g, n)]
    compute = [n for n in leaves if g.cls[n] not in ACTIVATION_LAYERS | {BATCHNORM}]
    return (compute or leaves or layers or [None])[0]


def _output_alias(tensor_name: str, g: LayerGraph) -> list:
    """The converter renames the model's output tensor ('StatefulPartitionedCall:0', 'Identity'): the last layer."""
    if tensor_name.startswith(("StatefulPartitionedCall", "Identity")):
        top = [n for n in g.order if g.depth[n] == 0 and not g.children.get(n) and g.parents.get(n)]
        return top[-1:]
    return []


def report_layer(tensor_name: str, keras_model) -> str | None:
    """The Keras layer a report row / .tflite tensor belongs to (None for converter-made tensors like tfl.quantize)."""
    g = layer_graph(keras_model)
    layers = tensor_layers(tensor_name, g.order) or _output_alias(tensor_name, g)
    return _owner(sorted(layers, key=g.order.index), g)


def _row_brief(row: dict) -> dict:
    return {"op_name": row["op_name"], "tensor_name": row["tensor_name"], "scale": float(row["scale"]),
            "range": float(row["range"]), "rmse/scale": float(row["rmse/scale"])}


def _first_compute_layers(g: LayerGraph) -> set:
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


def normalizes_its_input(keras_model) -> bool:
    """Does the model scale its own input first (Rescaling/Normalization)? The converter folds a Rescaling into the
    next Conv/Dense, and integer raw values quantize exactly, so the input range checks do not apply."""
    g = layer_graph(keras_model)
    return any(g.cls[n] in ("Rescaling", "Normalization") for n in _first_compute_layers(g))


def _normalized(layers: list, g: LayerGraph) -> bool:
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
        return "unnormalized_activations", (f"activations of {name} span more than {fmt_number(float(row['range']))} units: "
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
