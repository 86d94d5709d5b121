"""`scons board=qemu-m33 model=digits profile` and `python -m qbuild profile`: exact per-op instruction counts of the
real firmware under QEMU with the project's TCG plugin, written as JSON/CSV/Markdown/HTML."""
import csv
import json
import subprocess
import sys

from qbuild.tflite.summary import op_macs
from qbuild.tflite.reader import read_model
from tests.scons_helpers import ROOT, fresh_tree, scons


def test_profile_target_counts_every_op_exactly_and_repeatably(tmp_path):
    tree = fresh_tree(tmp_path / "t")
    p = scons(tree, "board=qemu-m33", "model=digits", "profile", "summary=1")
    out = tree / "build" / "qemu-m33" / "digits"
    report = json.loads((out / "profile.json").read_text())
    graph = read_model((tree / "build" / "models" / "digits" / "digits.tflite").read_bytes())
    assert [row["op"].split()[0] for row in report["ops"]] == [op.name for op in graph.ops]
    assert report["macs"] == sum(op_macs(graph, op) for op in graph.ops) > 0
    assert report["inferences"] == 5  # main.cc runs its 5 embedded samples
    # the op calls are inside invoke(): their sum is below the whole inference, and the loop around them is small
    assert 0.9 * report["instructions_per_inference"] < report["op_instructions"] < report["instructions_per_inference"]
    assert all(row["instructions"] > 0 for row in report["ops"])
    assert report["clock_hz"] == 78_000_000
    assert abs(report["est_ms"] - 1e3 * report["instructions_per_inference"] / 78e6) < 1e-3
    assert "instructions per inference" in p.stdout and "FULLY_CONNECTED" in p.stdout
    from qbuild.tflite.plan import plan_model
    assert f"arena: {plan_model(graph).arena_bytes:,} B" in p.stdout  # summary=1: the per-op summary was printed
    rows = list(csv.DictReader((out / "profile.csv").open()))
    assert [int(r["instructions"]) for r in rows] == [row["instructions"] for row in report["ops"]]
    assert "<table>" in (out / "profile.html").read_text() and "| # | op |" in (out / "profile.md").read_text()

    # the CLI on the same ELF: the same counts (exact, deterministic)
    again = tmp_path / "again"
    subprocess.run([sys.executable, "-m", "qbuild", "profile", str(out / "firmware.elf"), "--board", "qemu-m33",
                    "--model", str(tree / "build" / "models" / "digits" / "digits.tflite"), "--out", str(again)],
                   cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    second = json.loads((again / "profile.json").read_text())
    assert second["ops"] == report["ops"] and second["instructions_each_inference"] == report[
        "instructions_each_inference"]


def test_profile_on_a_board_without_qemu_is_one_line(tmp_path):
    tree = fresh_tree(tmp_path / "t")
    p = scons(tree, "board=efr32", "model=digits", "profile", check=False)
    assert p.returncode != 0
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("qbuild: error:")]
    assert len(errors) == 1 and "does not run under QEMU" in errors[0]
