"""One TensorFlow step of a model, run the way the build runs it (qbuild.model.isolate.run_step), for timing the
worker process against the in-process step (QBUILD_ISOLATE=0). Writes into a temporary directory.

    .venv/bin/python bench/isolation_step.py kws quantize      # needs build/models/kws/{data.npz,kws.keras}
"""
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qbuild.model.isolate import run_step  # noqa: E402
from qbuild.model.quantize_step import step_quantize  # noqa: E402
from qbuild.pipeline.targets import ModelTargets  # noqa: E402


def main(model: str, step: str) -> None:
    if step != "quantize":
        raise SystemExit("only the quantize step is timed here (dataset and training take minutes)")
    t = ModelTargets.resolve(model, ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        outs = {k: Path(tmp) / p.name for k, p in t.quantize_outputs().items()}
        run_step(step, t.name, step_quantize, t.settings, t.keras, t.data, outs)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
