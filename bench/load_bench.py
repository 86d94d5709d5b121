"""Executed instructions of Model::load() on Cortex-M33 (QEMU, counted exactly by the TCG plugin) for both load paths.

  .venv/bin/python bench/load_bench.py                   # kws and digits, needs `scons model=kws` / `model=digits`
  .venv/bin/python bench/load_bench.py --models digits

Per model it builds `scons board=qemu-m33 model=<m> load=runtime` and `... load=prepared` (the firmware the product
builds, -Os) and counts the instructions from each `bl qbuild::Model::load(...)` in the ELF to the instruction after
it: the run-time path validates the flatbuffer, prepares every op (multipliers, op data) and plans the activations
(five placement orders); the build-time path checks the tables' FNV-1a hash over the model bytes and resets op state.
One inference (`Model::invoke()`) is counted in the same run, for scale. Prints a markdown table.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qbuild.target import profile  # noqa: E402
from qbuild.target.boards import load_board  # noqa: E402

LOAD = "qbuild::Model::load("


def calls_of(funcs: dict, prefix: str) -> list[tuple[int, int]]:
    """(call, return address) of every `bl` to a function whose demangled name starts with `prefix`."""
    return [(a, insns[i + 1][0]) for insns in funcs.values() for i, (a, mn, ops) in enumerate(insns[:-1])
            if mn == "bl" and f"<{prefix}" in ops]


def measure(board, model: str, load: str, plugin: Path, work: Path) -> dict:
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    subprocess.run([sys.executable, "-m", "SCons", "-Q", f"board={board.id}", f"model={model}", f"load={load}",
                    f"build/{board.id}/{model}/firmware.elf"], cwd=ROOT, env=env, check=True, capture_output=True)
    elf = ROOT / "build" / board.id / model / "firmware.elf"
    funcs = profile.disassemble(board, elf)
    loads = calls_of(funcs, LOAD)
    invokes, _ = profile.call_spans(board, elf, funcs)
    if len(loads) != 1:
        raise SystemExit(f"{elf}: {len(loads)} calls of {LOAD}...) (want 1)")
    r = profile.count(board, elf, plugin, loads + invokes[:1], work)
    return {"load": r["spans"][0][0], "invoke": r["spans"][1][0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["kws", "digits"])
    args = ap.parse_args()
    board = load_board("qemu-m33")
    rows = ["| model | load, run-time path | load, build-time path | one invoke() |", "|---|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plugin = profile.build_plugin(work / "plugin.so")
        for m in args.models:
            rt = measure(board, m, "runtime", plugin, work)
            pre = measure(board, m, "prepared", plugin, work)
            rows.append(f"| {m} | {rt['load']:,} | {pre['load']:,} | {rt['invoke']:,} |")
            assert pre["invoke"] == rt["invoke"], (m, pre["invoke"], rt["invoke"])  # same evals, same work
    print("\n".join(rows))


if __name__ == "__main__":
    main()
