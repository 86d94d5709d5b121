"""Keras model -> int8 or 16x8 .tflite (float32 or int8 I/O) with a static batch of 1, plus the post-conversion type
check."""
from __future__ import annotations

import re

import numpy as np

from qbuild.errors import QbuildError
from qbuild.model.spec import ops_set_names
from qbuild.model.tfenv import captured_fds, import_tf
from qbuild.tflite.reader import Graph, as_graph

EDGE_OPS = ("QUANTIZE", "DEQUANTIZE")
SHAPE_OPS = ("SHAPE", "STRIDED_SLICE", "PACK")
INT_TYPES = ("int8", "int32", "bool")  # int32: biases and shape operands; bool: comparison results
INT16X8_TYPES = INT_TYPES + ("int16", "int64")  # 16x8: int16 activations, int64 biases


def representative_samples(x_float: np.ndarray, max_samples: int, seed: int = 0) -> list[np.ndarray]:
    """A deterministic subset, materialised (the debugger consumes generators), one (1, ...) array per sample."""
    n = len(x_float)
    idx = np.arange(n) if n <= max_samples else np.sort(np.random.RandomState(seed).choice(n, max_samples, replace=False))
    return [x_float[i:i + 1] for i in idx]


RECURRENT = ("LSTM", "GRU", "SimpleRNN")


def unrolled(keras_model):
    """The model with its recurrent layers unrolled over their (static) time steps, same weights.

    The converter's TensorList lowering of a Keras 3 LSTM crashes TensorFlow 2.21 natively (SIGSEGV, measured with a
    bare TFLiteConverter); unrolled, the same layer converts to FULLY_CONNECTED/SPLIT/LOGISTIC/TANH/MUL/ADD ops with
    the same arithmetic. Models without recurrent layers are returned as they are."""
    cfg = keras_model.get_config()
    layers = []  # recurrent layer configs, also the ones a Bidirectional wrapper holds
    for layer in cfg.get("layers", []):
        if layer.get("class_name") in RECURRENT:
            layers.append(layer)
        elif layer.get("class_name") == "Bidirectional":
            layers += [layer["config"][k] for k in ("layer", "backward_layer")
                       if (layer["config"].get(k) or {}).get("class_name") in RECURRENT]
    if not layers:
        return keras_model
    for layer in layers:
        layer["config"]["unroll"] = True
    try:
        clone = type(keras_model).from_config(cfg)
        clone.set_weights(keras_model.get_weights())
    except Exception as e:
        names = ", ".join(layer["config"].get("name", "?") for layer in layers)
        raise QbuildError(f"recurrent layer(s) {names} cannot be unrolled for conversion ({type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}); give keras.Input a fixed number of time "
                          "steps") from None
    return clone


_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")  # what TensorFlow accepts as a name scope


