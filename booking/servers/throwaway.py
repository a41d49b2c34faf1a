"""One throwaway server: found, started on a free loopback port, watched, stopped, deleted.

The server runs in a session of its own, so a Ctrl-C at the terminal reaches booking (which
stops it in order) and not the server mid-run. A watchdog process, also in a session of its
own, holds the other end of a pipe: when booking dies without stopping the server (SIGKILL,
a crash), the pipe closes and the watchdog kills the server and deletes its directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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
    watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the server (--kill-server): its clients' connections break mid-run."""
        self.killed = True
        _signal_group(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server (fast, in order), reap it and delete its directory."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, KINDS[self.kind].STOP_SIGNAL)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        else:
            _signal_group(self.process.pid, signal.SIGKILL)  # backends left behind
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.watchdog is not None:
            assert self.watchdog.stdin is not None
            self.watchdog.stdin.close()  # the watchdog finds nothing left, and exits
            try:
                self.watchdog.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.watchdog.kill()
                self.watchdog.wait()


def _signal_group(pid: int, sig: int) -> None:
    """The server and every process it forked (PostgreSQL's backends) share its group."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


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
            server = _start_in(kind, module, binaries, directory, connections)
        except _PortTaken as exc:
            shutil.rmtree(directory, ignore_errors=True)
            last = str(exc)
            continue
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return server
    raise ServerUnavailable(f"could not start a throwaway {kind} server: {last}")


class _PortTaken(Exception):
    pass


def _start_in(
    kind: str, module: Any, binaries: object, directory: Path, connections: int
) -> Server:
    port = free_port()
    user = module.prepare(binaries, directory)  # the user to run as (PostgreSQL refuses root)
    log = open(directory / "server.log", "wb")  # noqa: SIM115 (kept open by the child)
    try:
        process = subprocess.Popen(
            module.command(binaries, directory, port, connections),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C at the terminal is booking's, not the server's
            user=user,
        )
    finally:
        log.close()
    server = Server(kind, module.dsn(port), port, directory, process)
    server.watchdog = _watch(server)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not module.ready(port):
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
        server.stop()
        raise
    return server


def _watch(server: Server) -> subprocess.Popen[bytes]:
    """The watchdog: cleans up if this process dies without stopping the server."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "booking.servers.watchdog",
            str(server.pid),
            str(server.directory),
            str(os.getpid()),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
