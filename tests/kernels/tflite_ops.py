"""Runs one operator of a .tflite through qbuild's kernels (via the ctypes shim) and checks it against TFLM.

This is a tiny Python stand-in for the runtime core's glue: it reads the builtin options, tensor shapes and
quantization from the flatbuffer (tflite_micro's schema_py_generated object API) and calls the shim.
"""
import ctypes
import subprocess
from pathlib import Path

import numpy as np

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as S

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "runtime" / "kernels"
OP = S.BuiltinOperator
_TYPES = {S.TensorType.FLOAT32: np.float32, S.TensorType.INT8: np.int8, S.TensorType.INT32: np.int32,
          S.TensorType.INT64: np.int64}
_I8 = ctypes.POINTER(ctypes.c_int8)
_I32 = ctypes.POINTER(ctypes.c_int32)
_F32 = ctypes.POINTER(ctypes.c_float)


def build_shim(out_dir, compiler="g++", extra=()):
    """Compiles runtime/kernels + the shim into a shared library and returns its ctypes handle."""
    out = Path(out_dir) / "libqbuild_kernels_shim.so"
    sources = sorted(str(p) for p in KERNELS.glob("*.cc")) + [str(Path(__file__).with_name("shim.cc"))]
    cmd = [compiler, "-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-exceptions", "-fno-rtti",
           "-ffp-contract=off", "-shared", "-fPIC", *extra, "-o", str(out), *sources]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    lib = ctypes.CDLL(str(out))
    for name in ("shim_conv", "shim_fc", "shim_pool", "shim_mean", "shim_softmax", "shim_binary", "shim_unary",
                 "shim_quantize", "shim_dequantize", "shim_params_sizes"):
        getattr(lib, name).restype = ctypes.c_int
    return lib


def _p(a, ptype):
    return None if a is None else a.ctypes.data_as(ptype)


def _i32(values):
    return np.ascontiguousarray(np.asarray(values, dtype=np.int32))


def _shape4(shape):
    shape = [int(d) for d in shape]
    assert len(shape) <= 4, shape
    return _i32([1] * (4 - len(shape)) + shape)


class Model:
    """A parsed .tflite (first subgraph) with constant tensor values."""

    def __init__(self, data: bytes):
        self.data = data
        self.m = S.ModelT.InitFromPackedBuf(data, 0)
        self.g = self.m.subgraphs[0]

    def opcode(self, op):
        c = self.m.operatorCodes[op.opcodeIndex]
        return max(c.builtinCode, c.deprecatedBuiltinCode)

    def tensor(self, i):
        return self.g.tensors[i]

    def quant(self, i):
        q = self.tensor(i).quantization
        return float(q.scale[0]), int(q.zeroPoint[0])

    def scales(self, i):
        return np.ascontiguousarray(np.asarray(self.tensor(i).quantization.scale, dtype=np.float32))

    def constant(self, i):
        t = self.tensor(i)
        buf = self.m.buffers[t.buffer].data
        if buf is None or len(buf) == 0:
            return None
        return np.frombuffer(np.asarray(buf, dtype=np.uint8).tobytes(), dtype=_TYPES[t.type]).reshape(t.shape)

    def ops(self):
        return list(self.g.operators)


