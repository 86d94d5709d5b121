"""Flash/RAM footprint of an ELF against a board's memory map (pyelftools), with components, budgets and baseline
deltas. The report is a versioned JSON dict; the console table and footprint.md are rendered from it.

Accounting (docs/footprint.md): flash = allocated sections with file contents, by load address; RAM = allocated
sections by run address (.data counts in both); heap/stack reservations come from `.heap`/`.stack` sections or, when
a script declares them (COPY), from the __HeapBase/__HeapLimit and __StackLimit/__StackTop symbols. Alignment gaps
between consecutive sections of a region count as padding, so flash used equals the `objcopy -O binary` image size
of a contiguous image. Every region's components add up to its `used` ("other" takes fill and unattributed bytes).
"""
from __future__ import annotations

import json
from pathlib import Path

from qbuild.target.boards import Board, load_board, margin_bytes, parse_margin
from qbuild.errors import QbuildError
from qbuild.footprint.attribution import attribute_pieces, component_sizes, demangle, map_mismatch, parse_map, symbol_table
from qbuild.footprint.elf import assign_regions, find_reservations, padding_bytes, read_elf, region_items
from qbuild.footprint.schema import COMPONENTS, VERSION

# --- budgets and baseline ------------------------------------------------------------------------------------------
def _margins(board: Board | None, margin) -> dict[str, str]:
    specs = {r: board.margin(r) for r in ("flash", "ram")} if board else {}
    if margin is None:
        return {r: m for r, m in specs.items() if m}
    if isinstance(margin, dict):
        specs.update({r: parse_margin(v, f"margin for {r}") for r, v in margin.items()})
    else:
        specs = {r: parse_margin(margin, "margin") for r in ("flash", "ram")}
    return {r: m for r, m in specs.items() if m}


BUDGET_PHRASE = " over budget by "   # marks a budget failure line (size-diff recomputes them)


def budget_failures(regions: dict, components: dict) -> list[str]:
    failures = []
    for name, region in regions.items():
        limit = region.get("limit")
        if limit is None or region["used"] <= limit:
            continue
        biggest = sorted(((c, components[c][name]) for c in COMPONENTS if components[c][name]),
                         key=lambda kv: -kv[1])[:3]
        margin = f" after a {region['margin']} margin" if region.get("margin") else ""
        failures.append(f"{name}{BUDGET_PHRASE}{region['used'] - limit:,} bytes (used {region['used']:,} of "
                        f"{limit:,}{margin}); biggest: " + ", ".join(f"{c} {b:,}" for c, b in biggest))
    return failures


def load_report(source, what: str = "baseline") -> dict:
    """A footprint.json (path or dict) of version VERSION; `what` names it in errors (baseline, main's report, ...)."""
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        try:
            data = json.loads(path.read_text())
        except OSError as e:
            raise QbuildError(f"cannot read {what} {path} ({e.strerror}); pass a footprint.json from an "
                              f"earlier build") from None
        except json.JSONDecodeError as e:
            raise QbuildError(f"{what} {path} is not JSON ({e.msg}, line {e.lineno}); pass a footprint.json "
                              f"from an earlier build") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or "regions" not in data:
        raise QbuildError(f"{what} {source if not isinstance(source, dict) else '(dict)'} is not a qbuild "
                          f"footprint.json version {VERSION}; regenerate it with python -m qbuild size --json")
    return data


def load_baseline(baseline) -> dict:
    return load_report(baseline, "baseline")


def _deltas(report: dict, base: dict) -> dict:
    regions = {}
    for name, region in report["regions"].items():
        before = base["regions"].get(name, {}).get("used", 0)
        regions[name] = {"before": before, "after": region["used"], "delta": region["used"] - before}
    components = {}
    for comp, per_region in report["components"].items():
        old = base.get("components", {}).get(comp, {})
        components[comp] = {r: {"before": old.get(r, 0), "after": v, "delta": v - old.get(r, 0)}
                            for r, v in per_region.items()}

    def sizes(rows):
        totals = {}
        for row in rows:
            totals[row["name"]] = totals.get(row["name"], 0) + row["size"]
        return totals

    old, new = sizes(base.get("symbols", [])), sizes(report["symbols"])
    symbols = []
    for name in old.keys() | new.keys():
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        status = "new" if a is None else "gone" if b is None else "grown" if b > a else "shrunk"
        symbols.append({"name": name, "before": a or 0, "after": b or 0, "delta": (b or 0) - (a or 0),
                        "status": status})
    symbols.sort(key=lambda s: (-abs(s["delta"]), s["name"]))
    return {"elf": shown_path(base["elf"]) if base.get("elf") else None, "regions": regions, "components": components, "symbols": symbols}


# --- the report ----------------------------------------------------------------------------------------------------
def _resolve_board(board) -> Board | None:
    if board is None or isinstance(board, Board):
        return board
    return load_board(board)


