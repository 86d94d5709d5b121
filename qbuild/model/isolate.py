"""Run the TensorFlow steps in a worker process, so a native crash, an out-of-memory kill or a signal inside
TensorFlow ends the build with one line naming the model, the step and the signal, not a segfault of the whole build.

    run_step("quantize", "digits", step_quantize, settings, keras_path, data_path, outputs)

One worker per build (`python -m qbuild.model.isolate`) imports TensorFlow once and runs every TF step of the build, one
at a time: a request is one JSON line on its stdin (the step function's module and name, its arguments with paths
marked), the answer one JSON line on a pipe of its own; the step's progress lines go straight to the build's output.
A worker that dies is reported and replaced by a new one for the next step. It dies with the build (Linux
PR_SET_PDEATHSIG), so SIGTERM to scons stops a running TF step at once.
`QBUILD_ISOLATE=0` runs the steps in this process instead (for a debugger; a crash is then the build's).
"""
from __future__ import annotations

import atexit
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from qbuild.errors import QbuildError, ReportedError, debug, internal_error_line

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


class _Worker:
    """The build's TF worker process: started on the first TF step, reused, replaced when it dies."""

    def __init__(self):
        self.proc = None
        self.answers = None
        self.lock = threading.Lock()
        self.relay = None
        self.stopped_by = None  # the signal that stopped the build while a step ran

    def _start(self):
        self._close_answers()
        read_fd, write_fd = os.pipe()
        root = str(Path(__file__).resolve().parents[2])  # the child imports the same qbuild as this process
        path = os.environ.get("PYTHONPATH", "")
        env = dict(os.environ, PYTHONPATH=root + (os.pathsep + path if path else ""))
        self.proc = subprocess.Popen([sys.executable, "-m", "qbuild.model.isolate", str(os.getpid()), str(write_fd)],
                                     stdin=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(write_fd,), env=env)
        os.close(write_fd)
        self.answers = os.fdopen(read_fd, "r")
        self.relay = StderrRelay(self.proc.stderr)

    def _close_answers(self):
        if self.answers is not None:
            self.answers.close()
            self.answers = None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._close_answers()
        if self.relay is not None:
            self.relay.thread.join(timeout=5)  # the worker's last lines

    def _stop_on_signals(self):
        """While a step runs in the main thread: SIGTERM/SIGINT/SIGHUP kill the worker at once, then go on to the
        build's own handler (SCons's waits for the running step to finish, which would be the whole TF step).
        Returns the function that puts the previous handlers back. (With -j the step runs in a thread, where no
        handler can be set: the worker then dies with the build's process.)"""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        proc, previous = self.proc, {}

        def handler(signum, frame):
            self.stopped_by = signal.Signals(signum).name
            if proc.poll() is None:
                proc.kill()
            old = previous.get(signum)
            if callable(old):
                old(signum, frame)
            elif old == signal.SIG_DFL:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            previous[s] = signal.signal(s, handler)
        return lambda: [signal.signal(s, h) for s, h in previous.items()]

    def run(self, step: str, model: str, fn, args) -> None:
        request = json.dumps({"module": fn.__module__, "function": fn.__name__, "args": _encode(list(args))})
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            sys.stdout.flush()
            sys.stderr.flush()
            restore = self._stop_on_signals()
            try:
                self.proc.stdin.write((request + "\n").encode())
                self.proc.stdin.flush()
                line = self.answers.readline()
            except BrokenPipeError:
                line = ""
            except BaseException:  # KeyboardInterrupt or SystemExit in the build: the worker goes too, at once
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                raise
            finally:
                restore()
            self.relay.wait_for_step_end()
            if line:
                answer = json.loads(line)
                if answer.get("ok"):
                    return
                raise ReportedError(f"{model}: the {step} step failed")  # the worker printed the one line
            code = self.proc.wait()
            self.proc = None
        if self.stopped_by:
            raise QbuildError(f"{model}: the {step} step was stopped ({self.stopped_by}); nothing of this step was "
                              "written")
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else f"signal {-code}"
            raise QbuildError(f"{model}: the {step} step died with {name} inside TensorFlow "
                              f"({_HINTS.get(name, 'see the last lines above')}); nothing of this step was written")
        raise QbuildError(f"{model}: the {step} step's worker exited with status {code} (see the lines above); "
                          "nothing of this step was written")


