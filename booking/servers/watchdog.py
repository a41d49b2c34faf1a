"""The watchdog of a throwaway server: `python -m booking.servers.watchdog DIR PARENT SIGNAL`.

Started before the server exists, it owns the server's directory. Booking writes on its
stdin the pid of each process it starts there ("pid N": initdb, the server), "gone N" once
it has reaped one, and "stopped" once it has stopped the server and deleted the directory
itself. Any other end — the pipe closed without "stopped" (booking died), or the booking
process gone — means a crash: it stops every process it was told of and still running,
and every process working in the directory or naming it (one started in the instant
before booking could say its pid), with SIGNAL (the kind's fast shutdown) then SIGKILL,
and deletes the directory. A pid is signalled only while it is the process it was told
of (the same start time): a pid reused by another process is left alone.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import time


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _started(pid: int) -> str:
    """When the process started (clock ticks since boot): with the pid, who it is."""
    fields = _stat(pid)
    return fields[19] if fields and len(fields) > 19 else ""


def _alive(pid: int) -> bool:
    """Running: not gone, and not a zombie (an exited server whose parent, booking, died
    waits for init to reap it)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


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


def _working_in(directory: str) -> dict[int, str]:
    """The processes whose working directory is in `directory` or whose command line names
    it (initdb, postgres -D, redis-server --dir), but this watchdog."""
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                named = directory.encode() in cmdline.read()
        except OSError:
            named = False
        if named or cwd == directory or cwd.startswith(directory + "/"):
            found[pid] = _started(pid)
    return found


def main(argv: list[str]) -> None:
    directory, parent, sig = argv[0], int(argv[1]), int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for booking, which stops us
    told: dict[int, str] = {}  # pid -> its start time when booking told of it
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
        *lines, said = said.split(b"\n")
        for line in lines:
            if line == b"stopped":
                return  # booking stopped the server and deleted its directory itself
            if line.startswith(b"pid "):
                pid = int(line[4:])
                told[pid] = _started(pid)
            elif line.startswith(b"gone "):
                told.pop(int(line[5:]), None)
    for pid, started in {**_working_in(directory), **told}.items():
        if started and _started(pid) == started:  # still the process it was
            _stop(pid, sig)
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
