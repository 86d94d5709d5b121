"""Who owns each byte: the linker map's input sections and the symbols, sorted into components."""
from __future__ import annotations

import bisect
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from qbuild.target.boards import SUPPORT_DIR
from qbuild.errors import QbuildError
from qbuild.footprint.elf import Section
from qbuild.footprint.schema import ARENA_SYMBOL, COMPONENTS, MODEL_SYMBOL, RESERVATIONS

LIBRARY_RE = re.compile(r"^lib(c|c_nano|g|g_nano|m|gcc|gcc_s|stdc\+\+|stdc\+\+_nano|supc\+\+|supc\+\+_nano|nosys|"
                        r"rdimon|rdimon_nano|rdpmon)\.(a|so)$")
CRT_RE = re.compile(r"^(crt0|crt1|Scrt1|crti|crtn|crtbegin\w*|crtend\w*|crtfastmath|crtbeginS|crtendS)\.o$")
SUPPORT_STEMS = frozenset(p.stem for p in SUPPORT_DIR.glob("*.c"))


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
    if _MODEL_OBJECT_RE.match(stem):   # sl_tflite_micro_model.o, or kws_model.o for a prefixed model
        return "model"
    if _PREPARED_OBJECT_RE.match(stem):  # load=prepared: the model's build-time tables (model_prepared.cc) are model data
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


def map_mismatch(sections: list[Section], records) -> str | None:
    """Why a map file cannot be from this ELF (an input section outside its output section), or None."""
    by_name = {s.name: s for s in sections}
    for out, addr, size, path in records:
        sec = by_name.get(out)
        if sec is not None and not (sec.vma <= addr and addr + size <= sec.vma + sec.size):
            return f"{out} input from {path} at 0x{addr:x} is outside the ELF's {out}"
    return None


# Several models in one firmware: a prefixed model's array is `<prefix>_model_array` (QbuildModel(symbol=...)), and an
# application may give each model its own `<prefix>_tensor_arena`.
_MODEL_RE = re.compile(rf"^(?:{MODEL_SYMBOL}|[A-Za-z_]\w*_model_array)$")
_ARENA_RE = re.compile(rf"^(?:\w+_)?{ARENA_SYMBOL}$")
_MODEL_OBJECT_RE = re.compile(r"^(?:sl_tflite_micro_model|[A-Za-z_]\w*_model)$")
_PREPARED_OBJECT_RE = re.compile(r"^(?:[A-Za-z_]\w*_)?model_prepared$")


def carved_component(demangled: str) -> str | None:
    """"model" for a model array, "arena" for a tensor arena (a file-static C++ array is mangled: _ZL12tensor_arena,
    demangled to its plain name), else None."""
    if _MODEL_RE.match(demangled):
        return "model"
    if _ARENA_RE.match(demangled):
        return "arena"
    return None


def _classify_symbol(demangled: str) -> str:
    carved = carved_component(demangled)
    if carved:
        return carved
    if demangled.startswith(("qbuild::", "vtable for qbuild::", "guard variable for qbuild::")):
        return "runtime"
    return "other"


def attribute_pieces(sections, symbols, demangled, map_records) -> list[Piece]:
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
        component = carved_component(demangled[sym.name])
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


def component_sizes(sections, reservations, pieces, used: dict[str, int]) -> dict[str, dict[str, int]]:
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


def symbol_table(sections, symbols, demangled, pieces) -> list[dict]:
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


