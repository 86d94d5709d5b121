"""The only module that knows SCons: turns qbuild's pipeline into nodes, builders and aliases.

Decisions (what a model= means, which files and settings an artifact depends on) come from qbuild.pipeline; the steps
themselves are qbuild.build / qbuild.firmware functions. Settings that are not files are construction variables holding
sorted JSON, named in each action's varlist (part of its signature), so a changed setting rebuilds exactly what depends
on it; the qbuild modules a step runs are declared as its file dependencies (STEP_CODE).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import SCons.Errors

import qbuild
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic

TF_LOCK = "#build/.tensorflow-lock"


def fail(e: Exception):
    raise SCons.Errors.UserError(str(e))


def _step(fn):
    """Wrap a step so a user mistake prints one line and fails the target (no traceback)."""
    def action(target, source, env):
        try:
            fn(target, source, env)
        except QbuildError as e:
            print(f"qbuild: error: {e}", file=sys.stderr, flush=True)
            return 1
        return 0
    action.__name__ = fn.__name__
    return action


def _action(env, fn, what, varlist=()):
    """A function action. Steps are module-level functions (a closure's captured objects would enter the action
    signature); what they need besides sources comes from construction variables named in `varlist`, which are part
    of the signature, so changing them rebuilds exactly that step."""
    return env.Action(_step(fn), lambda target, source, env: f"qbuild: {what} -> {target[0]}", varlist=list(varlist))


# The Python modules each step runs. SCons signs a function action by its own code only, not by what it calls, so these
# files are declared as dependencies: editing quantize.py re-quantizes, editing footprint.py re-checks the footprint,
# and neither retrains a model.
STEP_CODE = {
    "dataset": ("build", "data", "spec"),
    "train": ("build", "data", "spec", "preprocess", "tfenv"),
    "quantize": ("build", "data", "preprocess", "quantize", "report", "advise", "params", "plan", "evaluate", "tfenv",
                 "templates", "tflite_model"),
    "copy": ("build", "tflite_model"),
    "carray": ("carray", "cformat", "params"),
    "linker": ("linker", "boards"),
    "main": ("firmware", "plan", "params", "preprocess", "cformat", "templates", "boards"),
    "ops": ("plan", "templates", "cformat"),
    "footprint": ("footprint", "boards"),
    "run": ("firmware", "evaluate", "preprocess", "params", "boards"),
}


def _code(env, step: str) -> list:
    root = Path(qbuild.__file__).parent
    return [env.File(str(root / f"{m}.py")) for m in STEP_CODE[step]]


def _json(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _p(node) -> Path:
    return Path(node.abspath)


# --- model steps (module level: stable action signatures) ------------------------------------------------------------
def _dataset(target, source, env):
    from qbuild import build
    build.step_dataset(Path(env["QBUILD_SPEC"]), _p(target[0]))


def _train(target, source, env):
    from qbuild import build
    build.step_train(Path(env["QBUILD_SPEC"]), _p(source[0]), _p(target[0]))


def _quantize(target, source, env):
    from qbuild import build
    keys = json.loads(env["QBUILD_OUTPUT_KEYS"])
    build.step_quantize(json.loads(env["QBUILD_SETTINGS"]), _p(source[0]), _p(source[1]),
                        {k: _p(n) for k, n in zip(keys, target)})


def _copy_tflite(target, source, env):
    from qbuild import build
    build.step_copy_tflite(_p(source[0]), _p(target[0]))


def _c_array(target, source, env):
    from qbuild import carray
    carray.write_carray(_p(source[0]), _p(target[0]).parent, env["QBUILD_NOTE"])


def _resolve(env, model, data=None, norm=None, strict=False):
    from qbuild.pipeline import ModelTargets

    root = Path(env.Dir("#").abspath)
    out_root = Path(env.Dir(env.get("QBUILD_BUILD_DIR", "#build")).abspath) / "models"
    try:
        return ModelTargets.resolve(str(model), root, data=data, norm=norm, out_root=out_root, strict=strict)
    except QbuildError as e:
        fail(e)


class ModelNodes:
    """What QbuildModel returns: the ModelTargets description plus the SCons nodes of each artifact."""

    def __init__(self, targets, nodes: dict):
        self.targets = targets
        self.nodes = nodes
        self.name = targets.name

    def __getitem__(self, key):
        return self.nodes[key]

    def all(self):
        return [n for v in self.nodes.values() for n in (v if isinstance(v, list) else [v])]


def qbuild_model(env, model, data=None, norm=None, strict=False):
    """Declare a model's artifacts (dataset, .keras, .tflite + report + metrics, C array); returns ModelNodes."""
    from qbuild import carray

    t = _resolve(env, model, data=data, norm=norm, strict=strict)
    nodes, tf_steps = {}, []
    if t.kind == "spec":
        nodes["data"] = env.Command(str(t.data), [str(p) for p in t.dataset_deps] + _code(env, "dataset"),
                                    _action(env, _dataset, "dataset", ["QBUILD_SPEC", "QBUILD_DATA_ENV"]),
                                    QBUILD_SPEC=str(t.source), QBUILD_DATA_ENV=_json(t.settings.get("data_env", {})))[0]
        nodes["keras"] = env.Command(str(t.keras), [nodes["data"]] + [str(p) for p in t.model_deps] + _code(env, "train"),
                                     _action(env, _train, "train", ["QBUILD_SPEC", "QBUILD_TRAINING"]),
                                     QBUILD_SPEC=str(t.source), QBUILD_TRAINING=_json(t.settings["training"]))[0]
        tf_steps += [nodes["data"], nodes["keras"]]
        data_node, keras_node = nodes["data"], nodes["keras"]
    elif t.kind == "keras":
        data_node, keras_node = env.File(str(t.data)), env.File(str(t.keras))

    if t.kind == "tflite":
        nodes["tflite"] = env.Command(str(t.tflite), [str(t.source)] + _code(env, "copy"),
                                      _action(env, _copy_tflite, "copy .tflite"))[0]
    else:
        outs = t.quantize_outputs()
        q = env.Command([str(p) for p in outs.values()], [keras_node, data_node] + _code(env, "quantize"),
                        _action(env, _quantize, "quantize", ["QBUILD_SETTINGS", "QBUILD_OUTPUT_KEYS"]),
                        QBUILD_SETTINGS=_json(t.settings), QBUILD_OUTPUT_KEYS=_json(list(outs)))
        nodes.update(zip(outs, q))
        tf_steps += list(q)

    c = env.Command([str(p) for p in t.carray_outputs()], [nodes["tflite"]] + _code(env, "carray"),
                    _action(env, _c_array, "C array", ["QBUILD_NOTE"]), QBUILD_NOTE=t.tflite.name)
    env.Depends(c, [str(p) for p in carray.TEMPLATES])
    nodes["carray"] = list(c)

    if tf_steps:
        env.SideEffect(TF_LOCK, tf_steps)
    mn = ModelNodes(t, nodes)
    env.Alias(t.name, mn.all())
    env.Alias("models", mn.all())
    return mn


