"""The ELF side of the footprint: sections by load and run address, regions, heap/stack reservations (pyelftools)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qbuild.target.boards import LINK_SLACK, Region
from qbuild.errors import QbuildError
from qbuild.footprint.schema import RESERVATIONS

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


def assign_regions(sections: list[Section], regions: list[Region]) -> list[str]:
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


def region_items(sections, reservations, region: str) -> list[Item]:
    items = [Item(s.name, s.lma if region == "flash" else s.vma, s.size, s.align)
             for s in sections if region in s.regions]
    if region == "ram":
        items += [Item(r["name"], r["start"], r["size"], 8) for r in reservations if r["from"] == "symbols"]
    return sorted(items, key=lambda i: (i.start, i.size))


def padding_bytes(items: list[Item]) -> int:
    """Bytes between consecutive items that alignment explains (a larger gap is not part of the image)."""
    padding = 0
    for prev, nxt in zip(items, items[1:]):
        gap = nxt.start - (prev.start + prev.size)
        if 0 < gap < nxt.align:
            padding += gap
    return padding


def find_reservations(sections: list[Section], values: dict[str, int], regions: list[Region]) -> list[dict]:
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


