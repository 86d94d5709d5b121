"""`python -m qbuild size ELF --board ID | --flash O:L --ram O:L [--baseline old.json ...]`: the CI size check."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qbuild.target.boards import Region
from qbuild.errors import QbuildError
from qbuild.footprint.analyze import analyze
from qbuild.footprint.render import render_console, write_reports
from qbuild.footprint.schema import SCHEMA

# --- CLI -----------------------------------------------------------------------------------------------------------
def _region_arg(name: str):
    def parse(text: str) -> Region:
        try:
            origin, length = (int(v, 0) for v in text.split(":"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--{name} wants ORIGIN:LENGTH in bytes (e.g. 0x20000000:262144), "
                                             f"got {text!r}") from None
        if length <= 0:
            raise argparse.ArgumentTypeError(f"--{name} length must be positive, got {length}")
        return Region(name, origin, length)
    return parse


def _margin_arg(text: str):
    if "=" in text:
        region, value = text.split("=", 1)
        if region not in ("flash", "ram"):
            raise argparse.ArgumentTypeError(f"--margin region must be flash or ram, got {region!r}")
        return {region: value}
    return {"flash": text, "ram": text}


def cli_main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m qbuild size",
                                     description="Flash/RAM footprint of an ELF against a board's memory map.")
    parser.add_argument("elf", type=Path, nargs="?")
    parser.add_argument("--schema", action="store_true", help="print the JSON Schema of footprint.json and exit")
    parser.add_argument("--board", help="board id or board .toml")
    parser.add_argument("--flash", type=_region_arg("flash"), help="ORIGIN:LENGTH in bytes (instead of --board)")
    parser.add_argument("--ram", type=_region_arg("ram"), help="ORIGIN:LENGTH in bytes (instead of --board)")
    parser.add_argument("--map", type=Path, help="GNU ld map file (default: <elf>.map when present)")
    parser.add_argument("--json", type=Path, help="write footprint.json here")
    parser.add_argument("--markdown", type=Path, help="write footprint.md here")
    parser.add_argument("--baseline", type=Path, help="footprint.json of an earlier build to compare with")
    parser.add_argument("--max-growth", type=int, help="fail when a region grew by more bytes than this")
    parser.add_argument("--margin", type=_margin_arg, action="append",
                        help="keep this much free: bytes or percent, for both regions or as ram=10%%")
    parser.add_argument("--top", type=int, default=10, help="symbols per region in the Markdown (default 10)")
    args = parser.parse_args(argv)
    if args.schema:
        print(json.dumps(SCHEMA, indent=1))
        return 0
    if args.elf is None:
        parser.error("the ELF file is required")

    regions = None
    if args.flash or args.ram:
        if not (args.flash and args.ram):
            raise QbuildError("--flash and --ram go together: pass both ORIGIN:LENGTH pairs (or --board ID)")
        regions = [args.flash, args.ram]
    elif not args.board:
        raise QbuildError("no memory map: pass --board ID or --flash ORIGIN:LEN --ram ORIGIN:LEN")
    margin = None
    for m in args.margin or []:
        margin = {**(margin or {}), **m}
    if args.max_growth is not None and args.baseline is None:
        parser.error("--max-growth needs --baseline old/footprint.json to compare with")

    report = analyze(args.elf, board=args.board, map_path=args.map, baseline=args.baseline,
                     max_growth=args.max_growth, margin=margin, regions=regions, top=args.top)
    write_reports(report, args.json, args.markdown)
    sys.stdout.write(render_console(report))
    for failure in report["failures"]:
        print(f"qbuild size: error: {failure}", file=sys.stderr)
    return 0 if report["ok"] else 1

