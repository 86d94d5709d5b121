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

from qbuild.advise import checks as advise
from qbuild.errors import QbuildError


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
    ap.add_argument("--compare-modes", action="store_true",
                    help="also measure float, int8, 16x8 and selective float (flagged rows in float) on the test data")
    return ap.parse_args(argv)


def _from_spec(args, root: Path):
    """(keras model, raw x_train, params, converter settings, thresholds) for a spec name or model.py."""
    from qbuild.model.data import check_dataset, load_npz, load_user_npz
    from qbuild.model.spec import load_spec, resolve_spec_path
    from qbuild.model.tfenv import load_keras
    from qbuild.model.train import train_spec

    spec = load_spec(resolve_spec_path(args.model, root))
    params = dict(spec.model_parameters)
    if args.norm:
        params = {k: v for k, v in params.items() if not k.startswith("samplewise_norm.")} | _norm(args.norm)
    build_dir = root / "build" / "models" / spec.name
    if args.data:
        data = load_user_npz(Path(args.data))
    elif (build_dir / "data.npz").is_file():  # the build's copy of the dataset (kws: minutes to synthesize)
        data = check_dataset(load_npz(build_dir / "data.npz"), str(build_dir / "data.npz"))
    else:
        data = check_dataset(spec.load_dataset(), str(spec.path))
    cached = build_dir / f"{spec.name}.keras"
    if cached.is_file():
        model = load_keras(cached)
        print(f"advise: using {cached}")
    else:
        print(f"advise: no {cached}; training {spec.name} here (run `scons model={args.model}` to cache it)")
        model = train_spec(spec, data, params, where=str(args.data or spec.path))
    conv = spec.tflite_converter
    thresholds = {"rmse_scale": conv["report_rmse_scale_threshold"], "range": conv["report_range_threshold"]}
    test = (data["x_test"], data["y_test"]) if data.get("y_test") is not None and "x_test" in data else None
    return model, data["x_train"], params, conv.canonical(), thresholds, test


def _from_keras(args):
    from qbuild.model.data import load_user_npz
    from qbuild.model.spec import ConverterSettings
    from qbuild.model.tfenv import load_keras

    model = load_keras(Path(args.model))
    data = load_user_npz(Path(args.data)) if args.data else {}
    test = (data["x_test"], data["y_test"]) if data.get("y_test") is not None else None
    return model, data.get("x_train"), _norm(args.norm), ConverterSettings().canonical(), {}, test


def convert_and_report(model, x_float, settings: dict):
    """(tflite bytes, report rows) the way the build makes them (lead's quantize/report modules)."""
    from qbuild.model.quantize import ConverterFactory, convert, representative_samples
    from qbuild.model.report import debugger_rows

    rep = representative_samples(x_float, int(settings.get("representative_dataset_max_samples", 500)))
    factory = ConverterFactory(model)
    return convert(factory, rep, settings), debugger_rows(factory, rep, settings)


def compare(model, x_float, test, params, settings: dict, rows: list, thresholds: dict) -> None:
    """--compare-modes: the table `scons ... compare_modes=1` prints (qbuild.model.modes)."""
    from qbuild.model.modes import compare_modes, flagged_tensor_names, render_table
    from qbuild.model.preprocess import model_input

    if x_float is None or test is None:
        raise QbuildError("--compare-modes needs labelled test data: a spec with y_test, or --data raw.npz with 'y'")
    shape = tuple(model.inputs[0].shape[1:])
    x_test, y_test = model_input(test[0], params, shape), test[1]
    flagged = flagged_tensor_names(rows, thresholds["rmse_scale"], thresholds["range"])
    results = compare_modes(model, x_float, x_test, y_test, settings, flagged)
    print(render_table(getattr(model, "name", "model"), results, len(y_test)), end="")


def _norm(text: str | None) -> dict:
    from qbuild.model.preprocess import parse_norm
    return parse_norm(text, option="--norm")


def cli_main(argv) -> int:
    from qbuild.model.tfenv import native_logs_filtered

    with native_logs_filtered():
        return _advise(argv)


def _advise(argv) -> int:
    args = _args(argv)
    root = Path(args.root)
    overrides = parse_thresholds(args.threshold)  # bad arguments fail before anything slow
    _norm(args.norm)
    is_keras = args.model.endswith(".keras")
    model, x_raw, params, settings, spec_thresholds, test = _from_keras(args) if is_keras else _from_spec(args, root)
    thresholds = advise.thresholds_with(spec_thresholds | overrides)

    tflite = rows = x = None
    if x_raw is not None:
        from qbuild.model.data import check_raw
        from qbuild.model.preprocess import model_input
        shape = tuple(model.inputs[0].shape[1:])
        x_raw = check_raw(x_raw, args.data or "the spec's x_train", shape)
        x = model_input(x_raw, params, shape)
        tflite, rows = convert_and_report(model, x, settings)
    else:
        print("advise: no --data: only the graph checks run (pass --data raw.npz for input, conversion and report)")
    findings = advise.run_all(model, x, tflite, rows, thresholds, params)
    print(advise.format_findings(findings) or "quantization advice: no findings")
    if args.json:
        advise.write_advice_json(findings, args.json, thresholds)
    if args.compare_modes:
        compare(model, x, test, params, settings, rows or [], thresholds)
    if args.strict:
        advise.raise_if_any(findings)
    return 0


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
