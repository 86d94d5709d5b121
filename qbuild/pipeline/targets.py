"""What `model=` means: the model's artifacts, their inputs and settings, resolved without TensorFlow.

Used by the SCons tool (to declare targets and dependencies) and by `python -m qbuild build` (to run the steps).
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from qbuild.codegen.carray import check_symbol, naming
from qbuild.errors import QbuildError
from qbuild.model.preprocess import parse_norm
from qbuild.model.spec import CONVERTER_DEFAULTS, ModelSpec, describe, list_models, resolve_spec_path
from qbuild.tflite.params import iso_date


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_name(name: str) -> str:
    """The one way a model's name becomes a build folder and a symbol-friendly token: letters, digits, '_', '.' and '-'
    are kept; anything else (spaces, ';', '$', backticks, quotes, slashes) becomes '_' and the name gets '-' and 8 hex
    digits of the original's sha256, so two different names never map to one folder. Safe in any shell command."""
    clean = _UNSAFE.sub("_", name).lstrip(".-") or "model"
    if clean == name:
        return name
    return f"{clean}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _file_folder(src: Path, root: Path) -> str:
    """Build folder of a model given as a file: its safe stem and 8 hex digits of its path (relative to the project
    when inside it), so /x/digits.tflite never shares build/models/digits with the digits spec, nor two m.keras files."""
    try:
        key = src.relative_to(root.resolve()).as_posix()
    except ValueError:
        key = str(src)
    return f"{safe_name(src.stem)}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def source_date(paths: list[Path]) -> str:
    """SOURCE_DATE_EPOCH, else the last commit time touching the inputs (reproducible), else 0."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch and not epoch.isdigit():
        raise QbuildError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970; fix or unset it")
    if not epoch and paths:
        try:
            epoch = subprocess.run(["git", "log", "-1", "--format=%ct", "--", *map(str, paths)],
                                   cwd=Path(paths[0]).parent, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            epoch = ""
    return iso_date(int(epoch) if epoch.isdigit() else 0)


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
    symbol: str | None = None       # C array prefix (qbuild.codegen.carray.Naming); None: the MLTK names

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
        return [self.out_dir / f for f in naming(self.symbol).outputs]

    def carray_settings(self) -> dict:
        """What the C array depends on besides the .tflite (empty for the MLTK names, as before prefixes existed)."""
        return {"symbol": self.symbol} if self.symbol else {}

    def artifacts(self) -> dict:
        out = dict(self.quantize_outputs()) if self.kind != "tflite" else {"tflite": self.tflite}
        out.update({p.name: p for p in self.carray_outputs()})
        return out

    # resolution ----------------------------------------------------------------------------------------------------------
    @classmethod
    def resolve(cls, model: str, root: Path, data: str | None = None, norm: str | None = None,
                out_root: Path | None = None, strict: bool = False, symbol: str | None = None) -> "ModelTargets":
        symbol = check_symbol(symbol)  # before the spec is described: a bad prefix fails at once
        t = cls._resolve(model, root, data, norm, out_root, strict)
        t.symbol = symbol
        return t

    @classmethod
    def _resolve(cls, model: str, root: Path, data, norm, out_root, strict) -> "ModelTargets":
        root = Path(root)
        out_root = Path(out_root) if out_root else root / "build" / "models"
        if not model:
            raise QbuildError(f"no model given; pass model=<name> (one of: {', '.join(list_models(root))}), "
                              "a model.py, a .keras (with data=) or a .tflite")
        if model.endswith(".tflite"):
            src = Path(model).resolve()
            if not src.is_file():
                raise QbuildError(f"model file '{model}' does not exist; check the path")
            return cls(name=safe_name(src.stem), kind="tflite", out_dir=out_root / _file_folder(src, root), source=src)
        if model.endswith((".keras", ".h5")):
            src = Path(model).resolve()
            if not src.is_file():
                raise QbuildError(f"model file '{model}' does not exist; check the path")
            if not data:
                raise QbuildError(f"model={model} needs raw samples: add data=path/to/raw.npz (array 'x', optional labels 'y')")
            data_src = Path(data).resolve()
            if not data_src.is_file():
                raise QbuildError(f"raw data file '{data}' does not exist; pass data=path/to/raw.npz with an array 'x'")
            spec = ModelSpec(name=safe_name(src.stem))
            spec.model_parameters.update(parse_norm(norm))
            settings = spec.settings()
            settings.update(user_data=True, strict=bool(strict), date=source_date([]),
                            sources=f"{src.name}, {data_src.name}")
            return cls(name=safe_name(src.stem), kind="keras", out_dir=out_root / _file_folder(src, root), source=src,
                       data_src=data_src, settings=settings)
        spec_path = resolve_spec_path(model, root)
        info = describe(spec_path, cache_dir=out_root / ".specs")
        settings = dict(info.settings)
        unknown = set(settings["tflite_converter"]) - set(CONVERTER_DEFAULTS)
        if unknown:
            raise QbuildError(f"{spec_path}: unknown tflite_converter keys {sorted(unknown)}")
        rel = os.path.relpath(spec_path, root)
        settings.update(user_data=False, strict=bool(strict), date=source_date(info.model_files), sources=rel)
        settings["data_env"] = info.data_env
        name = safe_name(info.name)
        settings["name"] = name
        return cls(name=name, kind="spec", out_dir=out_root / name, source=spec_path, settings=settings,
                   dataset_deps=[Path(p) for p in info.dataset_files], model_deps=[Path(p) for p in info.model_files])
