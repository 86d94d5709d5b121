"""Build step `copy`: model=path.tflite is already quantized; it is validated and copied into the build tree."""
from __future__ import annotations

from pathlib import Path

from qbuild.fsutil import write_atomic
from qbuild.tflite.reader import read_model


def step_copy_tflite(src: Path, dst: Path) -> None:
    """model=path.tflite: already quantized; validated and copied into the build tree."""
    b = Path(src).read_bytes()
    read_model(b, what=str(src))
    write_atomic(dst, b)
