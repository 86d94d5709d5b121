"""Boards as data: `boards/<id>.toml` (sizes in bytes) loaded into a validated, frozen `Board`.

Code never names a board: flags, the linker script's MEMORY block, the startup/stdout support sources and the footprint
limits all come from the board file. See docs/boards.md for the keys.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.resources import data_dir

BOARDS_DIR = data_dir("boards")
SUPPORT_DIR = BOARDS_DIR / "support"

# The linker script declares each region this much longer than the part so that an oversized image still links and
# the footprint check (not ld) reports the overflow with a full breakdown. The footprint check counts sections that
# land in this slack as overflow of the region rather than as "outside every region".
LINK_SLACK = 16 * 1024 * 1024

TOOLCHAINS = {
    # cc, cxx, link driver, objcopy, size. arm-none-eabi links with gcc: Debian ships no ARM libstdc++, and the
    # runtime needs none (-fno-exceptions -fno-rtti; boards/support provides the few C++ ABI stubs).
    "arm-none-eabi": ("arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-gcc",
                      "arm-none-eabi-objcopy", "arm-none-eabi-size"),
    "host": ("gcc", "g++", "g++", "objcopy", "size"),
}
# The CPUs a board may name: cpu -> (toolchain, startup source in boards/support, or None on the host). One startup
# serves every Cortex-M (it adapts to the architecture the -mcpu flag selects: Armv6-M, Armv7(E)-M, Armv8(.1)-M).
CPUS = {
    "cortex-m0": ("arm-none-eabi", "startup_cortex_m.c"),      # Armv6-M: Thumb-1, no DSP, no hardware divide
    "cortex-m0plus": ("arm-none-eabi", "startup_cortex_m.c"),  # Armv6-M (as the M0, plus an optional VTOR)
    "cortex-m3": ("arm-none-eabi", "startup_cortex_m.c"),      # Armv7-M: no DSP, no FPU
    "cortex-m4": ("arm-none-eabi", "startup_cortex_m.c"),      # Armv7E-M: DSP, optional single-precision FPU
    "cortex-m7": ("arm-none-eabi", "startup_cortex_m.c"),      # Armv7E-M: DSP, optional single/double FPU
    "cortex-m33": ("arm-none-eabi", "startup_cortex_m.c"),     # Armv8-M mainline: DSP, FPU, MSPLIM
    "cortex-m55": ("arm-none-eabi", "startup_cortex_m.c"),     # Armv8.1-M: DSP, MVE (Helium), FPU, MSPLIM
    "x86-64": ("host", None),
}
STDOUTS = ("semihosting", "stdio", "weak")
REGIONS = ("flash", "ram")

COMMON_FLAGS = ("-ffp-contract=off", "-ffunction-sections", "-fdata-sections")
CXX_ONLY_FLAGS = ("-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics", "-fno-use-cxa-atexit")

REQUIRED = {"id", "description", "cpu", "toolchain", "flags", "stdout", "runner"}
REQUIRED_BARE_METAL = {"memory", "stack_size", "heap_size"}
OPTIONAL = {"runner_timeout", "cflags", "cxxflags", "ldflags", "budget", "clock_hz"}
BUDGET_KEYS = {"flash", "ram", "flash_margin", "ram_margin"}


@dataclass(frozen=True)
class Region:
    name: str
    origin: int
    length: int

    @property
    def end(self) -> int:
        return self.origin + self.length


@dataclass(frozen=True)
class Board:
    id: str
    description: str
    cpu: str
    toolchain: str
    flags: tuple[str, ...]          # CPU/ABI flags: used for compiling and linking
    extra_cflags: tuple[str, ...]
    extra_cxxflags: tuple[str, ...]
    extra_ldflags: tuple[str, ...]
    regions: tuple[Region, ...]      # empty for the host
    stack_size: int
    heap_size: int
    budget_bytes: tuple[tuple[str, int], ...]   # (region, bytes): only the regions with an explicit budget
    margin_specs: tuple[tuple[str, str], ...]   # (region, "512" | "10%")
    stdout: str
    runner: tuple[str, ...] | str   # command with "{elf}", "native" or "none"
    runner_timeout: int
    path: Path
    clock_hz: int = 0               # CPU clock of the part (0 = not given): profile time estimates

    # --- tools -------------------------------------------------------------------------------------------------
    @property
    def cc(self) -> str:
        return TOOLCHAINS[self.toolchain][0]

    @property
    def cxx(self) -> str:
        return TOOLCHAINS[self.toolchain][1]

    @property
    def link(self) -> str:
        """The driver to link with (gcc for arm-none-eabi: there is no ARM libstdc++ to pull in)."""
        return TOOLCHAINS[self.toolchain][2]

    @property
    def objcopy(self) -> str:
        return TOOLCHAINS[self.toolchain][3]

    @property
    def objdump(self) -> str:
        return TOOLCHAINS[self.toolchain][3].replace("objcopy", "objdump")

    @property
    def size(self) -> str:
        return TOOLCHAINS[self.toolchain][4]

    @property
    def bare_metal(self) -> bool:
        return self.toolchain != "host"

    @property
    def pointer_size(self) -> int:
        return 4 if self.bare_metal else 8

    # --- flags -------------------------------------------------------------------------------------------------
    @property
    def cflags(self) -> list[str]:
        """Flags for C sources (the CPU flags come first)."""
        return [*self.flags, *COMMON_FLAGS, *self.extra_cflags]

    @property
    def cxx_only_flags(self) -> list[str]:
        """The small-firmware C++ set and the board's own C++ flags: what C++ sources get on top of `cflags`."""
        return [*CXX_ONLY_FLAGS, *self.extra_cxxflags]

    @property
    def cxxflags(self) -> list[str]:
        """Flags for C++ sources: cflags plus cxx_only_flags."""
        return [*self.cflags, *self.cxx_only_flags]

    @property
    def ldflags(self) -> list[str]:
        """Link flags, without the linker script and map file (see `link_flags`)."""
        if self.bare_metal:
            # libm.specs: the gcc link driver adds no libm (g++ would, but there is no ARM libstdc++ to link).
            return [*self.flags, "--specs=nano.specs", f"--specs={SUPPORT_DIR / 'libm.specs'}", "-nostartfiles",
                    "-Wl,--gc-sections", *self.extra_ldflags]
        return [*self.flags, "-Wl,--gc-sections", *self.extra_ldflags]

    def link_flags(self, linker_script: Path | str | None, map_path: Path | str | None) -> list[str]:
        """ldflags plus `-T script` and `-Wl,-Map=` when given (bare-metal boards need the script). Position-free:
        they work before the objects too (SCons LINKFLAGS)."""
        flags = self.ldflags
        if linker_script is not None:
            flags = [*flags, "-T", str(linker_script)]
        if map_path is not None:
            flags = [*flags, f"-Wl,-Map={map_path}"]
        return flags

    # --- memory ------------------------------------------------------------------------------------------------
    def region(self, name: str) -> Region | None:
        return next((r for r in self.regions if r.name == name), None)

    @property
    def flash(self) -> Region | None:
        return self.region("flash")

    @property
    def ram(self) -> Region | None:
        return self.region("ram")

    def budget(self, name: str) -> int | None:
        """Bytes allowed in the region: the explicit budget, else the region length (None for the host)."""
        explicit = dict(self.budget_bytes).get(name)
        region = self.region(name)
        if explicit is not None:
            return explicit
        return region.length if region else None

    def margin(self, name: str) -> str | None:
        return dict(self.margin_specs).get(name)

    # --- support and running -----------------------------------------------------------------------------------
    def support_sources(self) -> list[Path]:
        """Board support C sources to compile into the firmware: startup + syscalls (bare metal), stdout and the
        console printing that generated main.cc uses (qbuild_print.c)."""
        sources = []
        if self.bare_metal:
            sources += [SUPPORT_DIR / CPUS[self.cpu][1], SUPPORT_DIR / "newlib_syscalls.c"]
        sources += [SUPPORT_DIR / f"stdout_{self.stdout}.c", SUPPORT_DIR / "qbuild_print.c"]
        return sources

    def include_dirs(self) -> list[Path]:
        """Where `qbuild_board.h` (qbuild_write / qbuild_exit) lives."""
        return [SUPPORT_DIR]

    def runner_command(self, elf_path: Path | str) -> list[str] | None:
        """The command that runs the firmware (always under `timeout`), or None when the board cannot run it."""
        if self.runner == "none":
            return None
        timeout = ["timeout", "--kill-after=5", str(self.runner_timeout)]
        if self.runner == "native":
            return [*timeout, str(elf_path)]
        return [*timeout, *(arg.replace("{elf}", str(elf_path)) for arg in self.runner)]


