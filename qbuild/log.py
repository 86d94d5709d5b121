"""Progress lines of the build steps: `qbuild: ...`, flushed at once (SCons and Make interleave output)."""


def log(msg: str) -> None:
    print(f"qbuild: {msg}", flush=True)
