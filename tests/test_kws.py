"""The keyword-spotting example's data: eSpeak NG synthesis, voice split, TFLM frontend features, own recordings.

No training here (the end-to-end build tests train the model); a tiny data set is synthesized once per session.
"""
import os
import subprocess
import sys
import wave
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
KWS = ROOT / "models" / "kws"
sys.path.insert(0, str(KWS))

import kws_dataset as kd  # noqa: E402
from kws_speech import BASE_VOICES, VARIANTS, synthesize  # noqa: E402

from qbuild.errors import QbuildError  # noqa: E402

TINY = kd.Settings(seed=3, train_per_class=4, test_per_class=2)
SUPPORTED_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX", "RESHAPE",
                 "ADD", "MUL", "QUANTIZE", "DEQUANTIZE"}   # the last two: float32 model I/O


@pytest.fixture(scope="session")
def tiny():
    return kd.generate(TINY)


def test_speech_is_identical_across_processes():
    jobs = [{"text": w, "voice": v, "rate": r, "pitch": p, "pitch_range": 50, "seed": 11}
            for w, v, r, p in [("yes", "en-us+m3", 150, 40), ("stop", "en-gb-x-rp+f2", 220, 70),
                               ("marvin", "en-029+Gene", 180, 55)]]
    first, second = synthesize(jobs), synthesize(jobs)
    assert [w.tobytes() for w in first] == [w.tobytes() for w in second]
    assert all(w.dtype == np.float32 and 1600 < w.size < 16000 and 0.05 < np.abs(w).max() <= 1.0 for w in first)
    # different voices really sound different
    assert first[0].size != first[1].size or not np.array_equal(first[0], first[1])


def test_data_set_is_deterministic_for_a_seed(tiny):
    again = kd.generate(TINY)
    for key in ("x_train", "y_train", "x_test", "y_test", "audio_train", "audio_test"):
        assert tiny[key].tobytes() == again[key].tobytes(), key
    other = kd.generate(kd.Settings(seed=4, train_per_class=4, test_per_class=2))
    assert other["audio_train"].tobytes() != tiny["audio_train"].tobytes()


def test_features_are_frontend_uint16(tiny):
    for split in ("train", "test"):
        x = tiny[f"x_{split}"]
        assert x.dtype == np.uint16 and x.shape == (len(tiny[f"y_{split}"]), 49, 40)
        assert x.max() < 1024            # log-scaled frontend output tops out around 660
        assert tiny[f"audio_{split}"].dtype == np.int16 and tiny[f"audio_{split}"].shape[1] == 16000
    # channels are ordered by frequency (125..7500 Hz, mel-spaced): a higher tone peaks in a higher channel
    t = np.arange(16000) / 16000
    tones = np.stack([np.round(8000 * np.sin(2 * np.pi * f * t)).astype(np.int16) for f in (300, 1000, 4000)])
    peaks = kd.features(tones)[:, 10:].astype(np.float64).mean(axis=1).argmax(axis=1)
    assert peaks[0] < peaks[1] < peaks[2], peaks


def test_split_by_voice_has_no_overlap(tiny):
    train, test = kd.voice_split(kd.Settings())
    variant = lambda v: v.split("+")[1]  # noqa: E731
    assert not {variant(v) for v in train} & {variant(v) for v in test}
    assert len(test) == kd.Settings().test_variants * len(BASE_VOICES)
    assert len(train) + len(test) == len(VARIANTS) * len(BASE_VOICES)
    heard_train = {variant(v) for v in tiny["voices_train"] if v}
    heard_test = {variant(v) for v in tiny["voices_test"] if v}
    assert heard_train and heard_test and not heard_train & heard_test
    # silence clips and only they have no voice
    for split in ("train", "test"):
        is_silence = tiny[f"y_{split}"] == kd.CLASSES.index(kd.SILENCE)
        assert np.array_equal(tiny[f"voices_{split}"] == "", is_silence)


def test_classes_are_balanced(tiny):
    assert Counter(tiny["y_train"].tolist()) == {i: TINY.train_per_class for i in range(len(kd.CLASSES))}
    assert Counter(tiny["y_test"].tolist()) == {i: TINY.test_per_class for i in range(len(kd.CLASSES))}
    plan = kd.plan(kd.Settings(), kd.voice_split(kd.Settings())[0], 400, 0)
    assert Counter(c["label"] for c in plan) == {i: 400 for i in range(len(kd.CLASSES))}
    unknown_words = {c["text"] for c in plan if c["label"] == kd.CLASSES.index(kd.UNKNOWN)}
    assert unknown_words <= set(kd.UNKNOWN_WORDS) and not unknown_words & set(kd.CLASSES)


