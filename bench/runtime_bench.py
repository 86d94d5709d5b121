"""Runtime benchmark: arena (qbuild plan vs TFLM print_allocations vs lower bound), host invoke time (qbuild-run vs the
tflite_micro interpreter) and the runtime's Cortex-M33 -Os flash bytes for the KWS op set.

    .venv/bin/python bench/runtime_bench.py [--out build/bench/runtime]   (prints a Markdown section)
    .venv/bin/python bench/runtime_bench.py --fuzz-runs 1100000           (also the long libFuzzer run)
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from qbuild.tflite.plan import SUPPORTED_OPS, plan_model  # noqa: E402
from qbuild.target.runtime import RUNTIME_DIR, sources  # noqa: E402
from tests.harness import build_firmware_harness, build_fuzzer, build_host_tool  # noqa: E402

KWS_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX", "RESHAPE",
           "QUANTIZE", "DEQUANTIZE"}


def bench_models(out: Path) -> dict[str, Path]:
    """MLTK sample models plus two TF-made ones with random weights (DS-CNN keyword spotting, ResNet-style)."""
    models = {p.stem: p for p in sorted((ROOT / ".cache" / "mltk").glob("*.tflite"))}
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    from test_runtime_corpus import convert

    L = keras.layers
    rng = np.random.default_rng(3)
    keras.utils.set_random_seed(3)

    def ds_cnn(x):
        x = L.Conv2D(64, (10, 4), strides=2, padding="same", activation="relu")(x)
        for _ in range(4):
            x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
            x = L.Conv2D(64, 1, activation="relu")(x)
        return L.Dense(12, activation="softmax")(L.GlobalAveragePooling2D()(x))

    def resnet(x):
        x = L.Conv2D(16, 3, padding="same", activation="relu")(x)
        for filters in (16, 32):
            y = L.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
            y = L.Conv2D(filters, 3, padding="same")(y)
            x = L.ReLU()(L.Add()([y, L.Conv2D(filters, 1, strides=2)(x)]))
        return L.Dense(10, activation="softmax")(L.GlobalAveragePooling2D()(x))

    for name, shape, body in (("ds_cnn_kws", (49, 40, 1), ds_cnn), ("resnet_cifar", (32, 32, 3), resnet)):
        x = keras.Input(shape=shape, batch_size=1)
        model = keras.Model(x, body(x))
        for w in model.weights:
            w.assign(rng.normal(0.0, 0.2, w.shape).astype(np.float32))
        p = out / f"{name}.tflite"
        with contextlib.redirect_stdout(sys.stderr):  # the converter's "Saved artifact at ..." is not a result
            p.write_bytes(convert(model, {}, rng))
        models[name] = p
    return models


def tflm_allocation_total(it) -> int:
    """The "Arena allocation total" of a TFLM interpreter's print_allocations (which writes to fd 2: captured there)."""
    with tempfile.TemporaryFile() as f:
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            it.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode(errors="replace")
    return int(re.search(r"Arena allocation total (\d+) bytes", text).group(1))


def tflm_arena_and_time(data: bytes, inputs, repeat: int) -> tuple[int, float]:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(data, arena_size=8 << 20)
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    total = tflm_allocation_total(it)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeat):
            it.invoke()
        best = min(best, (time.perf_counter() - t0) / repeat)
    return total, best * 1e9


def qbuild_time(tool: Path, path: Path, inputs, repeat: int, tmp: Path) -> float:
    (tmp / "in.bin").write_bytes(b"".join(x.tobytes() for x in inputs))
    best = float("inf")
    for _ in range(5):
        r = subprocess.run([str(tool), str(path), str(tmp / "in.bin"), str(tmp / "out.bin"), "--repeat", str(repeat)],
                           capture_output=True, text=True, check=True)
        best = min(best, json.loads(r.stdout)["invoke_ns"])
    return float(best)


