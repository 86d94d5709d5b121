"""User-facing errors: one line that names the bad input and the fix."""


class QbuildError(Exception):
    """A mistake in the user's input (model, data, board, option).

    The message is one line that names the input and says what would fix it. Callers print it without a
    traceback and exit non-zero (the SCons adapter turns it into a UserError).
    """


class ReportedError(QbuildError):
    """A failure whose one line was already printed (by a step's child process): fail, print nothing more."""
