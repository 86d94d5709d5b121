import os
import sys
from pathlib import Path

# qbuild's own default (qbuild/__init__.py): builds the tests start show TF's fatal native lines only, as a user's do.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
