"""`env.QbuildModel(model, ...)`: a model's artifacts (dataset, .keras, .tflite + report + metrics, C array)."""
from __future__ import annotations

from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.scons.actions import (TF_LOCK, as_json, command, fail, hold_tree_lock, in_project, literal, node, path,
                                  project_path, setting, text)


# --- step actions (module level: stable action signatures; each imports the step it runs) -------------------------
# The TensorFlow steps run in a child process (qbuild.model.isolate): a crash inside TF is one line, not the build's.
def _dataset(target, source, env):
    from qbuild.model.dataset import step_dataset
    from qbuild.model.isolate import run_step
    run_step("dataset", path(target[0]).parent.name, step_dataset, in_project(env, "QBUILD_SPEC"), path(target[0]))


def _train(target, source, env):
    from qbuild.model.isolate import run_step
    from qbuild.model.train import step_train
    run_step("train", path(target[0]).parent.name, step_train, in_project(env, "QBUILD_SPEC"), path(source[0]),
             path(target[0]))


def _quantize(target, source, env):
    from qbuild.model.isolate import run_step
    from qbuild.model.quantize_step import step_quantize
    keys = setting(env, "QBUILD_OUTPUT_KEYS")
    settings = setting(env, "QBUILD_SETTINGS")
    run_step("quantize", settings["name"], step_quantize, settings, path(source[0]), path(source[1]),
             {k: path(n) for k, n in zip(keys, target)})


def _compare_modes(target, source, env):
    from qbuild.model.isolate import run_step
    from qbuild.model.modes import step_compare_modes
    settings = setting(env, "QBUILD_SETTINGS")
    run_step("compare modes", settings["name"], step_compare_modes, settings, path(source[0]), path(source[1]),
             path(source[2]) if len(source) > 2 else None, {"json": path(target[0]), "md": path(target[1])})


def _copy_tflite(target, source, env):
    from qbuild.tflite.copy import step_copy_tflite
    step_copy_tflite(path(source[0]), path(target[0]))


def _c_array(target, source, env):
    from qbuild.codegen.carray import write_carray
    write_carray(path(source[0]), path(target[0]).parent, text(env, "QBUILD_NOTE"), symbol=env.get("QBUILD_SYMBOL"))


def _model_page(target, source, env):
    from qbuild.codegen.model_page import write_model_page
    write_model_page(path(target[0]), model_dir=path(target[0]).parent, tflite=path(source[0]))


def _print_summary(target, source, env):
    from qbuild.tflite.summary import render_text, summarize
    print(render_text(summarize(path(source[0]).read_bytes())), end="", flush=True)


def _resolve(env, model, data=None, norm=None, strict=False, symbol=None):
    from qbuild.pipeline.targets import ModelTargets

    root = Path(env.Dir("#").abspath)
    out_root = Path(env.Dir(env.get("QBUILD_BUILD_DIR", "#build")).abspath) / "models"
    try:
        return ModelTargets.resolve(str(model), root, data=data, norm=norm, out_root=out_root, strict=strict,
                                    symbol=symbol)
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


def qbuild_model(env, model, data=None, norm=None, strict=False, symbol=None):
    """Declare a model's artifacts (dataset, .keras, .tflite + report + metrics, C array); returns ModelNodes.
    `symbol`: prefix of the C array's names and files (several models in one firmware; qbuild.codegen.carray)."""
    t = _resolve(env, model, data=data, norm=norm, strict=strict, symbol=symbol)
    hold_tree_lock(env)
    nodes, tf_steps = {}, []
    if t.kind == "spec":
        nodes["data"] = command(env, str(t.data), [str(p) for p in t.dataset_deps], _dataset, "dataset",
                                ["QBUILD_SPEC", "QBUILD_DATA_ENV"], QBUILD_SPEC=literal(project_path(env, t.source)),
                                QBUILD_DATA_ENV=as_json(t.settings.get("data_env", {})))[0]
        nodes["keras"] = command(env, str(t.keras), [nodes["data"]] + [str(p) for p in t.model_deps], _train, "train",
                                 ["QBUILD_SPEC", "QBUILD_TRAINING"], QBUILD_SPEC=literal(project_path(env, t.source)),
                                 QBUILD_TRAINING=as_json(t.settings["training"]))[0]
        tf_steps += [nodes["data"], nodes["keras"]]
        data_node, keras_node = nodes["data"], nodes["keras"]
    elif t.kind == "keras":
        data_node, keras_node = node(env, t.data), node(env, t.keras)

    if t.kind == "tflite":
        nodes["tflite"] = command(env, str(t.tflite), [str(t.source)], _copy_tflite, "copy .tflite")[0]
    else:
        outs = t.quantize_outputs()
        q = command(env, [str(p) for p in outs.values()], [keras_node, data_node], _quantize, "quantize",
                    ["QBUILD_SETTINGS", "QBUILD_OUTPUT_KEYS"], QBUILD_SETTINGS=as_json(t.settings),
                    QBUILD_OUTPUT_KEYS=as_json(list(outs)))
        nodes.update(zip(outs, q))
        tf_steps += list(q)
        if env.get("QBUILD_COMPARE_MODES"):  # compare_modes=1: float/int8/16x8/selective float on the test data
            modes = [str(t.out_dir / "modes.json"), str(t.out_dir / "modes.md")]
            nodes["modes"] = list(command(env, modes, [keras_node, data_node] + ([nodes["csv"]] if "csv" in nodes else []),
                                          _compare_modes, "compare modes", ["QBUILD_SETTINGS"],
                                          QBUILD_SETTINGS=as_json(t.settings)))
            tf_steps += nodes["modes"]

    carray_vars = {"QBUILD_NOTE": literal(t.tflite.name)}
    if t.symbol:  # only then: the MLTK-named C array keeps its action signature
        carray_vars["QBUILD_SYMBOL"] = t.symbol
    nodes["carray"] = list(command(env, [str(p) for p in t.carray_outputs()], [nodes["tflite"]], _c_array, "C array",
                                   sorted(carray_vars), **carray_vars))
    page_sources = [nodes["tflite"]] + [nodes[k] for k in ("metrics", "csv", "advice") if k in nodes]
    nodes["page"] = command(env, str(t.out_dir / "index.html"), page_sources, _model_page, "model page")[0]
    if env.get("QBUILD_SUMMARY"):  # summary=1: the per-op table in the build output, whatever the targets
        from SCons.Script import BUILD_TARGETS, COMMAND_LINE_TARGETS

        summary = env.Alias(f"{t.name}-summary", [nodes["tflite"]], env.Action(_print_summary, None))
        env.AlwaysBuild(summary)
        if COMMAND_LINE_TARGETS:
            BUILD_TARGETS.extend(summary)
        else:
            env.Default(summary)
    if tf_steps:
        env.SideEffect(TF_LOCK, tf_steps)
    if t.kind == "spec" and not env.get("QBUILD_CLEAN_ALL"):
        # `scons -c` keeps what takes minutes to remake (the dataset, the trained model); clean=all removes them too.
        env.NoClean([nodes["data"], nodes["keras"]])
    mn = ModelNodes(t, nodes)
    env.Alias(t.name, mn.all())
    env.Alias("models", mn.all())
    return mn
