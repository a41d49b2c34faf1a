"""One throwaway server: found, started on a free loopback port, watched, stopped, deleted.

The server runs in a session of its own, so a Ctrl-C at the terminal reaches booking (which
stops it in order) and not the server mid-run. A watchdog process, also in a session of its
own, is started first, before the directory holds anything: it is told the server's pid
once there is one, and "stopped" after a clean stop; if booking dies before saying so
(SIGKILL, a crash, even during initdb), it stops the server and deletes the directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from booking.errors import BookingError
from booking.servers import postgres, redis

#: The kinds, and the module that knows each one's binaries and commands.
KINDS = {"postgres": postgres, "redis": redis}
START_TIMEOUT_S = 30.0


class ServerUnavailable(BookingError):
    """No --dsn and no server binaries to start one: say what to install (exit 2)."""


@dataclass
class Server:
    """A running throwaway server: its DSN, its process and directory."""

    kind: str
    dsn: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes]
    watchdog: subprocess.Popen[bytes] = field(repr=False)
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the server (--kill-server): its clients' connections break mid-run.
        PostgreSQL's backends are sessions of their own: each ends when it notices its
        postmaster gone, at its client's next statement."""
        self.killed = True
        _signal(self.process, signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server (fast, in order), reap it, delete its directory, and tell the
        watchdog so (it then signals nothing)."""
        _stop(self.process, KINDS[self.kind].STOP_SIGNAL)
        shutil.rmtree(self.directory, ignore_errors=True)
        _dismiss(self.watchdog)


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the server while it is ours: never once reaped (its pid may be reused)."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.kill(process.pid, sig)


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    _signal(process, sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _signal(process, signal.SIGKILL)
        process.wait()


def _tell(watchdog: subprocess.Popen[bytes], line: str) -> None:
    assert watchdog.stdin is not None
    watchdog.stdin.write(line.encode() + b"\n")
    watchdog.stdin.flush()


def _dismiss(watchdog: subprocess.Popen[bytes]) -> None:
    """Tell the watchdog that the server is stopped and its directory gone, and reap it."""
    assert watchdog.stdin is not None
    with suppress(OSError):
        watchdog.stdin.write(b"stopped\n")
        watchdog.stdin.flush()
    with suppress(OSError):
        watchdog.stdin.close()
    try:
        watchdog.wait(timeout=10)
    except subprocess.TimeoutExpired:
        watchdog.kill()
        watchdog.wait()


def available(kind: str) -> bool:
    """Whether this machine has the binaries to start a throwaway server of this kind."""
    try:
        KINDS[kind].binaries()
    except FileNotFoundError:
        return False
    return True


def free_port() -> int:
    """A loopback port nobody listens on now (the server may still lose a race for it:
    start() tries again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def throwaway(kind: str, *, connections: int = 100) -> Iterator[Server]:
    """A fresh server of this kind for the length of the block, room for `connections`
    clients; stopped and deleted when the block ends, however it ends."""
    server = start(kind, connections=connections)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def server_for(kind: str | None, buyers: int) -> Iterator[Server | None]:
    """A run's throwaway server, with room for every buyer's connection and a few more
    (the seller's, the parent's); None for a run that needs none (`kind` None)."""
    if kind is None:
        yield None
        return
    with throwaway(kind, connections=buyers + 16) as server:
        yield server


def killer(server: Server, after_ms: float | None) -> threading.Timer | None:
    """--kill-server: a timer, to start when the gate opens, that SIGKILLs the server."""
    if after_ms is None:
        return None
    timer = threading.Timer(after_ms / 1000, server.kill)
    timer.daemon = True
    return timer


def start(kind: str, *, connections: int = 100) -> Server:
    module = KINDS[kind]
    try:
        binaries = module.binaries()
    except FileNotFoundError as exc:
        raise ServerUnavailable(f"--store {kind} without --dsn needs {exc}") from None
    last = ""
    for _ in range(3):  # another process may take the free port before the server binds it
        directory = Path(tempfile.mkdtemp(prefix=f"booking-{kind}-"))
        try:
            watchdog = _watch(directory, module.STOP_SIGNAL)
        except BaseException:  # a Ctrl-C in this instant: nothing started yet
            shutil.rmtree(directory, ignore_errors=True)
            raise
        try:
            return _start_in(kind, module, binaries, directory, connections, watchdog)
        except _PortTaken as exc:
            last = str(exc)
            _abandon(directory, watchdog)
        except BaseException:
            _abandon(directory, watchdog)
            raise
    raise ServerUnavailable(f"could not start a throwaway {kind} server: {last}")


class _PortTaken(Exception):
    pass


def _abandon(directory: Path, watchdog: subprocess.Popen[bytes]) -> None:
    """A start that failed: its directory deleted, its watchdog dismissed."""
    shutil.rmtree(directory, ignore_errors=True)
    _dismiss(watchdog)


def _start_in(
    kind: str,
    module: Any,
    binaries: object,
    directory: Path,
    connections: int,
    watchdog: subprocess.Popen[bytes],
) -> Server:
    user = module.prepare(  # the user to run as (PostgreSQL refuses root)
        binaries, directory, lambda line: _tell(watchdog, line)
    )
    port = free_port()  # only now: initdb takes a second, in which another could take it
    process: subprocess.Popen[bytes] | None = None
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        with open(directory / "server.log", "wb") as log:
            process = subprocess.Popen(
                module.command(binaries, directory, port, connections),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C at the terminal is booking's, not the server's
                user=user,
            )
        _tell(watchdog, f"pid {process.pid}")
        # Ours, not merely a server on the port: another run's server may have taken it.
        while process.poll() is not None or not module.ours(port, directory, process.pid):
            if process.poll() is not None:
                text = (directory / "server.log").read_text(errors="replace")
                if "in use" in text:
                    raise _PortTaken(f"port {port} was taken")
                tail = " / ".join(text.strip().splitlines()[-3:])
                raise ServerUnavailable(f"the throwaway {kind} server did not start: {tail}")
            if time.monotonic() > deadline:
                raise ServerUnavailable(
                    f"the throwaway {kind} server did not answer within {START_TIMEOUT_S:g} s"
                )
            time.sleep(0.02)
    except BaseException:
        if process is not None:
            _stop(process, module.STOP_SIGNAL)
        raise
    return Server(kind, module.dsn(port), port, directory, process, watchdog)


def _watch(directory: Path, stop_signal: int) -> subprocess.Popen[bytes]:
    """The watchdog: cleans up if this process dies without stopping the server."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "booking.servers.watchdog",
            str(directory),
            str(os.getpid()),
            str(int(stop_signal)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