OPTIONS = {
    "model": "model name (models/<name>/model.py), a path to a model.py, a .keras (needs data=), or a .tflite",
    "board": "board id (boards/<id>.toml) or a path to a board .toml; builds main.cc, firmware and footprint",
    "data": "raw samples .npz (array 'x', optional labels 'y') for model=<file>.keras",
    "norm": "preprocessing for model=<file>.keras: rescale:<factor> | mean_std | none (default none)",
    "strict": "1: ops left in float and advisor findings are errors (default 0)",
    "baseline": "earlier footprint.json to compare with (deltas in the footprint report)",
    "max_growth": "bytes of flash or RAM growth vs baseline= that fail the build",
    "ram_margin": "RAM headroom to keep, e.g. 10% or 4096 (bytes)",
    "verbose": "1: show full compiler and linker command lines (default 0)",
}


def help_text(env) -> str:
    from qbuild.spec import list_models
    try:
        from qbuild.boards import list_boards
        boards = ", ".join(list_boards())
    except Exception as e:  # the help must show even when a board file is broken
        boards = f"(cannot list: {e})"
    root = Path(env.Dir("#").abspath)
    lines = ["qbuild: embedded ML artifacts from a Keras model", "",
             "usage: scons [board=<id>] model=<name> [option=value ...] [target ...]", "",
             f"models: {', '.join(list_models(root))}", f"boards: {boards}", "", "options:"]
    lines += [f"  {k + '=':<12} {v}" for k, v in OPTIONS.items()]
    lines += ["", "targets:",
              "  (default)    model artifacts; with board= also main.cc, firmware.elf/.bin/.map, footprint.json/.md",
              "  <model>      the model's artifacts only (alias named after the model, e.g. digits)",
              "  run          run the firmware (boards with a runner: qemu-m33, host) and compare with the reference",
              "  footprint    the footprint check only", "",
              "examples:", "  scons model=digits", "  scons board=efr32 model=kws",
              "  scons board=qemu-m33 model=digits run", "  scons model=path/m.keras data=path/raw.npz norm=rescale:1/16",
              "  scons -c model=digits      (clean)", ""]
    return "\n".join(lines)


