"""Model parameters stored in a .tflite's metadata the way Silicon Labs MLTK does (`SL_PARAMSv1`).

Layout (MLTK `dictionary.fbs`): `Model.metadata` entry named `SL_PARAMSv1` -> buffer holding a FlatBuffer
`Dictionary{schema_version:uint8; entries:[Entry]}`, `Entry{key:string; value:Value}`. `Value` is a union of one-field
tables; the type ids 1..16 are `_TYPES` below, in order. Entries keep the dict's insertion order, as MLTK does.

Writer type rules (MLTK's): bool -> boolean; int >= 0 -> the smallest unsigned type; int < 0 -> the smallest signed
type; float -> f32 when 1.175494351e-38 <= |v| <= 3.402823466e38, else f64 (so 0.0 is a double); str; list of str ->
str_list; list of int -> int32_list; list of float (ints allowed among them) -> float_list; bytes -> bin.
MLTK itself only takes the f32 branch for positive values; readers (ours, MLTK's) accept any member, so both interoperate.
The reader returns f32 values as the shortest decimal that rounds to the same float32 (0.1, not 0.10000000149011612),
so re-encoding gives the same bits.
"""
import argparse
import datetime
import hashlib
import json
import struct
import sys
from pathlib import Path

import flatbuffers
from flatbuffers import number_types as N

from qbuild.codegen.cformat import shortest_float32
from qbuild.errors import QbuildError
from qbuild.tflite.reader import CORRUPT, Graph, as_graph, schema, unpack_model

METADATA_NAME = "SL_PARAMSv1"
SCHEMA_VERSION = 1

# Union member names; the type id is the 1-based position (0 is NONE). Scalar members map to their flatbuffers flags.
_TYPES = ("boolean", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64",
          "str", "str_list", "int32_list", "float_list", "bin")
TYPE_ID = {name: i + 1 for i, name in enumerate(_TYPES)}
_SCALAR_FLAGS = {
    "boolean": N.BoolFlags, "i8": N.Int8Flags, "u8": N.Uint8Flags, "i16": N.Int16Flags, "u16": N.Uint16Flags,
    "i32": N.Int32Flags, "u32": N.Uint32Flags, "i64": N.Int64Flags, "u64": N.Uint64Flags,
    "f32": N.Float32Flags, "f64": N.Float64Flags,
}
_UNSIGNED = (("u8", 8), ("u16", 16), ("u32", 32), ("u64", 64))
_SIGNED = (("i8", 8), ("i16", 16), ("i32", 32), ("i64", 64))
_F32_MIN, _F32_MAX = 1.175494351e-38, 3.402823466e38

# Keys of default_params(), in the order they are written.
DEFAULT_KEYS = ("name", "version", "date", "hash", "classes", "runtime_memory_size")


# ---------------------------------------------------------------------------------------------------------------------
# Values <-> union members

def _plain(value):
    """numpy scalars/arrays and tuples -> plain Python values; other values unchanged."""
    if hasattr(value, "tolist") and not isinstance(value, (bytes, bytearray)):
        return value.tolist()  # numpy scalar or array
    if isinstance(value, tuple):
        return list(value)
    return value


def value_type(key, value) -> str:
    """The union member MLTK's writer picks for `value` (see the module docstring)."""
    value = _plain(value)
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        for name, bits in (_UNSIGNED if value >= 0 else _SIGNED):
            if (value < (1 << bits)) if value >= 0 else (value >= -(1 << (bits - 1))):
                return name
        raise QbuildError(f"model parameter '{key}': integer {value} does not fit in 64 bits; store it as a string")
    if isinstance(value, float):
        return "f32" if _F32_MIN <= abs(value) <= _F32_MAX else "f64"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bytes, bytearray)):
        return "bin"
    if isinstance(value, list):
        items = [_plain(v) for v in value]
        if all(isinstance(v, str) for v in items):
            return "str_list"  # also the empty list, as MLTK
        if all(isinstance(v, int) and not isinstance(v, bool) for v in items):
            if all(-(1 << 31) <= v < (1 << 31) for v in items):
                return "int32_list"
            raise QbuildError(f"model parameter '{key}': list values must fit in int32; store them as floats or bytes")
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            return "float_list"
        raise QbuildError(f"model parameter '{key}': a list must hold only strings, only ints or only numbers")
    raise QbuildError(f"model parameter '{key}': unsupported type {type(value).__name__}; "
                      "use bool, int, float, str, bytes or a list of str/int/float")


