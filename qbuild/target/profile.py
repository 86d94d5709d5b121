"""On-target cost as a build artifact: executed instructions per op of a firmware's inference, counted exactly by a QEMU
TCG plugin (runtime/tools/qemu_insn_plugin.c), with MACs, instructions per MAC and time estimates at the board's clock.

    python -m qbuild profile build/qemu-m33/kws/firmware.elf --board qemu-m33 --model build/models/kws/kws.tflite
    scons board=qemu-m33 model=kws profile          (build/<board>/<model>/profile.{json,csv,md,html})

The firmware runs under the board's QEMU command with the plugin, which records one span per call of
`qbuild::Model::invoke()` (one inference) and one per op eval call inside it (the one indirect call in invoke), found
in the ELF with objdump. Counts are exact and the same for the same ELF. Times are estimates: instructions at one cycle
each, a lower bound (on a Cortex-M33 loads take 1-2 cycles and taken branches 2-3), at the board's `clock_hz`.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic, write_json
from qbuild.target.runtime import RUNTIME_DIR
from qbuild.tflite.reader import Graph, read_model
from qbuild.tflite.summary import op_macs

TEMPLATES = ("profile.md.j2", "profile.html.j2")
PLUGIN_SOURCE = RUNTIME_DIR / "tools" / "qemu_insn_plugin.c"
INVOKE = "qbuild::Model::invoke()"
_FUNC = re.compile(r"^([0-9a-f]+) <(.*)>:$")
_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{4}(?: [0-9a-f]{4})?)\s+(\S+)\s*(.*)$")
CSV_COLUMNS = ("index", "op", "input", "output", "macs", "instructions", "per_mac", "est_cycles", "est_ms")


def plugin_command(source: Path, out: Path) -> list[str]:
    return ["gcc", "-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-o", str(out), str(source)]


def build_plugin(out: Path) -> Path:
    r = subprocess.run(plugin_command(PLUGIN_SOURCE, out), capture_output=True, text=True)
    if r.returncode != 0:
        raise QbuildError(f"compiling {PLUGIN_SOURCE.name} failed: {r.stderr.strip()[:300]}; is gcc installed "
                          "(scripts/setup)?")
    return out


def disassemble(board, elf: Path) -> dict[str, list[tuple[int, str, str]]]:
    """{function (demangled): [(address, mnemonic without condition/width suffix, operands), ...]} (objdump -d -C)."""
    try:
        text = subprocess.run([board.objdump, "-d", "-C", str(elf)], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise QbuildError(f"cannot disassemble {elf} with {board.objdump} ({e}); run scripts/setup") from None
    funcs: dict[str, list[tuple[int, str, str]]] = {}
    cur = None
    for line in text.splitlines():
        if m := _FUNC.match(line):
            cur = funcs.setdefault(m.group(2), [])
        elif (m := _INSN.match(line)) and cur is not None:
            cur.append((int(m.group(1), 16), m.group(2).split(".")[0], m.group(3)))
    return funcs


def call_spans(board, elf: Path, funcs=None) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """([(call, return address) of each `bl Model::invoke()`], (call, return) of the op eval call in invoke)."""
    funcs = funcs if funcs is not None else disassemble(board, elf)
    invokes = [(a, insns[i + 1][0]) for insns in funcs.values() for i, (a, mn, ops) in enumerate(insns[:-1])
               if mn == "bl" and f"<{INVOKE}>" in ops]
    body = funcs.get(INVOKE, [])
    evals = [(a, body[i + 1][0]) for i, (a, mn, _) in enumerate(body[:-1]) if mn == "blx"]
    if not invokes or len(evals) != 1:
        raise QbuildError(f"{elf}: found {len(invokes)} calls of {INVOKE} and {len(evals)} op calls inside it (want "
                          "at least 1 and exactly 1); profile a firmware built by qbuild for an Arm board")
    return invokes, evals[0]


def count(board, elf: Path, plugin: Path, spans, work: Path, ranges_file: Path | None = None) -> dict:
    """Run the firmware under the board's QEMU with the plugin: {"total", "spans": {index: [instructions, ...]},
    "ranges": [(index, instructions, name), ...]} (ranges from a file of `A B [name]` lines)."""
    if not isinstance(board.runner, tuple) or not board.runner[0].startswith("qemu-system"):
        raise QbuildError(f"board '{board.id}' does not run under QEMU; profile on a QEMU board of the same CPU "
                          "(e.g. board=qemu-m33 for efr32)")
    out = work / f"{Path(elf).stem}.counts"
    args = [str(plugin), f"out={out}"] + [f"span={a:#x}:{b:#x}" for a, b in spans]
    cmd = board.runner_command(elf) + ["-plugin", ",".join(args + ([f"ranges={ranges_file}"] if ranges_file else []))]
    with open(work / f"{Path(elf).stem}.stdout", "wb") as f:  # semihosting output to a file (a slow pipe loses writes)
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if r.returncode != 0 or not out.is_file():
        raise QbuildError(f"{elf} under QEMU with the counting plugin exited with {r.returncode}: "
                          f"{r.stderr.decode(errors='replace').strip()[-300:]}")
    res: dict = {"total": 0, "spans": {}, "ranges": []}
    for line in out.read_text().splitlines():
        f = line.split()
        if f and f[0] == "total":
            res["total"] = int(f[1])
        elif f and f[0] == "span":
            res["spans"].setdefault(int(f[1]), []).append(int(f[3]))
        elif f and f[0] == "range":
            res["ranges"].append((int(f[1]), int(f[2]), f[3] if len(f) > 3 else ""))
    return res


def inference_counts(board, elf: Path, plugin: Path, work: Path) -> dict:
    """{"total", "inferences": [instructions per invoke()], "ops": [instructions per op call, in order]}."""
    invokes, eval_span = call_spans(board, elf)
    r = count(board, elf, plugin, invokes + [eval_span], work)
    return {"total": r["total"], "inferences": [c for i in range(len(invokes)) for c in r["spans"].get(i, [])],
            "ops": r["spans"].get(len(invokes), [])}


def _shape(g: Graph, tensors) -> str:
    return " ".join("x".join(map(str, g.tensors[t].shape)) or "scalar" for t in tensors if t >= 0 and
                    not g.tensors[t].const) or "-"


def _op_label(g: Graph, op) -> str:
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(op.inputs) > 1:
        f = g.tensors[op.inputs[1]].shape
        return f"{op.name} {f[1]}x{f[2]}"
    return op.name


def profile(board, elf: Path, tflite: bytes, plugin: Path, work: Path) -> dict:
    g = read_model(tflite, "the model")
    counted = inference_counts(board, elf, plugin, work)
    inferences, per_op = counted["inferences"], counted["ops"]
    n = len(g.ops)
    if not inferences or len(per_op) != n * len(inferences):
        raise QbuildError(f"{elf}: {len(inferences)} inferences and {len(per_op)} op calls counted, but the model has "
                          f"{n} ops; is {elf} built from this model?")
    first = per_op[:n]  # every inference of the same model runs the same instructions up to data-dependent branches
    clock = board.clock_hz
    rows = []
    for op, instructions in zip(g.ops, first):
        macs = op_macs(g, op)
        rows.append({"index": op.index, "op": _op_label(g, op), "input": _shape(g, op.inputs),
                     "output": _shape(g, op.outputs), "macs": macs, "instructions": instructions,
                     "per_mac": round(instructions / macs, 3) if macs else None, "est_cycles": instructions,
                     "est_ms": round(1e3 * instructions / clock, 4) if clock else None})
    macs = sum(row["macs"] for row in rows)
    per_inference = inferences[0]
    return {
        "version": 1, "board": board.id, "clock_hz": clock or None, "elf": elf.name, "ops": rows,
        "inferences": len(inferences), "instructions_per_inference": per_inference,
        "instructions_each_inference": inferences, "macs": macs,
        "per_mac": round(per_inference / macs, 3) if macs else None,
        "op_instructions": sum(first), "est_ms": round(1e3 * per_inference / clock, 3) if clock else None,
        "estimate": "cycles = instructions (one cycle each: a lower bound on Cortex-M; loads take 1-2 cycles, taken "
                    "branches 2-3); ms = cycles / clock_hz",
    }


def render_console(report: dict) -> str:
    lines = [f"profile of {report['elf']} on {report['board']}: {report['instructions_per_inference']:,} instructions "
             f"per inference, {report['macs']:,} MACs"
             + (f", {report['per_mac']:.2f} per MAC" if report["per_mac"] else "")
             + (f", >= {report['est_ms']:.2f} ms at {report['clock_hz'] / 1e6:g} MHz (estimate)"
                if report["est_ms"] else ""),
             f"{'#':>3}  {'op':<22} {'output':<14} {'MACs':>11} {'instructions':>13} {'per MAC':>8} {'share':>6}"]
    total = report["instructions_per_inference"] or 1
    for row in report["ops"]:
        per_mac = f"{row['per_mac']:.2f}" if row["per_mac"] is not None else "-"
        lines.append(f"{row['index']:>3}  {row['op']:<22} {row['output']:<14} {row['macs']:>11,} "
                     f"{row['instructions']:>13,} {per_mac:>8} {100 * row['instructions'] / total:5.1f}%")
    return "\n".join(lines) + "\n"


def write_reports(report: dict, out_dir: Path) -> list[Path]:
    """profile.json, profile.csv, profile.md and profile.html (bars per layer) in out_dir."""
    from qbuild.codegen.templates import render

    csv = ",".join(CSV_COLUMNS) + "\n" + "".join(
        ",".join("" if row[c] is None else f'"{row[c]}"' if isinstance(row[c], str) else str(row[c])
                 for c in CSV_COLUMNS) + "\n" for row in report["ops"])
    top = max((row["instructions"] for row in report["ops"]), default=1) or 1
    paths = [out_dir / f"profile.{ext}" for ext in ("json", "csv", "md", "html")]
    write_json(paths[0], report)
    write_atomic(paths[1], csv)
    write_atomic(paths[2], render("profile.md.j2", r=report))
    write_atomic(paths[3], render("profile.html.j2", r=report, top=top))
    return paths


def run_profile(board, elf: Path, tflite_path: Path, plugin: Path, out_dir: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="qbuild-profile-") as work:
        report = profile(board, Path(elf), Path(tflite_path).read_bytes(), Path(plugin), Path(work))
    write_reports(report, Path(out_dir))
    sys.stdout.write(render_console(report))
    sys.stdout.flush()
    return report


def cli_main(argv) -> int:
    from qbuild.target.boards import load_board

    ap = argparse.ArgumentParser(prog="python -m qbuild profile",
                                 description="Executed instructions per op of a qbuild firmware under QEMU.")
    ap.add_argument("elf", type=Path)
    ap.add_argument("--board", required=True, help="a QEMU board id (qemu-m33, qemu-m4) or board .toml")
    ap.add_argument("--model", type=Path, required=True, help="the .tflite the firmware was built from")
    ap.add_argument("--out", type=Path, help="write profile.{json,csv,md,html} here (default: next to the ELF)")
    args = ap.parse_args(argv)
    for p, what in ((args.elf, "firmware ELF"), (args.model, ".tflite")):
        if not p.is_file():
            raise QbuildError(f"{what} '{p}' not found; pass the path of a built {what}")
    board = load_board(args.board)
    with tempfile.TemporaryDirectory(prefix="qbuild-plugin-") as tmp:
        plugin = build_plugin(Path(tmp) / "qemu_insn_plugin.so")
        run_profile(board, args.elf, args.model, plugin, args.out or args.elf.parent)
    return 0
