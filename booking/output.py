"""Writing a report to a file the user named: checked before the work, written whole."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from booking.errors import BookingError


def check_writable(path: Path) -> None:
    """Fail before minutes of runs, not after: the directory must exist and be writable."""
    if path.is_dir():
        raise BookingError(f"--out {path}: is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise BookingError(f"--out {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BookingError(f"--out {path}: directory {parent} is not writable")


def write_atomically(path: Path, text: str) -> None:
    """Temp file beside `path`, fsync, rename: the file holds the old report or the whole
    new one, never half. A new file gets the usual permissions (0666 less the umask)."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