def _build_value(b: flatbuffers.Builder, kind: str, value) -> int:
    """Write the one-field table for `value` as union member `kind`; return its offset."""
    value = _plain(value)
    if kind in _SCALAR_FLAGS:
        b.StartObject(1)
        b.PrependSlot(_SCALAR_FLAGS[kind], 0, value, 0)  # 0 / false is the schema default: omitted, as MLTK does
        return b.EndObject()
    if kind == "str":
        data = b.CreateString(value)
    elif kind == "bin":
        data = b.CreateByteVector(bytes(value))
    elif kind == "str_list":
        strings = [b.CreateString(s) for s in value]
        b.StartVector(4, len(strings), 4)
        for off in reversed(strings):
            b.PrependUOffsetTRelative(off)
        data = b.EndVector()
    else:  # int32_list, float_list
        b.StartVector(4, len(value), 4)
        for v in reversed(value):
            b.PrependInt32(v) if kind == "int32_list" else b.PrependFloat32(float(v))
        data = b.EndVector()
    b.StartObject(1)
    b.PrependUOffsetTRelativeSlot(0, data, 0)
    return b.EndObject()


class _Reader:
    """Bounds-checked FlatBuffer reads (flatbuffers.table.Table silently returns short or wrapped data on bad input)."""

    def __init__(self, buf: bytes):
        self.buf = buf

    def get(self, fmt: str, pos: int):
        if pos < 0 or pos + struct.calcsize(fmt) > len(self.buf):
            raise ValueError(f"read of {fmt} at {pos} is outside the {len(self.buf)}-byte buffer")
        return struct.unpack_from(fmt, self.buf, pos)[0]

    def deref(self, pos: int) -> int:
        return pos + self.get("<I", pos)

    def field(self, table: int, index: int):
        """Absolute position of field `index` of the table at `table`, or None when absent."""
        vtable = table - self.get("<i", table)
        if 4 + 2 * index >= self.get("<H", vtable):
            return None
        offset = self.get("<H", vtable + 4 + 2 * index)
        return table + offset if offset else None

    def vector(self, pos: int, elem_size: int):
        """(first element position, length) of the vector referenced at `pos`."""
        start = self.deref(pos)
        n = self.get("<I", start)
        if start + 4 + n * elem_size > len(self.buf):
            raise ValueError(f"vector of {n} elements at {start} runs past the buffer end")
        return start + 4, n

    def string(self, pos: int) -> str:
        start, n = self.vector(pos, 1)
        return self.buf[start:start + n].decode("utf-8")


def _read_value(r: _Reader, table: int, kind: str):
    """Read the one-field table at `table` as union member `kind` (an absent field is the schema default)."""
    pos = r.field(table, 0)
    if kind in _SCALAR_FLAGS:
        fmt = _SCALAR_FLAGS[kind].packer_type.format
        v = r.get(fmt, pos) if pos is not None else 0
        if kind == "boolean":
            return bool(v)
        return shortest_float32(v) if kind == "f32" else float(v) if kind == "f64" else v
    if kind == "str":
        return r.string(pos) if pos is not None else ""
    if pos is None:
        return b"" if kind == "bin" else []
    if kind == "bin":
        start, n = r.vector(pos, 1)
        return bytes(r.buf[start:start + n])
    start, n = r.vector(pos, 4)
    if kind == "str_list":
        return [r.string(start + 4 * i) for i in range(n)]
    values = list(struct.unpack_from("<%d%s" % (n, "i" if kind == "int32_list" else "f"), r.buf, start))
    return values if kind == "int32_list" else [shortest_float32(v) for v in values]


# ---------------------------------------------------------------------------------------------------------------------
# Dictionary <-> bytes

