"""The Keras side of the advisor: the model's layer graph, the graph lint, tensor -> layer names, and the
conversion check (BatchNorms left unfolded in the .tflite)."""
from __future__ import annotations

import re
from dataclasses import dataclass


from qbuild.advise.findings import Finding

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
    from qbuild.tflite.plan import SUPPORTED_OPS  # the runtime's op list (plain Python, no TF)
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
class LayerGraph:
    order: list          # layer names, model order (topological for functional models)
    cls: dict            # name -> class name
    cfg: dict            # name -> layer config
    parents: dict        # name -> [parent names]
    children: dict       # name -> [child names]
    depth: dict          # name -> 0 for the model's own layers, 1 inside a nested model, ...


def layer_graph(model) -> LayerGraph:
    """The layer graph from `model.get_config()`; layers of nested models are included (edges inside each model)."""
    g = LayerGraph([], {}, {}, {}, {}, {})
    _add_layers(model.get_config(), g, 0)
    g.children = {n: [] for n in g.order}
    for n, ps in g.parents.items():
        for p in ps:
            g.children.setdefault(p, []).append(n)
    return g


def _add_layers(config: dict, g: LayerGraph, depth: int) -> None:
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
    g = layer_graph(model)
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


def _lint_batchnorm(g: LayerGraph, bn: str) -> list[Finding]:
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


def _lint_layernorm(g: LayerGraph, ln: str) -> list[Finding]:
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


def check_conversion(keras_model, tflite_bytes: bytes, lint: list[Finding] | None = None) -> list[Finding]:
    """Each BatchNormalization folded into its Conv/Dense? Names the ones left as standalone MUL/ADD ops."""
    g = layer_graph(keras_model)
    bns = [n for n in g.order if g.cls[n] == BATCHNORM]
    if not bns:
        return []
    lint = lint if lint is not None else lint_keras(keras_model, supported_activations=None)
    leftovers: dict[str, list] = {}
    from qbuild.tflite.reader import as_graph

    graph = as_graph(tflite_bytes, "converted model")
    for op in graph.ops:
        if op.name not in STANDALONE_BN_OPS:
            continue
        for tensor in (t.name for t in graph.op_tensors(op, "outputs")):
            owners = [n for n in tensor_layers(tensor, g.order) if not is_submodel(g, n)]
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

def is_submodel(g: LayerGraph, name: str) -> bool:
    return isinstance(g.cfg.get(name, {}).get("layers"), list)
