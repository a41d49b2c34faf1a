"""The watchdog of a throwaway server: `python -m booking.servers.watchdog DIR PARENT SIGNAL`.

Started before the server exists, it owns the server's directory. Booking writes on its
stdin the pid of each process it starts there ("pid N": initdb, the server), and "stopped"
once it has stopped the server and deleted the directory itself. Any other end — the pipe
closed without "stopped" (booking died), or the booking process gone — means a crash: it
stops the processes it was told of (SIGNAL, the kind's fast shutdown, then SIGKILL) and
deletes the directory.
It never signals a pid after booking said "stopped": that pid may belong to someone else.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import time


def _alive(pid: int) -> bool:
    """Running: not gone, and not a zombie (an exited server whose parent, booking, died
    waits for init to reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _stop(pid: int, sig: int) -> None:
    """The server's fast shutdown, then SIGKILL if it has not gone within 5 s."""
    try:
        os.kill(pid, sig)
        for _ in range(50):
            time.sleep(0.1)
            if not _alive(pid):
                return
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str]) -> None:
    directory, parent, sig = argv[0], int(argv[1]), int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for booking, which stops us
    said = b""
    while True:
        # Once booking is gone, only read what it wrote before it died (its forked buyers
        # may still hold the pipe open: never wait for them).
        wait = 0.5 if _alive(parent) else 0.0
        readable, _, _ = select.select([sys.stdin], [], [], wait)
        if not readable:
            if wait:
                continue
            break
        chunk = os.read(sys.stdin.fileno(), 4096)
        if not chunk:
            break  # booking closed the pipe without a word: it died
        said += chunk
    lines = said.split(b"\n")
    if b"stopped" in lines:
        return  # booking stopped the server and deleted its directory itself
    # Every process it was told of (initdb, then the server), newest first: none of them
    # may write into the directory once it is deleted.
    for pid in reversed([int(line[4:]) for line in lines if line.startswith(b"pid ")]):
        _stop(pid, sig)
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
