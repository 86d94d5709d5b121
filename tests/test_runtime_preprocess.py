"""C++ preprocessing helpers (runtime/include/qbuild/preprocess.h) vs qbuild/preprocess.py: bit-identical float32."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from qbuild.model.preprocess import preprocess
from test_runtime_exact import host_tool  # noqa: F401

DTYPES = {"u8": np.uint8, "i8": np.int8, "u16": np.uint16, "i16": np.int16, "f32": np.float32}


@pytest.mark.parametrize("code", sorted(DTYPES))
@pytest.mark.parametrize("mode", ["mean_std", "rescale:0.0625", "rescale:0.00392156862745098"])
def test_cpp_preprocessing_matches_python_bit_for_bit(code, mode, host_tool, tmp_path):
    dtype = DTYPES[code]
    rng = np.random.default_rng(5)
    if dtype == np.float32:
        raw = (rng.standard_normal(1960) * 300).astype(np.float32)
    else:
        info = np.iinfo(dtype)
        raw = rng.integers(info.min, info.max + 1, 1960).astype(dtype)
    (tmp_path / "raw.bin").write_bytes(raw.tobytes())
    r = subprocess.run([str(host_tool), "--preprocess", mode, code, str(tmp_path / "raw.bin"), str(tmp_path / "o.bin")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = np.fromfile(tmp_path / "o.bin", dtype=np.float32)
    params = ({"samplewise_norm.mean_and_std": True} if mode == "mean_std"
              else {"samplewise_norm.rescale": float(np.float32(mode.split(":")[1]))})
    want = preprocess(params, raw[None, :])[0]
    assert got.tobytes() == want.astype(np.float32).tobytes()
