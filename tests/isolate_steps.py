"""Step functions for tests that drive the TensorFlow worker (qbuild.model.isolate) directly; the worker imports
them by module name, so they live in a module of the tests package."""
import os


# TensorFlow's native log lines exactly as a CI machine with CUDA libraries and no GPU printed them around the one
# error line of a bad-input build (TF_CPP_MIN_LOG_LEVEL does not filter them before absl is initialised).
_TF_NOISE = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
             b"I0000 00:00:1796025229.826746    2839 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
             b"GPU will not be used.\n"
             b"E0000 00:00:1796025232.675545    2839 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
             b"Failed call to cuInit: UNKNOWN ERROR (303)\n")


def noisy_step(name: str) -> None:
    """A worker step (run in the real worker process) that writes TF's noise and a fatal native line to fd 2, then
    fails with one QbuildError."""
    from qbuild.errors import QbuildError
    os.write(2, _TF_NOISE + b"F0000 00:00:1796025232.700000    2839 op.cc:7] Check failed: dims == 4\n")
    raise QbuildError(f"{name}: the step's own error")


def partial_line_step(text: str) -> None:
    """A worker step that leaves a line on fd 2 without its newline."""
    os.write(2, text.encode())
