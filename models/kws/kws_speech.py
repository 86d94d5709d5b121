"""Words spoken by eSpeak NG (PyPI `espeakng-loader`: the library and its data, no system install), driven via ctypes.

    speaker = Speaker()
    wave = speaker.say("yes", voice="en-us+m3", rate=170, pitch=50, seed=7)   # float32, 16 kHz, -1..1

eSpeak NG keeps static state between utterances that neither espeak_ng_SetRandSeed nor re-initialisation resets (the
pitch-flutter phase advances with every sample ever generated), so the same word said twice in one process differs
slightly. What is deterministic is a *sequence* of utterances said by a fresh process: `synthesize(jobs)` therefore runs
each batch in a new Python process (this file run as a script), which also keeps the caller's process free of eSpeak state.
"""
from __future__ import annotations

import ctypes

import numpy as np

SAMPLE_RATE = 16000
ESPEAK_RATE = 22050                 # what espeak_Initialize reports for the bundled data
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4

# Base voices (accents) that load with the bundled data; `en-gb`, `en-sc` do not.
BASE_VOICES = ["en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
# Voice variants (timbre): the numbered ones plus named human-sounding ones. Robotic and effect variants (Demonic,
# croak, robosoft*, UniRobot, ...) are left out: they teach nothing about real speakers. eSpeak silently ignores an
# unknown variant, so `Speaker._start` checks this list against the data folder.
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
            "Alex", "Alicia", "Andrea", "Andy", "Annie", "Denis", "Diogo", "Gene", "Gene2", "Henrique", "Hugo",
            "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen", "Reed", "Storm", "adam", "anika",
            "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb", "david", "ed", "edward",
            "edward2", "gustave", "ian", "iven", "iven2", "iven3", "john", "kaukovalta", "linda", "max", "michel",
            "miguel", "norbert", "pablo", "paul", "pedro", "quincy", "rob", "robert", "sandro", "shelby", "steph",
            "steph2", "steph3", "travis", "grandma", "grandpa", "klatt", "klatt2", "klatt3"]

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class SpeechError(RuntimeError):
    pass


class Speaker:
    """One eSpeak NG instance per process (the library has global state): create it once and reuse it."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            cls._instance._start()
        return cls._instance

    def _start(self):
        import espeakng_loader
        from pathlib import Path

        self._data = Path(espeakng_loader.get_data_path())
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self._data).encode(), _INITIALIZE_DONT_EXIT)
        if rate != ESPEAK_RATE:
            raise SpeechError(f"eSpeak NG initialised at {rate} Hz, expected {ESPEAK_RATE} (data: {self._data})")
        self._chunks: list[np.ndarray] = []

        def collect(wav, n, _events):
            if n > 0:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = _CALLBACK(collect)   # keep a reference: eSpeak calls it after this function returns
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib
        missing = [v for v in VARIANTS if not (self._data / "voices" / "!v" / v).is_file()]
        if missing:
            raise SpeechError(f"voice variants missing from {self._data}/voices/!v: {', '.join(missing)}")

    def say_raw(self, text: str, voice: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50,
                seed: int = 0) -> np.ndarray:
        """int16 samples at 22050 Hz, exactly as eSpeak produced them."""
        lib = self._lib
        # SetVoiceByName resets the parameters, so it goes first.
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SpeechError(f"eSpeak NG has no voice '{voice}'")
        for param, value in ((_RATE, rate), (_VOLUME, 100), (_PITCH, pitch), (_RANGE, pitch_range)):
            lib.espeak_SetParameter(param, int(value), 0)
        lib.espeak_ng_SetRandSeed(seed)     # eSpeak's own random source, used by some variants
        self._chunks = []
        data = text.encode() + b"\0"
        if lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None) != 0:
            raise SpeechError(f"eSpeak NG failed to speak '{text}' with voice '{voice}'")
        lib.espeak_Synchronize()
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)

    def say(self, text: str, voice: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50,
            seed: int = 0) -> np.ndarray:
        """float32 samples at 16 kHz, in -1..1, leading and trailing silence trimmed."""
        from scipy.signal import resample_poly

        raw = self.say_raw(text, voice, rate, pitch, pitch_range, seed).astype(np.float32) / 32768.0
        wave = resample_poly(raw, 320, 441).astype(np.float32)   # 22050 * 320 / 441 = 16000
        return trim(wave)


def trim(wave: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(wave) > threshold)
    return wave[loud[0]:loud[-1] + 1] if loud.size else wave[:0]


def synthesize(jobs: list[dict], progress: str = "") -> list[np.ndarray]:
    """Say every job (`dict(text, voice, rate, pitch, pitch_range, seed)`) in order, in a fresh process.

    Returns float32 16 kHz waves. Same jobs -> same bytes, whatever this process did before.
    """
    import json
    import os
    import subprocess
    import sys
    import tempfile

    if not jobs:
        return []
    with tempfile.TemporaryDirectory(prefix="kws-speech-") as tmp:
        job_file, out_file = os.path.join(tmp, "jobs.json"), os.path.join(tmp, "waves.npz")
        with open(job_file, "w") as f:
            json.dump({"jobs": jobs, "progress": progress}, f)
        done = subprocess.run([sys.executable, os.path.abspath(__file__), job_file, out_file])
        if done.returncode != 0:
            raise SpeechError(f"speech synthesis worker failed (exit {done.returncode}); see the messages above")
        with np.load(out_file) as data:
            samples, ends = data["samples"], data["ends"]
    return np.split(samples, ends[:-1])


def _worker(job_file: str, out_file: str) -> None:
    import json
    import sys
    import time

    with open(job_file) as f:
        task = json.load(f)
    jobs, label = task["jobs"], task["progress"]
    speaker = Speaker()
    waves, start = [], time.monotonic()
    for i, job in enumerate(jobs):
        waves.append(speaker.say(job["text"], job["voice"], job["rate"], job["pitch"], job["pitch_range"], job["seed"]))
        if label and ((i + 1) % 1000 == 0 or i + 1 == len(jobs)):
            print(f"{label}: spoke {i + 1}/{len(jobs)} words ({time.monotonic() - start:.1f} s)", file=sys.stderr, flush=True)
    ends = np.cumsum([len(w) for w in waves]).astype(np.int64)
    samples = np.concatenate(waves) if waves else np.zeros(0, np.float32)
    np.savez(out_file, samples=samples, ends=ends)


if __name__ == "__main__":
    import sys

    _worker(sys.argv[1], sys.argv[2])
