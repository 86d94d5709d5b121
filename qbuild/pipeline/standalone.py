"""The model steps without SCons, for Make and CMake: `python -m qbuild build <model> [--data --norm --out]`.

Each step runs unless a content stamp (qbuild.fsutil) says the same inputs and settings already made its outputs.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from qbuild.fsutil import content_digest, is_fresh, record
from qbuild.pipeline.targets import ModelTargets


def _if_changed(stamp: Path, inputs: list, settings, outputs: list, run) -> None:
    """Run a step unless its inputs' content and settings match the last run and every output exists."""
    key = content_digest(inputs, settings)
    if is_fresh(stamp, key, outputs):
        return
    run()
    record(stamp, key)


def build_all(t: ModelTargets) -> None:
    from qbuild.codegen.carray import write_carray
    from qbuild.model.isolate import run_step

    t.out_dir.mkdir(parents=True, exist_ok=True)
    if t.kind == "spec":
        from qbuild.model.dataset import step_dataset
        from qbuild.model.train import step_train

        _if_changed(t.out_dir / ".dataset.stamp", t.dataset_deps, t.settings.get("data_env"), [t.data],
                    lambda: run_step("dataset", t.name, step_dataset, t.source, t.data))
        _if_changed(t.out_dir / ".train.stamp", t.model_deps + [t.data], t.settings.get("training"), [t.keras],
                    lambda: run_step("train", t.name, step_train, t.source, t.data, t.keras))
    if t.kind == "tflite":
        from qbuild.tflite.copy import step_copy_tflite

        _if_changed(t.out_dir / ".copy.stamp", [t.source], {}, [t.tflite], lambda: step_copy_tflite(t.source, t.tflite))
    else:
        from qbuild.model.quantize_step import step_quantize

        outs = t.quantize_outputs()
        _if_changed(t.out_dir / ".quantize.stamp", [t.keras, t.data], t.settings, list(outs.values()),
                    lambda: run_step("quantize", t.name, step_quantize, t.settings, t.keras, t.data, outs))
    stamp = ".carray.stamp" if not t.symbol else f".carray-{t.symbol}.stamp"  # each prefix's files are separate outputs
    _if_changed(t.out_dir / stamp, [t.tflite], t.carray_settings(), t.carray_outputs(),
                lambda: write_carray(t.tflite, t.out_dir, t.tflite.name, symbol=t.symbol))


def cli_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m qbuild build",
                                 description="Build a model's artifacts into OUT (the same steps SCons runs).")
    ap.add_argument("model", help="model name (models/<name>), path to a model.py, a .keras or a .tflite")
    ap.add_argument("--data", help="raw .npz (array 'x', optional 'y') for a .keras model")
    ap.add_argument("--norm", default="none", help="rescale:<factor> | mean_std | none (for a .keras model)")
    ap.add_argument("--out", default="build/models", help="output directory root (default build/models)")
    ap.add_argument("--symbol", help="prefix of the C array's names and files, for several models in one firmware: "
                                     "NAME_model_array, NAME_model_len, NAME_model.c/.h, NAME_MODEL_<KEY> (default: "
                                     "the MLTK names sl_tflite_model_array, sl_tflite_micro_model.c/.h)")
    args = ap.parse_args(argv)
    targets = ModelTargets.resolve(args.model, Path.cwd(), data=args.data, norm=args.norm, out_root=Path(args.out),
                                   symbol=args.symbol)
    build_all(targets)
    print(json.dumps({k: str(v) for k, v in targets.artifacts().items()}, indent=2, sort_keys=True))
    return 0
