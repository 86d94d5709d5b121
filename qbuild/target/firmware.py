"""Firmware generation and checking, without SCons: main.cc context, the Python reference, parsing and comparing runs.

The firmware runs the model on a few embedded raw samples and prints one line per sample:
    qbuild-result <sample> <class> <v0> <v1> ...
with float32 outputs as the 8 hex digits of their IEEE bits and int8 outputs as decimals, so the comparison with the
reference (the same raw samples -> qbuild.model.preprocess -> the TFLM interpreter) is exact.
"""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from qbuild.model import data as rawdata
from qbuild.errors import QbuildError
from qbuild.tflite.reader import as_graph
from qbuild.fsutil import write_atomic
from qbuild.model.preprocess import norm_mode, preprocess, round_half_away

DEFAULT_SAMPLES = 5
C_TYPES = {"uint8": "uint8_t", "int8": "int8_t", "uint16": "uint16_t", "int16": "int16_t", "float32": "float"}
RESULT = re.compile(r"^qbuild-result (\d+) (-?\d+)((?: \S+)*)\s*$")


def io_details(model) -> dict:
    """Input/output tensor type, shape, quantization of a .tflite (bytes or a parsed Graph)."""
    g = as_graph(model)
    return {"input": g.io("input"), "output": g.io("output")}


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


def input_path(input_type: str, raw_type: str, norm: str) -> str:
    """How the firmware fills the input tensor from a raw sample (main.cc lays out exactly this choice):
    "copy" (raw int8 samples are the int8 input), "quantize" (preprocess to float32, then quantize to int8) or
    "float" (preprocess into the float32 input)."""
    if input_type == "float32":
        return "float"
    if input_type != "int8":
        raise QbuildError(f"model input type {input_type} is not supported by the firmware template; use float32 or int8")
    return "copy" if raw_type == "int8" and norm == "none" else "quantize"


def model_input(params: dict, raw: np.ndarray, io: dict) -> np.ndarray:
    """Raw samples -> what the firmware writes into the input tensor (same arithmetic as main.cc)."""
    inp = io["input"]
    path = input_path(inp["type"], raw.dtype.name, norm_mode(params)[0])
    if path == "float":
        return preprocess(params, raw).astype(np.float32)
    if path == "copy":
        return raw.copy()
    x = preprocess(params, raw).astype(np.float32)
    q = round_half_away(x / np.float32(inp["scale"])) + inp["zero_point"]
    return np.clip(q, -128, 127).astype(np.int8)


def reference_outputs(tflite: bytes, raw: np.ndarray, graph=None) -> np.ndarray:
    """The reference: qbuild.model.preprocess (float32, C order of operations) + the TFLM interpreter. `graph`: the
    model already parsed (read_model(tflite)), when the caller has it."""
    from qbuild.model.evaluate import tflm_interpreter
    from qbuild.tflite.params import read_params

    graph = graph if graph is not None else as_graph(tflite)
    io = io_details(graph)
    x = model_input(read_params(graph), raw, io)
    interp = tflm_interpreter(tflite)
    shape = tuple(io["input"]["shape"])
    outs = []
    for sample in x:
        interp.set_input(sample.reshape(shape), 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0)).reshape(-1))
    return np.stack(outs)


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
    graph = as_graph(tflite, str(tflite_path))  # parsed once for the samples, the I/O types and the reference
    raw = firmware_samples(data_path, graph, samples)
    io = io_details(graph)
    code, text = run_firmware(board, elf)
    result = compare(parse_run(text, io["output"]["type"]), reference_outputs(tflite, raw, graph),
                     io["output"]["type"])
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