def encode_params(params: dict) -> bytes:
    """Serialise `params` into an SL_PARAMSv1 Dictionary FlatBuffer, building objects in the order MLTK's writer does."""
    b = flatbuffers.Builder(0)
    entries = []
    for key, value in params.items():
        if not isinstance(key, str) or not key:
            raise QbuildError(f"model parameter key {key!r} must be a non-empty string")
        kind = value_type(key, value)
        key_off = b.CreateString(key)
        value_off = _build_value(b, kind, value)
        b.StartObject(3)
        b.PrependUOffsetTRelativeSlot(0, key_off, 0)
        b.PrependUOffsetTRelativeSlot(2, value_off, 0)
        b.PrependUint8Slot(1, TYPE_ID[kind], 0)
        entries.append(b.EndObject())
    b.StartVector(4, len(entries), 4)
    for off in reversed(entries):
        b.PrependUOffsetTRelative(off)
    entries_off = b.EndVector()
    b.StartObject(2)
    b.PrependUint8Slot(0, SCHEMA_VERSION, 0)
    b.PrependUOffsetTRelativeSlot(1, entries_off, 0)
    b.Finish(b.EndObject())
    return bytes(b.Output())


def decode_params_typed(buf: bytes) -> dict:
    """{key: (union member name, value)} of an SL_PARAMSv1 Dictionary FlatBuffer, in stored order."""
    r = _Reader(bytes(buf))
    try:
        root = r.deref(0)
        pos = r.field(root, 0)
        version = r.get("<B", pos) if pos is not None else 0
        if version > SCHEMA_VERSION:
            raise QbuildError(f"{METADATA_NAME} schema_version {version} is newer than this qbuild reads "
                              f"({SCHEMA_VERSION}); update qbuild")
        entries = {}
        pos = r.field(root, 1)
        start, n = r.vector(pos, 4) if pos is not None else (0, 0)
        for i in range(n):
            entry = r.deref(start + 4 * i)
            key_pos, type_pos, value_pos = r.field(entry, 0), r.field(entry, 1), r.field(entry, 2)
            kind_id = r.get("<B", type_pos) if type_pos is not None else 0
            if key_pos is None or value_pos is None or not 1 <= kind_id <= len(_TYPES):
                raise ValueError(f"entry {i} has no key, no value or the unknown value type {kind_id}")
            kind = _TYPES[kind_id - 1]
            entries[r.string(key_pos)] = (kind, _read_value(r, r.deref(value_pos), kind))
        return entries
    except (ValueError, UnicodeDecodeError, struct.error) as e:
        raise QbuildError(f"{METADATA_NAME} parameters are corrupt ({e}); re-generate the .tflite") from None


def decode_params(buf: bytes) -> dict:
    """Parse an SL_PARAMSv1 Dictionary FlatBuffer (any union member accepted) into a dict, in stored order."""
    return {key: value for key, (_, value) in decode_params_typed(buf).items()}


# ---------------------------------------------------------------------------------------------------------------------
# .tflite metadata

def read_params(tflite: bytes | Graph, what: str = "input") -> dict:
    """The SL_PARAMSv1 parameters of a .tflite (bytes or a parsed Graph), or {} when it has none."""
    g = as_graph(tflite, what)
    if METADATA_NAME not in g.metadata:
        return {}
    try:
        return decode_params(g.metadata[METADATA_NAME])
    except QbuildError as e:
        raise QbuildError(f"{what}: {e}") from None


class _AlignedBuffer:
    """Stands in for BufferT in ModelT.Pack: writes the data 16-byte aligned, as the converter does (TFLM and our
    runtime read int32 bias and float data in place)."""

    def __init__(self, data=None, offset=0, size=0):
        self.data, self.offset, self.size = data, offset, size

    def Pack(self, builder):  # noqa: N802 (object-API protocol)
        data = None
        if self.data is not None:
            payload = self.data.tobytes() if hasattr(self.data, "tobytes") else bytes(self.data)
            builder.StartVector(1, len(payload), 16)
            builder.head -= len(payload)
            builder.Bytes[builder.head:builder.head + len(payload)] = payload
            data = builder.EndVector()
        builder.StartObject(3)
        if data is not None:
            builder.PrependUOffsetTRelativeSlot(0, data, 0)
        builder.PrependUint64Slot(1, self.offset, 0)
        builder.PrependUint64Slot(2, self.size, 0)
        return builder.EndObject()


