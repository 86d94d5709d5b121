"""qbuild.tflite.params: SL_PARAMSv1 encode/decode, MLTK interop, embedding into real .tflite files (checked by TFLM)."""
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qbuild.tflite import params as P
from qbuild.errors import QbuildError

ROOT = Path(__file__).resolve().parents[1]
MLTK = ROOT / ".cache" / "mltk"
MLTK_WITH_PARAMS = ["anomaly_detection", "image_example1", "tflite_micro_speech"]


def mltk(name: str) -> bytes:
    path = MLTK / f"{name}.tflite"
    if not path.exists():
        pytest.fail(f"{path} missing: run scripts/setup (it extracts the MLTK sample models)")
    return path.read_bytes()


def schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated
    return schema_py_generated


def misaligned_buffers(tflite: bytes) -> list:
    """Indices of buffers whose data does not start on a 16-byte boundary of the file."""
    model = schema().Model.GetRootAs(tflite, 0)
    bad = []
    for i in range(model.BuffersLength()):
        tab = model.Buffers(i)._tab
        if tab.Offset(4) and tab.Vector(tab.Offset(4)) % 16:
            bad.append(i)
    return bad


def run_tflm(tflite: bytes, seed=0):
    """Outputs of TFLM's reference interpreter on a fixed random input."""
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(tflite, arena_size=1 << 20)
    detail = it.get_input_details(0)
    rng = np.random.default_rng(seed)
    if detail["dtype"] == np.float32:
        x = rng.standard_normal(detail["shape"]).astype(np.float32)
    else:
        info = np.iinfo(detail["dtype"])
        x = rng.integers(info.min, info.max, size=detail["shape"], endpoint=True).astype(detail["dtype"])
    it.set_input(x, 0)
    it.invoke()
    return [it.get_output(0).copy()]


EVERY_TYPE = {
    "bool": (True, "boolean"), "false": (False, "boolean"),
    "i8": (-128, "i8"), "i16": (-129, "i16"), "i32": (-(2**31), "i32"), "i64": (-(2**31) - 1, "i64"),
    "u8": (255, "u8"), "zero": (0, "u8"), "u16": (256, "u16"), "u32": (2**16, "u32"), "u64": (2**32, "u64"),
    "u64max": (2**64 - 1, "u64"),
    "f32": (0.0625, "f32"), "f32neg": (-0.1, "f32"), "f64zero": (0.0, "f64"), "f64tiny": (1e-39, "f64"),
    "f64huge": (1e39, "f64"), "str": ('hé said "hi" */ \\ \n', "str"), "empty_str": ("", "str"),
    "str_list": (["rock", "paper", "scissor"], "str_list"), "empty_list": ([], "str_list"),
    "int32_list": ([1, -2, 2**31 - 1, -(2**31)], "int32_list"), "float_list": ([0.5, -1.25, 3], "float_list"),
    "bin": (b"\x00\x01\xfe\xff", "bin"), "samplewise_norm.rescale": (1 / 16, "f32"),
}


def test_round_trip_every_value_type():
    d = {k: v for k, (v, _) in EVERY_TYPE.items()}
    typed = P.decode_params_typed(P.encode_params(d))
    assert list(typed) == list(d)  # stored order = insertion order, as MLTK
    for key, (value, kind) in EVERY_TYPE.items():
        assert typed[key] == (kind, value), key
    assert {kind for _, kind in EVERY_TYPE.values()} == set(P.TYPE_ID)  # all 16 union members exercised


def test_f32_values_read_back_as_shortest_decimal():
    assert P.decode_params(P.encode_params({"x": 0.1, "y": [0.1, 1 / 3]})) == {"x": 0.1, "y": [0.1, 0.33333334]}


def test_numpy_values_and_tuples():
    d = {"a": np.float32(0.0625), "b": np.int64(300), "c": np.array([1, 2], dtype=np.int32), "d": np.bool_(True),
         "e": ("x", "y")}
    typed = P.decode_params_typed(P.encode_params(d))
    assert typed == {"a": ("f32", 0.0625), "b": ("u16", 300), "c": ("int32_list", [1, 2]), "d": ("boolean", True),
                     "e": ("str_list", ["x", "y"])}


