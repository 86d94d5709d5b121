"""What `model=` means: the model's artifacts, their inputs and settings, resolved without TensorFlow.

Used by the SCons tool (to declare targets and dependencies) and by `python -m qbuild build` (to run the steps).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.preprocess import MEAN_STD, RESCALE
from qbuild.spec import CONVERTER_DEFAULTS, ModelSpec, describe, list_models, resolve_spec_path

CARRAY_FILES = ("sl_tflite_micro_model.c", "sl_tflite_micro_model.h", "sl_tflite_micro_model_parameters.h")


def parse_norm(norm: str | None) -> dict:
    """`rescale:0.0625` | `mean_std` | `none` -> model parameters."""
    norm = (norm or "none").strip()
    if norm == "none":
        return {}
    if norm == "mean_std":
        return {MEAN_STD: True}
    if norm.startswith("rescale:"):
        try:
            return {RESCALE: float(eval_fraction(norm.split(":", 1)[1]))}
        except ValueError:
            pass
    raise QbuildError(f"norm='{norm}' is not understood; use norm=rescale:<factor> (e.g. rescale:0.0625 or rescale:1/16), "
                      "norm=mean_std or norm=none")


def eval_fraction(s: str) -> float:
    if "/" in s:
        a, b = s.split("/", 1)
        return float(a) / float(b)
    return float(s)


def source_date(paths: list[Path]) -> str:
    """SOURCE_DATE_EPOCH, else the last commit time touching the inputs (reproducible), else 0."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch and paths:
        try:
            epoch = subprocess.run(["git", "log", "-1", "--format=%ct", "--", *map(str, paths)],
                                   cwd=Path(paths[0]).parent, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            epoch = None
    from qbuild.build import build_date
    return build_date(epoch)


@dataclass
class ModelTargets:
    name: str
    kind: str                       # "spec" | "keras" | "tflite"
    out_dir: Path
    source: Path                    # model.py, .keras or .tflite
    data_src: Path | None = None    # user's raw .npz (kind "keras")
    settings: dict = field(default_factory=dict)
    dataset_deps: list = field(default_factory=list)
    model_deps: list = field(default_factory=list)

    # artifact paths ------------------------------------------------------------------------------------------------------
    @property
    def data(self) -> Path:
        return self.data_src if self.kind == "keras" else self.out_dir / "data.npz"

    @property
    def keras(self) -> Path:
        return self.source if self.kind == "keras" else self.out_dir / f"{self.name}.keras"

    @property
    def tflite(self) -> Path:
        return self.out_dir / f"{self.name}.tflite"

    def quantize_outputs(self) -> dict:
        out = {"tflite": self.tflite, "metrics": self.out_dir / "metrics.json", "advice": self.out_dir / "advice.json"}
        if self.settings.get("tflite_converter", {}).get("generate_quantization_report"):
            out["csv"] = self.out_dir / "quantization_report.csv"
            out["html"] = self.out_dir / "quantization_report.html"
        return out

    def carray_outputs(self) -> list[Path]:
        return [self.out_dir / f for f in CARRAY_FILES]

    def artifacts(self) -> dict:
        out = dict(self.quantize_outputs()) if self.kind != "tflite" else {"tflite": self.tflite}
        out.update({p.name: p for p in self.carray_outputs()})
        return out

    # resolution ----------------------------------------------------------------------------------------------------------
    @classmethod
    def resolve(cls, model: str, root: Path, data: str | None = None, norm: str | None = None,
                out_root: Path | None = None, strict: bool = False) -> "ModelTargets":
        root = Path(root)
        out_root = Path(out_root) if out_root else root / "build" / "models"
        if not model:
            raise QbuildError(f"no model given; pass model=<name> (one of: {', '.join(list_models(root))}), "
                              "a model.py, a .keras (with data=) or a .tflite")
        if model.endswith(".tflite"):
            src = Path(model).resolve()
            if not src.is_file():
                raise QbuildError(f"model file '{model}' does not exist; check the path")
            return cls(name=src.stem, kind="tflite", out_dir=out_root / src.stem, source=src)
        if model.endswith((".keras", ".h5")):
            src = Path(model).resolve()
            if not src.is_file():
                raise QbuildError(f"model file '{model}' does not exist; check the path")
            if not data:
                raise QbuildError(f"model={model} needs raw samples: add data=path/to/raw.npz (array 'x', optional labels 'y')")
            data_src = Path(data).resolve()
            if not data_src.is_file():
                raise QbuildError(f"raw data file '{data}' does not exist; pass data=path/to/raw.npz with an array 'x'")
            spec = ModelSpec(name=src.stem)
            spec.model_parameters.update(parse_norm(norm))
            settings = spec.settings()
            settings.update(user_data=True, strict=bool(strict), date=source_date([]),
                            sources=f"{src.name}, {data_src.name}")
            return cls(name=src.stem, kind="keras", out_dir=out_root / src.stem, source=src, data_src=data_src,
                       settings=settings)
        spec_path = resolve_spec_path(model, root)
        info = describe(spec_path, cache_dir=out_root / ".specs")
        settings = dict(info.settings)
        unknown = set(settings["tflite_converter"]) - set(CONVERTER_DEFAULTS)
        if unknown:
            raise QbuildError(f"{spec_path}: unknown tflite_converter keys {sorted(unknown)}")
        rel = os.path.relpath(spec_path, root)
        settings.update(user_data=False, strict=bool(strict), date=source_date(info.model_files), sources=rel)
        settings["data_env"] = info.data_env
        return cls(name=info.name, kind="spec", out_dir=out_root / info.name, source=spec_path, settings=settings,
                   dataset_deps=[Path(p) for p in info.dataset_files], model_deps=[Path(p) for p in info.model_files])

    # running the steps without SCons (Make/CMake) -----------------------------------------------------------------------
    def build_all(self) -> None:
        from qbuild import build, carray

        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.kind == "spec":
            _if_changed(self.out_dir / ".dataset.stamp", self.dataset_deps, self.settings.get("data_env"), [self.data],
                        lambda: build.step_dataset(self.source, self.data))
            _if_changed(self.out_dir / ".train.stamp", self.model_deps + [self.data], self.settings.get("training"),
                        [self.keras], lambda: build.step_train(self.source, self.data, self.keras))
        if self.kind == "tflite":
            _if_changed(self.out_dir / ".copy.stamp", [self.source], {}, [self.tflite],
                        lambda: build.step_copy_tflite(self.source, self.tflite))
        else:
            outs = self.quantize_outputs()
            _if_changed(self.out_dir / ".quantize.stamp", [self.keras, self.data], self.settings, list(outs.values()),
                        lambda: build.step_quantize(self.settings, self.keras, self.data, outs))
        _if_changed(self.out_dir / ".carray.stamp", [self.tflite], {}, self.carray_outputs(),
                    lambda: carray.write_carray(self.tflite, self.out_dir, self.tflite.name))


def _if_changed(stamp: Path, inputs: list, settings, outputs: list, run) -> None:
    """Run a step unless its inputs' content and settings match the last run and every output exists."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for p in inputs:
        h.update(str(p).encode() + b"\0" + Path(p).read_bytes())
    key = h.hexdigest()
    if stamp.is_file() and stamp.read_text() == key and all(Path(o).exists() for o in outputs):
        return
    run()
    stamp.write_text(key)
