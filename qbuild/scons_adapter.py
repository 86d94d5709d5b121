"""The only module that knows SCons: turns qbuild's pipeline into nodes, builders and aliases.

Decisions (what a model= means, which files and settings an artifact depends on) come from qbuild.pipeline; the steps
themselves are qbuild.build functions. Settings that are not files are declared as Value nodes (sorted JSON), so a changed
setting rebuilds exactly what depends on it.
"""
from __future__ import annotations

import json
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


def qbuild_firmware(env, model_nodes, board, **options):
    from qbuild import scons_firmware
    return scons_firmware.firmware(env, model_nodes, board, **options)


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
