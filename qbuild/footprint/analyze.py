"""Flash/RAM footprint of an ELF against a board's memory map (pyelftools), with components, budgets and baseline
deltas. The report is a versioned JSON dict; the console table and footprint.md are rendered from it.

Accounting (docs/footprint.md): flash = allocated sections with file contents, by load address; RAM = allocated
sections by run address (.data counts in both); heap/stack reservations come from `.heap`/`.stack` sections or, when
a script declares them (COPY), from the __HeapBase/__HeapLimit and __StackLimit/__StackTop symbols. Alignment gaps
between consecutive sections of a region count as padding, so flash used equals the `objcopy -O binary` image size
of a contiguous image. Every region's components add up to its `used` ("other" takes fill and unattributed bytes).
"""
from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from qbuild.boards import LINK_SLACK, SUPPORT_DIR, Board, Region, load_board, margin_bytes, parse_margin
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic

VERSION = 1
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
COMPONENTS = ("model", "arena", "runtime", "app", "startup", "libc", "stack", "heap", "other")
MODEL_SYMBOL = "sl_tflite_model_array"
ARENA_SYMBOL = "tensor_arena"
RESERVATIONS = {"heap": (".heap", "__HeapBase", "__HeapLimit"), "stack": (".stack", "__StackLimit", "__StackTop")}
LIBRARY_RE = re.compile(r"^lib(c|c_nano|g|g_nano|m|gcc|gcc_s|stdc\+\+|stdc\+\+_nano|supc\+\+|supc\+\+_nano|nosys|"
                        r"rdimon|rdimon_nano|rdpmon)\.(a|so)$")
CRT_RE = re.compile(r"^(crt0|crt1|Scrt1|crti|crtn|crtbegin\w*|crtend\w*|crtfastmath|crtbeginS|crtendS)\.o$")
SUPPORT_STEMS = frozenset(p.stem for p in SUPPORT_DIR.glob("*.c"))


# JSON Schema (draft 2020-12 subset) of footprint.json; `python -m qbuild size --schema` prints it.
_INT = {"type": "integer", "minimum": 0}
_INT_OR_NULL = {"type": ["integer", "null"], "minimum": 0}
_REGION_NAMES = {"type": "array", "items": {"enum": ["flash", "ram"]}}
_PER_REGION = {"type": "object", "required": ["flash", "ram"], "additionalProperties": False,
               "properties": {"flash": _INT, "ram": _INT}}
