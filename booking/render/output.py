"""Writing a report to a file the user named: checked before the work, written whole."""

from __future__ import annotations

import os
from pathlib import Path

from booking.errors import BookingError
from booking.files import atomic_write, mode_of


def check_writable(path: Path, option: str = "--out") -> None:
    """Fail before minutes of runs, not after: the directory must exist and be writable."""
    if path.is_dir():
        raise BookingError(f"{option} {path}: is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise BookingError(f"{option} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BookingError(f"{option} {path}: directory {parent} is not writable")


def write_atomically(path: Path, text: str) -> None:
    """The report whole or not at all; a new file gets the usual permissions."""
    atomic_write(path, text.encode("utf-8"), mode_of(path))
