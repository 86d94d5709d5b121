"""Read-only view of a .tflite's ops and tensors (no TensorFlow): names, types, op codes."""
from __future__ import annotations

from dataclasses import dataclass

from qbuild.errors import QbuildError

TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool", 7: "int16",
              9: "int8", 10: "float64"}


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    return s


def op_names() -> dict[int, str]:
    s = _schema()
    return {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}


@dataclass
class Op:
    name: str
    inputs: list  # [(tensor name, type name)]
    outputs: list


def read_ops(tflite: bytes, where: str = "model") -> list[Op]:
    s = _schema()
    try:
        if len(tflite) < 8 or tflite[4:8] != b"TFL3":
            raise ValueError("missing TFL3 identifier")
        model = s.Model.GetRootAsModel(tflite, 0)
        names = op_names()
        sg = model.Subgraphs(0)

        def tensor(i):
            t = sg.Tensors(i)
            return (t.Name().decode("utf-8", "replace"), TYPE_NAMES.get(t.Type(), str(t.Type())))

        ops = []
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            code = model.OperatorCodes(op.OpcodeIndex())
            name = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
            ins = [tensor(op.Inputs(j)) for j in range(op.InputsLength()) if op.Inputs(j) >= 0]
            outs = [tensor(op.Outputs(j)) for j in range(op.OutputsLength())]
            ops.append(Op(name, ins, outs))
        return ops
    except Exception as e:
        raise QbuildError(f"{where} is not a valid .tflite flatbuffer ({e}); regenerate it with the TFLite converter") from None