_DELTA = {"type": "object", "required": ["before", "after", "delta"], "additionalProperties": False,
          "properties": {"before": _INT, "after": _INT, "delta": {"type": "integer"}}}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "qbuild footprint.json",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "board", "elf", "map", "attribution", "pointer_bits", "regions", "sections",
                 "reservations", "components", "top", "symbols", "baseline", "max_growth", "ok", "failures"],
    "properties": {
        "version": {"const": VERSION},
        "board": {"type": ["string", "null"]},
        "elf": {"type": "string"},
        "map": {"type": ["string", "null"]},
        "attribution": {"enum": ["map", "symbols"]},
        "pointer_bits": {"enum": [32, 64]},
        "regions": {
            "type": "object", "required": ["flash", "ram"], "additionalProperties": False,
            "properties": {name: {
                "type": "object", "additionalProperties": False,
                "required": ["origin", "length", "used", "padding", "budget", "margin", "limit"],
                "properties": {"origin": _INT_OR_NULL, "length": _INT_OR_NULL, "used": _INT, "padding": _INT,
                               "budget": _INT_OR_NULL, "margin": {"type": ["string", "null"]},
                               "limit": {"type": ["integer", "null"]}}} for name in ("flash", "ram")}},
        "sections": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "type", "flags", "vma", "lma", "size", "regions"],
            "properties": {"name": {"type": "string"}, "type": {"type": "string"}, "flags": {"type": "string"},
                           "vma": _INT, "lma": _INT, "size": _INT, "regions": _REGION_NAMES}}},
        "reservations": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["component", "name", "start", "size", "from"],
            "properties": {"component": {"enum": ["heap", "stack"]}, "name": {"type": "string"}, "start": _INT,
                           "size": _INT, "from": {"enum": ["section", "symbols"]}}}},
        "components": {"type": "object", "additionalProperties": False, "required": list(COMPONENTS),
                       "properties": {c: _PER_REGION for c in COMPONENTS}},
        "top": _INT,
        "symbols": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "mangled", "size", "address", "section", "component", "regions"],
            "properties": {"name": {"type": "string"}, "mangled": {"type": "string"}, "size": _INT,
                           "address": _INT, "section": {"type": "string"}, "component": {"enum": list(COMPONENTS)},
                           "regions": _REGION_NAMES}}},
        "baseline": {"oneOf": [{"type": "null"}, {
            "type": "object", "additionalProperties": False, "required": ["elf", "regions", "components", "symbols"],
            "properties": {
                "elf": {"type": ["string", "null"]},
                "regions": {"type": "object", "additionalProperties": _DELTA},
                "components": {"type": "object", "additionalProperties": {
                    "type": "object", "additionalProperties": _DELTA}},
                "symbols": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["name", "before", "after", "delta", "status"],
                    "properties": {"name": {"type": "string"}, "before": _INT, "after": _INT,
                                   "delta": {"type": "integer"},
                                   "status": {"enum": ["grown", "shrunk", "new", "gone"]}}}}}}]},
        "max_growth": _INT_OR_NULL,
        "ok": {"type": "boolean"},
        "failures": {"type": "array", "items": {"type": "string"}},
    },
}


# --- the ELF ------------------------------------------------------------------------------------------------------
@dataclass
class Section:
    name: str
    type: str
    flags: str          # subset of "WAX"
    vma: int
    lma: int
    size: int
    align: int
    nobits: bool
    regions: list = field(default_factory=list)


@dataclass
class Symbol:
    name: str
    value: int
    size: int
    section: str


def _open_elf(elf_path: Path):
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    if not elf_path.is_file():
        raise QbuildError(f"{elf_path} does not exist; pass the firmware .elf the linker wrote")
    f = None
    try:
        f = open(elf_path, "rb")
        return f, ELFFile(f)
    except (ELFError, OSError, ValueError) as e:
        if f is not None:
            f.close()
        raise QbuildError(f"{elf_path} is not a readable ELF file ({e}); pass the firmware .elf the linker "
                          f"wrote") from None


def read_elf(elf_path: Path) -> tuple[list[Section], list[Symbol], dict[str, int], int]:
    """Allocated sections (with load addresses), sized FUNC/OBJECT symbols, all symbol values, ELF class (32/64)."""
    from elftools.common.exceptions import ELFError

    f, elf = _open_elf(elf_path)
    try:
        with f:
            segments = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
            sections = []
            for sec in elf.iter_sections():
                if not sec["sh_flags"] & 0x2 or sec["sh_size"] == 0:   # SHF_ALLOC
                    continue
                nobits = sec["sh_type"] == "SHT_NOBITS"
                flags = "".join(c for c, bit in (("W", 1), ("A", 2), ("X", 4)) if sec["sh_flags"] & bit)
                kind = sec["sh_type"]
                kind = kind.replace("SHT_", "") if isinstance(kind, str) else f"0x{kind:x}"
                sections.append(Section(sec.name, kind, flags, sec["sh_addr"],
                                        _load_address(sec, segments, nobits), sec["sh_size"],
                                        max(sec["sh_addralign"], 1), nobits))
            by_index = {i: s.name for i, s in enumerate(elf.iter_sections())}
            symbols, values = [], {}
            symtab = elf.get_section_by_name(".symtab")
            thumb = elf["e_machine"] == "EM_ARM"
            for sym in symtab.iter_symbols() if symtab else ():
                if not sym.name:
                    continue
                values.setdefault(sym.name, sym["st_value"])
                if sym["st_size"] and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") \
                        and isinstance(sym["st_shndx"], int):
                    value = sym["st_value"] & ~1 if thumb and sym["st_info"]["type"] == "STT_FUNC" else sym["st_value"]
                    symbols.append(Symbol(sym.name, value, sym["st_size"], by_index.get(sym["st_shndx"], "")))
            return sections, symbols, values, elf.elfclass
    except Exception as e:   # pyelftools raises many kinds (ELFError, struct/construct errors, ...) on bad input
        reason = str(e) if isinstance(e, ELFError) else f"{type(e).__name__}: {e}"
        raise QbuildError(f"{elf_path} is a corrupt ELF file ({reason}); rebuild it") from None


