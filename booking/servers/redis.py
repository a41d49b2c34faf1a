"""How to start a throwaway Redis: `redis-server` with no persistence on a loopback port.

No RDB snapshots, no append-only file, no protected mode tricks: bound to 127.0.0.1, its
working directory the throwaway one.
"""

from __future__ import annotations

import shutil
import signal
import socket
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


def prepare(found: Binaries, directory: Path) -> int | None:
    return None


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
