"""TensorFlow steps run in a child process (qbuild.model.isolate): a native crash or a kill there is one line naming
the model, the step and the signal, with nothing half-written; a Keras LSTM (whose TensorList conversion crashes
TensorFlow 2.21) is converted unrolled and runs bit-exact on the host and on Cortex-M33."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.isolate_steps import noisy_step, partial_line_step
from tests.scons_helpers import SCONS, fresh_tree, scons, steps_run


def _lstm_inputs(d: Path) -> None:
    code = ("import sys, numpy as np, keras\n"
            "keras.utils.set_random_seed(0)\n"
            "i = keras.Input((10, 4))\n"
            "m = keras.Model(i, keras.layers.Dense(3, activation='softmax')(keras.layers.LSTM(8)(i)))\n"
            "m.save(sys.argv[1] + '/lstm.keras')\n")
    subprocess.run([sys.executable, "-c", code, str(d)], check=True, capture_output=True, timeout=300,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    rng = np.random.RandomState(0)
    np.savez(d / "lstm.npz", x=rng.uniform(-1, 1, (64, 10, 4)).astype(np.float32))


@pytest.mark.parametrize("board", ["host", "qemu-m33"])
def test_keras_lstm_converts_unrolled_and_runs_bit_exact(tmp_path, board):
    tree = fresh_tree(tmp_path / "t")
    _lstm_inputs(tree)
    p = scons(tree, f"board={board}", "model=lstm.keras", "data=lstm.npz", "norm=none", "run")
    assert "firmware output identical to the reference on 5 samples" in p.stdout
    metrics, = (tree / "build" / "models").glob("lstm-*/metrics.json")  # a file model: stem + path hash
    assert "SPLIT" in metrics.read_text()


def _isolate_children(parent: int) -> list[int]:
    """Pids of `python -m qbuild.model.isolate` processes whose parent is `parent`."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"qbuild.model.isolate" in cmd:
            out.append(int(d.name))
    return out


def _build_training_digits(tmp_path):
    """A fresh tree with digits' dataset built, and `scons model=digits` running, 2 s into training in its worker:
    (tree, the scons process, the worker's pid)."""
    tree = fresh_tree(tmp_path / "t")
    scons(tree, "model=digits", "build/models/digits/data.npz")  # the dataset first: the next step is training
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    proc = subprocess.Popen([sys.executable, SCONS, "-Q", "model=digits"], cwd=tree, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    children = []
    while not children and time.time() < deadline and proc.poll() is None:
        children = _isolate_children(proc.pid)
        time.sleep(0.05)
    assert children, "no TensorFlow worker appeared"
    time.sleep(2)  # inside TensorFlow by now
    return tree, proc, children[0]


def test_killed_tensorflow_step_is_one_line_and_writes_nothing(tmp_path):
    tree, proc, worker = _build_training_digits(tmp_path)
    os.kill(worker, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode != 0
    lines = [ln for ln in err.splitlines() if ln.startswith("qbuild: error:")]
    assert len(lines) == 1 and "digits: the train step died with SIGKILL inside TensorFlow" in lines[0], err
    assert "Traceback" not in err and "Segmentation" not in err
    model_dir = tree / "build" / "models" / "digits"
    assert sorted(p.name for p in model_dir.iterdir()) == ["data.npz"]  # no .keras, no temp file
    assert steps_run(scons(tree, "model=digits")) == ["train", "quantize", "C array", "model page"]  # recovers


def test_sigterm_to_the_build_stops_the_tensorflow_step_at_once(tmp_path):
    tree, proc, worker = _build_training_digits(tmp_path)
    start = time.time()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    while Path(f"/proc/{worker}").exists() and time.time() - start < 10:
        time.sleep(0.05)
    assert not Path(f"/proc/{worker}").exists(), "the worker outlived the build"
    assert time.time() - start < 10  # not "after the step finished"
    model_dir = tree / "build" / "models" / "digits"
    assert sorted(p.name for p in model_dir.iterdir() if not p.name.startswith(".")) == ["data.npz"]


@pytest.mark.parametrize("level", ["3", "2"])
def test_worker_stderr_drops_tensorflow_log_noise_below_the_level(monkeypatch, capfd, level):
    from qbuild.errors import ReportedError
    from qbuild.model import isolate

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", level)
    worker = isolate._Worker()
    try:
        with pytest.raises(ReportedError, match="m: the noisy step failed"):
            worker.run("noisy", "m", noisy_step, ["m"])
        sys.stderr.write("after the step\n")
        sys.stderr.flush()
        worker.run("partial", "m", partial_line_step, ["a partial line"])
        sys.stderr.write("after the partial line\n")
        sys.stderr.flush()
    finally:
        worker.stop()
    err = capfd.readouterr().err
    assert "Check failed: dims == 4" in err                        # fatal lines stay
    assert "\na partial line\nafter the partial line\n" in err      # completed, in order
    assert err.count("qbuild: error: m: the step's own error") == 1
    assert err.index("the step's own error") < err.index("after the step")  # out before the build goes on
    assert "absl::InitializeLog" not in err and "cudart_stub" not in err
    assert ("failed call to cuInit" in err) == (level == "2")                # E lines only when asked for
    assert "\0" not in err


@pytest.mark.parametrize("level", ["3", "0"])
def test_in_process_tensorflow_work_drops_the_same_noise(tmp_path, level):
    """`python -m qbuild advise` runs TensorFlow in its own process: the same filter, on fd 2 of that process."""
    code = ("import os, sys\n"
            "from qbuild.model.tfenv import native_logs_filtered\n"
            "from tests.isolate_steps import _TF_NOISE\n"
            "with native_logs_filtered():\n"
            "    os.write(2, _TF_NOISE)\n"
            "    print('qbuild advise: error: the one line', file=sys.stderr)\n"
            "print('after', file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL=level))
    assert p.returncode == 0, p.stderr
    assert p.stderr.endswith("qbuild advise: error: the one line\nafter\n")
    assert ("cuInit" in p.stderr and "absl::InitializeLog" in p.stderr) == (level == "0")