def _load_address(sec, segments, nobits: bool) -> int:
    # Only sections with file contents are loaded; NOBITS segments carry a meaningless flash p_paddr.
    if not nobits:
        for seg in segments:
            if seg["p_offset"] <= sec["sh_offset"] < seg["p_offset"] + seg["p_filesz"]:
                return seg["p_paddr"] + (sec["sh_offset"] - seg["p_offset"])
    return sec["sh_addr"]


# --- regions -------------------------------------------------------------------------------------------------------
def _windows(regions: list[Region]) -> dict[str, tuple[int, int]]:
    """Address window of each region: the region plus the link slack, clipped at the next region's origin, so a
    section that overflows the part counts as overflow of its region rather than as "outside every region"."""
    windows = {}
    for r in regions:
        end = r.end + LINK_SLACK
        for other in regions:
            if other.origin > r.origin:
                end = min(end, other.origin)
        windows[r.name] = (r.origin, max(end, r.end))
    return windows


def _assign_regions(sections: list[Section], regions: list[Region]) -> list[str]:
    """Fill Section.regions; return failures for sections that land in no region."""
    failures = []
    if not regions:   # hosted: no memory map, the image is "flash", writable data is "ram"
        for s in sections:
            s.regions = (["flash"] if not s.nobits else []) + (["ram"] if "W" in s.flags else [])
        return failures
    windows = _windows(regions)
    outside = []

    def inside(name, address):
        lo, hi = windows[name]
        return lo <= address < hi

    for s in sections:
        if not s.nobits and inside("flash", s.lma):
            s.regions.append("flash")
        if inside("ram", s.vma):
            s.regions.append("ram")
        # A NOBITS section at a flash address occupies nothing (e.g. an array holding only alignment padding).
        if not s.regions and not (s.nobits and inside("flash", s.vma)):
            outside.append(s)
    if len(outside) > 2:
        names = ", ".join(s.name for s in outside[:4]) + (", ..." if len(outside) > 4 else "")
        failures.append(f"{len(outside)} sections ({names}) lie outside every region, from 0x{outside[0].vma:08x}; "
                        f"the ELF was linked for another memory map: rebuild it for this board or fix --board")
    else:
        failures += [f"section {s.name} (run address 0x{s.vma:08x}, load address 0x{s.lma:08x}, {s.size:,} bytes) "
                     f"lies outside every region; fix the linker script or the memory map" for s in outside]
    return failures


@dataclass
class Item:
    """Something that occupies a region: a section or a symbol-described reservation."""
    name: str
    start: int
    size: int
    align: int


def _region_items(sections, reservations, region: str) -> list[Item]:
    items = [Item(s.name, s.lma if region == "flash" else s.vma, s.size, s.align)
             for s in sections if region in s.regions]
    if region == "ram":
        items += [Item(r["name"], r["start"], r["size"], 8) for r in reservations if r["from"] == "symbols"]
    return sorted(items, key=lambda i: (i.start, i.size))


def _padding(items: list[Item]) -> int:
    """Bytes between consecutive items that alignment explains (a larger gap is not part of the image)."""
    padding = 0
    for prev, nxt in zip(items, items[1:]):
        gap = nxt.start - (prev.start + prev.size)
        if 0 < gap < nxt.align:
            padding += gap
    return padding


