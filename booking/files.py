"""Writing a file whole or not at all: the JSON store's writes and the reports of --out."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def temp_path(path: Path, pid: int) -> Path:
    """The temp file a process writes before renaming it over `path` (the pid lets the
    JSON store sweep the ones a killed buyer left behind)."""
    return path.with_name(f".{path.name}.{pid}.tmp")


def write_temp(path: Path, data: bytes, mode: int) -> Path:
    """Write `data` whole and flushed to disk in a temp file beside `path`."""
    tmp = temp_path(path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:  # os.write may write less than asked
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Temp file in the same directory, fsync, rename: readers see old or new, never half.
    A write that fails leaves no temp file behind."""
    tmp = temp_path(path, os.getpid())
    try:
        os.replace(write_temp(path, data, mode), path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def new_file_mode() -> int:
    """The permissions a new file gets: 0666 less the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def mode_of(path: Path) -> int:
    """The permission bits of `path`, or those of a new file when it does not exist."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return new_file_mode()