@pytest.mark.parametrize("value", [{"a": 1}, [True, False], 2**64, -(2**63) - 1, ["a", 1], [2**31], None, object()])
def test_unsupported_values_are_one_line_errors(value):
    with pytest.raises(QbuildError, match="model parameter 'k'") as e:
        P.encode_params({"k": value})
    assert "\n" not in str(e.value)


def test_bad_key():
    with pytest.raises(QbuildError):
        P.encode_params({"": 1})


@pytest.mark.parametrize("name", MLTK_WITH_PARAMS)
def test_decode_mltk_written_params_and_round_trip(name):
    params = P.read_params(mltk(name))
    assert params["name"] == name and params["version"] == 1
    assert len(params["hash"]) == 32 and params["date"].endswith("Z")
    model = schema().Model.GetRootAs(mltk(name), 0)
    raw = next(model.Buffers(model.Metadata(i).Buffer()).DataAsNumpy().tobytes()
               for i in range(model.MetadataLength()) if model.Metadata(i).Name() == b"SL_PARAMSv1")
    typed = P.decode_params_typed(raw)
    again = P.decode_params_typed(P.encode_params(params))
    assert again == typed  # same values and the same union member for every key


def test_mltk_known_values():
    assert P.read_params(mltk("image_example1")) == {
        "name": "image_example1", "version": 1, "classes": ["rock", "paper", "scissor"],
        "hash": "e8463b1e31855c5e6319493226b8b582", "date": "2021-08-18T16:51:34.028Z",
        "samplewise_norm.rescale": 0, "samplewise_norm.mean": True, "samplewise_norm.std": True}
    speech = P.read_params(mltk("tflite_micro_speech"))
    assert speech["classes"] == ["yes", "no", "_unknown_", "_silence_"]
    assert speech["fe.sample_rate_hz"] == 16000 and speech["volume_db"] == 5.0 and speech["fe.pcan_strength"] == 0.95
    anomaly = P.decode_params_typed(P.encode_params(P.read_params(mltk("anomaly_detection"))))
    assert anomaly["runtime_memory_size"] == ("u16", 5468)
    assert anomaly["samplewise_norm.rescale"] == ("f64", 0.0)  # MLTK: 0.0 is outside the f32 rule


def test_model_without_params_reads_empty():
    assert P.read_params(mltk("image_classification")) == {}


@pytest.mark.parametrize("name", MLTK_WITH_PARAMS + ["image_classification"])
def test_embed_keeps_model_runnable_identical_and_aligned(name):
    original = mltk(name)
    new_params = P.default_params(name, 2, 0, "0" * 32, ["a", "b"], runtime_memory_size=1234)
    new_params["samplewise_norm.rescale"] = 0.0625
    out = P.embed_params(original, new_params)
    assert P.read_params(out) == new_params
    assert misaligned_buffers(out) == []
    for a, b in zip(run_tflm(original), run_tflm(out)):
        np.testing.assert_array_equal(a, b)
    s = schema()
    before, after = s.ModelT.InitFromPackedBuf(original, 0), s.ModelT.InitFromPackedBuf(out, 0)
    assert after.description == before.description and after.version == before.version
    params_index = {m.name: m.buffer for m in after.metadata}[b"SL_PARAMSv1"]
    other_meta = [(m.name, bytes(after.buffers[m.buffer].data)) for m in after.metadata if m.name != b"SL_PARAMSv1"]
    assert other_meta == [(m.name, bytes(before.buffers[m.buffer].data)) for m in before.metadata
                          if m.name != b"SL_PARAMSv1"]
    for i, (b0, b1) in enumerate(zip(before.buffers, after.buffers)):
        if i != params_index:
            assert (b0.data is None and b1.data is None) or bytes(b0.data) == bytes(b1.data), i


