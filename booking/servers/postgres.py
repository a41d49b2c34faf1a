"""How to start a throwaway PostgreSQL: initdb a fresh cluster, run `postgres` on it.

Found on PATH or in Debian's /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to
run as root, so as root the cluster belongs to (and runs as) the user `nobody`. Trust
authentication on 127.0.0.1 only; fsync and synchronous commit off: a throwaway cluster
keeps nothing worth a flush, and the floor (pgbench) is measured on the same settings.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

STOP_SIGNAL = signal.SIGINT  # PostgreSQL's fast shutdown: roll back, close, exit
USER = "booking"
DATABASE = "postgres"


class Binaries(NamedTuple):
    initdb: str
    postgres: str


def binaries() -> Binaries:
    """initdb and postgres from PATH, else the newest Debian cluster version's."""
    found = [shutil.which("initdb"), shutil.which("postgres")]
    if all(found):
        return Binaries(str(found[0]), str(found[1]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        bin_dir = versions[-1].parent
        if (bin_dir / "initdb").exists():
            return Binaries(str(bin_dir / "initdb"), str(bin_dir / "postgres"))
    raise FileNotFoundError(
        "PostgreSQL's initdb and postgres on PATH or in /usr/lib/postgresql/*/bin "
        "(apt-get install postgresql), or --dsn postgresql://... for a server you run"
    )


def prepare(found: Binaries, directory: Path, tell: Callable[[str], None]) -> int | None:
    """initdb the cluster in `directory`/data; the uid to run as (None: this user). `tell`
    says initdb's pid to the watchdog ("pid N", then "gone N"), so that it stops initdb too
    if booking dies meanwhile, and never a pid reused after it."""
    uid: int | None = None
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam("nobody")
        uid = entry.pw_uid
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    process = subprocess.Popen(
        [
            found.initdb,
            "-D",
            str(directory / "data"),
            "-A",
            "trust",
            "-U",
            USER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        user=uid,
        start_new_session=True,  # a Ctrl-C is booking's to handle
    )
    tell(f"pid {process.pid}")
    try:
        _, errors = process.communicate()
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        if process.returncode is not None:
            tell(f"gone {process.pid}")
    if process.returncode != 0:
        from booking.servers.throwaway import ServerUnavailable

        tail = " / ".join(errors.decode(errors="replace").strip().splitlines()[-2:])
        raise ServerUnavailable(f"initdb failed for the throwaway postgres server: {tail}")
    return uid


def command(found: Binaries, directory: Path, port: int, connections: int) -> list[str]:
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(directory),
        "max_connections": str(max(100, connections)),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "deadlock_timeout": "100ms",
    }
    args = [found.postgres, "-D", str(directory / "data")]
    for key, value in settings.items():
        args += ["-c", f"{key}={value}"]
    return args


def dsn(port: int) -> str:
    return f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"


def ready(port: int) -> bool:
    """Whether the server accepts a session now: a startup packet answered by an
    authentication request (trust: AuthenticationOk), not by an error (still starting)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            body = b"user\0" + USER.encode() + b"\0database\0" + DATABASE.encode() + b"\0\0"
            sock.sendall(struct.pack("!ii", 8 + len(body), 196608) + body)
            reply = sock.recv(1)
            sock.sendall(b"X\0\0\0\4")  # Terminate
    except OSError:
        return False
    return reply == b"R"


def ours(port: int, directory: Path, pid: int) -> bool:
    """The server on the port answers, and it is the one started in `directory` (its
    postmaster.pid names our process), not another run's that took the port."""
    if not ready(port):
        return False
    try:
        lines = (directory / "data" / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return bool(lines) and lines[0].strip() == str(pid) and str(port) in lines[3:4]
