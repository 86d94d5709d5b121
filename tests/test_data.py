"""Raw data validation: each mistake gives one line naming the file and the fix."""
import numpy as np
import pytest

from qbuild.model import data
from qbuild.errors import QbuildError
from qbuild.model.preprocess import preprocess, round_half_away


def test_wrong_shape_names_both_shapes():
    with pytest.raises(QbuildError, match=r"raw.npz: a raw sample has shape \(7, 7\) \(49 values\) but the model input is "
                                          r"\(8, 8, 1\) \(64 values\)"):
        data.check_raw(np.zeros((3, 7, 7), np.uint8), "raw.npz", (8, 8, 1))


def test_nan_is_reported_with_sample_index():
    x = np.zeros((4, 8), np.float32)
    x[2, 3] = np.nan
    with pytest.raises(QbuildError, match="NaN/Inf \\(first in sample 2\\)"):
        data.check_raw(x, "raw.npz")


@pytest.mark.parametrize("x,msg", [(np.zeros((0, 4), np.uint8), "at least one sample"),
                                   (np.zeros((2, 4), np.int64), "dtype int64"),
                                   (np.zeros((2, 4), bool), "dtype bool")])
def test_bad_raw(x, msg):
    with pytest.raises(QbuildError, match=msg):
        data.check_raw(x, "raw.npz")


def test_user_npz_missing_x(tmp_path):
    p = tmp_path / "raw.npz"
    np.savez(p, samples=np.zeros((2, 2), np.uint8))
    with pytest.raises(QbuildError, match="has arrays \\['samples'\\] but no 'x'"):
        data.load_user_npz(p)


def test_not_an_npz(tmp_path):
    p = tmp_path / "raw.npz"
    p.write_text("hello")
    with pytest.raises(QbuildError, match="is not a readable .npz"):
        data.load_npz(p)


def test_labels_must_match():
    with pytest.raises(QbuildError, match="3 labels for 4 samples"):
        data.check_labels(np.zeros(3), 4, "d")


def test_mean_std_matches_a_sequential_float32_loop():
    rng = np.random.RandomState(1)
    x = rng.randint(0, 700, size=(3, 50)).astype(np.uint16)
    got = preprocess({"samplewise_norm.mean_and_std": True}, x)
    for row, out in zip(x, got):
        s = np.float32(0)
        for v in row:
            s = np.float32(s + np.float32(v))
        mean = np.float32(s / np.float32(len(row)))
        acc = np.float32(0)
        for v in row:
            d = np.float32(np.float32(v) - mean)
            acc = np.float32(acc + np.float32(d * d))
        std = np.sqrt(np.float32(acc / np.float32(len(row))))
        want = [np.float32(np.float32(np.float32(v) - mean) / np.float32(std + np.float32(1e-6))) for v in row]
        assert np.array_equal(np.array(want, np.float32).view(np.uint32), out.view(np.uint32))


def test_rescale_and_none():
    x = np.array([[0, 3, 16]], np.uint8)
    assert preprocess({"samplewise_norm.rescale": 1 / 16}, x).tolist() == [[0.0, 0.1875, 1.0]]
    assert preprocess({}, x).dtype == np.float32


def test_both_norms_is_an_error():
    with pytest.raises(QbuildError, match="keep one of them"):
        preprocess({"samplewise_norm.rescale": 0.5, "samplewise_norm.mean_and_std": True}, np.zeros((1, 2)))


def test_round_half_away_matches_c_roundf():
    v = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999997, -0.49999997, 3.2, -3.7], np.float32)
    assert round_half_away(v).tolist() == [1, 2, 3, -1, -3, 0, 0, 3, -4]
