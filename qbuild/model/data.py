"""Raw data files: validation with errors that name the file and the fix."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic

RAW_DTYPES = ("uint8", "int8", "uint16", "int16", "float32")
SPLITS = ("x_train", "y_train", "x_test", "y_test")


def check_raw(x, where: str, input_shape=None) -> np.ndarray:
    """Raw samples (N, ...): non-empty, a supported device dtype, finite, and matching the model input when given."""
    x = np.asarray(x)
    if x.dtype == np.float64:
        x = x.astype(np.float32)
    if x.dtype.name not in RAW_DTYPES:
        raise QbuildError(f"{where}: raw data has dtype {x.dtype}; use one of {', '.join(RAW_DTYPES)} "
                          "(what the device sees)")
    if x.ndim < 2 or x.shape[0] == 0:
        raise QbuildError(f"{where}: raw data has shape {x.shape}; expected (N, ...) with at least one sample")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = int(np.argwhere(~np.isfinite(x.reshape(len(x), -1)))[0][0])
        raise QbuildError(f"{where}: raw data contains NaN/Inf (first in sample {bad}); clean or drop those samples")
    if input_shape is not None:
        want = int(np.prod(input_shape))
        got = int(np.prod(x.shape[1:]))
        if want != got:
            raise QbuildError(f"{where}: a raw sample has shape {x.shape[1:]} ({got} values) but the model input is "
                              f"{tuple(input_shape)} ({want} values); fix the data or the model input shape")
    return x


def check_labels(y, n: int, where: str, num_classes: int | None = None) -> np.ndarray:
    """One integer class index per sample, 0 <= label < num_classes (when known)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        shape = "one-hot or multi-column labels" if y.ndim > 1 else f"{y.size} labels"
        raise QbuildError(f"{where}: {shape} for {n} samples; give one integer class index per sample "
                          "(e.g. y = onehot.argmax(axis=1))")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise QbuildError(f"{where}: labels must be whole class indices; found NaN, Inf or fractions")
    elif y.dtype.kind not in "iub":
        raise QbuildError(f"{where}: labels have dtype {y.dtype}; give integer class indices (map names to 0, 1, ...)")
    if n and (y.min() < 0 or (num_classes is not None and y.max() >= num_classes)):
        limit = f" and below {num_classes} (the number of classes)" if num_classes is not None else ""
        raise QbuildError(f"{where}: labels range {int(y.min())}..{int(y.max())}; class indices must be >= 0{limit}")
    return y.astype(np.int32)


def check_dataset(d: dict, where: str) -> dict:
    if not isinstance(d, dict) or "x_train" not in d:
        raise QbuildError(f"{where}: the dataset function must return dict(x_train=..., y_train=..., x_test=..., y_test=...)")
    out = {"x_train": check_raw(d["x_train"], f"{where} x_train")}
    if d.get("x_test") is not None and len(d["x_test"]):
        out["x_test"] = check_raw(d["x_test"], f"{where} x_test", out["x_train"].shape[1:])
        if out["x_test"].dtype != out["x_train"].dtype:
            raise QbuildError(f"{where}: x_train is {out['x_train'].dtype} but x_test is {out['x_test'].dtype}; use one dtype")
    for split in ("train", "test"):
        if d.get(f"y_{split}") is not None and f"x_{split}" in out:
            out[f"y_{split}"] = check_labels(d[f"y_{split}"], len(out[f"x_{split}"]), f"{where} y_{split}")
    return out


def save_npz(path: Path, arrays: dict) -> None:
    """Atomic, deterministic .npz (no compression timestamps)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue())


MAX_DATA_BYTES = 1 << 30  # decompressed arrays of one .npz (microcontroller data sets are MBs); QBUILD_MAX_DATA_BYTES raises it


def _max_data_bytes() -> int:
    value = os.environ.get("QBUILD_MAX_DATA_BYTES", "")
    if value and not value.isdigit():
        raise QbuildError(f"QBUILD_MAX_DATA_BYTES={value!r} is not a byte count; e.g. QBUILD_MAX_DATA_BYTES=8589934592")
    return int(value) if value else MAX_DATA_BYTES


def _check_unpacked_size(path: Path) -> None:
    """Refuse a .npz whose arrays would unpack to more than the cap, from the zip directory and each array's header,
    before any array is read (a 3 MB file of zeros can hold gigabytes)."""
    limit, total = _max_data_bytes(), 0
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                total += info.file_size
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                        np.lib.format.read_array_header_2_0
                    shape, _, dtype = read(f)
                # the larger of what the zip says and what the array header says it holds
                total += max(info.file_size, int(np.prod(shape, dtype=np.float64)) * dtype.itemsize) - info.file_size
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return  # not a zip of .npy files: np.load reports it below
    if total > limit:
        raise QbuildError(f"raw data file '{path}' unpacks to {total:,} bytes, over the {limit:,}-byte limit; use "
                          "fewer samples, or raise the limit with QBUILD_MAX_DATA_BYTES=<bytes>")


def load_npz(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise QbuildError(f"raw data file '{path}' does not exist; pass data=path/to/raw.npz with an array 'x'")
    _check_unpacked_size(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:
        raise QbuildError(f"raw data file '{path}' is not a readable .npz ({type(e).__name__}: {e}); "
                          "save it with numpy.savez(path, x=...)") from None


def load_user_npz(path: Path) -> dict:
    """`data=raw.npz` from the user: 'x' (required) and optional 'y' -> the dataset dict (train = test = all)."""
    z = load_npz(path)
    if "x" not in z:
        raise QbuildError(f"raw data file '{path}' has arrays {sorted(z)} but no 'x'; save the raw samples as x=...")
    x = check_raw(z["x"], str(path))
    d = {"x_train": x, "x_test": x}
    if "y" in z:
        d["y_train"] = d["y_test"] = check_labels(z["y"], len(x), str(path))
    return d