def list_boards() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def load_board(id_or_path: str | Path) -> Board:
    """Load and validate a board by id (`boards/<id>.toml`) or by path to a .toml file."""
    text = str(id_or_path)
    if text.endswith(".toml") or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise QbuildError(f"board file {path} does not exist; pass a board id ({', '.join(list_boards())}) "
                              f"or the path of a board .toml")
    else:
        path = BOARDS_DIR / f"{text}.toml"
        if not path.is_file():
            raise QbuildError(f"unknown board '{text}'; valid boards: {', '.join(list_boards())}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise QbuildError(f"board file {path}: invalid TOML ({e}); fix the syntax") from None
    return _validate(path, data)


# --- validation --------------------------------------------------------------------------------------------------
def _fail(path: Path, key: str, problem: str) -> QbuildError:
    return QbuildError(f"board file {path}: key '{key}' {problem}")


def _get(path: Path, data: dict, key: str, kind, label: str):
    value = data[key]
    # bool is an int in Python; a size of `true` is a mistake.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _fail(path, key, f"must be {label}, got {value!r}")
    return value


def _size(path: Path, data: dict, key: str, *, positive: bool = False) -> int:
    value = _get(path, data, key, int, "an integer number of bytes")
    if value < 0 or (positive and value == 0):
        raise _fail(path, key, f"must be {'positive' if positive else '>= 0'} (bytes), got {value}")
    return value


def _reservation(path: Path, data: dict, key: str) -> int:
    value = _size(path, data, key)
    if value % 8:
        raise _fail(path, key, f"must be a multiple of 8 bytes (AAPCS stack alignment), got {value}")
    return value


def _strings(path: Path, data: dict, key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, key, f"must be a list of strings, got {value!r}")
    return tuple(value)


def _check_keys(path: Path, data: dict, required: set, optional: set, prefix: str = "") -> None:
    for key in sorted(data):
        if key not in required | optional:
            raise _fail(path, prefix + key, f"is unknown; valid keys: {', '.join(sorted(required | optional))}")
    for key in sorted(required):
        if key not in data:
            raise _fail(path, prefix + key, "is missing")


def _validate(path: Path, data: dict) -> Board:
    toolchain = data.get("toolchain")
    if toolchain is not None and toolchain not in TOOLCHAINS:
        raise _fail(path, "toolchain", f"must be one of {', '.join(TOOLCHAINS)}, got {toolchain!r}")
    bare_metal = toolchain != "host"
    _check_keys(path, data, REQUIRED | (REQUIRED_BARE_METAL if bare_metal else set()), OPTIONAL)

    board_id = _get(path, data, "id", str, "a string")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", board_id):
        raise _fail(path, "id", f"{board_id!r} names build folders: use letters, digits, '_', '.' and '-' only")
    if board_id != path.stem:
        raise _fail(path, "id", f"is {board_id!r} but the file is named {path.name}; make them match")
    cpu = _get(path, data, "cpu", str, "a string")
    if cpu not in CPUS:
        raise _fail(path, "cpu", f"must be one of {', '.join(CPUS)}, got {cpu!r}")
    if CPUS[cpu][0] != toolchain:
        raise _fail(path, "cpu", f"{cpu!r} is built with toolchain {CPUS[cpu][0]!r}, not {toolchain!r}")
    flags = _strings(path, data, "flags")
    mcpu = [f for f in flags if f.startswith("-mcpu=")]   # gcc obeys the last; "+ext" suffixes are fine
    if mcpu and mcpu[-1].split("=", 1)[1].split("+")[0] != cpu:
        raise _fail(path, "flags", f"has {mcpu[-1]} but cpu is {cpu!r}; make them name the same CPU")
    stdout = _get(path, data, "stdout", str, "a string")
    if stdout not in STDOUTS:
        raise _fail(path, "stdout", f"must be one of {', '.join(STDOUTS)}, got {stdout!r}")

    regions = _regions(path, data["memory"]) if bare_metal else ()
    budgets, margins = _budget(path, data.get("budget", {}), regions)

    runner = data["runner"]
    if isinstance(runner, list):
        if not runner or not all(isinstance(a, str) for a in runner) or not any("{elf}" in a for a in runner):
            raise _fail(path, "runner", "must be a non-empty list of strings containing \"{elf}\", \"native\" or \"none\"")
        runner = tuple(runner)
    elif runner not in ("native", "none"):
        raise _fail(path, "runner", f"must be a command list containing \"{{elf}}\", \"native\" or \"none\", got {runner!r}")
    timeout = _size(path, data, "runner_timeout", positive=True) if "runner_timeout" in data else 60

    return Board(
        id=board_id,
        description=_get(path, data, "description", str, "a string"),
        cpu=cpu,
        toolchain=toolchain,
        flags=flags,
        extra_cflags=_strings(path, data, "cflags"),
        extra_cxxflags=_strings(path, data, "cxxflags"),
        extra_ldflags=_strings(path, data, "ldflags"),
        regions=regions,
        stack_size=_reservation(path, data, "stack_size") if bare_metal else 0,
        heap_size=_reservation(path, data, "heap_size") if bare_metal else 0,
        budget_bytes=budgets,
        margin_specs=margins,
        stdout=stdout,
        runner=runner,
        runner_timeout=timeout,
        path=path,
        clock_hz=_size(path, data, "clock_hz", positive=True) if "clock_hz" in data else 0,
    )


def _regions(path: Path, memory) -> tuple[Region, ...]:
    if not isinstance(memory, dict):
        raise _fail(path, "memory", "must be a table with [memory.flash] and [memory.ram]")
    _check_keys(path, memory, set(REGIONS), set(), prefix="memory.")
    regions = []
    for name in REGIONS:
        table = memory[name]
        if not isinstance(table, dict):
            raise _fail(path, f"memory.{name}", "must be a table with origin and length")
        _check_keys(path, table, {"origin", "length"}, set(), prefix=f"memory.{name}.")
        origin = _size(path, table, "origin")
        length = _size(path, table, "length", positive=True)
        if origin + length > 1 << 32:
            raise _fail(path, f"memory.{name}.length", "puts the region beyond the 32-bit address space")
        regions.append(Region(name, origin, length))
    flash, ram = regions
    if flash.origin < ram.end and ram.origin < flash.end:
        raise _fail(path, "memory.ram.origin", "overlaps memory.flash; the regions must be disjoint")
    return tuple(regions)


MARGIN_RE = re.compile(r"^(\d+(?:\.\d+)?)%$")


def _budget(path: Path, budget, regions) -> tuple[tuple, tuple]:
    if not isinstance(budget, dict):
        raise _fail(path, "budget", "must be a table (flash, ram, flash_margin, ram_margin)")
    _check_keys(path, budget, set(), BUDGET_KEYS, prefix="budget.")
    if budget and not regions:
        raise _fail(path, "budget", "is only meaningful for boards with a memory map; remove it")
    budgets, margins = [], []
    for region in regions:
        if region.name in budget:
            value = _size(path, budget, region.name, positive=True)
            if value > region.length:
                raise _fail(path, f"budget.{region.name}",
                            f"is {value} bytes, more than the region's {region.length}; lower it")
            budgets.append((region.name, value))
        key = f"{region.name}_margin"
        if key in budget:
            margins.append((region.name, parse_margin(budget[key], f"board file {path}: key 'budget.{key}'")))
    return tuple(budgets), tuple(margins)


def parse_margin(value, what: str) -> str:
    """Normalise a margin given as bytes (int or "512") or a percentage ("10%") to its string form."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return text
        match = MARGIN_RE.match(text)
        if match and float(match.group(1)) < 100:
            return text
    raise QbuildError(f"{what} must be bytes (e.g. 512) or a percentage below 100 (e.g. \"10%\"), got {value!r}")


def margin_bytes(margin: str | None, budget: int) -> int:
    """Bytes a margin ("512" or "10%") takes off a budget."""
    if not margin:
        return 0
    if margin.endswith("%"):
        return math.ceil(budget * float(margin[:-1]) / 100)   # round towards keeping more free
    return int(margin)