def check_layer_names(keras_model) -> None:
    """TensorFlow traces each layer under a name scope and fails deep inside on names with spaces, '<', '&', quotes."""
    def walk(model):
        for layer in getattr(model, "layers", []):
            yield layer
            yield from walk(layer)

    bad = sorted({layer.name for layer in walk(keras_model) if not _SCOPE_NAME.match(layer.name)})
    if bad:
        shown = ", ".join(repr(n) for n in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise QbuildError(f"Keras layer name(s) {shown} cannot be converted: TensorFlow accepts only letters, digits "
                          "and _ . - / > in layer names; rename the layer(s) (name=...) and save the model again")


class ConverterFactory:
    """Makes fresh converters for one model: QuantizationDebugger mutates its converter, so never reuse one."""

    def __init__(self, keras_model):
        tf = import_tf()
        self.tf = tf
        check_layer_names(keras_model)
        keras_model = unrolled(keras_model)
        shape = [1] + list(keras_model.inputs[0].shape[1:])
        if any(d is None for d in shape):
            raise QbuildError(f"model input shape {tuple(keras_model.inputs[0].shape)} has an unknown dimension besides "
                              "the batch; give keras.Input a fully known shape")
        self.input_shape = shape

        class Holder(tf.Module):
            pass

        # A concrete function with a [1, ...] signature: Flatten/Reshape lower to one static RESHAPE (FACTS.md).
        self.holder = Holder()
        self.holder.vars = [v.value for v in keras_model.variables]

        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
        def serve(x):
            return keras_model(x, training=False)

        self.concrete = serve.get_concrete_function()

    def make(self, rep: list, settings: dict):
        tf = self.tf
        conv = tf.lite.TFLiteConverter.from_concrete_functions([self.concrete], self.holder)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_ops = [getattr(tf.lite.OpsSet, n) for n in ops_set_names(
            settings.get("supported_ops", ["TFLITE_BUILTINS_INT8"]))]
        conv.representative_dataset = lambda: ([r] for r in rep)
        conv.inference_input_type = tf.as_dtype(settings["inference_input_type"])
        conv.inference_output_type = tf.as_dtype(settings["inference_output_type"])
        return conv


def convert(factory: ConverterFactory, rep: list, settings: dict) -> bytes:
    """Full int8 (or 16x8, supported_ops) conversion; with denylisted nodes/ops, selective quantization through the
    debugger."""
    deny_nodes, deny_ops = list(settings.get("denylisted_nodes") or []), list(settings.get("denylisted_ops") or [])
    with captured_fds() as chatter:
        try:
            if deny_nodes or deny_ops:
                tf = factory.tf
                conv = factory.make(rep, settings)
                conv.target_spec.supported_ops = list(conv.target_spec.supported_ops) + [tf.lite.OpsSet.TFLITE_BUILTINS]
                opts = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=deny_nodes or None,
                                                                      denylisted_ops=deny_ops or None)
                dbg = tf.lite.experimental.QuantizationDebugger(converter=conv, debug_dataset=lambda: ([r] for r in rep),
                                                                debug_options=opts)
                return bytes(dbg.get_nondebug_quantized_model())
            return bytes(factory.make(rep, settings).convert())
        except Exception as e:
            err = e
    found = re.findall(r"error: ([^\n]+)", str(err) + "\n" + chatter())
    detail = found[0].strip() if found else f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
    mode = "16x8" if "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8" in (settings.get("supported_ops") or
                                                                                     ()) else "int8"
    raise QbuildError(f"TFLite could not quantize the model to {mode}: {detail}; replace the op named there with one "
                      f"TFLite supports in {mode}, or keep it in float with tflite_converter['denylisted_ops']")


def check_int8(tflite: bytes | Graph, allow_float: tuple = (), mode: str = "int8") -> list[str]:
    """Ops that do not run on int8 tensors (int16 activations and int64 biases too in 16x8 mode; QUANTIZE/DEQUANTIZE
    at the edges excepted), one line each."""
    g = as_graph(tflite, "converted model")
    allowed = INT16X8_TYPES if mode == "int16x8" else INT_TYPES
    problems = []
    # A leaked dynamic batch is SHAPE and the STRIDED_SLICE/PACK computing on its result; those ops on data
    # (Cropping2D, an unrolled GRU's gate slices, SimpleRNN's return_sequences) are ordinary int8 ops.
    shape_values: set[int] = set()
    for op in g.ops:
        if op.name in EDGE_OPS:
            continue
        if op.name in SHAPE_OPS and (op.name == "SHAPE" or shape_values.intersection(op.inputs)):
            shape_values.update(op.outputs)
            problems.append(f"{op.name} at '{g.output_name(op)}' (a dynamic batch leaked into the graph)")
            continue
        tensors = g.op_tensors(op, "inputs") + g.op_tensors(op, "outputs")
        other = sorted({t.type for t in tensors if t.type not in allowed and t.name not in allow_float})
        if other:
            problems.append(f"{op.name} at '{g.output_name(op)}' runs on {', '.join(other)} tensors")
    return problems