def shown_path(path) -> str:
    """A path as reports show it, never absolute: relative to the working directory when inside it (so two checkouts
    in different places write the same report), else the file's name alone (a CI runner's or a temp directory's
    path says nothing to the reader, and a report must not differ by where it was built)."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.name if p.is_absolute() or ".." in p.parts else p.as_posix()


def analyze(elf_path, board=None, map_path=None, baseline=None, max_growth=None, margin=None, regions=None,
            top: int = 10) -> dict:
    """The footprint report (see docs/footprint.md for the schema).

    board: Board, board id/path, or None with explicit `regions` (list of Region named flash/ram).
    map_path: GNU ld map for per-object attribution; defaults to <elf>.map when it exists.
    margin: bytes or "10%" for both regions, or {"ram": "10%"}; overrides the board's margins.
    """
    elf_path = Path(elf_path)
    check_growth_options(baseline, max_growth)
    board = _resolve_board(board)
    region_list = list(regions) if regions is not None else list(board.regions) if board else None
    if region_list is None:
        raise QbuildError("no memory map: pass --board ID or --flash ORIGIN:LEN --ram ORIGIN:LEN")
    explicit_map = map_path is not None
    if map_path is None and elf_path.with_suffix(".map").is_file():
        map_path = elf_path.with_suffix(".map")

    sections, symbols, values, elfclass = read_elf(elf_path)
    failures = assign_regions(sections, region_list)
    reservations = find_reservations(sections, values, region_list)
    demangled = demangle([s.name for s in symbols])

    used, region_rows = {}, {}
    margins = _margins(board, margin)
    for name in ("flash", "ram"):
        items = region_items(sections, reservations, name)
        padding = padding_bytes(items)
        used[name] = sum(i.size for i in items) + padding
        region = next((r for r in region_list if r.name == name), None)
        row = {"origin": region.origin if region else None, "length": region.length if region else None,
               "used": used[name], "padding": padding, "budget": None, "margin": None, "limit": None}
        if region is not None:
            budget = board.budget(name) if board and regions is None else region.length
            row.update(budget=budget, margin=margins.get(name),
                       limit=budget - margin_bytes(margins.get(name), budget))
        region_rows[name] = row

    map_records = parse_map(Path(map_path)) if map_path else None
    mismatch = map_mismatch(sections, map_records) if map_records is not None else None
    if mismatch and explicit_map:
        raise QbuildError(f"map file {map_path} does not belong to {elf_path} ({mismatch}); pass the map written "
                          f"by the same link")
    if mismatch:   # a stale <elf>.map next to the ELF: attribute by symbols instead
        map_path = map_records = None
    pieces = attribute_pieces(sections, symbols, demangled, map_records)
    components = component_sizes(sections, reservations, pieces, used)
    report = {
        "version": VERSION,
        "board": board.id if board else None,
        "elf": shown_path(elf_path),
        "map": shown_path(map_path) if map_path else None,
        "attribution": "map" if map_records is not None else "symbols",
        "pointer_bits": 32 if elfclass == 32 else 64,
        "regions": region_rows,
        "sections": [{"name": s.name, "type": s.type, "flags": s.flags, "vma": s.vma, "lma": s.lma, "size": s.size,
                      "regions": s.regions} for s in sections],
        "reservations": [{k: r[k] for k in ("component", "name", "start", "size", "from")} for r in reservations],
        "components": components,
        "top": top,
        "symbols": symbol_table(sections, symbols, demangled, pieces),
        "baseline": None,
        "max_growth": max_growth,
        "ok": True,
        "failures": failures + budget_failures(region_rows, components),
    }
    if baseline:   # a path or a report; None, "" and False (a build step's "no baseline") mean none
        compare(report, load_baseline(baseline), max_growth)
    report["ok"] = not report["failures"]
    return report


# --- growth --------------------------------------------------------------------------------------------------------
GROWTH_PHRASE = " since the baseline (max_growth "   # marks a growth failure line (size-diff replaces them)


def check_growth_options(baseline, max_growth) -> None:
    """max_growth is measured against a baseline: without one it would be silently ignored, so it is a mistake."""
    if max_growth is None:
        return
    if isinstance(max_growth, bool) or not isinstance(max_growth, int) or max_growth < 0:
        raise QbuildError(f"max_growth={max_growth!r} is not a byte count; use e.g. max_growth=512")
    if not baseline:
        raise QbuildError(f"max_growth={max_growth} needs a baseline (an earlier footprint.json: baseline= in "
                          f"SCons, --baseline with python -m qbuild size) to compare with")


def compare(report: dict, base: dict, max_growth=None) -> dict:
    """Fill report["baseline"] with the deltas against `base` (a footprint.json dict), replace earlier growth failures
    with those against `base` and `max_growth`, and update report["ok"]."""
    report["baseline"] = _deltas(report, base)
    report["max_growth"] = max_growth
    report["failures"] = [f for f in report["failures"] if GROWTH_PHRASE not in f]
    if max_growth is not None:
        report["failures"] += _growth_failures(report, max_growth)
    report["ok"] = not report["failures"]
    return report


def growing_components(report: dict, region: str) -> list[tuple[str, int]]:
    """(component, bytes) that grew in `region` since the baseline, biggest first."""
    deltas = report["baseline"]["components"]
    grown = [(c, per[region]["delta"]) for c, per in deltas.items() if region in per and per[region]["delta"] > 0]
    return sorted(grown, key=lambda kv: (-kv[1], kv[0]))


def _growth_failures(report: dict, max_growth: int) -> list[str]:
    deltas, failures = report["baseline"], []
    regions_of = {}
    for sym in report["symbols"]:
        regions_of.setdefault(sym["name"], set()).update(sym["regions"])
    for name, d in deltas["regions"].items():
        if d["delta"] > max_growth:
            comps = ", ".join(f"{c} +{b:,}" for c, b in growing_components(report, name)) or "none"
            grown = [s for s in deltas["symbols"] if s["delta"] > 0 and name in regions_of.get(s["name"], ())][:3]
            symbols = ", ".join(f"{s['name']} +{s['delta']:,}" for s in grown) or "none (no symbol grew)"
            failures.append(f"{name} grew by {d['delta']:,} bytes{GROWTH_PHRASE}{max_growth:,}); growing: {comps}; "
                            f"biggest growth: {symbols}")
    return failures
