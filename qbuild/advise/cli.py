"""`python -m qbuild advise <model> [--data raw.npz] [--norm ...] [--strict]`: the advisor checks alone, without SCons.

<model> is a spec name (`digits`), a spec file (`path/model.py`) or a Keras file (`path/m.keras`). For a spec, the
cached `build/models/<name>/<name>.keras` is used when it exists; otherwise the model is trained here (not cached:
the build owns that file). The model is converted in-process (int8, static batch 1) and the quantization report
recomputed, so all four checks run.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbuild import advise
from qbuild.errors import QbuildError


def parse_norm(text: str) -> dict:
    """'rescale:0.0625' | 'mean_std' | 'none' -> model parameters."""
    if text == "none":
        return {}
    if text == "mean_std":
        return {"samplewise_norm.mean_and_std": True}
    if text.startswith("rescale:"):
        try:
            return {"samplewise_norm.rescale": float(text.split(":", 1)[1])}
        except ValueError:
            pass
    raise QbuildError(f"--norm {text!r} is not understood; use rescale:<factor> (e.g. rescale:0.0625), mean_std "
                      "or none")


def parse_thresholds(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise QbuildError(f"--threshold {item!r} is not key=value; e.g. --threshold rmse_scale=0.4")
        out[key.strip()] = value.strip()
    advise.thresholds_with(out)  # validates keys and values
    return out


def _args(argv):
    ap = argparse.ArgumentParser(prog="python -m qbuild advise", description="Run the quantization advisor checks.")
    ap.add_argument("model", help="spec name (digits), path to a model.py, or path to a .keras file")
    ap.add_argument("--data", help="raw samples .npz with array 'x' (required with a .keras model for the data checks)")
    ap.add_argument("--norm", help="rescale:<factor> | mean_std | none (overrides the spec's samplewise_norm.*)")
    ap.add_argument("--threshold", action="append", default=[], metavar="KEY=VALUE",
                    help=f"override an advisor threshold ({', '.join(sorted(advise.DEFAULT_THRESHOLDS))})")
    ap.add_argument("--json", help="also write the findings to this advice.json")
    ap.add_argument("--root", default=".", help="repository root holding models/ and build/ (default: .)")
    ap.add_argument("--strict", action="store_true", help="exit non-zero when there is any finding")
    return ap.parse_args(argv)


def _load_keras(path: Path):
    from qbuild.tfenv import import_tf
    import_tf()
    import keras
    if not path.is_file():
        raise QbuildError(f"Keras model '{path}' does not exist; pass a .keras file saved with model.save()")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as e:
        raise QbuildError(f"'{path}' is not a loadable Keras file ({type(e).__name__}: {str(e).splitlines()[0]}); "
                          "save the model with model.save('m.keras')") from None


def _from_spec(args, root: Path):
    """(keras model, raw x_train, params, converter settings, thresholds) for a spec name or model.py."""
    from qbuild.data import check_dataset, load_npz, load_user_npz
    from qbuild.spec import load_spec, resolve_spec_path

    spec = load_spec(resolve_spec_path(args.model, root))
    params = dict(spec.model_parameters)
    if args.norm:
        params = {k: v for k, v in params.items() if not k.startswith("samplewise_norm.")} | parse_norm(args.norm)
    build_dir = root / "build" / "models" / spec.name
    if args.data:
        data = load_user_npz(Path(args.data))
    elif (build_dir / "data.npz").is_file():  # the build's copy of the dataset (kws: minutes to synthesize)
        data = check_dataset(load_npz(build_dir / "data.npz"), str(build_dir / "data.npz"))
    else:
        data = check_dataset(spec.load_dataset(), str(spec.path))
    cached = build_dir / f"{spec.name}.keras"
    if cached.is_file():
        model = _load_keras(cached)
        print(f"advise: using {cached}")
    else:
        print(f"advise: no {cached}; training {spec.name} here (run `scons model={args.model}` to cache it)")
        model = _train(spec, data, params)
    conv = spec.tflite_converter
    thresholds = {"rmse_scale": conv["report_rmse_scale_threshold"], "range": conv["report_range_threshold"]}
    return model, data["x_train"], params, conv.canonical(), thresholds


def _train(spec, data, params):
    """Train the spec's model as the build does (seeded; raw shape to build_model, input reshaped to the model's)."""
    import numpy as np

    from qbuild.preprocess import preprocess
    from qbuild.tfenv import seed_everything

    if "y_train" not in data:
        raise QbuildError(f"{spec.path}: the dataset has no y_train, so the model cannot be trained here; "
                          "build it first with scons or pass a .keras file")
    seed_everything(spec.seed)
    n_classes = len(spec.classes) or int(np.max(data["y_train"])) + 1
    model = spec.build_model(data["x_train"].shape[1:], n_classes)
    shape = tuple(model.inputs[0].shape[1:])

    def model_input(raw):
        return preprocess(params, raw).reshape((len(raw),) + shape)

    xv = model_input(data["x_test"]) if "x_test" in data and "y_test" in data else None
    return spec.train_model(model, model_input(data["x_train"]), data["y_train"], xv, data.get("y_test"))


def _from_keras(args):
    from qbuild.data import load_user_npz
    from qbuild.spec import ConverterSettings

    model = _load_keras(Path(args.model))
    x = load_user_npz(Path(args.data))["x_train"] if args.data else None
    return model, x, parse_norm(args.norm or "none"), ConverterSettings().canonical(), {}


def convert_and_report(model, x_float, settings: dict):
    """(tflite bytes, report rows) the way the build makes them (lead's quantize/report modules)."""
    from qbuild.quantize import ConverterFactory, convert, representative_samples
    from qbuild.report import debugger_rows

    rep = representative_samples(x_float, int(settings.get("representative_dataset_max_samples", 500)))
    factory = ConverterFactory(model)
    return convert(factory, rep, settings), debugger_rows(factory, rep, settings)


def main(argv) -> int:
    args = _args(argv)
    root = Path(args.root)
    overrides = parse_thresholds(args.threshold)  # bad arguments fail before anything slow
    if args.norm:
        parse_norm(args.norm)
    is_keras = args.model.endswith(".keras")
    model, x_raw, params, settings, spec_thresholds = _from_keras(args) if is_keras else _from_spec(args, root)
    thresholds = advise.thresholds_with(spec_thresholds | overrides)

    tflite = rows = x = None
    if x_raw is not None:
        from qbuild.data import check_raw
        from qbuild.preprocess import preprocess
        shape = tuple(model.inputs[0].shape[1:])
        x_raw = check_raw(x_raw, args.data or "the spec's x_train", shape)
        x = preprocess(params, x_raw).reshape((len(x_raw),) + shape)
        tflite, rows = convert_and_report(model, x, settings)
    else:
        print("advise: no --data: only the graph checks run (pass --data raw.npz for input, conversion and report)")
    findings = advise.run_all(model, x, tflite, rows, thresholds, params)
    print(advise.format_findings(findings) or "quantization advice: no findings")
    if args.json:
        advise.write_advice_json(findings, args.json, thresholds)
    if args.strict:
        advise.raise_if_any(findings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
