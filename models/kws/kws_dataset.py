"""Keyword-spotting data made offline: eSpeak NG speech + synthetic noise -> TFLM audio-frontend features.

One clip = 1 s at 16 kHz -> (49, 40) uint16 features (30 ms window, 20 ms step, 40 channels), what the device's
frontend produces and what the model's input preprocessing (`samplewise_norm.mean_and_std`) starts from.

Voices are eSpeak base voices (accents) x voice variants (timbres). The split is by *variant*: a test variant is never
heard in training, with any accent, so test accuracy measures generalisation to unheard speakers. Every class has the
same number of clips in each split. Same seed -> same bytes, also across processes (see kws_speech.py).

Own recordings replace synthesis when `recordings/<class>/*.wav` exists next to this file, or the folder named by
the environment variable QBUILD_KWS_RECORDINGS (see docs/kws.md).
"""
from __future__ import annotations

import os
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kws_speech import BASE_VOICES, SAMPLE_RATE, VARIANTS, synthesize

CLASSES = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "_unknown_", "_silence_"]
UNKNOWN, SILENCE = "_unknown_", "_silence_"
# The other words of Google's Speech Commands set, plus a few that share sounds with the keywords.
UNKNOWN_WORDS = ["backward", "bed", "bird", "cat", "dog", "eight", "five", "follow", "forward", "four", "happy",
                 "house", "learn", "marvin", "nine", "one", "seven", "sheila", "six", "three", "tree", "two",
                 "visual", "wow", "zero", "yellow", "nose", "cup", "town", "lift", "write", "often", "top", "goal"]
CLIP_SAMPLES = SAMPLE_RATE
FEATURE_SHAPE = (49, 40)
RECORDINGS_ENV = "QBUILD_KWS_RECORDINGS"
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    train_per_class: int = 400
    test_per_class: int = 100
    test_variants: int = 16          # held out of VARIANTS, spoken with every base voice
    rate: tuple = (120, 250)         # words per minute (eSpeak's default is 175)
    pitch: tuple = (15, 85)          # 0..99
    pitch_range: tuple = (10, 90)    # 0..99
    peak_dbfs: tuple = (-24.0, -1.0)
    snr_db: tuple = (3.0, 30.0)
    noisy_fraction: float = 0.9      # the other clips get only a faint noise floor
    silence_dbfs: tuple = (-75.0, -20.0)