# TensorFlow's native (C++/absl) log lines: "E0000 00:00:1796025232.675545    2839 cuda_platform.cc:52] text".
# Before absl is initialised TF_CPP_MIN_LOG_LEVEL does not filter them, so a machine with CUDA libraries but no GPU
# prints "failed call to cuInit" errors around every build's one line. The build drops those below the level.
_NATIVE_LOG = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")
_ABSL_PREINIT = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
STEP_END = "\0qbuild-step-end\n"  # written by the worker after each step's last stderr line


def native_log_level() -> int:
    """TF_CPP_MIN_LOG_LEVEL as TF reads it (0 info .. 3 fatal only); qbuild sets 3 unless the user chose."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
    except ValueError:
        return 0


def shown(line: bytes, level: int) -> bool:
    """Whether one stderr line of the worker reaches the build's output: everything but TF's native log lines below
    `level` (and absl's pre-init notice unless everything is asked for)."""
    if line.rstrip(b"\r\n") == _ABSL_PREINIT:
        return level <= 0
    m = _NATIVE_LOG.match(line)
    return m is None or "IWEF".index(m.group(1).decode()) >= level


def _to_stderr(line: bytes) -> None:
    sys.stderr.write(line.decode(errors="replace"))
    sys.stderr.flush()


class StderrRelay:
    """Copies a pipe (the worker's stderr) to `write` (the build's stderr), line by line, without TF's native log
    noise (see `shown`). A thread of the reading process, so the lines before a crash of the worker still arrive."""

    def __init__(self, pipe, write=_to_stderr):
        self.pipe = pipe
        self.write = write
        self.level = native_log_level()
        self.step_end = threading.Event()
        self.thread = threading.Thread(target=self._copy, name="qbuild-tf-stderr", daemon=True)
        self.thread.start()

    def _copy(self):
        end = STEP_END.encode()
        for line in iter(self.pipe.readline, b""):
            at_end = line.endswith(end)
            if at_end:  # after a partial line of native output, the marker ends that line
                line = line[:-len(end)] + (b"\n" if len(line) > len(end) else b"")
            if line and shown(line, self.level):
                self.write(line)
            if at_end:
                self.step_end.set()
        self.step_end.set()

    def wait_for_step_end(self):
        """After the worker answered (or died): its stderr lines up to then are out, so they come before the
        build's own lines about the step."""
        self.step_end.wait(timeout=30)
        self.step_end.clear()


_WORKER = _Worker()
atexit.register(_WORKER.stop)


def run_step(step: str, model: str, fn, *args) -> None:
    """fn(*args) in the build's TF worker (or here with QBUILD_ISOLATE=0). Steps communicate through files."""
    if isolated():
        _WORKER.run(step, model, fn, args)
    else:
        fn(*args)


def _die_with_parent(parent: int) -> None:
    """Linux: this process gets SIGKILL when the build that started it dies (SIGTERM to scons, CI timeouts)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _serve(parent: int, answer_fd: int) -> int:
    _die_with_parent(parent)
    answers = os.fdopen(answer_fd, "w")
    for line in sys.stdin:
        request = json.loads(line)
        fn = getattr(importlib.import_module(request["module"]), request["function"])
        try:
            fn(*_decode(request["args"]))
            ok = True
        except QbuildError as e:
            print(f"qbuild: error: {e}", file=sys.stderr, flush=True)
            ok = False
        except Exception as e:  # noqa: BLE001 (a bug: one line; the traceback with QBUILD_DEBUG=1)
            if debug():
                import traceback
                traceback.print_exc()
            print(internal_error_line(f"qbuild: {request['function']}", e), file=sys.stderr, flush=True)
            ok = False
        sys.stdout.flush()
        sys.stderr.write(STEP_END)
        sys.stderr.flush()
        answers.write(json.dumps({"ok": ok}) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_serve(int(sys.argv[1]), int(sys.argv[2])))
