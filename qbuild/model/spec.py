"""Model specs: `models/<name>/model.py` defines `my_model = ModelSpec(...)` in the MLTK vocabulary.

    my_model = ModelSpec(name="digits", classes=[...])
    my_model.tflite_converter['representative_dataset_max_samples'] = 500
    my_model.model_parameters['samplewise_norm.rescale'] = 1.0 / 16.0

    @my_model.dataset            # -> dict(x_train, y_train, x_test, y_test); x raw, in the device's dtype
    def load(): ...
    @my_model.build              # (input_shape, num_classes) -> keras.Model (compiled or not)
    def build(input_shape, num_classes): ...
    @my_model.train              # optional: (model, x_train, y_train, x_val, y_val) -> model; x already preprocessed
    def train(model, x, y, xv, yv): ...

Spec files must not import TensorFlow/keras at module level: import inside the functions (no-op builds never pay for TF).
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic

CONVERTER_DEFAULTS = {
    "inference_input_type": np.float32,
    "inference_output_type": np.float32,
    "generate_quantization_report": True,
    "representative_dataset_max_samples": 500,
    "denylisted_nodes": [],
    "denylisted_ops": [],
    "report_rmse_scale_threshold": 0.5,
    "report_range_threshold": 255.0,
    "supported_ops": ["TFLITE_BUILTINS_INT8"],
}
IO_TYPES = {"float32": np.float32, "int8": np.int8}

# MLTK's `supported_ops` key with TensorFlow's OpsSet names -> qbuild's quantization mode (report, accuracy lines).
# 16x8: int16 activations, int8 weights (TFLite's experimental 16x8 quantization; the runtime's int16 kernels).
QUANTIZATION_MODES = {"TFLITE_BUILTINS_INT8": "int8",
                      "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8": "int16x8"}


def ops_set_names(value) -> list[str]:
    """`supported_ops` as OpsSet names: a list of one tf.lite.OpsSet member or its name (MLTK passes the enum)."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    names = [str(getattr(v, "name", v)).rsplit(".", 1)[-1] for v in items]
    if len(names) != 1 or names[0] not in QUANTIZATION_MODES:
        raise QbuildError(f"tflite_converter['supported_ops'] = {names} is not supported; use "
                          "[tf.lite.OpsSet.TFLITE_BUILTINS_INT8] (int8, the default) or "
                          "[tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8] (16x8: int16 "
                          "activations, int8 weights), or their names as strings")
    return names


def quantization_mode(converter_settings: dict) -> str:
    """'int8' or 'int16x8' from (canonical or not) converter settings; absent = int8."""
    return QUANTIZATION_MODES[ops_set_names(converter_settings.get("supported_ops", ["TFLITE_BUILTINS_INT8"]))[0]]


def dtype_name(t) -> str:
    """np.float32 / 'float32' / np.dtype('int8') -> 'float32' | 'int8'."""
    try:
        name = np.dtype(t).name
    except TypeError:
        name = str(t)
    if name not in IO_TYPES:
        raise QbuildError(f"inference input/output type {t!r} is not supported; use np.float32 or np.int8")
    return name


class ConverterSettings(dict):
    """`tflite_converter[...]`: the MLTK keys qbuild understands; an unknown key is an error, not a silent no-op."""

    def __init__(self):
        super().__init__(CONVERTER_DEFAULTS)
        self["denylisted_nodes"] = []
        self["denylisted_ops"] = []
        self["supported_ops"] = list(CONVERTER_DEFAULTS["supported_ops"])

    def __setitem__(self, key, value):
        if key not in CONVERTER_DEFAULTS:
            raise QbuildError(f"unknown tflite_converter key '{key}'; valid keys: {', '.join(sorted(CONVERTER_DEFAULTS))}")
        if key in ("inference_input_type", "inference_output_type"):
            dtype_name(value)
        if key == "supported_ops":
            value = ops_set_names(value)
        super().__setitem__(key, value)

    def canonical(self) -> dict:
        """JSON-able, deterministic view (drives rebuilds)."""
        out = {}
        for k in sorted(self):
            v = self[k]
            if k in ("inference_input_type", "inference_output_type"):
                v = dtype_name(v)
            elif k == "supported_ops" and v == CONVERTER_DEFAULTS[k]:
                continue  # the default mode adds nothing: settings (and rebuild signatures) of int8 specs unchanged
            elif isinstance(v, (list, tuple)):
                v = list(v)
            out[k] = v
        return out


