"""User-facing errors: one line that names the bad input and the fix."""


class QbuildError(Exception):
    """A mistake in the user's input (model, data, board, option).

    The message is one line that names the input and says what would fix it. Callers print it without a
    traceback and exit non-zero (the SCons adapter turns it into a UserError).
    """


class ReportedError(QbuildError):
    """A failure whose one line was already printed (by a step's child process): fail, print nothing more."""


def internal_error_line(where: str, e: BaseException) -> str:
    """The one line for an unexpected exception (a qbuild bug): what failed and what to do. QBUILD_DEBUG=1 adds the
    traceback."""
    first = (str(e).splitlines() or [""])[0][:300]
    return (f"{where}: internal error: {type(e).__name__}: {first} — a bug in qbuild, not in your input: please report "
            "it to the qbuild maintainers with this line and the command you ran (QBUILD_DEBUG=1 prints the traceback)")


def debug() -> bool:
    import os
    return os.environ.get("QBUILD_DEBUG") == "1"
