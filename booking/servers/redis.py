"""How to start a throwaway Redis: `redis-server` with no persistence on a loopback port.

No RDB snapshots, no append-only file, no protected mode tricks: bound to 127.0.0.1, its
working directory the throwaway one.
"""

from __future__ import annotations

import shutil
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

STOP_SIGNAL = signal.SIGTERM  # redis-server exits at once (nothing to save)


class Binaries(NamedTuple):
    server: str


def binaries() -> Binaries:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        raise FileNotFoundError(
            "redis-server on PATH (apt-get install redis-server), or --dsn redis://... "
            "for a server you run"
        )
    return Binaries(found)


def prepare(found: Binaries, directory: Path, tell: Callable[[str], None]) -> int | None:
    return None  # nothing to make: redis-server starts empty


def command(found: Binaries, directory: Path, port: int, connections: int) -> list[str]:
    return [
        found.server,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
        "--maxclients",
        str(max(10_000, connections + 32)),
        "--daemonize",
        "no",
    ]


def dsn(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    return reply.startswith(b"+PONG")


def ours(port: int, directory: Path, pid: int) -> bool:
    """The server on the port answers, and it is our process (INFO's process_id), not
    another run's that took the port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"INFO server\r\n")
            reply = b""
            while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
                if b"\r\n\r\n" in reply[-4:] or len(reply) > 1 << 16:
                    break
    except OSError:
        return False
    for line in reply.split(b"\r\n"):
        if line.startswith(b"process_id:"):
            return line.split(b":", 1)[1].strip() == str(pid).encode()
    return False
