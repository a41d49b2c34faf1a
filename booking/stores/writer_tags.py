"""Who wrote a JSON store file: a writer tag in an extended attribute, set on each new
file before it replaces the store, and a buyer's watch that notes, in a journal the
parent reads afterwards, every file of another run it read or overwrote unseen. The
document itself is never changed."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import time
from pathlib import Path

from booking import files
from booking.files import atomic_write, temp_path

#: The extended attribute naming who wrote a JSON store file: "run-id<TAB>strategy<TAB>lock".
#: An atomic write makes a new file each time, so the tag says who wrote the file that a
#: buyer reads; the document itself is left exactly as the user wrote it.
WRITER_ATTR = "user.booking.writer"


def writer_tag(where: int | Path) -> bytes:
    """The writer tag of a file (a path, or an open descriptor); b"" if it has none."""
    try:
        return os.getxattr(where, WRITER_ATTR)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
            return b""
        raise


_writes = itertools.count()


def writer_of(tag: bytes) -> bytes:
    """The writer a tag names, "run<TAB>strategy<TAB>lock", without the write's own id."""
    return b"\t".join(tag.split(b"\t")[:3])


def run_of(tag: bytes) -> bytes:
    return tag.split(b"\t", 1)[0]


def tagged_write(path: Path, data: bytes, mode: int, tag: bytes | None) -> None:
    """atomic_write, with the writer tag set on the new file before it replaces the old
    one, so no reader ever sees an untagged file of ours. Without a tag: atomic_write.

    The tag gets the write's own id (pid, a counter, the clock): two files are the same
    write only if their tags are equal. An inode number cannot say that: ext4 hands a
    freed inode straight to the next new file, so after two writes elsewhere the store
    can be a different file under the number a buyer read."""
    if tag is None:
        atomic_write(path, data, mode)
        return
    stamp = f"\t{os.getpid()}.{next(_writes)}.{time.monotonic_ns()}".encode()
    try:
        tmp = files.write_temp(path, data, mode)
        os.setxattr(tmp, WRITER_ATTR, tag + stamp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_path(path, os.getpid()))
        raise


def tags_work(directory: Path) -> bool:
    """Whether files in `directory` keep a user extended attribute (tmpfs before Linux 6.6
    and some network filesystems do not): probed on a temp file, removed at once."""
    probe = temp_path(directory / "probe", os.getpid())
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    try:
        os.setxattr(fd, WRITER_ATTR, b"probe")
        return os.getxattr(fd, WRITER_ATTR) == b"probe"
    except OSError:
        return False
    finally:
        os.close(fd)
        os.unlink(probe)


class Watch:
    """A buyer's look at who wrote each file it reads: a file neither of this run nor the
    one the run started from goes, by its tag, into a journal the parent reads afterwards
    (an unlinked file opened for appending before the fork: one short line per write)."""

    def __init__(self, own: bytes, start: FileId, journal: int) -> None:
        self._own_run = run_of(own)
        self._start = start
        self._journal = journal

    def saw(self, fd: int) -> FileId:
        """A buyer read this file: note it if another run wrote it. Returns which file it
        was, for `replacing` to compare with at the write."""
        read = file_id(fd)
        if run_of(read[1]) != self._own_run and read != self._start:
            self._note(b"read", read[1])
        return read

    def replacing(self, path: Path, read: FileId) -> None:
        """Just before a write: the file about to be replaced is not the one this buyer
        read and another run wrote it, so this write overwrites that run's sale without
        having seen it (a lost update across runs that no read of ours shows)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            now = file_id(fd)
        finally:
            os.close(fd)
        if now != read and run_of(now[1]) != self._own_run:
            self._note(b"overwrote", now[1])

    def _note(self, what: bytes, tag: bytes) -> None:
        line = what + b"\t" + writer_of(tag)
        os.write(self._journal, line.replace(b"\n", b" ")[:200] + b"\n")


#: Which file a store is: its inode and its writer tag (unique to one write when tagged).
FileId = tuple[int, bytes]


def file_id(fd: int) -> FileId:
    return os.fstat(fd).st_ino, writer_tag(fd)
