"""`python -m qbuild board ID --cflags | --cxxflags | --ldflags | --support-sources | ...`: a board's build inputs for
other build systems (CMake, Make), one item per line, all from the board file (qbuild.target.boards) — the same flags,
support sources and linker script qbuild's own firmware build uses."""
from __future__ import annotations

import argparse
import sys

from qbuild.target.boards import load_board

# option -> (help, Board -> items). Paths are the package's own (boards/support), never guessed by the caller.
ITEMS = {
    "cflags": ("flags for C sources (CPU flags first)", lambda b: b.cflags),
    "cxxflags": ("flags for C++ sources (C flags + the small-firmware C++ set)", lambda b: b.cxxflags),
    "cxx-only-flags": ("what C++ sources get on top of --cflags", lambda b: b.cxx_only_flags),
    "ldflags": ("link flags, without the linker script and map file", lambda b: b.ldflags),
    "support-sources": ("startup, syscalls and stdout C sources the firmware links", lambda b: b.support_sources()),
    "include-dirs": ("where qbuild_board.h lives", lambda b: b.include_dirs()),
    "cc": ("C compiler", lambda b: [b.cc]),
    "cxx": ("C++ compiler", lambda b: [b.cxx]),
    "link": ("link driver (gcc on bare metal: no libstdc++ is needed)", lambda b: [b.link]),
    "objcopy": ("objcopy of the toolchain", lambda b: [b.objcopy]),
    "toolchain": ("toolchain name: arm-none-eabi or host", lambda b: [b.toolchain]),
    "bare-metal": ("1 for a board with a memory map (linker script, footprint check), else 0",
                   lambda b: [int(b.bare_metal)]),
    "runner": ("the command that runs firmware '{elf}' (one argument per line; empty: no runner)",
               lambda b: b.runner_command("{elf}") or []),
    "board-file": ("the board's .toml (a dependency of everything built for it)", lambda b: [b.path]),
}


def cli_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m qbuild board",
                                 description="A board's compile/link flags, support sources and linker script.")
    ap.add_argument("board", help="board id (boards/<id>.toml) or path of a board .toml")
    what = ap.add_mutually_exclusive_group(required=True)
    for name, (help_, _) in ITEMS.items():
        what.add_argument(f"--{name}", dest="item", action="store_const", const=name, help=help_)
    what.add_argument("--linker-script", metavar="OUT", help="write the board's GNU ld script to OUT")
    args = ap.parse_args(argv)
    board = load_board(args.board)
    if args.linker_script:
        from qbuild.codegen.linker import write_linker_script  # the one linker-script generator (codegen)

        write_linker_script(board, args.linker_script)
        return 0
    sys.stdout.write("".join(f"{i}\n" for i in ITEMS[args.item][1](board)))
    return 0
