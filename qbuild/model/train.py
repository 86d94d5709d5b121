"""Build step `train`: a spec's model trained on its data.npz -> <name>.keras (seeded, deterministic on one machine
kind). `train_spec` is also what `python -m qbuild advise` runs when no trained model is cached."""
from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

from qbuild.fsutil import write_atomic
from qbuild.log import log
from qbuild.model import data as rawdata
from qbuild.model.preprocess import model_input
from qbuild.model.spec import ModelSpec, load_spec


def train_spec(spec: ModelSpec, d: dict, params: dict | None = None, where: str = "the dataset"):
    """Build and train the spec's model on dataset `d` as the build does: seeded, the raw sample shape to
    build_model, samples preprocessed by `params` (default: the spec's) and reshaped to the model's input."""
    import numpy as np

    from qbuild.model.tfenv import seed_everything

    params = spec.model_parameters if params is None else params
    seed_everything(spec.seed)
    y = d.get("y_train")
    num_classes = len(spec.classes) or (int(np.max(y)) + 1 if y is not None else 0)
    model = spec.build_model(d["x_train"].shape[1:], num_classes)
    shape = tuple(model.inputs[0].shape[1:])
    rawdata.check_raw(d["x_train"], f"{where} x_train", shape)
    x = model_input(d["x_train"], params, shape)
    xv = model_input(d["x_test"], params, shape) if "x_test" in d else None
    log(f"{spec.name}: training {model.count_params():,} parameters on {len(x)} samples ({spec.epochs} epochs)")
    t0 = time.time()
    model = spec.train_model(model, x, y, xv, d.get("y_test"))
    log(f"{spec.name}: trained in {time.time() - t0:.1f} s")
    return model


def step_train(spec_path: Path, data_npz: Path, out_keras: Path) -> None:
    spec = load_spec(spec_path)
    model = train_spec(spec, rawdata.load_npz(data_npz), where=str(data_npz))
    tmp = out_keras.with_name(out_keras.stem + ".tmp.keras")
    model.save(tmp)
    write_atomic(out_keras, reproducible_keras(tmp.read_bytes()))
    tmp.unlink()


def reproducible_keras(data: bytes) -> bytes:
    """A saved .keras file made the same bytes for the same weights: Keras writes the save time into metadata.json,
    the zip entries' times, and Python object ids as `shared_object_id` in config.json (they only pair up shared
    objects, so numbering them in order of appearance keeps their meaning)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    ids: dict[int, int] = {}

    def renumber(obj):
        if isinstance(obj, dict):
            return {k: (ids.setdefault(v, len(ids)) if k == "shared_object_id" and isinstance(v, int) else renumber(v))
                    for k, v in obj.items()}
        if isinstance(obj, list):
            return [renumber(v) for v in obj]
        return obj

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            body = src.read(info)
            if info.filename == "config.json":
                body = json.dumps(renumber(json.loads(body))).encode()
            elif info.filename == "metadata.json":
                meta = json.loads(body)
                meta["date_saved"] = ""
                body = json.dumps(meta).encode()
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body)
    return out.getvalue()
