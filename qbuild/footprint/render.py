"""The footprint report as a console table and as footprint.md (templates/footprint.md.j2)."""
from __future__ import annotations

import json
from pathlib import Path

from qbuild.codegen.templates import render
from qbuild.footprint.analyze import growing_components
from qbuild.fsutil import write_atomic

TEMPLATES = ("footprint.md.j2",)

# --- rendering -----------------------------------------------------------------------------------------------------
def _bar(used: int, limit: int | None, width: int = 30) -> str:
    if not limit:
        return ""
    filled = min(width, round(width * used / limit))
    return "[" + "#" * filled + "." * (width - filled) + "]" + (" OVER" if used > limit else "")


def _pct(part: int, whole: int | None) -> str:
    return f"{100.0 * part / whole:5.1f}%" if whole else "     -"


def top_symbols(report: dict, region: str, n: int | None = None) -> list[dict]:
    n = report.get("top", 10) if n is None else n
    return [s for s in report["symbols"] if region in s["regions"]][:n]


def _short(name: str, width: int = 48) -> str:
    """A console-sized symbol name: C++ parameter lists dropped, then cut to `width`."""
    depth, cut = 0, None
    for i in range(len(name) - 1, -1, -1):   # the last balanced (...) group is the parameter list
        if name[i] == ")":
            depth += 1
        elif name[i] == "(":
            depth -= 1
            if depth == 0:
                cut = i
                break
    if cut and name.endswith((")", ") const")) and not name[cut:].startswith("(anonymous"):
        name = name[:cut] + "()"
    return name if len(name) <= width else name[:width - 3] + "..."


def render_console(report: dict) -> str:
    regions = report["regions"]
    lines = [f"footprint of {report['elf']}" + (f" on {report['board']}" if report["board"] else "")
             + f" (attribution: {report['attribution']})",
             f"{'region':<7}{'origin':>12}{'used':>12}{'limit':>12}{'use':>8}"]
    for name, r in regions.items():
        origin = f"0x{r['origin']:08x}" if r["origin"] is not None else "-"
        limit = f"{r['limit']:,}" if r["limit"] is not None else "-"
        lines.append(f"{name:<7}{origin:>12}{r['used']:>12,}{limit:>12}{_pct(r['used'], r['limit']):>8}  "
                     f"{_bar(r['used'], r['limit'])}")
    lines.append("")
    lines.append(f"{'component':<10}{'flash':>12}{'share':>8}{'ram':>12}{'share':>8}")
    for comp, per in report["components"].items():
        if any(per.values()):
            lines.append(f"{comp:<10}{per['flash']:>12,}{_pct(per['flash'], regions['flash']['used']):>8}"
                         f"{per['ram']:>12,}{_pct(per['ram'], regions['ram']['used']):>8}")
    for name in regions:
        rows = top_symbols(report, name, 5)
        if rows:
            lines.append("")
            lines.append(f"biggest in {name}: " + ", ".join(f"{_short(s['name'])} {s['size']:,}" for s in rows))
    base = report.get("baseline")
    if base:
        lines.append("")
        lines.append("since baseline: " + ", ".join(f"{n} {d['delta']:+,}" for n, d in base["regions"].items()))
        for name in base["regions"]:
            grown = growing_components(report, name)
            if grown:
                lines.append(f"  growing in {name}: " + ", ".join(f"{c} +{b:,}" for c, b in grown))
        for s in base["symbols"][:5]:
            lines.append(f"  {s['status']:<6} {_short(s['name'], 72)} {s['delta']:+,}")
    for failure in report["failures"]:
        lines.append(f"FAIL: {failure}")
    return "\n".join(lines) + "\n"


def render_markdown(report: dict) -> str:
    return render("footprint.md.j2", r=report, top_symbols=lambda region: top_symbols(report, region),
                  growing=lambda region: growing_components(report, region))


def write_reports(report: dict, json_path=None, md_path=None) -> None:
    """footprint.json (sorted keys, stable) and footprint.md; call before failing the build."""
    if json_path:
        write_atomic(Path(json_path), json.dumps(report, indent=1, sort_keys=True) + "\n")
    if md_path:
        write_atomic(Path(md_path), render_markdown(report))


