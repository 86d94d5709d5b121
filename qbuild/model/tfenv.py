"""TensorFlow, imported only by the steps that need it, quietly and deterministically."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from qbuild.errors import QbuildError


def import_tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf  # noqa: PLC0415
    return tf


def load_keras(path: Path):
    """A saved Keras model (.keras/.h5), or one QbuildError naming the file and the fix."""
    import_tf()
    import keras

    if not Path(path).is_file():
        raise QbuildError(f"Keras model '{path}' does not exist; pass a .keras file saved with model.save()")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise QbuildError(f"'{path}' is not a loadable Keras model ({first}); pass a .keras file saved with "
                          "model.save()") from None


def seed_everything(seed: int) -> None:
    """Deterministic training (with TF_NUM_INTEROP_THREADS=1, set in qbuild/__init__.py)."""
    import keras
    tf = import_tf()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


@contextlib.contextmanager
def captured_fds():
    """Capture what TF's C++ side writes to fd 1/2 (converter chatter); yields a callable returning the text."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as buf:
        os.dup2(buf.fileno(), 1)
        os.dup2(buf.fileno(), 2)
        text = []
        try:
            yield lambda: "".join(text)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            buf.seek(0)
            text.append(buf.read().decode("utf-8", "replace"))


@contextlib.contextmanager
def native_logs_filtered():
    """For TensorFlow work in this process (`python -m qbuild advise`): fd 2 goes through the build's worker relay
    (qbuild.model.isolate.StderrRelay), which drops TF's native log lines below TF_CPP_MIN_LOG_LEVEL."""
    from qbuild.model.isolate import StderrRelay

    sys.stderr.flush()
    saved = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as src:
        relay = StderrRelay(src, lambda line: os.write(saved, line))  # fd 2 is the pipe itself now
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)  # closes the pipe's last write end: the relay reads to its end and stops
            relay.thread.join(timeout=5)
            os.close(saved)