def parse_options(env, arguments, targets, showing_help):
    unknown = sorted(set(arguments) - set(OPTIONS))
    if unknown:
        fail(QbuildError(f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(OPTIONS)} (see scons -h)"))
    if showing_help:
        return None
    if not arguments.get("model"):
        from qbuild.spec import list_models
        fail(QbuildError("no model given; run e.g. `scons model=digits` (models: "
                         f"{', '.join(list_models(Path(env.Dir('#').abspath)))}; see scons -h)"))
    strict = arguments.get("strict", "0")
    if strict not in ("0", "1"):
        fail(QbuildError(f"strict={strict} is not 0 or 1"))
    max_growth = arguments.get("max_growth")
    if max_growth is not None and not max_growth.isdigit():
        fail(QbuildError(f"max_growth={max_growth} is not a byte count; use e.g. max_growth=512"))
    if arguments.get("verbose") == "1":
        env["QBUILD_VERBOSE"] = True
    return {"model": arguments["model"], "board": arguments.get("board"), "data": arguments.get("data"),
            "norm": arguments.get("norm"), "strict": strict == "1", "baseline": arguments.get("baseline"),
            "max_growth": int(max_growth) if max_growth else None, "ram_margin": arguments.get("ram_margin")}


# --- the runtime inside a user's own firmware build -------------------------------------------------------------------
def qbuild_runtime(env, target="#build/qbuild-runtime/libqbuild_runtime.a"):
    """Compile qbuild's runtime with the calling environment's own compiler and CPU flags into a static library, add
    its include directory to env's CPPPATH, and return the library node (for LIBS / Program sources)."""
    from qbuild import runtime

    renv = env.Clone()
    renv.AppendUnique(CXXFLAGS=runtime.CXXFLAGS, CPPPATH=[str(p) for p in runtime.include_dirs()])
    obj_dir = Path(env.File(target).abspath).parent / "obj"
    objs = _objects(renv, runtime.sources(), runtime.RUNTIME_DIR, obj_dir)
    env.AppendUnique(CPPPATH=[str(p) for p in runtime.include_dirs()])
    return renv.StaticLibrary(target, objs)[0]


# --- firmware ---------------------------------------------------------------------------------------------------------
class FirmwareNodes:
    def __init__(self, board, nodes: dict):
        self.board = board
        self.nodes = nodes

    def __getitem__(self, key):
        return self.nodes[key]

    def default(self):
        return [self.nodes[k] for k in ("main", "elf", "bin", "footprint") if k in self.nodes]


def _board(env):
    from qbuild.boards import load_board
    return load_board(env["QBUILD_BOARD"])


def _linker_script(target, source, env):
    from qbuild.linker import write_linker_script
    write_linker_script(_board(env), _p(target[0]))


def _main_cc(target, source, env):
    from qbuild import firmware
    from qbuild.plan import plan_model
    from qbuild.templates import render

    board = _board(env)
    tflite = _p(source[0]).read_bytes()
    data = _p(source[1]) if env["QBUILD_HAS_DATA"] else None
    samples = firmware.firmware_samples(data, tflite)
    arena = plan_model(tflite, pointer_size=board.pointer_size).arena_bytes
    ctx = firmware.main_context(tflite, samples, board, arena, json.loads(env["QBUILD_CLASSES"]), env["QBUILD_NOTE"])
    write_atomic(_p(target[0]), render("main.cc.j2", **ctx))


def _ops_header(target, source, env):
    from qbuild.plan import SUPPORTED_OPS, check_ops
    from qbuild.templates import render

    used = set(check_ops(_p(source[0]).read_bytes()))  # also the build-time op check: one line per unsupported op
    write_atomic(_p(target[0]), render("qbuild_ops.h.j2", sources=env["QBUILD_NOTE"],
                                       ops=[(op, op in used) for op in SUPPORTED_OPS]))


def _footprint(target, source, env):
    from qbuild import footprint as fp

    board = _board(env)
    opts = json.loads(env["QBUILD_FOOTPRINT"])
    report = fp.analyze(_p(source[0]), board, map_path=opts["map"], baseline=_load_baseline(opts["baseline"]),
                        max_growth=opts["max_growth"], margin={"ram": opts["ram_margin"]} if opts["ram_margin"] else None)
    fp.write_reports(report, _p(target[0]), _p(target[1]))
    print(fp.render_console(report), flush=True)
    if not report["ok"]:
        raise QbuildError(f"{board.id}: footprint check failed: " + "; ".join(report["failures"]))


def _run(target, source, env):
    from qbuild import firmware

    board = _board(env)
    data = _p(source[2]) if env["QBUILD_HAS_DATA"] else None
    r = firmware.check_run(board, _p(source[0]), _p(source[1]), data, _p(target[0]))
    print(f"qbuild: {board.id}: firmware output identical to the reference on {r['samples']} samples "
          f"({r['output_type']} outputs, bit for bit)", flush=True)


def _no_runner(target, source, env):
    print(f"qbuild: error: board '{_board(env).id}' has no runner; `run` works on boards that have one "
          "(e.g. board=qemu-m33 or board=host)", file=sys.stderr)
    return 1


def _board_env(env, board):
    """One environment per board (cached), for the objects every model on that board shares: runtime and support."""
    envs = env.get("QBUILD_BOARD_ENVS") or {}
    if board.id in envs:
        return envs[board.id]
    from qbuild import runtime

    c_flags = list(board.cflags)
    cxx_only = list(board.cxxflags)[len(c_flags):]
    opt = ["-Os"] if board.bare_metal else ["-O2"]
    # Bare metal links with gcc: g++ would pull libstdc++ (not needed: no exceptions, RTTI or heap).
    benv = env.Clone(CC=board.cc, CXX=board.cxx, LINK=board.cc if board.bare_metal else board.cxx,
                     CCFLAGS=c_flags + opt + ["-g", "-Wall", "-Wextra"], CFLAGS=["-std=c11"],
                     CXXFLAGS=["-std=c++17"] + cxx_only,
                     CPPPATH=[str(p) for p in runtime.include_dirs()] + [str(p) for p in board.include_dirs()],
                     LIBS=["m"], OBJSUFFIX=".o", PROGSUFFIX="", QBUILD_BOARD=str(board.path))
    if not env.get("QBUILD_VERBOSE"):
        benv.Replace(CCCOMSTR=f"{board.id}: compile $SOURCE", CXXCOMSTR=f"{board.id}: compile $SOURCE",
                     LINKCOMSTR=f"{board.id}: link $TARGET")
    envs[board.id] = benv
    env["QBUILD_BOARD_ENVS"] = envs
    return benv


def _objects(benv, sources, src_root: Path, obj_root: Path):
    objs = []
    for s in map(Path, sources):
        try:
            rel = s.resolve().relative_to(src_root)
        except ValueError:
            rel = Path(s.name)
        objs += benv.Object(str(obj_root / rel.with_suffix(".o")), str(s))
    return objs


def qbuild_firmware(env, model_nodes, board, baseline=None, max_growth=None, ram_margin=None):
    """Declare a model's firmware for a board: main.cc, objects, firmware.elf/.map/.bin, footprint, and `run`."""
    from qbuild import runtime
    from qbuild.boards import load_board

    try:
        b = load_board(board)
    except QbuildError as e:
        fail(e)
    t = model_nodes.targets
    root = Path(env.Dir("#").abspath)
    board_dir = Path(env.Dir(env.get("QBUILD_BUILD_DIR", "#build")).abspath) / b.id
    out = board_dir / t.name
    benv = _board_env(env, b)
    board_file = env.File(str(b.path))
    data_node = model_nodes.nodes.get("data") or (env.File(str(t.data)) if t.kind == "keras" else None)
    has_data = data_node is not None
    nodes = {}

    script = None
    if b.bare_metal:  # SCons does not scan -T: the link depends on the script explicitly (below)
        script = benv.Command(str(board_dir / "linker.ld"), [board_file, "#templates/linker.ld.j2"] + _code(env, "linker"),
                              _action(benv, _linker_script, "linker script", ["QBUILD_BOARD"]))[0]

    note = ", ".join(os.path.relpath(p, root) for p in [t.tflite] + ([t.data] if has_data else []) + [b.path])
    nodes["main"] = benv.Command(str(out / "main.cc"), [model_nodes["tflite"]] + ([data_node] if has_data else [])
                                 + [board_file] + _code(env, "main"),
                                 _action(benv, _main_cc, "main.cc",
                                         ["QBUILD_BOARD", "QBUILD_HAS_DATA", "QBUILD_CLASSES", "QBUILD_NOTE"]),
                                 QBUILD_HAS_DATA=int(has_data), QBUILD_CLASSES=_json(t.settings.get("classes", [])),
                                 QBUILD_NOTE=note)[0]
    env.Depends(nodes["main"], ["#templates/main.cc.j2", "#templates/_macros.j2"])

    # Only the model's ops in the runtime's op table: registry.cc is compiled per model with a generated header of op
    # switches; every other runtime object is shared by all models on the board.
    ops_h = benv.Command(str(out / "qbuild_ops.h"), [model_nodes["tflite"], "#templates/qbuild_ops.h.j2"]
                         + _code(env, "ops"), _action(benv, _ops_header, "op table", ["QBUILD_NOTE"]),
                         QBUILD_NOTE=os.path.relpath(t.tflite, root))[0]
    registry = runtime.RUNTIME_DIR / "src" / "ops" / "registry.cc"
    renv = benv.Clone()
    renv.Append(CCFLAGS=["-include", ops_h.abspath])
    registry_obj = renv.Object(str(out / "runtime" / "src" / "ops" / "registry.o"), str(registry))  # counted as runtime
    env.Depends(registry_obj, ops_h)

    menv = benv.Clone()
    menv.Append(CPPPATH=[str(t.out_dir)])
    objs = _objects(benv, [s for s in runtime.sources() if s != registry], root, board_dir / "obj") + registry_obj
    objs += _objects(benv, b.support_sources(), root, board_dir / "obj")
    objs += menv.Object(str(out / "main.o"), nodes["main"])
    model_c = next(n for n in model_nodes["carray"] if str(n).endswith(".c"))
    objs += menv.Object(str(out / "sl_tflite_micro_model.o"), model_c)

    elf = out / "firmware.elf"
    map_path = out / "firmware.map"
    lenv = menv.Clone(LINKFLAGS=b.link_flags(script.abspath if script else None, map_path))
    nodes["elf"] = lenv.Program(str(elf), objs)[0]
    env.SideEffect(str(map_path), nodes["elf"])
    if script is not None:
        env.Depends(nodes["elf"], script)
        nodes["bin"] = lenv.Command(str(out / "firmware.bin"), nodes["elf"], f"{b.objcopy} -O binary $SOURCE $TARGET")[0]

    # Footprint: the full report is written first, then the build fails when over budget.
    fp_opts = {"map": str(map_path), "baseline": baseline, "max_growth": max_growth,
               "ram_margin": ram_margin}
    nodes["footprint"] = benv.Command([str(out / "footprint.json"), str(out / "footprint.md")],
                                      [nodes["elf"], board_file] + ([baseline] if baseline else []) + _code(env, "footprint"),
                                      _action(benv, _footprint, "footprint", ["QBUILD_BOARD", "QBUILD_FOOTPRINT"]),
                                      QBUILD_FOOTPRINT=_json(fp_opts))

    if b.runner_command(elf) is not None:
        nodes["run"] = benv.Command(str(out / "run.json"),
                                    [nodes["elf"], model_nodes["tflite"]] + ([data_node] if has_data else [])
                                    + _code(env, "run"),
                                    _action(benv, _run, "run", ["QBUILD_BOARD", "QBUILD_HAS_DATA"]),
                                    QBUILD_HAS_DATA=int(has_data))[0]
        env.Alias("run", nodes["run"])
    else:
        env.AlwaysBuild(benv.Alias("run", [], benv.Action(_no_runner, None)))
    env.Alias("footprint", nodes["footprint"])
    env.Alias(f"{b.id}-{t.name}", [n for v in nodes.values() for n in (v if isinstance(v, list) else [v])])
    return FirmwareNodes(b, nodes)


def _load_baseline(path):
    if not path:
        return None
    p = Path(path)
    if not p.is_file():
        raise QbuildError(f"baseline={path} does not exist; pass an earlier footprint.json")
    try:
        return json.loads(p.read_text())
    except ValueError as e:
        raise QbuildError(f"baseline={path} is not JSON ({e}); pass an earlier footprint.json") from None