def _reservations(sections: list[Section], values: dict[str, int], regions: list[Region]) -> list[dict]:
    """Heap and stack: an allocated `.heap`/`.stack` section, else the linker symbols (COPY sections)."""
    found = []
    ram = _windows(regions).get("ram")
    for component, (section_name, lo_sym, hi_sym) in RESERVATIONS.items():
        sec = next((s for s in sections if s.name == section_name and "ram" in s.regions), None)
        if sec is not None:
            found.append({"component": component, "name": sec.name, "start": sec.vma, "size": sec.size,
                          "from": "section"})
        elif lo_sym in values and hi_sym in values and values[hi_sym] > values[lo_sym] and ram is not None:
            lo, hi = values[lo_sym], values[hi_sym]
            covered = any(s.vma < hi and lo < s.vma + s.size for s in sections if "ram" in s.regions)
            if not covered and ram[0] <= lo < ram[1]:
                found.append({"component": component, "name": f"{lo_sym}..{hi_sym}", "start": lo, "size": hi - lo,
                              "from": "symbols"})
    return found


# --- components ----------------------------------------------------------------------------------------------------
@dataclass
class Piece:
    """Bytes attributed to a component: an input section from the map file, or a symbol."""
    section: str
    start: int
    size: int
    component: str


def classify_object(path: str) -> str:
    """Component of an input file named in a map file: libc, runtime, startup, model or app."""
    archive, member = path, None
    match = re.match(r"^(.*)\(([^()]*)\)$", path)
    if match:
        archive, member = match.groups()
    base = os.path.basename(archive)
    if LIBRARY_RE.match(base) or (member is None and CRT_RE.match(base)):
        return "libc"
    # .../runtime/src/*.o, runtime/src/ops/*.o, runtime/kernels/*.o: only the nearest directories count (a checkout
    # path may say "runtime" too)
    near = Path(archive).parts[-4:-1]
    in_runtime = any(a == "runtime" and b in ("src", "kernels") for a, b in zip(near, near[1:]))
    if in_runtime or (member is not None and "runtime" in base):
        return "runtime"
    stem = os.path.basename(member or archive).split(".")[0]
    if stem in SUPPORT_STEMS:
        return "startup"
    if stem.startswith("sl_tflite_micro_model"):
        return "model"
    return "app"


def parse_map(map_path: Path) -> list[tuple[str, int, int, str]]:
    """(output section, address, size, input file) for every input section in a GNU ld map file."""
    try:
        lines = map_path.read_text(errors="replace").splitlines()
    except OSError as e:
        raise QbuildError(f"cannot read map file {map_path} ({e.strerror}); pass --map with the linker's -Map file")
    try:
        start = lines.index("Linker script and memory map") + 1
    except ValueError:
        raise QbuildError(f"{map_path} is not a GNU ld map file (no 'Linker script and memory map'); pass the file "
                          f"written by -Wl,-Map=") from None
    hexnum = re.compile(r"^0x[0-9a-fA-F]+$")
    records, output, pending = [], None, None
    for line in lines[start:]:
        if line.startswith("Cross Reference Table"):
            break
        tokens = line.split()
        if not tokens:
            continue
        if not line[0].isspace():   # output section header "name addr size", or "name" alone when wrapped
            header = len(tokens) == 1 or (len(tokens) >= 3 and hexnum.match(tokens[1]) and hexnum.match(tokens[2]))
            output = tokens[0] if header else None                    # not LOAD, START GROUP, OUTPUT(...)
            pending = None
            continue
        if line.startswith(" ") and not line.startswith("  ") and not tokens[0].startswith("*"):
            name, rest = tokens[0], tokens[1:]          # input section line
            if not rest:
                pending = name
                continue
        elif pending is not None and len(tokens) >= 2 and hexnum.match(tokens[0]) and hexnum.match(tokens[1]):
            name, rest, pending = pending, tokens, None  # continuation of a wrapped input section
        else:
            pending = None
            continue
        if output is None or len(rest) < 3 or not (hexnum.match(rest[0]) and hexnum.match(rest[1])):
            continue
        size = int(rest[1], 16)
        if size:
            records.append((output, int(rest[0], 16), size, " ".join(rest[2:])))
    return records


