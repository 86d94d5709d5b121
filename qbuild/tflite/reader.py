"""The one reader of a .tflite: parsed once into a `Graph` (ops, tensors, shapes, types, quantization, buffers,
metadata) that the planner, the op checks, the firmware's I/O details, the parameters and the advisor all take.

No TensorFlow: the TFLite schema's generated Python from the `tflite_micro` wheel. The generated accessors do not
check offsets, so every error they raise on corrupt bytes becomes one QbuildError naming the file.
"""
from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field

from qbuild.errors import QbuildError

# TensorType id -> (name, bytes per element; 0 = not a type the runtime stores).
TYPES = {0: ("float32", 4), 1: ("float16", 2), 2: ("int32", 4), 3: ("uint8", 1), 4: ("int64", 8), 5: ("string", 0),
         6: ("bool", 1), 7: ("int16", 2), 9: ("int8", 1), 10: ("float64", 8)}
RUNTIME_TYPES = {"float32", "int32", "uint8", "int64", "bool", "int16", "int8"}  # what the runtime's loader accepts

# What the generated (unchecked) schema accessors raise on corrupt bytes.
CORRUPT = (struct.error, IndexError, ValueError, AttributeError, TypeError, OverflowError)


def schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated
    return schema_py_generated


@functools.lru_cache(maxsize=1)
def op_names() -> dict[int, str]:
    s = schema()
    return {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}


def type_name(type_id: int) -> str:
    return TYPES.get(type_id, (str(type_id), 0))[0]


@dataclass
class Tensor:
    index: int
    name: str
    type: str                     # "int8", "float32", ... (the id as a string when unknown)
    shape: list[int]
    const: bool                   # has data in its buffer (weights, biases, constant operands)
    scales: list[float] = field(default_factory=list)
    zero_points: list[int] = field(default_factory=list)
    variable: bool = False        # op state kept across invokes (LSTM): persistent arena, never planned

    @property
    def element_bytes(self) -> int:
        """Bytes per element of the types the runtime stores; 0 for any other (the runtime refuses those)."""
        return next((b for n, b in TYPES.values() if n == self.type), 0) if self.type in RUNTIME_TYPES else 0

    def bytes(self) -> int:
        n = self.element_bytes
        for d in self.shape:
            n *= d
        return n


@dataclass
class Op:
    index: int
    name: str                     # builtin name (CONV_2D, ...), or the custom code, or BUILTIN_<n>
    inputs: list[int]             # tensor indices (-1 = optional input left out)
    outputs: list[int]


@dataclass
class Graph:
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    metadata: dict[str, bytes]
    subgraphs: int

    def tensor(self, i: int) -> Tensor:
        return self.tensors[i]

    def op_tensors(self, op: Op, which: str = "inputs") -> list[Tensor]:
        return [self.tensors[i] for i in getattr(op, which) if i >= 0]

    def output_name(self, op: Op) -> str:
        return self.tensors[op.outputs[0]].name if op.outputs else "?"

    def io(self, which: str) -> dict:
        """Type, shape and (first) quantization of the first graph input or output: {type, shape, scale, zero_point}."""
        t = self.tensors[(self.inputs if which == "input" else self.outputs)[0]]
        return {"type": t.type, "shape": list(t.shape), "scale": t.scales[0] if t.scales else 0.0,
                "zero_point": t.zero_points[0] if t.zero_points else 0}


def _ints(getter, length) -> list[int]:
    return [int(v) for v in getter()] if length else []


def read_model(data: bytes, what: str = "model") -> Graph:
    """Parse a .tflite (subgraph 0; the count is kept for the runtime's one-subgraph check)."""
    if len(data) < 16 or data[4:8] != b"TFL3":
        raise QbuildError(f"{what} is not a .tflite FlatBuffer (no 'TFL3' identifier); pass a TensorFlow Lite model "
                          "made by the TFLite converter")
    root = struct.unpack_from("<I", data, 0)[0]
    if not 8 <= root <= len(data) - 4:
        raise QbuildError(f"{what} is a corrupt .tflite (bad root table offset); re-generate it with the TFLite converter")
    s = schema()
    names = op_names()
    try:
        m = s.Model.GetRootAsModel(data, 0)
        if m.SubgraphsLength() < 1:
            raise QbuildError(f"{what} is a corrupt .tflite (no subgraph); re-generate it with the TFLite converter")
        sg = m.Subgraphs(0)
        tensors = []
        for i in range(sg.TensorsLength()):
            t = sg.Tensors(i)
            buf = m.Buffers(t.Buffer()) if t.Buffer() < m.BuffersLength() else None
            q = t.Quantization()
            tensors.append(Tensor(
                index=i, name=(t.Name() or b"").decode("utf-8", "replace"), type=type_name(t.Type()),
                shape=_ints(t.ShapeAsNumpy, t.ShapeLength()),
                const=buf is not None and buf.DataLength() > 0,
                scales=[float(v) for v in q.ScaleAsNumpy()] if q is not None and q.ScaleLength() else [],
                zero_points=[int(v) for v in q.ZeroPointAsNumpy()] if q is not None and q.ZeroPointLength() else [],
                variable=bool(t.IsVariable())))
        ops = []
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            code = m.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            name = (code.CustomCode() or b"").decode("utf-8", "replace") or names.get(builtin, f"BUILTIN_{builtin}")
            ops.append(Op(i, name, _ints(op.InputsAsNumpy, op.InputsLength()),
                          _ints(op.OutputsAsNumpy, op.OutputsLength())))
        metadata = {}
        for i in range(m.MetadataLength()):
            meta = m.Metadata(i)
            buf = m.Buffers(meta.Buffer())
            metadata[(meta.Name() or b"").decode("utf-8", "replace")] = (
                buf.DataAsNumpy().tobytes() if buf is not None and buf.DataLength() else b"")
        graph = Graph(tensors, ops, _ints(sg.InputsAsNumpy, sg.InputsLength()),
                      _ints(sg.OutputsAsNumpy, sg.OutputsLength()), metadata, m.SubgraphsLength())
    except QbuildError:
        raise
    except CORRUPT as e:
        raise QbuildError(f"{what} is a corrupt .tflite ({type(e).__name__}: {e}); re-generate it with the TFLite "
                          "converter") from None
    n = len(graph.tensors)
    for op in graph.ops:
        if any(not -1 <= t < n for t in op.inputs) or any(not 0 <= t < n for t in op.outputs):
            raise QbuildError(f"{what} is a corrupt .tflite (op {op.index} {op.name} names a tensor outside 0..{n - 1}); "
                              "re-generate it with the TFLite converter")
    if any(not 0 <= t < n for t in graph.inputs + graph.outputs) or not graph.inputs or not graph.outputs:
        raise QbuildError(f"{what} is a corrupt .tflite (graph inputs/outputs missing or out of range); re-generate it")
    return graph


def as_graph(model: "bytes | Graph", what: str = "model") -> Graph:
    """Callers take either bytes or an already parsed Graph: bytes are parsed once here."""
    return model if isinstance(model, Graph) else read_model(model, what)


def unpack_model(data: bytes, what: str = "model"):
    """The schema's object API (ModelT) for rewriting a model (the parameters writer); checked like read_model."""
    read_model(data, what)
    try:
        return schema().ModelT.InitFromPackedBuf(data, 0)
    except CORRUPT as e:
        raise QbuildError(f"{what} is a corrupt .tflite ({e}); re-generate it") from None
