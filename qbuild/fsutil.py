"""Writing build outputs: never a half-written file."""
from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from qbuild.errors import QbuildError


def write_atomic(path, data: str | bytes) -> Path:
    """Write `data` to a temp file next to `path`, then rename it over `path`. A failure (or a crash) leaves the old
    file or nothing, never a partial one. Mode is 0666 minus the umask, like any new file (mkstemp would give 0600)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise QbuildError(f"cannot write {path} ({e.strerror}); check that its folder is writable and the disk has "
                          "room") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise QbuildError(f"cannot write {path} ({e.strerror}); check that its folder is writable and the disk has "
                          "room") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(path, obj) -> Path:
    """Sorted, indented JSON with a final newline, written atomically."""
    return write_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


# --- content stamps: "did these inputs already make these outputs?" (one scheme for every cache outside SCons) -------
def content_digest(files, settings=()) -> str:
    """sha256 over each file's name and bytes and the settings (JSON): the key of a content stamp."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for f in map(Path, files):
        h.update(b"\0" + str(f).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def is_fresh(stamp, digest: str, outputs) -> bool:
    """True when `stamp` holds `digest` and every output exists."""
    stamp = Path(stamp)
    return stamp.is_file() and stamp.read_text() == digest and all(Path(o).exists() for o in outputs)


def record(stamp, digest: str) -> None:
    write_atomic(stamp, digest)