def _map_mismatch(sections: list[Section], records) -> str | None:
    """Why a map file cannot be from this ELF (an input section outside its output section), or None."""
    by_name = {s.name: s for s in sections}
    for out, addr, size, path in records:
        sec = by_name.get(out)
        if sec is not None and not (sec.vma <= addr and addr + size <= sec.vma + sec.size):
            return f"{out} input from {path} at 0x{addr:x} is outside the ELF's {out}"
    return None


def _classify_symbol(demangled: str) -> str:
    if demangled == MODEL_SYMBOL:
        return "model"
    if demangled == ARENA_SYMBOL:   # a file-static C++ array is mangled (_ZL12tensor_arena)
        return "arena"
    if demangled.startswith(("qbuild::", "vtable for qbuild::", "guard variable for qbuild::")):
        return "runtime"
    return "other"


def _pieces(sections, symbols, demangled, map_records) -> list[Piece]:
    counted = {s.name for s in sections if s.regions}
    reserved = {spec[0] for spec in RESERVATIONS.values()}
    if map_records is not None:
        pieces = [Piece(out, addr, size, classify_object(path)) for out, addr, size, path in map_records
                  if out in counted and out not in reserved]
    else:
        reach, pieces = {}, []   # section -> end of the last symbol taken: aliases and nested symbols count once
        for sym in sorted(symbols, key=lambda s: (s.value, -s.size)):
            if sym.section in counted and sym.section not in reserved and sym.value >= reach.get(sym.section, 0):
                reach[sym.section] = sym.value + sym.size
                pieces.append(Piece(sym.section, sym.value, sym.size, _classify_symbol(demangled[sym.name])))
    # The model array and the arena are carved out of whatever object holds them (the piece is split in three).
    for sym in symbols:
        component = {MODEL_SYMBOL: "model", ARENA_SYMBOL: "arena"}.get(demangled[sym.name])
        if component is None or sym.section not in counted:
            continue
        for i, piece in enumerate(pieces):
            end = piece.start + piece.size
            if piece.section == sym.section and piece.start <= sym.value < end:
                cut = min(sym.value + sym.size, end)
                pieces[i:i + 1] = [Piece(piece.section, piece.start, sym.value - piece.start, piece.component),
                                   Piece(piece.section, sym.value, cut - sym.value, component),
                                   Piece(piece.section, cut, end - cut, piece.component)]
                break
    return [p for p in pieces if p.size > 0]


def _components(sections, reservations, pieces, used: dict[str, int]) -> dict[str, dict[str, int]]:
    regions_of = {s.name: s.regions for s in sections}
    table = {c: {r: 0 for r in used} for c in COMPONENTS}
    for p in pieces:
        for region in regions_of.get(p.section, ()):
            table[p.component][region] += p.size
    for res in reservations:
        if "ram" in used:
            table[res["component"]]["ram"] += res["size"]
    for region, total in used.items():
        attributed = sum(table[c][region] for c in COMPONENTS if c != "other")
        table["other"][region] = max(total - attributed, 0)
    return table


# --- symbols -------------------------------------------------------------------------------------------------------
def demangle(names: list[str]) -> dict[str, str]:
    """Demangled C++ names via c++filt (one process); names stay as they are when no c++filt is installed."""
    tool = shutil.which("c++filt") or shutil.which("arm-none-eabi-c++filt")
    mangled = sorted({n for n in names if n.startswith("_Z")})
    result = {n: n for n in names}
    if tool and mangled:
        out = subprocess.run([tool], input="\n".join(mangled) + "\n", capture_output=True, text=True).stdout
        lines = out.splitlines()
        if len(lines) == len(mangled):
            result.update(zip(mangled, lines))
    return result


