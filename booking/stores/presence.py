"""Whether another booking run was using the same store at the same time.

Every run on a store (a --path) holds a shared flock on a file named after the store's
real path, in a folder of the temp directory, from before its start mark to its end.
A run that cannot take it exclusively, at its start or at its end, is not alone. The
kernel drops a dead process's flock, so a crashed run never leaves a false trace, and
nothing is written beside the user's store. The last run to leave removes the file while
it holds it alone; a run that opened it meanwhile finds, once it holds it, that the name
no longer leads to its file, and opens the name again. It sees runs alive at this run's start or
end; a run that came and went in between is seen by what it wrote (the count, writer
tags, the ledger)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from pathlib import Path

#: How long a run waits for another run's momentary exclusive check to end.
ENTER_WAIT_S = 1.0


def presence_path(store: Path) -> Path:
    import hashlib  # only for a --path run: the start-up of the others never pays for it

    key = hashlib.sha256(os.path.realpath(store).encode()).hexdigest()[:32]
    return Path(tempfile.gettempdir()) / f"booking-runs-{os.getuid()}" / key


class Presence:
    """One run's presence on a store: enter before the start mark, `alone_now()` at the
    end, then leave. A store whose presence file cannot be made tells nothing."""

    def __init__(self, store: Path) -> None:
        self._path = presence_path(store)
        self._fd: int | None = None
        self.others_at_start = False

    def enter(self) -> None:
        deadline = time.monotonic() + ENTER_WAIT_S
        while True:
            try:
                self._path.parent.mkdir(mode=0o700, exist_ok=True)
                fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return
            # Before any hold of ours: a failed upgrade of a shared hold may drop it.
            self.others_at_start = not _exclusive(fd)
            # Shared: only another run's brief exclusive check (or its removal of the
            # file as it leaves) is in the way.
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        os.close(fd)
                        return
                    time.sleep(0.001)
            if _current(fd, self._path):
                break
            os.close(fd)  # the last run removed it as we opened it: open the name again
        self._fd = fd

    @property
    def known(self) -> bool:
        return self._fd is not None

    def others_now(self) -> bool:
        """Another run holds the store now (call at the end: it may drop our own hold)."""
        return self._fd is not None and not _exclusive(self._fd)

    def leave(self) -> None:
        """Let go; the last run on the store removes the file (held alone, so no run that
        holds it can be cut off from the next)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if _current(self._fd, self._path):
                    self._path.unlink()
            os.close(self._fd)
            self._fd = None


def _current(fd: int, path: Path) -> bool:
    """Whether `path` still names the file `fd` has open (not removed, nor made anew)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def _exclusive(fd: int) -> bool:
    """Whether this descriptor can hold the file alone right now (then it keeps a shared
    hold again)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    return True