def kws_flash(out: Path, model: Path) -> dict:
    """Links the QEMU harness at -Os with only the KWS ops enabled and sums the flash bytes of runtime objects."""
    # As a firmware build's qbuild_ops.h does for an int8 model: the 16x8 kernels (QBUILD_INT16) are left out too.
    disabled = [f"QBUILD_OP_{op}=0" for op in SUPPORTED_OPS if op not in KWS_OPS] + ["QBUILD_INT16=0"]
    data = model.read_bytes()
    elf = build_firmware_harness(out / "kws_flash", [("kws", data, b"")], plan_model(data, 4).arena_bytes,
                                 opt="-Os", defines=disabled)
    # Objects are named NN_<stem>.o with NN the index in qbuild.target.runtime.sources(): classify by directory.
    srcs = sources()
    groups = {"src": "loader, model, planner, parameters", "ops": "op glue", "kernels": "kernels"}
    sizes = {label: 0 for label in groups.values()}
    sizes["libgcc/libm/libc helpers"] = 0
    section = None
    text = (elf.parent / "harness.map").read_text()
    # Skip "Discarded input sections" (removed by --gc-sections): only the memory map counts.
    text = text[text.index("Linker script and memory map"):]
    for line in text.splitlines():
        # Input sections: " .text.foo  0xADDR  0xSIZE path/NN_name.o" (the name may sit on its own line).
        m = re.match(r"^ (\.(?:text|rodata|data)[^\s]*)\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^ (\.(?:text|rodata|data)[^\s]*)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o\)?)$", line)
        if not m or (m.group(1) is None and section is None):
            section = None
            continue
        section = None
        size, obj = int(m.group(3), 16), m.group(4)
        idx = re.match(r"^(\d+)_", Path(obj).name)
        if obj.endswith(".o") and idx and int(idx.group(1)) < len(srcs):
            sizes[groups[srcs[int(idx.group(1))].parent.name]] += size
        elif re.search(r"lib(gcc|m|c_nano)\.a\(", obj) and "semihost" not in obj:
            sizes["libgcc/libm/libc helpers"] += size
    return sizes


def long_fuzz(out: Path, models: dict[str, Path], runs: int) -> str:
    """libFuzzer (ASan + UBSan) for `runs` executions seeded with the bench models under 40 KB and the regressions."""
    import shutil

    fuzzer = build_fuzzer(out / "fuzz")
    seeds, work, artifacts = out / "fuzz_seeds", out / "fuzz_work", out / "fuzz_artifacts"
    for d in (seeds, work, artifacts):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    for p in list(models.values()) + sorted((RUNTIME_DIR / "fuzz" / "regressions").glob("*")):
        if p.stat().st_size < 40000:
            shutil.copy(p, seeds)
    r = subprocess.run([str(fuzzer), f"-runs={runs}", "-max_len=40000", "-timeout=10", "-rss_limit_mb=2048",
                        f"-artifact_prefix={artifacts}/", "-print_final_stats=1", str(work), str(seeds)],
                       capture_output=True, text=True)
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", r.stderr))
    findings = sorted(p.name for p in artifacts.iterdir())
    return (f"libFuzzer + ASan + UBSan: {int(stats.get('number_of_executed_units', 0)):,} executions, "
            f"{int(stats.get('average_exec_per_sec', 0)):,}/s, exit {r.returncode}, findings: {findings or 'none'}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "runtime")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--fuzz-runs", type=int, default=0, help="also run the fuzzer for this many executions")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from test_runtime_corpus import random_inputs

    tool = build_host_tool(args.out / "host")
    models = bench_models(args.out)
    rows = []
    for name, path in models.items():
        data = path.read_bytes()
        inputs = random_inputs(data, 0)
        plan8, plan4 = plan_model(data, 8), plan_model(data, 4)
        tflm_total, tflm_ns = tflm_arena_and_time(data, inputs, args.repeat)
        q_ns = qbuild_time(tool, path, inputs, args.repeat, args.out)
        rows.append((name, len(data), plan4.arena_bytes, plan8.arena_bytes, tflm_total, plan8.lower_bound_bytes,
                     plan8.activation_bytes, q_ns, tflm_ns))
    flash = kws_flash(args.out, models["ds_cnn_kws"])

    print("| model | .tflite B | qbuild arena (M33) | qbuild arena (x86-64) | TFLM arena (x86-64) | lower bound |"
          " activations / lower bound | qbuild invoke µs | TFLM invoke µs | qbuild / TFLM |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, size, a4, a8, tflm, lb, act, q, t in rows:
        print(f"| {name} | {size:,} | {a4:,} | {a8:,} | {tflm:,} | {lb:,} | {act / lb:.3f} | {q / 1e3:.1f} | "
              f"{t / 1e3:.1f} | {q / t:.2f} |")
    print()
    runtime = sum(v for k, v in flash.items() if not k.startswith("lib"))
    print(f"KWS op set ({', '.join(sorted(KWS_OPS))}), Cortex-M33 -Os, --gc-sections, flash bytes from the link map: "
          f"runtime {runtime:,} B (" + ", ".join(f"{k} {v:,}" for k, v in flash.items()) + ").")
    if args.fuzz_runs:
        print()
        print(long_fuzz(args.out, models, args.fuzz_runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