def _symbol_table(sections, symbols, demangled, pieces) -> list[dict]:
    by_name = {s.name: s for s in sections}
    starts = {}   # section -> sorted [(start, end, component)] of its (non-overlapping) pieces
    for p in sorted(pieces, key=lambda p: p.start):
        starts.setdefault(p.section, []).append((p.start, p.start + p.size, p.component))
    keys = {name: [start for start, _, _ in rows] for name, rows in starts.items()}

    def component_at(section: str, address: int) -> str:
        i = bisect.bisect_right(keys.get(section, []), address) - 1
        if i >= 0 and address < starts[section][i][1]:
            return starts[section][i][2]
        return "other"

    rows, seen = [], set()
    for sym in sorted(symbols, key=lambda s: (-s.size, s.name)):
        sec = by_name.get(sym.section)
        if sec is None or not sec.regions or (sym.value, sym.size) in seen:
            continue
        seen.add((sym.value, sym.size))
        rows.append({"name": demangled[sym.name], "mangled": sym.name, "size": sym.size, "address": sym.value,
                     "section": sym.section, "component": component_at(sym.section, sym.value),
                     "regions": list(sec.regions)})
    return rows


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


def _budget_failures(regions: dict, components: dict) -> list[str]:
    failures = []
    for name, region in regions.items():
        limit = region.get("limit")
        if limit is None or region["used"] <= limit:
            continue
        biggest = sorted(((c, components[c][name]) for c in COMPONENTS if components[c][name]),
                         key=lambda kv: -kv[1])[:3]
        margin = f" after a {region['margin']} margin" if region.get("margin") else ""
        failures.append(f"{name} over budget by {region['used'] - limit:,} bytes (used {region['used']:,} of "
                        f"{limit:,}{margin}); biggest: " + ", ".join(f"{c} {b:,}" for c, b in biggest))
    return failures


def load_baseline(baseline) -> dict:
    if isinstance(baseline, dict):
        data = baseline
    else:
        path = Path(baseline)
        try:
            data = json.loads(path.read_text())
        except OSError as e:
            raise QbuildError(f"cannot read baseline {path} ({e.strerror}); pass a footprint.json from an "
                              f"earlier build") from None
        except json.JSONDecodeError as e:
            raise QbuildError(f"baseline {path} is not JSON ({e.msg}, line {e.lineno}); pass a footprint.json "
                              f"from an earlier build") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or "regions" not in data:
        raise QbuildError(f"baseline {baseline if not isinstance(baseline, dict) else '(dict)'} is not a qbuild "
                          f"footprint.json version {VERSION}; regenerate it with python -m qbuild size --json")
    return data


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
    return {"elf": base.get("elf"), "regions": regions, "components": components, "symbols": symbols}


# --- the report ----------------------------------------------------------------------------------------------------
def _resolve_board(board) -> Board | None:
    if board is None or isinstance(board, Board):
        return board
    return load_board(board)