def test_embed_replaces_in_place_and_is_reproducible():
    original = mltk("image_example1")
    once = P.embed_params(original, {"name": "x", "rescale": 0.5})
    twice = P.embed_params(P.embed_params(original, {"other": "a much longer value " * 20}), {"name": "x", "rescale": 0.5})
    assert once == twice == P.embed_params(once, {"name": "x", "rescale": 0.5})
    model = schema().Model.GetRootAs(once, 0)
    assert model.BuffersLength() == schema().Model.GetRootAs(original, 0).BuffersLength()
    assert [model.Metadata(i).Name() for i in range(model.MetadataLength())].count(b"SL_PARAMSv1") == 1


def test_embed_appends_when_absent():
    original = mltk("image_classification")
    out = P.embed_params(original, {"k": 1})
    before, after = schema().Model.GetRootAs(original, 0), schema().Model.GetRootAs(out, 0)
    assert after.BuffersLength() == before.BuffersLength() + 1
    assert after.MetadataLength() == before.MetadataLength() + 1


@pytest.mark.parametrize("data,match", [(b"", "not a .tflite"), (b"hello world, not a model", "not a .tflite"),
                                        (b"\x00" * 4 + b"TFL3" + b"\xff" * 24, "corrupt")])
def test_not_a_tflite_is_one_line_error(data, match):
    for fn in (P.read_params, lambda b: P.embed_params(b, {"a": 1})):
        with pytest.raises(QbuildError, match=match) as e:
            fn(data)
        assert "\n" not in str(e.value)


def test_corrupt_bytes_never_escape_as_other_exceptions():
    """Seeded byte flips and truncations of a real model and of real MLTK params: a dict or a QbuildError."""
    rng = random.Random(1234)
    tflite = mltk("image_example1")
    model = schema().Model.GetRootAs(tflite, 0)
    raw = model.Buffers(model.Metadata(1).Buffer()).DataAsNumpy().tobytes()
    for target, fn in ((raw, P.decode_params), (tflite, P.read_params)):
        for _ in range(400):
            x = bytearray(target)
            for _ in range(rng.randint(1, 4)):
                x[rng.randrange(len(x))] = rng.randrange(256)
            if rng.random() < 0.2:
                x = x[:rng.randrange(len(x))]
            try:
                assert isinstance(fn(bytes(x)), dict)
            except QbuildError:
                pass


def test_default_params_keys_and_types():
    d = P.default_params("digits", 1, 1700000000, "ab" * 16, ["0", "1"])
    assert list(d) == ["name", "version", "date", "hash", "classes"]
    assert d["date"] == "2023-11-14T22:13:20Z"
    with_arena = P.default_params("digits", 1, "2024-01-01T00:00:00Z", "h", ("a",), runtime_memory_size=9000)
    assert list(with_arena) == list(P.DEFAULT_KEYS) and with_arena["runtime_memory_size"] == 9000
    assert with_arena["classes"] == ["a"] and with_arena["date"] == "2024-01-01T00:00:00Z"


def test_source_date(monkeypatch):
    from qbuild.pipeline.targets import source_date

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert source_date([]) == "1970-01-02T00:00:00Z"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert source_date([]) == "1970-01-01T00:00:00Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(QbuildError, match="SOURCE_DATE_EPOCH"):
        source_date([])


def test_model_hash_ignores_date_and_hash_only():
    tflite = mltk("image_example1")
    base = P.default_params("m", 1, 0, "", ["a"])
    h = P.model_hash(tflite, base)
    assert len(h) == 32 and int(h, 16) >= 0
    assert P.model_hash(tflite, dict(base, date="2030-01-01T00:00:00Z", hash=h)) == h
    assert P.model_hash(tflite, dict(base, classes=["b"])) != h
    assert P.model_hash(mltk("tflite_micro_speech"), base) != h


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "qbuild", "params", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)


def test_cli_prints_sorted_json(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(P.embed_params(mltk("image_example1"), {"z": 1, "a": b"\x01\x02", "m": [0.5]}))
    r = _cli(path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"a": {"bin_hex": "0102"}, "m": [0.5], "z": 1}
    assert r.stdout.index('"a"') < r.stdout.index('"m"') < r.stdout.index('"z"')


def test_cli_bad_inputs_are_one_line(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    for path in (text, tmp_path / "missing.tflite"):
        r = _cli(path)
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("qbuild params: error: ") and str(path) in r.stderr
