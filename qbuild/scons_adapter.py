"""The only module that knows SCons: turns qbuild's pipeline into nodes, builders and aliases.

Decisions (what a model= means, which files and settings an artifact depends on) come from qbuild.pipeline; the steps
themselves are qbuild.build functions. Settings that are not files are declared as Value nodes (sorted JSON), so a changed
setting rebuilds exactly what depends on it.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import SCons.Errors

import qbuild
from qbuild.errors import QbuildError

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


def _value(env, obj):
    return env.Value(json.dumps(obj, sort_keys=True, default=str))


def _show(what):
    def strfunction(target, source, env):
        return f"qbuild: {what} -> {target[0]}"
    return strfunction


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
    from qbuild import build

    t = _resolve(env, model, data=data, norm=norm, strict=strict)
    version = env.Value(qbuild.__version__)
    nodes = {}
    tf_steps = []
    if t.kind == "spec":
        @_step
        def dataset(target, source, env):
            build.step_dataset(t.source, Path(target[0].abspath))

        nodes["data"] = env.Command(str(t.data), [str(p) for p in t.dataset_deps] + [version],
                                    env.Action(dataset, _show("dataset")))[0]

        @_step
        def train(target, source, env):
            build.step_train(t.source, Path(source[0].abspath), Path(target[0].abspath))

        nodes["keras"] = env.Command(str(t.keras), [nodes["data"]] + [str(p) for p in t.model_deps]
                                     + [_value(env, t.settings["training"]), version],
                                     env.Action(train, _show("train")))[0]
        tf_steps += [nodes["data"], nodes["keras"]]
        data_node, keras_node = nodes["data"], nodes["keras"]
    elif t.kind == "keras":
        data_node, keras_node = env.File(str(t.data)), env.File(str(t.keras))

    if t.kind == "tflite":
        @_step
        def copy(target, source, env):
            build.step_copy_tflite(Path(source[0].abspath), Path(target[0].abspath))

        nodes["tflite"] = env.Command(str(t.tflite), str(t.source), env.Action(copy, _show("copy .tflite")))[0]
    else:
        outs = t.quantize_outputs()
        keys = list(outs)

        @_step
        def quantize(target, source, env):
            build.step_quantize(t.settings, Path(source[0].abspath), Path(source[1].abspath),
                                {k: Path(n.abspath) for k, n in zip(keys, target)})

        q = env.Command([str(outs[k]) for k in keys], [keras_node, data_node, _value(env, t.settings), version],
                        env.Action(quantize, _show("quantize")))
        nodes.update({k: n for k, n in zip(keys, q)})
        tf_steps += list(q)

    @_step
    def c_array(target, source, env):
        from qbuild import carray
        carray.write_carray(Path(source[0].abspath), Path(target[0].abspath).parent, t.tflite.name)

    templates = [env.File(f"#templates/{n}.j2") for n in
                 ("sl_tflite_micro_model.c", "sl_tflite_micro_model.h", "sl_tflite_micro_model_parameters.h")]
    c = env.Command([str(p) for p in t.carray_outputs()], [nodes["tflite"], version],
                    env.Action(c_array, _show("C array")))
    env.Depends(c, [tp for tp in templates if Path(tp.abspath).exists()])
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
    return {"model": arguments["model"], "board": arguments.get("board"), "data": arguments.get("data"),
            "norm": arguments.get("norm"), "strict": strict == "1", "baseline": arguments.get("baseline"),
            "max_growth": int(max_growth) if max_growth else None, "ram_margin": arguments.get("ram_margin")}


# --- firmware ---------------------------------------------------------------------------------------------------------
class FirmwareNodes:
    def __init__(self, board, nodes: dict):
        self.board = board
        self.nodes = nodes

    def __getitem__(self, key):
        return self.nodes[key]

    def default(self):
        return [self.nodes[k] for k in ("main", "elf", "bin", "footprint") if k in self.nodes]


def _board_env(env, board):
    """One environment per board (cached), for the objects every model on that board shares: runtime and support."""
    key = board.id
    envs = env.get("QBUILD_BOARD_ENVS") or {}
    if key in envs:
        return envs[key]
    from qbuild import runtime

    c_only = list(board.cflags)
    cxx_only = list(board.cxxflags)[len(c_only):]
    opt = ["-Os"] if board.bare_metal else ["-O2"]
    benv = env.Clone(CC=board.cc, CXX=board.cxx, LINK=board.cxx,
                     CCFLAGS=c_only + opt + ["-g", "-Wall", "-Wextra"], CFLAGS=["-std=c11"],
                     CXXFLAGS=["-std=c++17"] + cxx_only,
                     CPPPATH=[str(p) for p in runtime.include_dirs()] + [str(p) for p in board.include_dirs()],
                     LIBS=["m"], OBJSUFFIX=".o", PROGSUFFIX="")
    envs[key] = benv
    env["QBUILD_BOARD_ENVS"] = envs
    return benv


def _objects(benv, sources, src_root: Path, obj_root: Path):
    objs = []
    for s in sources:
        s = Path(s)
        try:
            rel = s.resolve().relative_to(src_root)
        except ValueError:
            rel = Path(s.name)
        objs += benv.Object(str(obj_root / rel.with_suffix(".o")), str(s))
    return objs


def qbuild_firmware(env, model_nodes, board, baseline=None, max_growth=None, ram_margin=None):
    from qbuild import firmware, runtime
    from qbuild.boards import load_board

    try:
        b = load_board(board)
    except QbuildError as e:
        fail(e)
    t = model_nodes.targets
    root = Path(env.Dir("#").abspath)
    build_root = Path(env.Dir(env.get("QBUILD_BUILD_DIR", "#build")).abspath)
    board_dir = build_root / b.id
    out = board_dir / t.name
    benv = _board_env(env, b)
    board_value = _value(env, {"board": repr(b)})
    version = env.Value(qbuild.__version__)
    data_node = model_nodes.nodes.get("data") or (env.File(str(t.data)) if t.kind == "keras" else None)
    nodes = {}

    # Linker script (bare metal): generated from the board file; SCons cannot scan -T, so depend on it explicitly.
    script = None
    if b.bare_metal:
        @_step
        def linker_script(target, source, env):
            from qbuild.linker import write_linker_script
            write_linker_script(b, Path(target[0].abspath))

        script = env.Command(str(board_dir / "linker.ld"), [str(b.path), board_value, version,
                                                            env.File("#templates/linker.ld.j2")],
                             env.Action(linker_script, _show("linker script")))[0]

    # main.cc: model parameters + board + embedded samples + the planned arena for this board's pointer size.
    @_step
    def main_cc(target, source, env):
        from qbuild.plan import plan_model
        from qbuild.templates import render

        tflite = Path(source[0].abspath).read_bytes()
        data = Path(source[1].abspath) if data_node is not None else None
        samples = firmware.firmware_samples(data, tflite)
        arena = plan_model(tflite, pointer_size=b.pointer_size).arena_bytes
        sources = ", ".join(os.path.relpath(p, root) for p in [t.tflite] + ([data] if data else []) + [b.path])
        ctx = firmware.main_context(tflite, samples, b, arena, t.settings.get("classes", []), sources)
        _write_text(Path(target[0].abspath), render("main.cc.j2", **ctx))

    main_sources = [model_nodes["tflite"]] + ([data_node] if data_node is not None else [])
    nodes["main"] = env.Command(str(out / "main.cc"), main_sources + [board_value, version],
                                env.Action(main_cc, _show("main.cc")))[0]
    env.Depends(nodes["main"], [env.File("#templates/main.cc.j2"), env.File("#templates/_macros.j2")])

    menv = benv.Clone()
    menv.Append(CPPPATH=[str(t.out_dir)])
    objs = _objects(benv, runtime.sources(), root, board_dir / "obj")
    objs += _objects(benv, b.support_sources(), root, board_dir / "obj")
    objs += menv.Object(str(out / "main.o"), nodes["main"])
    model_c = next(n for n in model_nodes["carray"] if str(n).endswith(".c"))
    objs += menv.Object(str(out / "sl_tflite_micro_model.o"), model_c)

    elf = out / "firmware.elf"
    map_path = out / "firmware.map" if b.bare_metal else None
    lenv = menv.Clone(LINKFLAGS=b.link_flags(script.abspath if script else None, map_path))
    outputs = [str(elf)] + ([str(map_path)] if map_path else [])
    linked = lenv.Program(outputs[0], objs)
    if map_path:
        lenv.SideEffect(str(map_path), linked)
        nodes["map"] = env.File(str(map_path))
    if script is not None:
        env.Depends(linked, script)
    nodes["elf"] = linked[0]
    if b.bare_metal:
        nodes["bin"] = lenv.Command(str(out / "firmware.bin"), nodes["elf"],
                                    f"{b.objcopy} -O binary $SOURCE $TARGET")[0]

    # Footprint: the full report is written first, then the build fails when over budget.
    fp_settings = {"baseline": baseline, "max_growth": max_growth, "ram_margin": ram_margin}

    @_step
    def footprint(target, source, env):
        from qbuild import footprint as fp
        report = fp.analyze(Path(source[0].abspath), b, map_path=map_path,
                            baseline=_load_baseline(baseline), max_growth=max_growth, margin=ram_margin)
        fp.write_reports(report, Path(target[0].abspath), Path(target[1].abspath))
        print(fp.render_console(report), flush=True)
        if not report["ok"]:
            raise QbuildError(f"{b.id}/{t.name}: footprint check failed: " + "; ".join(report["failures"]))

    fp_sources = [nodes["elf"], _value(env, fp_settings), board_value, version] + ([baseline] if baseline else [])
    nodes["footprint"] = env.Command([str(out / "footprint.json"), str(out / "footprint.md")], fp_sources,
                                     env.Action(footprint, _show("footprint")))
    if map_path:
        env.Depends(nodes["footprint"], nodes["elf"])

    if b.runner_command(elf) is not None:
        @_step
        def run(target, source, env):
            data = Path(source[2].abspath) if data_node is not None else None
            r = firmware.check_run(b, Path(source[0].abspath), Path(source[1].abspath), data, Path(target[0].abspath))
            print(f"qbuild: {b.id}/{t.name}: firmware output identical to the reference on {r['samples']} samples "
                  f"({r['output_type']} outputs, bit for bit)", flush=True)

        nodes["run"] = env.Command(str(out / "run.json"), [nodes["elf"], model_nodes["tflite"]]
                                   + ([data_node] if data_node is not None else []), env.Action(run, _show("run")))[0]
        env.Alias("run", nodes["run"])
    else:
        env.Alias("run", [], env.Action(lambda target, source, env: _no_runner(b)))
    env.Alias("footprint", nodes["footprint"])
    env.Alias(f"{b.id}-{t.name}", [n for n in nodes.values()])
    return FirmwareNodes(b, nodes)


def _no_runner(board):
    print(f"qbuild: error: board '{board.id}' has no runner; `run` works on boards that have one "
          "(e.g. board=qemu-m33 or board=host)", file=sys.stderr)
    return 1


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


def _write_text(path: Path, text: str) -> None:
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
