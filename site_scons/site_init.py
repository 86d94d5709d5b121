# Put the qbuild package (repo root) on sys.path for SConstruct files in this tree.
import sys
from pathlib import Path

_root = str(Path(__file__).resolve().parents[1])
if _root not in sys.path:
    sys.path.insert(0, _root)