def _write_wav(path: Path, samples: np.ndarray, rate: int):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def test_own_recordings_replace_synthesis(tmp_path, monkeypatch, tiny):
    rng = np.random.default_rng(0)
    speakers = [f"spk{i:02d}" for i in range(12)]
    for label, name in enumerate(kd.CLASSES[:-1]):            # no _silence_ folder: noise clips are made
        for s in speakers:
            tone = np.sin(2 * np.pi * (200 + 50 * label) * np.arange(12000) / 22050) * 8000
            folder = tmp_path / name / ("bed" if name == kd.UNKNOWN else "")   # any depth below the class folder
            _write_wav(folder / f"{s}_nohash_0.wav", tone + rng.normal(0, 100, tone.size), 22050)
    _write_wav(tmp_path / "README.wav", np.zeros(100), 16000)   # not in a class folder: ignored
    monkeypatch.setenv(kd.RECORDINGS_ENV, str(tmp_path))
    data = kd.load_dataset()
    n = len(data["y_train"]) + len(data["y_test"])
    assert n == 11 * len(speakers) + len(speakers)
    assert data["x_train"].dtype == np.uint16 and data["x_train"].shape[1:] == (49, 40)
    assert 0 < len(data["y_test"]) < n
    test_speakers = {s for s in speakers if kd.is_test_speaker(s)}
    assert len(data["y_test"]) == 11 * len(test_speakers) + sum(kd.is_test_speaker(f"noise{i}") for i in range(12))

    _write_wav(tmp_path / "maybe" / "a_nohash_0.wav", np.zeros(100), 16000)
    with pytest.raises(QbuildError, match="maybe.*not classes"):
        kd.load_dataset()
    monkeypatch.setenv(kd.RECORDINGS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(QbuildError, match="does not exist"):
        kd.load_dataset()


def test_spec_imports_without_tensorflow():
    code = ("import sys; from qbuild.model.spec import load_spec; s = load_spec('models/kws/model.py'); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; "
            "print(s.name, len(s.classes), s.model_parameters, [p.name for p in s.dataset_files() if p.suffix == '.py'])")
    env = {k: v for k, v in os.environ.items() if k != kd.RECORDINGS_ENV}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == ("kws 12 {'samplewise_norm.mean_and_std': True} ['kws_dataset.py', 'kws_speech.py']")


@pytest.fixture(scope="module")
def untrained_tflite(tiny):
    """The spec's model, untrained, converted to int8 (float32 I/O) as bench/kws_accuracy.py does."""
    sys.path.insert(0, str(ROOT / "bench"))
    from kws_accuracy import to_int8

    from qbuild.model.preprocess import preprocess
    from qbuild.model.spec import load_spec

    spec = load_spec(KWS / "model.py")
    x = preprocess(spec.model_parameters, tiny["x_train"])
    model = spec.build_model(x.shape[1:], len(spec.classes))
    assert model.count_params() < 40_000
    return to_int8(model, x[:8])


def test_model_converts_to_supported_int8_ops(untrained_tflite):
    from kws_accuracy import ops_of

    ops = ops_of(untrained_tflite)
    assert set(ops) <= SUPPORTED_OPS, ops


def test_model_is_real_time_sized_and_fits_the_32k_board(untrained_tflite):
    """Issue 19: at most 2.7 M MACs per inference, and the planned arena plus the board's stack and heap fit the
    EFR32BG22's 32 KB of RAM (the firmware's own statics are checked by the end-to-end build)."""
    from kws_variants import macs

    from qbuild.target.boards import load_board
    from qbuild.tflite.plan import plan_model

    counted = macs(untrained_tflite)
    assert counted["CONV_2D"] + counted["DEPTHWISE_CONV_2D"] + counted["FULLY_CONNECTED"] <= 2_700_000, counted
    board = load_board("efr32bg22")
    ram = next(r.length for r in board.regions if r.name == "ram")
    arena = plan_model(untrained_tflite, pointer_size=4).arena_bytes
    assert arena + board.stack_size + board.heap_size <= ram - 1024, arena   # 1 KB left for the firmware's statics
