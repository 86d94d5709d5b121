"""Writing build outputs: never a half-written file."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomic(path, data: str | bytes) -> Path:
    """Write `data` to a temp file next to `path`, then rename it over `path`. A failure (or a crash) leaves the old
    file or nothing, never a partial one. Mode is 0666 minus the umask, like any new file (mkstemp would give 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
