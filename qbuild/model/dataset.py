"""Build step `dataset`: a spec's @dataset function -> validated data.npz."""
from __future__ import annotations

import time
from pathlib import Path

from qbuild.log import log
from qbuild.model import data as rawdata
from qbuild.model.spec import load_spec


def step_dataset(spec_path: Path, out_npz: Path) -> None:
    spec = load_spec(spec_path)
    log(f"{spec.name}: generating the dataset")
    t0 = time.time()
    d = rawdata.check_dataset(spec.load_dataset(), f"{spec_path} dataset")
    rawdata.save_npz(out_npz, d)
    log(f"{spec.name}: dataset {len(d['x_train'])} train / {len(d.get('x_test', []))} test samples, "
        f"{d['x_train'].dtype} {d['x_train'].shape[1:]} ({time.time() - t0:.1f} s)")
