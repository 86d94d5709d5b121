"""Build step `footprint`: analyze the firmware ELF against the board, write footprint.json/.md, print the table, and
fail (after writing the report) when over budget or grown past max_growth."""
from __future__ import annotations

from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.footprint.analyze import analyze
from qbuild.footprint.render import render_console, write_reports


def check_footprint(elf: Path, board, opts: dict, json_path: Path, md_path: Path) -> dict:
    """opts: {"map", "baseline" (path or None), "max_growth", "ram_margin"}."""
    report = analyze(elf, board, map_path=opts["map"], baseline=opts["baseline"], max_growth=opts["max_growth"],
                     margin={"ram": opts["ram_margin"]} if opts["ram_margin"] else None)
    write_reports(report, json_path, md_path)
    print(render_console(report), flush=True)
    if not report["ok"]:
        raise QbuildError(f"{board.id}: footprint check failed: " + "; ".join(report["failures"]))
    return report
