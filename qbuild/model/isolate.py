"""Run a TensorFlow step in a child process, so a native crash, an out-of-memory kill or a signal inside TensorFlow
ends the build with one line naming the model, the step and the signal, not a segfault of the whole build.

    run_step("quantize", "digits", step_quantize, settings, keras_path, data_path, outputs)

The child is `python -m qbuild.model.isolate` given the step function's module and name and its arguments as JSON
(paths marked as such). It prints the step's progress lines itself; a QbuildError there is its one line and exit 1.
`QBUILD_ISOLATE=0` runs the step in this process instead (for debugging with pdb; crashes are then the build's).
"""
from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from qbuild.errors import QbuildError, ReportedError

USER_ERROR = 3  # the child's exit status for a QbuildError (it already printed the line)

_HINTS = {
    "SIGSEGV": "a crash in TensorFlow's native code; try a simpler layer in its place, or another TensorFlow version",
    "SIGABRT": "TensorFlow aborted (a failed internal check); its last lines above say which",
    "SIGKILL": "killed from outside, often the out-of-memory killer: use fewer samples or a smaller model, or free memory",
    "SIGBUS": "a crash in native code (often memory pressure); free memory and rebuild",
}


def _encode(v):
    if isinstance(v, Path):
        return {"__path__": str(v)}
    if isinstance(v, dict):
        return {k: _encode(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_encode(x) for x in v]
    return v


def _decode(v):
    if isinstance(v, dict):
        return Path(v["__path__"]) if set(v) == {"__path__"} else {k: _decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


def isolated() -> bool:
    return os.environ.get("QBUILD_ISOLATE", "1") != "0"


def run_step(step: str, model: str, fn, *args):
    """fn(*args) in a child process (or here with QBUILD_ISOLATE=0). Returns nothing: steps communicate by files."""
    if not isolated():
        fn(*args)
        return
    payload = json.dumps({"module": fn.__module__, "function": fn.__name__, "args": _encode(list(args)),
                          "parent": os.getpid()})
    sys.stdout.flush()
    sys.stderr.flush()
    proc = subprocess.Popen([sys.executable, "-m", "qbuild.model.isolate"], stdin=subprocess.PIPE,
                            cwd=os.getcwd(), env=dict(os.environ, PYTHONPATH=_pythonpath()))
    try:
        proc.communicate(payload.encode())
    except BaseException:  # KeyboardInterrupt or SystemExit in the build: the child goes too, at once
        proc.kill()
        proc.wait()
        raise
    code = proc.returncode
    if code == 0:
        return
    if code == USER_ERROR:
        raise ReportedError(f"{model}: the {step} step failed")
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else f"signal {-code}"
        hint = _HINTS.get(name, "see TensorFlow's last lines above")
        raise QbuildError(f"{model}: the {step} step died with {name} inside TensorFlow ({hint}); nothing of this "
                          "step was written")
    raise QbuildError(f"{model}: the {step} step exited with status {code} (see the lines above); nothing of this "
                      "step was written")


def _pythonpath() -> str:
    """The child imports the same qbuild as this process, wherever it was imported from."""
    root = str(Path(__file__).resolve().parents[2])
    rest = os.environ.get("PYTHONPATH", "")
    return root + (os.pathsep + rest if rest else "")


def _die_with_parent(parent: int) -> None:
    """Linux: this process gets SIGKILL when the build that started it dies (SIGTERM to scons, CI timeouts)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _child() -> int:
    request = json.loads(sys.stdin.read())
    _die_with_parent(request["parent"])
    fn = getattr(importlib.import_module(request["module"]), request["function"])
    try:
        fn(*_decode(request["args"]))
    except QbuildError as e:
        print(f"qbuild: error: {e}", file=sys.stderr, flush=True)
        return USER_ERROR
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child())
