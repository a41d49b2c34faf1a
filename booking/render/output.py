"""Writing a report to a file the user named: checked before the work, written whole."""

from __future__ import annotations

import os
from pathlib import Path

from booking.errors import BookingError
from booking.files import atomic_write, mode_of


def check_writable(path: Path, option: str = "--out") -> None:
    """Fail before minutes of runs, not after: the directory must exist and be writable,
    and what is there already must be a file (through a symlink: the file is written, the
    link kept), never a device or a pipe that writing a new file would replace."""
    try:
        _check_writable(path, option)
    except OSError as exc:  # a name too long
        raise BookingError(f"{option} {path}: {exc.strerror or exc}") from None
    except RuntimeError:  # Path.resolve() on a loop of symlinks (Python 3.11)
        raise BookingError(f"{option} {path}: a loop of symbolic links") from None


def _check_writable(path: Path, option: str) -> None:
    if path.is_dir():
        raise BookingError(f"{option} {path}: is a directory")
    if path.exists() and not path.is_file():
        raise BookingError(f"{option} {path}: not a regular file; name a file to write")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise BookingError(f"{option} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BookingError(f"{option} {path}: directory {parent} is not writable")


def write_atomically(path: Path, text: str) -> None:
    """The report whole or not at all; a new file gets the usual permissions. Through a
    symlink the file it names is replaced, not the link."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    atomic_write(target, text.encode("utf-8"), mode_of(target))


def check_distinct(files: dict[str, Path | None]) -> None:
    """Refuse, before any work, two options naming one file: a report written over the
    trace, the store or the history would lose it."""
    seen: dict[str, str] = {}
    for option, path in files.items():
        if path is None:
            continue
        try:
            key = os.path.realpath(path)
        except (OSError, ValueError):
            continue  # check_writable says what is wrong with it
        if key in seen:
            raise BookingError(
                f"{option} {path} is the same file as {seen[key]}; name another file"
            )
        seen[key] = f"{option} {path}"