def analyze(elf_path, board=None, map_path=None, baseline=None, max_growth=None, margin=None, regions=None,
            top: int = 10) -> dict:
    """The footprint report (see docs/footprint.md for the schema).

    board: Board, board id/path, or None with explicit `regions` (list of Region named flash/ram).
    map_path: GNU ld map for per-object attribution; defaults to <elf>.map when it exists.
    margin: bytes or "10%" for both regions, or {"ram": "10%"}; overrides the board's margins.
    """
    elf_path = Path(elf_path)
    board = _resolve_board(board)
    region_list = list(regions) if regions is not None else list(board.regions) if board else None
    if region_list is None:
        raise QbuildError("no memory map: pass --board ID or --flash ORIGIN:LEN --ram ORIGIN:LEN")
    explicit_map = map_path is not None
    if map_path is None and elf_path.with_suffix(".map").is_file():
        map_path = elf_path.with_suffix(".map")

    sections, symbols, values, elfclass = read_elf(elf_path)
    failures = _assign_regions(sections, region_list)
    reservations = _reservations(sections, values, region_list)
    demangled = demangle([s.name for s in symbols])

    used, region_rows = {}, {}
    margins = _margins(board, margin)
    for name in ("flash", "ram"):
        items = _region_items(sections, reservations, name)
        padding = _padding(items)
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
    mismatch = _map_mismatch(sections, map_records) if map_records is not None else None
    if mismatch and explicit_map:
        raise QbuildError(f"map file {map_path} does not belong to {elf_path} ({mismatch}); pass the map written "
                          f"by the same link")
    if mismatch:   # a stale <elf>.map next to the ELF: attribute by symbols instead
        map_path = map_records = None
    pieces = _pieces(sections, symbols, demangled, map_records)
    components = _components(sections, reservations, pieces, used)
    report = {
        "version": VERSION,
        "board": board.id if board else None,
        "elf": str(elf_path),
        "map": str(map_path) if map_path else None,
        "attribution": "map" if map_records is not None else "symbols",
        "pointer_bits": 32 if elfclass == 32 else 64,
        "regions": region_rows,
        "sections": [{"name": s.name, "type": s.type, "flags": s.flags, "vma": s.vma, "lma": s.lma, "size": s.size,
                      "regions": s.regions} for s in sections],
        "reservations": [{k: r[k] for k in ("component", "name", "start", "size", "from")} for r in reservations],
        "components": components,
        "top": top,
        "symbols": _symbol_table(sections, symbols, demangled, pieces),
        "baseline": None,
        "max_growth": max_growth,
        "ok": True,
        "failures": failures + _budget_failures(region_rows, components),
    }
    if baseline is not None:
        report["baseline"] = _deltas(report, load_baseline(baseline))
        if max_growth is not None:
            report["failures"] += _growth_failures(report, max_growth)
    report["ok"] = not report["failures"]
    return report


def _growth_failures(report: dict, max_growth: int) -> list[str]:
    deltas, failures = report["baseline"], []
    regions_of = {}
    for sym in report["symbols"]:
        regions_of.setdefault(sym["name"], set()).update(sym["regions"])
    for name, d in deltas["regions"].items():
        if d["delta"] > max_growth:
            grown = [s for s in deltas["symbols"] if s["delta"] > 0 and name in regions_of.get(s["name"], ())][:3]
            failures.append(f"{name} grew by {d['delta']:,} bytes since the baseline (max_growth {max_growth:,}); "
                            f"biggest growth: " + (", ".join(f"{s['name']} +{s['delta']:,}" for s in grown) or "none"))
    return failures


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
        for s in base["symbols"][:5]:
            lines.append(f"  {s['status']:<6} {_short(s['name'], 72)} {s['delta']:+,}")
    for failure in report["failures"]:
        lines.append(f"FAIL: {failure}")
    return "\n".join(lines) + "\n"


def render_markdown(report: dict) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["bytes"] = lambda v: "-" if v is None else f"{v:,}"
    env.filters["signed"] = lambda v: f"{v:+,}"
    env.filters["pct"] = lambda part, whole: f"{100.0 * part / whole:.1f} %" if whole else "-"
    env.filters["hex"] = lambda v: "-" if v is None else f"0x{v:08x}"
    env.filters["md"] = lambda s: str(s).replace("|", "\\|").replace("<", "&lt;")
    return env.get_template("footprint.md.j2").render(r=report, top_symbols=lambda region: top_symbols(report, region))


def write_reports(report: dict, json_path=None, md_path=None) -> None:
    """footprint.json (sorted keys, stable) and footprint.md; call before failing the build."""
    if json_path:
        write_atomic(Path(json_path), json.dumps(report, indent=1, sort_keys=True) + "\n")
    if md_path:
        write_atomic(Path(md_path), render_markdown(report))


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
        raise QbuildError("--max-growth needs --baseline old/footprint.json to compare with")

    report = analyze(args.elf, board=args.board, map_path=args.map, baseline=args.baseline,
                     max_growth=args.max_growth, margin=margin, regions=regions, top=args.top)
    write_reports(report, args.json, args.markdown)
    sys.stdout.write(render_console(report))
    for failure in report["failures"]:
        print(f"qbuild size: error: {failure}", file=sys.stderr)
    return 0 if report["ok"] else 1