def run_op(lib, model, op, value):
    """Our output for `op`; value(i) returns tensor i's value (constants or TFLM's intermediate)."""
    code = model.opcode(op)
    ins = [int(i) for i in op.inputs]
    out_i = int(op.outputs[0])
    out_t = model.tensor(out_i)
    out = np.zeros(out_t.shape, dtype=_TYPES[out_t.type])
    opts = op.builtinOptions

    def arr(i, dtype):
        return np.ascontiguousarray(value(i), dtype=dtype)

    if code in (OP.CONV_2D, OP.DEPTHWISE_CONV_2D):
        dw = code == OP.DEPTHWISE_CONV_2D
        o = _i32([opts.padding, opts.strideH, opts.strideW, opts.dilationHFactor, opts.dilationWFactor,
                  opts.fusedActivationFunction, opts.depthMultiplier if dw else 0])
        x, w = arr(ins[0], np.int8), arr(ins[1], np.int8)
        bias = arr(ins[2], np.int32) if len(ins) > 2 and ins[2] >= 0 else None
        fs = model.scales(ins[1])
        s_in, z_in = model.quant(ins[0])
        s_out, z_out = model.quant(out_i)
        rc = lib.shim_conv(int(dw), _p(o, _I32), _p(_shape4(x.shape), _I32), _p(_shape4(w.shape), _I32),
                           _p(_shape4(out.shape), _I32), ctypes.c_float(s_in), z_in, _p(fs, _F32), len(fs),
                           ctypes.c_float(s_out), z_out, _p(x, _I8), _p(w, _I8), _p(bias, _I32), _p(out, _I8))
    elif code == OP.FULLY_CONNECTED:
        x, w = arr(ins[0], np.int8), arr(ins[1], np.int8)
        bias = arr(ins[2], np.int32) if len(ins) > 2 and ins[2] >= 0 else None
        fs = model.scales(ins[1])
        _, f_zp = model.quant(ins[1])
        s_in, z_in = model.quant(ins[0])
        s_out, z_out = model.quant(out_i)
        depth, accum = w.shape
        rc = lib.shim_fc(opts.fusedActivationFunction, ctypes.c_float(s_in), z_in, _p(fs, _F32), len(fs), f_zp,
                         ctypes.c_float(s_out), z_out, x.size // accum, accum, depth, _p(x, _I8), _p(w, _I8),
                         _p(bias, _I32), _p(out, _I8))
    elif code in (OP.AVERAGE_POOL_2D, OP.MAX_POOL_2D):
        x = arr(ins[0], np.int8)
        o = _i32([opts.padding, opts.strideH, opts.strideW, opts.filterHeight, opts.filterWidth,
                  opts.fusedActivationFunction])
        s_in, z_in = model.quant(ins[0])
        s_out, z_out = model.quant(out_i)
        rc = lib.shim_pool(int(code == OP.MAX_POOL_2D), _p(o, _I32), _p(_shape4(x.shape), _I32),
                           _p(_shape4(out.shape), _I32), ctypes.c_float(s_in), z_in, ctypes.c_float(s_out), z_out,
                           _p(x, _I8), _p(out, _I8))
    elif code == OP.MEAN:
        x = arr(ins[0], np.int8)
        axes = _i32(np.asarray(value(ins[1])).reshape(-1))
        s_in, z_in = model.quant(ins[0])
        s_out, z_out = model.quant(out_i)
        dims = _i32(x.shape)
        rc = lib.shim_mean(_p(dims, _I32), len(dims), _p(axes, _I32), len(axes), ctypes.c_float(s_in), z_in,
                           ctypes.c_float(s_out), z_out, _p(x, _I8), _p(out, _I8))
    elif code == OP.SOFTMAX:
        x = arr(ins[0], np.int8)
        s_in, z_in = model.quant(ins[0])
        s_out, z_out = model.quant(out_i)
        depth = x.shape[-1]
        rc = lib.shim_softmax(ctypes.c_float(opts.beta), ctypes.c_float(s_in), z_in, ctypes.c_float(s_out), z_out,
                              x.size // depth, depth, _p(x, _I8), _p(out, _I8))
    elif code in (OP.ADD, OP.MUL):
        a, b = arr(ins[0], np.int8), arr(ins[1], np.int8)
        rank = max(a.ndim, b.ndim, out.ndim)
        s1, z1 = model.quant(ins[0])
        s2, z2 = model.quant(ins[1])
        so, zo = model.quant(out_i)
        rc = lib.shim_binary(int(code == OP.MUL), opts.fusedActivationFunction if opts else 0,
                             _p(_shape4((1,) * (rank - a.ndim) + a.shape), _I32),
                             _p(_shape4((1,) * (rank - b.ndim) + b.shape), _I32), _p(_shape4(out.shape), _I32),
                             ctypes.c_float(s1), z1, ctypes.c_float(s2), z2, ctypes.c_float(so), zo, _p(a, _I8),
                             _p(b, _I8), _p(out, _I8))
    elif code == OP.QUANTIZE and model.tensor(ins[0]).type == S.TensorType.FLOAT32:
        x = arr(ins[0], np.float32)
        s_out, z_out = model.quant(out_i)
        rc = lib.shim_quantize(ctypes.c_float(s_out), z_out, x.size, _p(x, _F32), _p(out, _I8))
    elif code == OP.DEQUANTIZE:
        x = arr(ins[0], np.int8)
        s_in, z_in = model.quant(ins[0])
        rc = lib.shim_dequantize(ctypes.c_float(s_in), z_in, x.size, _p(x, _I8), _p(out, _F32))
    elif code in _UNARY:
        x = arr(ins[0], np.int8)
        s_in, z_in = model.quant(ins[0])
        s_out, z_out = model.quant(out_i)
        rc = lib.shim_unary(_UNARY[code], ctypes.c_float(s_in), z_in, ctypes.c_float(s_out), z_out, x.size,
                            _p(x, _I8), _p(out, _I8))
    elif code == OP.RESHAPE:
        return np.asarray(value(ins[0])).reshape(out.shape)
    else:
        raise NotImplementedError(f"op {code}")
    assert rc == 0, f"prepare failed for op {op_name(code)}: status {rc}"
    return out


_UNARY = {OP.RELU: 0, OP.RELU6: 1, OP.LOGISTIC: 2, OP.TANH: 3, OP.HARD_SWISH: 4, OP.QUANTIZE: 5}


def op_name(code):
    for k, v in vars(OP).items():
        if v == code and not k.startswith("_"):
            return k
    return str(code)


def tflm_tensor_getter(model, interpreter):
    """value(i): a constant from the flatbuffer, else TFLM's tensor i after invoke (kPreserveAllTensors)."""
    def value(i):
        c = model.constant(i)
        if c is not None:
            return c
        d = interpreter.GetTensor(i, 0)
        return np.asarray(d["tensor_data"]).reshape(d["shape"])
    return value


def compare_all_ops(lib, data: bytes, inputs, arena_size=2_000_000):
    """Runs `data` in TFLM on `inputs` (list of arrays), then every op through our kernels on TFLM's own
    input tensors. Returns [(op name, differing values, total values)]."""
    from tflite_micro.python.tflite_micro import runtime
    model = Model(data)
    it = runtime.Interpreter.from_bytes(data, arena_size=arena_size,
                                        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    # The converter may reorder model inputs: match test arrays to input tensors by shape.
    pending = list(inputs)
    for k, ti in enumerate(model.g.inputs):
        want = tuple(int(d) for d in model.tensor(int(ti)).shape)
        j = next(j for j, x in enumerate(pending) if tuple(x.shape) == want)
        it.set_input(pending.pop(j), k)
    it.invoke()
    value = tflm_tensor_getter(model, it)
    results = []
    for op in model.ops():
        ours = run_op(lib, model, op, value)
        ref = value(int(op.outputs[0]))
        ours = np.asarray(ours).reshape(-1)
        ref = np.asarray(ref).reshape(-1)
        if ours.dtype == np.float32:
            diff = int(np.count_nonzero(ours.view(np.uint32) != ref.astype(np.float32).view(np.uint32)))
        else:
            diff = int(np.count_nonzero(ours != ref))
        results.append((op_name(model.opcode(op)), diff, ref.size))
    return results


def mutate(data: bytes, fn) -> bytes:
    """Edits a .tflite through the schema's object API: fn(ModelT) changes it in place; returns new bytes."""
    import flatbuffers
    m = S.ModelT.InitFromPackedBuf(data, 0)
    fn(m)
    b = flatbuffers.Builder(len(data) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())
