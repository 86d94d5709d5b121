"""GNU ld script for a bare-metal board: Python computes the memory map, templates/linker.ld.j2 lays it out."""
from __future__ import annotations

from pathlib import Path

from qbuild.target.boards import LINK_SLACK, Board, load_board
from qbuild.codegen.templates import TEMPLATES_DIR, render
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic

TEMPLATES = ("linker.ld.j2",)


def _region_view(region) -> dict:
    # Slack beyond the part (clipped to the 32-bit space): the footprint check, not ld, enforces the real size.
    link_length = min(region.length + LINK_SLACK, (1 << 32) - region.origin)
    return {"origin": region.origin, "length": region.length, "link_length": link_length}


def render_linker_script(board: Board) -> str:
    if not board.bare_metal:
        raise QbuildError(f"board '{board.id}' ({board.path}) has no memory map; a linker script is only "
                          f"generated for arm-none-eabi boards")
    try:
        board_file = board.path.resolve().relative_to(TEMPLATES_DIR.parent)
    except ValueError:
        board_file = board.path
    return render("linker.ld.j2",
        board_id=board.id, description=board.description, board_file=board_file, slack=LINK_SLACK,
        flash=_region_view(board.flash), ram=_region_view(board.ram),
        stack_size=board.stack_size, heap_size=board.heap_size)


def write_linker_script(board: Board, path: Path | str) -> Path:
    """Render the script to `path` atomically (temp file + os.replace, mode 0666 minus the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, render_linker_script(board))


def cli_main(argv) -> int:
    """`python -m qbuild.codegen.linker BOARD [OUT]`: print or write a board's linker script."""
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m qbuild.codegen.linker BOARD [OUT.ld]")
        return 0 if argv else 2
    board = load_board(argv[0])
    if len(argv) > 1:
        write_linker_script(board, argv[1])
    else:
        print(render_linker_script(board), end="")
    return 0


if __name__ == "__main__":
    import sys

    try:
        sys.exit(cli_main(sys.argv[1:]))
    except QbuildError as e:
        print(f"qbuild linker: error: {e}", file=sys.stderr)
        sys.exit(1)
