"""Command-line options of qbuild's SConstruct: `scons -h`, validation before any step runs."""
from __future__ import annotations

import textwrap
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.scons.actions import fail

OPTIONS = {
    "model": "model name (models/<name>/model.py), a path to a model.py, a .keras (needs data=), or a .tflite",
    "board": "board id (boards/<id>.toml) or a path to a board .toml; builds main.cc, firmware and footprint",
    "data": "raw samples .npz (array 'x', optional labels 'y') for model=<file>.keras",
    "norm": "preprocessing for model=<file>.keras: rescale:<factor> | mean_std | none (default none)",
    "strict": "1: ops left in float and advisor findings are errors (default 0)",
    "baseline": "earlier footprint.json to compare with (deltas in the footprint report)",
    "max_growth": "bytes of flash or RAM growth vs baseline= that fail the build",
    "ram_margin": "RAM headroom to keep, e.g. 10% or 4096 (bytes)",
    "load": "runtime (default): the firmware loads the model into an arena at start-up; prepared: the build's prepare "
            "as const tables in flash, RAM = the activations only (python -m qbuild prepare)",
    "verbose": "1: show full compiler and linker command lines (default 0)",
    "compare_modes": "1: also measure float, int8, 16x8 and selective float (flagged layers in float) on the test data: "
                     "accuracy, .tflite size, arena of each (modes.md/.json; four conversions, slow)",
    "summary": "1: print the per-op summary (shapes, parameters, MACs, live bytes) of the model in the build output",
    "clean": "all: `scons -c` also deletes the dataset and the trained .keras (kept by default)",
    "cache": "directory of a build cache shared by checkouts and CI jobs (SCons CacheDir): every artifact, "
             "including the trained model and firmware.map, is restored from it instead of rebuilt",
}


def help_text(env) -> str:
    from qbuild.model.spec import list_models
    try:
        from qbuild.target.boards import list_boards
        boards = ", ".join(list_boards())
    except Exception as e:  # the help must show even when a board file is broken
        boards = f"(cannot list: {e})"
    root = Path(env.Dir("#").abspath)
    lines = ["qbuild: embedded ML artifacts from a Keras model", "",
             "usage: scons [board=<id>] model=<name> [option=value ...] [target ...]", "",
             f"models: {', '.join(list_models(root))}", f"boards: {boards}", "", "options:"]
    width = max(len(k) for k in OPTIONS) + 2
    for k, v in OPTIONS.items():  # wrapped under the description column, so `scons -h` reads in 120 columns
        lines += textwrap.wrap(v, 118, initial_indent=f"  {k + '=':<{width}} ", subsequent_indent=" " * (width + 3))
    lines += ["", "targets:",
              "  (default)    model artifacts; with board= also main.cc, firmware.elf/.bin/.map, footprint.json/.md",
              "  <model>      the model's artifacts only (alias named after the model, e.g. digits)",
              "  run          run the firmware (boards with a runner: the qemu-* boards, host) and compare with the reference",
              "  footprint    the footprint check only",
              "  profile      executed instructions per op of one inference (the qemu-* boards)", "",
              "examples:", "  scons model=digits", "  scons board=efr32 model=kws",
              "  scons board=qemu-m33 model=digits run", "  scons board=qemu-m33 model=kws profile", "  scons model=path/m.keras data=path/raw.npz norm=rescale:1/16",
              "  scons -c model=digits      (clean; keeps the dataset and the trained model)",
              "  scons -c model=digits clean=all   (clean everything)",
              "  scons board=efr32 model=kws cache=~/.cache/qbuild   (restore from / fill a shared build cache)", ""]
    return "\n".join(lines)


def parse_options(env, arguments, targets, showing_help):
    unknown = sorted(set(arguments) - set(OPTIONS))
    if unknown:
        fail(QbuildError(f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(OPTIONS)} (see scons -h)"))
    if showing_help:
        return None
    if not arguments.get("model"):
        from qbuild.model.spec import list_models
        fail(QbuildError("no model given; run e.g. `scons model=digits` (models: "
                         f"{', '.join(list_models(Path(env.Dir('#').abspath)))}; see scons -h)"))
    strict = arguments.get("strict", "0")
    if strict not in ("0", "1"):
        fail(QbuildError(f"strict={strict} is not 0 or 1"))
    max_growth = arguments.get("max_growth")
    if max_growth is not None and not max_growth.isdigit():
        fail(QbuildError(f"max_growth={max_growth} is not a byte count; use e.g. max_growth=512"))
    if max_growth is not None and not arguments.get("baseline"):
        fail(QbuildError(f"max_growth={max_growth} needs baseline=old/footprint.json to compare with"))
    if arguments.get("ram_margin") is not None:
        from qbuild.target.boards import parse_margin
        try:
            parse_margin(arguments["ram_margin"], "ram_margin")
        except QbuildError as e:
            fail(e)
    if arguments.get("summary") not in (None, "0", "1"):
        fail(QbuildError(f"summary={arguments['summary']} is not 0 or 1"))
    env["QBUILD_SUMMARY"] = arguments.get("summary") == "1"
    if arguments.get("compare_modes") not in (None, "0", "1"):
        fail(QbuildError(f"compare_modes={arguments['compare_modes']} is not 0 or 1"))
    env["QBUILD_COMPARE_MODES"] = arguments.get("compare_modes") == "1"
    if arguments.get("load") not in (None, "runtime", "prepared"):
        fail(QbuildError(f"load={arguments['load']} is not runtime or prepared"))
    env["QBUILD_LOAD"] = arguments.get("load") or "runtime"
    clean = arguments.get("clean")
    if clean not in (None, "all"):
        fail(QbuildError(f"clean={clean} is not understood; use clean=all (with scons -c) or leave it out"))
    env["QBUILD_CLEAN_ALL"] = clean == "all"
    cache = arguments.get("cache")
    if cache is not None:
        cache_dir = Path(cache).expanduser()
        if not cache or (cache_dir.exists() and not cache_dir.is_dir()):
            fail(QbuildError(f"cache={cache} is not a directory; pass a directory (created when missing)"))
        env.CacheDir(str(cache_dir.resolve()))
    if arguments.get("verbose") == "1":
        env["QBUILD_VERBOSE"] = True
    return {"model": arguments["model"], "board": arguments.get("board"), "data": arguments.get("data"),
            "norm": arguments.get("norm"), "strict": strict == "1", "baseline": arguments.get("baseline"),
            "max_growth": int(max_growth) if max_growth else None, "ram_margin": arguments.get("ram_margin")}
