"""The model-spec API for `models/<name>/model.py` files: `from qbuild.spec import ModelSpec` (a stable import path for
users; the implementation lives in qbuild.model.spec)."""
from qbuild.model.spec import ModelSpec, load_spec

__all__ = ["ModelSpec", "load_spec"]