def log(msg: str) -> None:
    print(f"kws: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------------
# voices and clip plans

def voice_split(settings: Settings) -> tuple[list[str], list[str]]:
    """(train voices, test voices) as eSpeak names 'base+variant'; the two share no variant."""
    order = np.random.default_rng([settings.seed, 1]).permutation(len(VARIANTS))
    test_variants = {VARIANTS[i] for i in order[:settings.test_variants]}
    train = [f"{b}+{v}" for v in VARIANTS if v not in test_variants for b in BASE_VOICES]
    test = [f"{b}+{v}" for v in VARIANTS if v in test_variants for b in BASE_VOICES]
    return train, test


def plan(settings: Settings, voices: list[str], per_class: int, split: int) -> list[dict]:
    """One dict per clip: label, word (None for silence), voice and eSpeak parameters, augmentation seed.

    Voices are dealt round-robin from a shuffled deck so each class hears every voice about equally often.
    """
    rng = np.random.default_rng([settings.seed, 2, split])
    clips = []
    for label, name in enumerate(CLASSES):
        deck = rng.permutation(len(voices))
        for i in range(per_class):
            if name == SILENCE:
                clips.append({"label": label, "text": None, "voice": None})
                continue
            text = name if name != UNKNOWN else UNKNOWN_WORDS[rng.integers(len(UNKNOWN_WORDS))]
            clips.append({"label": label, "text": text, "voice": voices[deck[i % len(voices)]],
                          "rate": int(rng.integers(*settings.rate, endpoint=True)),
                          "pitch": int(rng.integers(*settings.pitch, endpoint=True)),
                          "pitch_range": int(rng.integers(*settings.pitch_range, endpoint=True)),
                          "seed": int(rng.integers(1 << 30))})
    for i, clip in enumerate(clips):
        clip["aug_seed"] = [settings.seed, 3, split, i]
    return clips


# ---------------------------------------------------------------------------------------------------------------------
# audio: placement, gain and noise

def colored_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS noise of a random colour: white, pink (1/f), brown (1/f^2) or mains hum over white."""
    kind = rng.integers(4)
    white = rng.standard_normal(n)
    if kind == 0:
        x = white
    elif kind in (1, 2):
        spectrum = np.fft.rfft(white)
        f = np.arange(spectrum.size, dtype=np.float64)
        f[0] = 1.0
        spectrum /= f ** (0.5 * kind)
        x = np.fft.irfft(spectrum, n)
    else:
        t = np.arange(n) / SAMPLE_RATE
        mains = rng.choice([50.0, 60.0])
        x = 0.3 * white + sum(np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 2 * np.pi)) / h for h in (1, 2, 3, 5))
    return (x / (np.sqrt(np.mean(x * x)) + 1e-12)).astype(np.float32)


def make_clip(wave: np.ndarray | None, settings: Settings, rng: np.random.Generator) -> np.ndarray:
    """1 s of int16 audio: the word at a random position and level, plus noise at a random SNR (or noise only)."""
    clip = np.zeros(CLIP_SAMPLES, np.float32)
    noise = colored_noise(rng, CLIP_SAMPLES)
    if wave is None or wave.size == 0:
        clip += noise * np.float32(10 ** (rng.uniform(*settings.silence_dbfs) / 20))
    else:
        if wave.size > CLIP_SAMPLES:                     # very slow speech: keep a random 1 s window
            start = rng.integers(wave.size - CLIP_SAMPLES + 1)
            wave = wave[start:start + CLIP_SAMPLES]
        offset = rng.integers(CLIP_SAMPLES - wave.size + 1)
        peak = 10 ** (rng.uniform(*settings.peak_dbfs) / 20)
        wave = wave * np.float32(peak / (np.max(np.abs(wave)) + 1e-12))
        clip[offset:offset + wave.size] = wave
        speech_rms = np.sqrt(np.mean(wave * wave))
        snr = rng.uniform(*settings.snr_db) if rng.random() < settings.noisy_fraction else 60.0
        clip += noise * np.float32(speech_rms * 10 ** (-snr / 20))
    return np.round(np.clip(clip, -1.0, 32767 / 32768) * 32768).astype(np.int16)


# ---------------------------------------------------------------------------------------------------------------------
# features

def features(audio: np.ndarray) -> np.ndarray:
    """(N, 16000) int16 -> (N, 49, 40) uint16 with the TFLM audio frontend (TensorFlow's audio_microfrontend op)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf
    from tensorflow.lite.experimental.microfrontend.python.ops import audio_microfrontend_op as amf

    @tf.function(input_signature=[tf.TensorSpec([CLIP_SAMPLES], tf.int16)])
    def frontend(clip):
        return amf.audio_microfrontend(clip, sample_rate=SAMPLE_RATE, window_size=30, window_step=20,
                                       num_channels=40, out_scale=1, out_type=tf.uint16)

    out = np.empty((len(audio), *FEATURE_SHAPE), np.uint16)
    for i, clip in enumerate(audio):
        out[i] = frontend(tf.constant(clip)).numpy()
    return out


# ---------------------------------------------------------------------------------------------------------------------
# the data set

def synthesize_split(settings: Settings, voices: list[str], per_class: int, split: int, name: str):
    """-> (audio (N, 16000) int16, labels (N,) int32, voices (N,) str ('' for silence))."""
    clips = plan(settings, voices, per_class, split)
    spoken = [c for c in clips if c["text"] is not None]
    waves = iter(synthesize([{k: c[k] for k in ("text", "voice", "rate", "pitch", "pitch_range", "seed")}
                             for c in spoken], progress=f"kws: {name}"))
    audio = np.empty((len(clips), CLIP_SAMPLES), np.int16)
    for i, c in enumerate(clips):
        wave = next(waves) if c["text"] is not None else None
        audio[i] = make_clip(wave, settings, np.random.default_rng(c["aug_seed"]))
    labels = np.array([c["label"] for c in clips], np.int32)
    return audio, labels, np.array([c["voice"] or "" for c in clips])


def generate(settings: Settings = Settings()) -> dict:
    """The synthetic data set with its audio and voices (for tests and inspection)."""
    start = time.monotonic()
    train_voices, test_voices = voice_split(settings)
    log(f"synthesizing {settings.train_per_class}+{settings.test_per_class} clips per class x {len(CLASSES)} classes; "
        f"{len(train_voices)} training voices, {len(test_voices)} held-out test voices")
    a_train, y_train, v_train = synthesize_split(settings, train_voices, settings.train_per_class, 0, "train")
    a_test, y_test, v_test = synthesize_split(settings, test_voices, settings.test_per_class, 1, "test")
    log(f"audio ready ({time.monotonic() - start:.1f} s); computing features")
    x = features(np.concatenate([a_train, a_test]))
    log(f"{len(x)} clips of {FEATURE_SHAPE[0]}x{FEATURE_SHAPE[1]} uint16 features in {time.monotonic() - start:.1f} s")
    return {"x_train": x[:len(a_train)], "y_train": y_train, "x_test": x[len(a_train):], "y_test": y_test,
            "audio_train": a_train, "audio_test": a_test, "voices_train": v_train, "voices_test": v_test}


def load_dataset() -> dict:
    """The @my_model.dataset function: own recordings if present, else synthesized speech."""
    folder = recordings_dir()
    data = load_recordings(folder) if folder else generate()
    return {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}


# ---------------------------------------------------------------------------------------------------------------------
# own recordings: <folder>/<class>/*.wav

def recordings_dir() -> Path | None:
    env = os.environ.get(RECORDINGS_ENV)
    if env:
        return Path(env)
    local = HERE / "recordings"
    return local if local.is_dir() else None


def recording_files(folder: Path) -> list[Path]:
    """Every WAV file below a class folder, at any depth (so `_unknown_/bed/x.wav` is an unknown word)."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() == ".wav" and p.is_file()
                  and len(p.relative_to(folder).parts) >= 2)


def class_of(folder: Path, path: Path) -> str:
    return path.relative_to(folder).parts[0]


def read_wav(path: Path) -> np.ndarray:
    """Any PCM/float WAV -> mono float32 at 16 kHz."""
    from math import gcd

    from scipy.io import wavfile
    from scipy.signal import resample_poly

    from qbuild.errors import QbuildError

    try:
        rate, data = wavfile.read(path)
    except (ValueError, OSError) as e:
        raise QbuildError(f"recording {path} is not a readable WAV file ({e}); re-export it as 16-bit PCM WAV") from None
    if data.dtype == np.uint8:                        # 8-bit WAV is offset binary
        data = (data.astype(np.float32) - 128) / 128
    elif data.dtype.kind == "i":
        data = data.astype(np.float32) / (np.iinfo(data.dtype).max + 1)
    data = data.astype(np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if rate != SAMPLE_RATE:
        g = gcd(int(rate), SAMPLE_RATE)
        data = resample_poly(data, SAMPLE_RATE // g, int(rate) // g).astype(np.float32)
    return data


def fit_clip(wave: np.ndarray) -> np.ndarray:
    """Centre-crop or zero-pad to exactly 1 s, as int16."""
    if wave.size >= CLIP_SAMPLES:
        start = (wave.size - CLIP_SAMPLES) // 2
        wave = wave[start:start + CLIP_SAMPLES]
    else:
        before = (CLIP_SAMPLES - wave.size) // 2
        wave = np.pad(wave, (before, CLIP_SAMPLES - wave.size - before))
    return np.round(np.clip(wave, -1.0, 32767 / 32768) * 32768).astype(np.int16)


def speaker_of(path: Path) -> str:
    """Speech Commands naming: '<speaker>_nohash_<n>.wav' -> '<speaker>'; otherwise the whole file stem."""
    return path.stem.split("_nohash_")[0]


def is_test_speaker(speaker: str, test_percent: int = 20) -> bool:
    return zlib.crc32(speaker.encode()) % 100 < test_percent


def load_recordings(folder: Path, settings: Settings = Settings()) -> dict:
    from qbuild.errors import QbuildError

    folder = Path(folder)
    if not folder.is_dir():
        raise QbuildError(f"recordings folder {folder} (from {RECORDINGS_ENV}) does not exist; "
                          f"point {RECORDINGS_ENV} at a folder with one sub-folder of WAV files per class")
    start = time.monotonic()
    unknown = sorted({class_of(folder, p) for p in recording_files(folder)} - set(CLASSES))
    if unknown:
        raise QbuildError(f"{folder}: folder(s) {', '.join(unknown)} are not classes; valid: {', '.join(CLASSES)}")
    missing = [c for c in CLASSES if c != SILENCE and not recording_files_of(folder, c)]
    if missing:
        raise QbuildError(f"{folder}: no WAV files for class(es) {', '.join(missing)}; add {folder}/<class>/*.wav")
    audio, labels, speakers = [], [], []
    for label, name in enumerate(CLASSES):
        for path in recording_files_of(folder, name):
            audio.append(fit_clip(read_wav(path)))
            labels.append(label)
            speakers.append("" if name == SILENCE else speaker_of(path))
    if not recording_files_of(folder, SILENCE):       # no silence recorded: make noise-only clips
        n = len(labels) // (len(CLASSES) - 1)
        for i in range(n):
            audio.append(make_clip(None, settings, np.random.default_rng([settings.seed, 4, i])))
            labels.append(CLASSES.index(SILENCE))
            speakers.append(f"noise{i}")
    test = np.array([is_test_speaker(s) for s in speakers])
    log(f"{len(labels)} recordings from {folder}: {int((~test).sum())} train, {int(test.sum())} test (split by speaker)")
    if not test.any() or test.all():
        raise QbuildError(f"{folder}: the split by speaker left an empty train or test set; "
                          "name files '<speaker>_nohash_<n>.wav' and record more speakers")
    x = features(np.stack(audio))
    y = np.array(labels, np.int32)
    log(f"features ready in {time.monotonic() - start:.1f} s")
    return {"x_train": x[~test], "y_train": y[~test], "x_test": x[test], "y_test": y[test]}


def recording_files_of(folder: Path, name: str) -> list[Path]:
    return [p for p in recording_files(folder) if class_of(folder, p) == name]
