"""Where qbuild's data lives: templates, board files, the runtime's C++ sources and the CMake module.

In a checkout they sit beside the package (`templates/`, `boards/`, `runtime/`, `cmake/`); a pip-installed qbuild
carries the same folders inside the package as `qbuild/data/<name>` (pyproject.toml maps them there). Every module
that needs one asks here, so the two layouts never diverge.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_INSTALLED = PACKAGE_DIR / "data"
_CHECKOUT = PACKAGE_DIR.parent

NAMES = ("templates", "boards", "runtime", "cmake")


def data_dir(name: str) -> Path:
    """The folder `name` (one of NAMES): the installed copy when qbuild is installed, else the checkout's."""
    if name not in NAMES:
        raise ValueError(f"unknown qbuild data folder {name!r}")
    installed = _INSTALLED / name
    return installed if installed.is_dir() else _CHECKOUT / name


def installed() -> bool:
    """True for a pip-installed qbuild (data inside the package), False for a checkout."""
    return _INSTALLED.is_dir()
