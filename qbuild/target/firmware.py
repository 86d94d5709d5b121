"""Firmware generation and checking, without SCons: main.cc context, the Python reference, parsing and comparing runs.

The firmware runs the model on a few embedded raw samples and prints one line per sample:
    qbuild-result <sample> <class> <v0> <v1> ...
with float32 outputs as the 8 hex digits of their IEEE bits and int8 outputs as decimals, so the comparison with the
reference (the same raw samples -> qbuild.preprocess -> the TFLM interpreter) is exact.
"""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from qbuild import data as rawdata
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic
from qbuild.preprocess import norm_mode, preprocess, round_half_away

DEFAULT_SAMPLES = 5
C_TYPES = {"uint8": "uint8_t", "int8": "int8_t", "uint16": "uint16_t", "int16": "int16_t", "float32": "float"}
RESULT = re.compile(r"^qbuild-result (\d+) (-?\d+)((?: \S+)*)\s*$")


def io_details(tflite: bytes) -> dict:
    """Input/output tensor type, shape, quantization of a .tflite (subgraph 0, tensor 0 of each)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    from qbuild.tflite_model import TYPE_NAMES

    m = s.Model.GetRootAsModel(tflite, 0)
    sg = m.Subgraphs(0)

    def detail(t):
        q = t.Quantization()
        scale = float(q.ScaleAsNumpy()[0]) if q is not None and q.ScaleLength() else 0.0
        zp = int(q.ZeroPointAsNumpy()[0]) if q is not None and q.ZeroPointLength() else 0
        return {"type": TYPE_NAMES.get(t.Type(), str(t.Type())), "shape": [int(d) for d in t.ShapeAsNumpy()],
                "scale": scale, "zero_point": zp}

    return {"input": detail(sg.Tensors(sg.Inputs(0))), "output": detail(sg.Tensors(sg.Outputs(0)))}


def firmware_samples(data_path: Path | None, tflite: bytes, n: int = DEFAULT_SAMPLES) -> np.ndarray:
    """The raw samples embedded in the firmware: n samples evenly spread over the model's test data (a user .npz: 'x')
    — test sets are often sorted by class — or, for a bare .tflite without data, seeded random samples in the input's
    own type."""
    if data_path is not None:
        d = rawdata.load_npz(data_path)
        x = next((d[k] for k in ("x_test", "x", "x_train") if k in d and len(d[k])), None)
        if x is None:
            raise QbuildError(f"{data_path}: no samples for the firmware (arrays x_test, x or x_train)")
        idx = np.unique(np.linspace(0, len(x) - 1, min(n, len(x))).round().astype(int))  # spread over the split
        return np.ascontiguousarray(x[idx])
    inp = io_details(tflite)["input"]
    rng = np.random.RandomState(0)
    shape = (n, *inp["shape"][1:])
    if inp["type"] == "int8":
        return rng.randint(-128, 128, size=shape).astype(np.int8)
    return rng.uniform(-1, 1, size=shape).astype(np.float32)


def model_input(params: dict, raw: np.ndarray, io: dict) -> np.ndarray:
    """Raw samples -> what the firmware writes into the input tensor (same arithmetic as main.cc)."""
    inp = io["input"]
    if inp["type"] == "float32":
        return preprocess(params, raw).astype(np.float32)
    if inp["type"] != "int8":
        raise QbuildError(f"model input type {inp['type']} is not supported by the firmware template; use float32 or int8")
    mode, _ = norm_mode(params)
    if raw.dtype == np.int8 and mode == "none":
        return raw.copy()
    x = preprocess(params, raw).astype(np.float32)
    q = round_half_away(x / np.float32(inp["scale"])) + inp["zero_point"]
    return np.clip(q, -128, 127).astype(np.int8)


def reference_outputs(tflite: bytes, raw: np.ndarray) -> np.ndarray:
    """The reference: qbuild.preprocess (float32, C order of operations) + the TFLM interpreter."""
    from qbuild.evaluate import tflm_interpreter
    from qbuild.params import read_params

    io = io_details(tflite)
    x = model_input(read_params(tflite), raw, io)
    interp = tflm_interpreter(tflite)
    shape = tuple(io["input"]["shape"])
    outs = []
    for sample in x:
        interp.set_input(sample.reshape(shape), 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0)).reshape(-1))
    return np.stack(outs)


def main_context(tflite: bytes, samples: np.ndarray, board, arena_bytes: int, classes: list, sources: str) -> dict:
    from qbuild.params import read_params

    io = io_details(tflite)
    params = read_params(tflite)
    mode, _ = norm_mode(params)
    raw_type = samples.dtype.name
    if raw_type not in C_TYPES:
        raise QbuildError(f"raw sample dtype {raw_type} has no firmware template; use one of {', '.join(C_TYPES)}")
    n_in = int(np.prod(io["input"]["shape"]))
    flat = samples.reshape(len(samples), -1)
    if flat.shape[1] != n_in:
        raise QbuildError(f"raw samples have {flat.shape[1]} values but the model input has {n_in}; fix the data")
    if raw_type == "float32":
        values = [[_float_literal(v) for v in row] for row in flat]
    else:
        values = [[str(int(v)) for v in row] for row in flat]
    return {
        "sources": sources, "board": board, "arena_bytes": int(arena_bytes), "norm": mode,
        "input_type": io["input"]["type"], "output_type": io["output"]["type"],
        "raw_type": raw_type, "raw_ctype": C_TYPES[raw_type], "sample_size": n_in, "samples": values,
        "classes": list(classes), "output_size": int(np.prod(io["output"]["shape"])),
    }


def _float_literal(v) -> str:
    from qbuild.cformat import c_float
    return c_float(float(v))


def parse_run(text: str, output_type: str) -> dict[int, tuple[int, np.ndarray]]:
    """Firmware output -> {sample: (class, outputs)}; float outputs are decoded from their hex bits."""
    results = {}
    for line in text.splitlines():
        m = RESULT.match(line.strip())
        if not m:
            continue
        words = m.group(3).split()
        if output_type == "float32":
            vals = np.array([int(w, 16) for w in words], dtype=np.uint32).view(np.float32)
        else:
            vals = np.array([int(w) for w in words], dtype=np.int64)
        results[int(m.group(1))] = (int(m.group(2)), vals)
    return results


def compare(results: dict, reference: np.ndarray, output_type: str) -> dict:
    """Bit-exact comparison; the report lists every differing value (sample, index, firmware, reference)."""
    diffs, missing = [], []
    for i, ref in enumerate(reference):
        if i not in results:
            missing.append(i)
            continue
        cls, got = results[i]
        if output_type == "float32":
            a, b = got.astype(np.float32).view(np.uint32), ref.astype(np.float32).view(np.uint32)
        else:
            a, b = got.astype(np.int64), ref.astype(np.int64)
        if a.shape != b.shape:
            diffs.append({"sample": i, "index": -1, "firmware": f"{a.size} values", "reference": f"{b.size} values"})
            continue
        for j in np.nonzero(a != b)[0]:
            diffs.append({"sample": i, "index": int(j), "firmware": float(got[j]), "reference": float(ref[j])})
        if cls != int(np.argmax(ref)):
            diffs.append({"sample": i, "index": "class", "firmware": cls, "reference": int(np.argmax(ref))})
    return {"samples": len(reference), "missing": missing, "differences": diffs,
            "ok": not diffs and not missing and len(results) == len(reference)}


def run_firmware(board, elf: Path) -> tuple[int, str]:
    """Run the firmware with the board's runner; returns (exit code, everything it printed).

    Output goes to a file, not a pipe: QEMU's semihosting console drops what a slow pipe reader has not taken yet and
    still exits 0 (measured under load), which would look like missing samples."""
    cmd = board.runner_command(elf)
    if cmd is None:
        raise QbuildError(f"board '{board.id}' has no runner; `run` works on boards with one (qemu-m33, host)")
    with tempfile.TemporaryFile() as out:
        try:
            code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
        except FileNotFoundError as e:
            raise QbuildError(f"cannot start '{cmd[0]}' ({e}); run scripts/setup to install it") from None
        out.seek(0)
        return code, out.read().decode("utf-8", "replace")


def check_run(board, elf: Path, tflite_path: Path, data_path: Path | None, out_json: Path, samples: int = DEFAULT_SAMPLES) -> dict:
    tflite = Path(tflite_path).read_bytes()
    raw = firmware_samples(data_path, tflite, samples)
    io = io_details(tflite)
    code, text = run_firmware(board, elf)
    result = compare(parse_run(text, io["output"]["type"]), reference_outputs(tflite, raw), io["output"]["type"])
    result.update(board=board.id, elf=str(elf), exit_code=code, output_type=io["output"]["type"])
    result["ok"] = result["ok"] and code == 0
    write_atomic(out_json, json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    if not result["ok"]:
        lines = [f"{d['sample']}[{d['index']}]: firmware {d['firmware']} != reference {d['reference']}"
                 for d in result["differences"][:5]]
        why = (f"exit code {code}" if code else "") + (f"; missing samples {result['missing']}" if result["missing"] else "")
        tail = text.strip().splitlines()[-3:]
        raise QbuildError(f"{elf}: firmware output differs from the reference ({len(result['differences'])} values; "
                          f"{'; '.join(lines) or why}{'; ' + why if lines and why else ''}); see {out_json}"
                          + (f"; last output: {' | '.join(tail)}" if code else ""))
    return result