def embed_params(tflite: bytes, params: dict, what: str = "input") -> bytes:
    """`tflite` with its SL_PARAMSv1 metadata added or replaced by `params`; everything else is kept.

    Re-serialises the model through the schema's object API with every buffer 16-byte aligned. Replacing reuses the
    existing buffer slot, so embed(embed(m, a), b) == embed(m, b) byte for byte.
    """
    model = unpack_model(tflite, what)
    payload = encode_params(params)
    s = schema()
    buffers = model.buffers or []
    if any(b is not None and b.offset > 1 for b in buffers):
        raise QbuildError(f"{what} keeps tensor data outside the FlatBuffer (a >2 GB model); "
                          "parameters can only be embedded in a self-contained .tflite")
    metadata = model.metadata or []
    ours = [m for m in metadata if m.name in (METADATA_NAME, METADATA_NAME.encode())]
    if ours and not 0 <= ours[0].buffer < len(buffers):
        raise QbuildError(f"{what} is a corrupt .tflite (metadata {METADATA_NAME} points at buffer {ours[0].buffer} "
                          f"of {len(buffers)}); re-generate it")
    if ours and _buffer_shared(model, ours[0].buffer):
        metadata.remove(ours[0])
        ours = []
    if ours:
        index = ours[0].buffer
    else:
        index = len(buffers)
        buffers.append(None)
        meta = s.MetadataT()
        meta.name, meta.buffer = METADATA_NAME, index
        metadata.append(meta)
    model.buffers = [_AlignedBuffer(b.data, b.offset, b.size) if b is not None else _AlignedBuffer() for b in buffers]
    model.buffers[index] = _AlignedBuffer(payload)
    model.metadata = metadata
    builder = flatbuffers.Builder(len(tflite) + len(payload) + 4096)
    try:
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    except CORRUPT as e:
        raise QbuildError(f"{what} is a corrupt .tflite ({e}); re-generate it") from None
    return bytes(builder.Output())


def _buffer_shared(model, index: int) -> bool:
    """True when buffer `index` is used by a tensor or by more than one metadata entry (then never overwrite it)."""
    users = sum(1 for m in model.metadata or [] if m.buffer == index)
    users += sum(1 for g in model.subgraphs or [] for t in g.tensors or [] if t.buffer == index)
    return users > 1


def model_hash(tflite: bytes, params: dict) -> str:
    """MLTK-style model hash: md5 of the .tflite embedded with `params` whose 'hash' and 'date' are ''.

    It covers the weights, graph and every other parameter, but not when the model was built.
    """
    blank = dict(params, hash="", date="")
    return hashlib.md5(embed_params(tflite, blank)).hexdigest()


# ---------------------------------------------------------------------------------------------------------------------
# Defaults

def iso_date(when) -> str:
    """`when` (epoch seconds, a datetime or an ISO string) as 'YYYY-MM-DDTHH:MM:SSZ' in UTC."""
    if isinstance(when, str):
        return when
    if isinstance(when, datetime.datetime):
        when = when.timestamp() if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc).timestamp()
    return datetime.datetime.fromtimestamp(int(when), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_params(name: str, version: int, date, hash: str, classes, runtime_memory_size=None) -> dict:
    """The default entries, in this order:

    name (str), version (int), date (str, ISO 8601 UTC; epoch seconds or a datetime are converted), hash (str, hex),
    classes (list of str), runtime_memory_size (int, the planned arena in bytes; omitted when None).
    """
    params = {"name": str(name), "version": int(version), "date": iso_date(date), "hash": str(hash),
              "classes": [str(c) for c in classes]}
    if runtime_memory_size is not None:
        params["runtime_memory_size"] = int(runtime_memory_size)
    return params


# ---------------------------------------------------------------------------------------------------------------------
# CLI

def to_json(params: dict) -> str:
    """Sorted JSON; bytes values become {"bin_hex": "..."}."""
    def encode(v):
        if isinstance(v, (bytes, bytearray)):
            return {"bin_hex": bytes(v).hex()}
        raise TypeError(type(v).__name__)
    return json.dumps(params, sort_keys=True, indent=2, default=encode)


def cli_main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m qbuild params",
                                     description="Print the model parameters (SL_PARAMSv1) of a .tflite as JSON.")
    parser.add_argument("tflite", type=Path, help="path to a .tflite model")
    args = parser.parse_args(argv)
    try:
        data = args.tflite.read_bytes()
    except OSError as e:
        raise QbuildError(f"cannot read {args.tflite}: {e.strerror}; pass the path of a .tflite file") from None
    print(to_json(read_params(data, what=str(args.tflite))))
    return 0


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