class ModelSpec:
    def __init__(self, name: str | None = None, version: int = 1, description: str = "", classes=None):
        self.name = name
        self.version = version
        self.description = description
        self.classes = list(classes) if classes else []
        self.tflite_converter = ConverterSettings()
        self.model_parameters: dict = {}
        self.epochs = 10
        self.batch_size = 32
        self.seed = 0
        # Files (relative to the spec file) the dataset depends on besides the one defining the @dataset function.
        self.data_sources: list[str] = []
        # Folders whose files are data (e.g. your own recordings; a folder that does not exist yet is watched too), and
        # environment variables the dataset function reads: a change in either rebuilds the dataset.
        self.data_dirs: list[str] = []
        self.data_env: list[str] = []
        self.path: Path | None = None
        self._dataset = None
        self._build = None
        self._train = None
        self._base_files: list[Path] = []  # a variant's: the model files of the spec it copies

    def variant(self, name: str, description: str = "") -> "ModelSpec":
        """A copy under another name (its own build folder): same data, model code, training and settings, so one
        setting can change without copying the spec, e.g. a 16x8 build of digits:
            my_model = load_spec(path_to_digits_model_py).variant("digits_16x8")
            my_model.tflite_converter["supported_ops"] = ["EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"]
        The copy's model files include this spec's: an edit there retrains the variant too."""
        v = ModelSpec(name=name, version=self.version, description=description or self.description, classes=self.classes)
        for k, value in self.tflite_converter.items():
            v.tflite_converter[k] = list(value) if isinstance(value, list) else value
        v.model_parameters = dict(self.model_parameters)
        v.epochs, v.batch_size, v.seed = self.epochs, self.batch_size, self.seed
        base = self.path.parent if self.path else Path.cwd()
        v.data_sources = [str((base / f).resolve()) for f in self.data_sources]
        v.data_dirs = [str(d) for d in self.resolved_data_dirs()]
        v.data_env = list(self.data_env)
        v._dataset, v._build, v._train = self._dataset, self._build, self._train
        v._base_files = self.model_files()
        return v

    # decorators ----------------------------------------------------------------------------------------------------------
    def dataset(self, fn):
        self._dataset = fn
        return fn

    def build(self, fn):
        self._build = fn
        return fn

    def train(self, fn):
        self._train = fn
        return fn

    @property
    def dataset_function(self):
        """The registered @dataset function, to share one data set between specs:
        `my_model.dataset(load_spec(path_to_other_model_py).dataset_function)`."""
        return self._dataset

    # used by the build ---------------------------------------------------------------------------------------------------
    def load_dataset(self) -> dict:
        if self._dataset is None:
            raise QbuildError(f"{self.path}: no @my_model.dataset function; define one returning dict(x_train=..., ...)")
        return self._dataset()

    def build_model(self, input_shape, num_classes):
        if self._build is None:
            raise QbuildError(f"{self.path}: no @my_model.build function; define one returning a keras.Model")
        return self._build(tuple(input_shape), num_classes)

    def train_model(self, model, x_train, y_train, x_val, y_val):
        if self._train is not None:
            return self._train(model, x_train, y_train, x_val, y_val)
        return default_train(self, model, x_train, y_train, x_val, y_val)

    def dataset_files(self) -> list[Path]:
        files = []
        if self._dataset is not None:
            files.append(Path(inspect.getsourcefile(self._dataset)).resolve())
        base = self.path.parent if self.path else Path.cwd()
        files += [(base / f).resolve() for f in self.data_sources]
        for d in self.resolved_data_dirs():
            files += [p for p in d.rglob("*") if p.is_file()] if d.is_dir() else []
        return sorted(set(files))

    def resolved_data_dirs(self) -> list[Path]:
        base = self.path.parent if self.path else Path.cwd()
        return [(base / d).resolve() for d in self.data_dirs]

    def model_files(self) -> list[Path]:
        """Every .py file next to the spec: the model code may be split over several."""
        own = [p.resolve() for p in self.path.parent.glob("*.py")] if self.path else []
        return sorted(set(own) | set(self._base_files))

    def settings(self) -> dict:
        """Everything that is not a file but changes the artifacts: sorted, JSON-able."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "classes": self.classes,
            "tflite_converter": self.tflite_converter.canonical(),
            "model_parameters": {k: _jsonable(v) for k, v in sorted(self.model_parameters.items())},
            "training": {"epochs": self.epochs, "batch_size": self.batch_size, "seed": self.seed},
        }


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def default_train(spec: ModelSpec, model, x_train, y_train, x_val, y_val):
    import keras

    if not getattr(model, "optimizer", None) or not model.compiled:
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    validation = (x_val, y_val) if x_val is not None and len(x_val) else None
    model.fit(x_train, y_train, epochs=spec.epochs, batch_size=spec.batch_size, validation_data=validation, verbose=2)
    return model


def models_dir(root: Path) -> Path:
    return Path(root) / "models"


def list_models(root: Path) -> list[str]:
    d = models_dir(root)
    return sorted(p.parent.name for p in d.glob("*/model.py")) if d.is_dir() else []


def resolve_spec_path(model: str, root: Path) -> Path:
    """`digits` -> models/digits/model.py; a path to a .py file is taken as is."""
    if model.endswith(".py"):
        p = Path(model)
        if not p.is_file():
            raise QbuildError(f"model spec '{model}' does not exist; pass a path to a model.py or one of: "
                              f"{', '.join(list_models(root))}")
        return p.resolve()
    p = models_dir(root) / model / "model.py"
    if not p.is_file():
        raise QbuildError(f"unknown model '{model}'; valid models: {', '.join(list_models(root))} "
                          "(or a path to a model.py, .keras or .tflite)")
    return p.resolve()


_loaded: dict[Path, ModelSpec] = {}


def load_spec(path: Path, fresh: bool = False) -> ModelSpec:
    """Import a spec file (its directory on sys.path while importing) and return its `my_model` (cached per process
    unless `fresh`: then every spec is imported again)."""
    path = Path(path).resolve()
    if path in _loaded and not fresh:
        return _loaded[path]
    if fresh:  # a spec it loads in turn (a variant's base, a shared dataset) is imported afresh too
        _loaded.clear()
    modname = "qbuild_spec_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    sys.path.insert(0, str(path.parent))
    try:
        module_spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[modname] = module
        module_spec.loader.exec_module(module)
    except QbuildError as e:
        raise QbuildError(f"{path}: {e}") from None
    except Exception as e:  # the user's own error, shown as its last line
        raise QbuildError(f"model spec {path} failed to import: {type(e).__name__}: {e}") from None
    finally:
        sys.path.remove(str(path.parent))
    spec = getattr(module, "my_model", None)
    if not isinstance(spec, ModelSpec):
        raise QbuildError(f"{path} defines no `my_model = qbuild.model.spec.ModelSpec(...)`; see docs/model-spec.md")
    spec.path = path
    spec.name = spec.name or path.parent.name
    _loaded[path] = spec
    return spec


@dataclass
class SpecInfo:
    """What the build graph needs to know about a spec, without TensorFlow (cached by content hash)."""
    name: str
    path: str
    dataset_files: list = field(default_factory=list)
    model_files: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    data_dirs: list = field(default_factory=list)
    data_env: dict = field(default_factory=dict)   # variable -> value ("" when unset)


def _data_state(data_dirs: list, env_names) -> str:
    """Listing of the data folders (path, size, mtime) and the data variables' values: when it changes, the cached
    description (which lists the data files) is stale."""
    h = hashlib.sha256()
    for d in map(Path, data_dirs):
        files = sorted(p for p in d.rglob("*") if p.is_file()) if d.is_dir() else []
        h.update(f"{d}:{len(files)}\0".encode())
        for p in files:
            st = p.stat()
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    for name in sorted(env_names):
        h.update(f"{name}={os.environ.get(name, '')}\0".encode())
    return h.hexdigest()


def _files_key(paths) -> str:
    """Content key of the files a cached SpecInfo names (a variant's base spec, a shared dataset file elsewhere)."""
    h = hashlib.sha256()
    for p in sorted(set(paths)):
        try:
            h.update(p.encode() + b"\0" + Path(p).read_bytes() + b"\0")
        except OSError:
            h.update(p.encode() + b"\0(missing)\0")
    return h.hexdigest()


def describe(path: Path, cache_dir: Path | None = None) -> SpecInfo:
    """SpecInfo for a spec file; re-imports the spec only when a .py file next to it, or a file its model or dataset
    comes from (e.g. the spec a `variant` copies), changed."""
    path = Path(path).resolve()
    key = hashlib.sha256()
    for p in sorted(path.parent.glob("*.py")):
        key.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    key = key.hexdigest()
    cache = Path(cache_dir) / f"spec-{path.parent.name}.json" if cache_dir else None
    if cache and cache.is_file():
        data = json.loads(cache.read_text())
        info = SpecInfo(**data["info"])
        if (data.get("key") == key and data.get("path") == str(path)
                and data.get("data_state") == _data_state(info.data_dirs, info.data_env)
                and data.get("files_key") == _files_key(info.model_files + info.dataset_files)):
            return info
    spec = load_spec(path, fresh=True)
    info = SpecInfo(name=spec.name, path=str(path), dataset_files=[str(p) for p in spec.dataset_files()],
                    model_files=[str(p) for p in spec.model_files()], settings=spec.settings(),
                    data_dirs=[str(d) for d in spec.resolved_data_dirs()],
                    data_env={n: os.environ.get(n, "") for n in sorted(spec.data_env)})
    if cache:
        state = _data_state(info.data_dirs, info.data_env)
        files_key = _files_key(info.model_files + info.dataset_files)
        write_atomic(cache, json.dumps({"key": key, "path": str(path), "data_state": state, "files_key": files_key,
                                        "info": info.__dict__}, sort_keys=True, indent=1))
    return info
