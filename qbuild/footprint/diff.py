"""`python -m qbuild size-diff MAIN.json PR.json`: the CI step that compares a change's footprint.json with the main
branch's. No ELF needed: both reports are data (the PR build wrote its own), so the comparison is the same `compare`
the build's own baseline check runs, rendered by the same footprint.md template (docs/ci.md).

Exit status: 0 when the PR build fits its budget and grew no more than --max-growth, 1 on a breach or an unreadable
report (one line per failure on stderr, the Markdown written first), 2 for a command-line mistake.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.footprint.analyze import BUDGET_PHRASE, GROWTH_PHRASE, budget_failures, compare, load_report, shown_path
from qbuild.footprint.schema import COMPONENTS
from qbuild.footprint.render import render_console, render_markdown, write_reports


def size_diff(base: dict | None, head: dict, max_growth: int | None = None) -> dict:
    """The PR report `head` with its deltas against `base` (None: no main report yet, the budget is still checked).
    Budget lines are recomputed from head's regions (so a report written by a build that failed still gets them);
    head's other failures (sections outside every region) are kept, its own growth failures replaced."""
    report = copy.deepcopy(head)
    report["components"] = {c: head["components"][c] for c in COMPONENTS if c in head["components"]}  # JSON sorted them
    report["elf"] = shown_path(report["elf"])
    report["map"] = shown_path(report["map"]) if report.get("map") else None
    if base is not None and base.get("board") != head.get("board"):
        raise QbuildError(f"the main branch's report is for board {base.get('board')}, this change's for "
                          f"{head.get('board')}; compare two builds for the same board")
    budget = budget_failures(head["regions"], head["components"])
    kept = [f for f in head["failures"] if BUDGET_PHRASE not in f and GROWTH_PHRASE not in f]
    report["failures"] = kept + budget
    if base is None:
        report.update(baseline=None, max_growth=None, ok=not report["failures"])
        return report
    return compare(report, base, max_growth)


def cli_main(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qbuild size-diff",
        description="Compare a change's footprint.json with the main branch's: Markdown with sizes and deltas per "
                    "region and component (the growing ones named) and budget lines; exit 1 on a budget breach or "
                    "growth over --max-growth.")
    parser.add_argument("base", type=Path, help="footprint.json of the main branch's last build")
    parser.add_argument("head", type=Path, help="footprint.json of this change's build")
    parser.add_argument("--max-growth", type=int, metavar="BYTES",
                        help="fail when flash or RAM grew by more bytes than this")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="write the Markdown here (for $GITHUB_STEP_SUMMARY or a PR comment); default: stdout")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the PR report with its deltas here")
    parser.add_argument("--missing-base-ok", action="store_true",
                        help="when BASE does not exist (first run, expired artifact) report this build alone")
    args = parser.parse_args(argv)
    if args.max_growth is not None and args.max_growth < 0:
        parser.error(f"--max-growth must be a byte count >= 0, got {args.max_growth}")

    head = load_report(args.head, "this change's report")
    if args.missing_base_ok and not args.base.exists():
        print(f"qbuild size-diff: no baseline at {shown_path(args.base)}; reporting this build alone",
              file=sys.stderr)
        base = None
    else:
        base = load_report(args.base, "the main branch's report")
    report = size_diff(base, head, args.max_growth)

    write_reports(report, args.json, args.markdown)
    if args.markdown is None:
        sys.stdout.write(render_markdown(report))
    else:
        sys.stdout.write(render_console(report))
    for failure in report["failures"]:
        print(f"qbuild size-diff: error: {failure}", file=sys.stderr)
    return 0 if report["ok"] else 1
