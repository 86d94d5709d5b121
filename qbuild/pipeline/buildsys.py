"""A model's firmware steps for other build systems (CMake, Make), next to `python -m qbuild build`:

    python -m qbuild firmware paths MODEL [--data D --norm N --out DIR] --get dir|tflite|samples|carray|inputs
    python -m qbuild firmware main MODEL [...] --board B OUT.cc         the board's main.cc for the model
    python -m qbuild firmware run MODEL [...] --board B --elf E --json run.json   run it, compare with the reference

MODEL, --data, --norm and --out mean what they mean for `python -m qbuild build` (qbuild.pipeline.targets), so the
paths printed here are the ones `build` writes. Run every command from the same directory as `build` (a model given
as a file is placed by its path relative to it).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qbuild.pipeline.targets import ModelTargets


def _model_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("model", help="model name (models/<name>), path to a model.py, a .keras or a .tflite")
    ap.add_argument("--data", help="raw .npz (array 'x', optional 'y') for a .keras model")
    ap.add_argument("--norm", default="none", help="rescale:<factor> | mean_std | none (for a .keras model)")
    ap.add_argument("--out", default="build/models", help="output directory root, as given to `build`")
    ap.add_argument("--symbol", help="C array prefix, as given to `build` (the C array names in paths and main.cc)")


def _targets(args) -> ModelTargets:
    return ModelTargets.resolve(args.model, Path.cwd(), data=args.data, norm=args.norm, out_root=Path(args.out),
                                symbol=args.symbol)


def samples_path(t: ModelTargets) -> Path | None:
    """The raw samples the firmware embeds (dataset or the user's .npz); None for a bare .tflite (seeded random)."""
    return None if t.kind == "tflite" else t.data


def inputs(t: ModelTargets) -> list[Path]:
    """The files `build` reads: what a build system makes the model step depend on."""
    if t.kind == "spec":
        return sorted({Path(p) for p in [t.source, *t.model_deps, *t.dataset_deps]})
    return [t.source] + ([t.data_src] if t.data_src else [])


PATHS = {
    "dir": lambda t: [t.out_dir],
    "tflite": lambda t: [t.tflite],
    "samples": lambda t: [p for p in [samples_path(t)] if p],
    "carray": lambda t: t.carray_outputs(),
    "inputs": inputs,
}


def paths_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m qbuild firmware paths",
                                 description="Where `python -m qbuild build` puts a model's artifacts, one per line.")
    _model_args(ap)
    ap.add_argument("--get", required=True, choices=list(PATHS),
                    help="dir: output folder; tflite; samples: raw .npz the firmware embeds; carray: the C array "
                         "files; inputs: the files the build reads")
    args = ap.parse_args(argv)
    sys.stdout.write("".join(f"{p}\n" for p in PATHS[args.get](_targets(args))))
    return 0


def _note(paths: list) -> str:
    return ", ".join(os.path.relpath(p) for p in paths if p)


def main_main(argv) -> int:
    from qbuild.codegen.main_cc import write_main_cc
    from qbuild.target.boards import load_board

    ap = argparse.ArgumentParser(prog="python -m qbuild firmware main",
                                 description="Write the board's main.cc for a model built by `python -m qbuild build`.")
    _model_args(ap)
    ap.add_argument("--board", required=True, help="board id or board .toml")
    ap.add_argument("output", type=Path, help="main.cc to write")
    args = ap.parse_args(argv)
    t, board = _targets(args), load_board(args.board)
    data = samples_path(t)
    write_main_cc(t.tflite, data, board, t.settings.get("classes", []), _note([t.tflite, data, board.path]),
                  args.output, symbol=t.symbol)
    return 0


def check_run_main(argv) -> int:
    from qbuild.target.boards import load_board
    from qbuild.target.firmware import check_run

    ap = argparse.ArgumentParser(prog="python -m qbuild firmware run",
                                 description="Run a firmware built from `python -m qbuild main` on the board's runner "
                                             "and compare its output with the reference, bit for bit.")
    _model_args(ap)
    ap.add_argument("--board", required=True, help="board id or board .toml (it needs a runner)")
    ap.add_argument("--elf", required=True, type=Path, help="the firmware")
    ap.add_argument("--json", required=True, type=Path, help="run.json to write (every differing value)")
    args = ap.parse_args(argv)
    t, board = _targets(args), load_board(args.board)
    r = check_run(board, args.elf, t.tflite, samples_path(t), args.json)
    print(f"qbuild: {board.id}: firmware output identical to the reference on {r['samples']} samples "
          f"({r['output_type']} outputs, bit for bit)")
    return 0


COMMANDS = {"paths": paths_main, "main": main_main, "run": check_run_main}


def cli_main(argv) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m qbuild firmware {{{','.join(COMMANDS)}}} MODEL ... (--help after one for its options)",
              file=sys.stderr if argv else sys.stdout)
        return 2
    return COMMANDS[argv[0]](argv[1:])
