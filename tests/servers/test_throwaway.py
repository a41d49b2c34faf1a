"""Throwaway servers: started on a loopback port, answering, and gone afterwards whatever
ends the block: its end, an exception, a Ctrl-C at the terminal, booking killed outright."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from booking.servers import ServerUnavailable, available, throwaway
from booking.servers import postgres as pg_binaries
from booking.servers import redis as redis_binaries
from tests.helpers import require_server

KINDS = ["postgres", "redis"]


def _running(pid: int) -> bool:
    """Not gone and not a zombie (a server whose parent died waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _gone(pid: int, directory: Path, wait_s: float = 20.0) -> bool:
    """Whether the server process and its directory are both gone (waiting a bounded time
    for a watchdog to act)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        alive = _running(pid)
        if not alive and not directory.exists():
            return True
        time.sleep(0.1)
    return False


def _answers(kind: str, dsn: str) -> bool:
    if kind == "postgres":
        import psycopg

        with psycopg.connect(dsn) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    import redis

    client = redis.Redis.from_url(dsn)
    try:
        return bool(client.ping())
    finally:
        client.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_answers_on_loopback_and_is_gone_after_the_block(kind: str) -> None:
    require_server(kind)
    with throwaway(kind) as server:
        assert "127.0.0.1" in server.dsn
        assert _answers(kind, server.dsn)
        pid, directory = server.pid, server.directory
        assert directory.is_dir()
    assert _gone(pid, directory, wait_s=0.5)


@pytest.mark.parametrize("kind", KINDS)
def test_an_exception_in_the_block_still_stops_the_server(kind: str) -> None:
    require_server(kind)
    with pytest.raises(RuntimeError), throwaway(kind) as server:
        pid, directory = server.pid, server.directory
        raise RuntimeError("the run failed")
    assert _gone(pid, directory, wait_s=0.5)


_HOLDER = """
import sys, time
from booking.servers import throwaway
with throwaway(sys.argv[1]) as server:
    print(server.pid, server.directory, flush=True)
    time.sleep(120)
"""


def _holder(kind: str) -> tuple[subprocess.Popen[str], int, Path]:
    """A process (in a group of its own, as a shell's job is) holding a throwaway server."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, kind],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    assert line, "the holder printed nothing"
    return process, int(line[0]), Path(line[1])


@pytest.mark.parametrize("kind", KINDS)
def test_a_killed_booking_leaves_no_server_behind(kind: str) -> None:
    # SIGKILL: no finally runs in the holder; the watchdog must clean up.
    require_server(kind)
    process, pid, directory = _holder(kind)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert _gone(pid, directory), f"{kind} server {pid} or {directory} left behind"


@pytest.mark.parametrize("kind", KINDS)
def test_ctrl_c_reaches_booking_not_the_server_and_booking_stops_it(kind: str) -> None:
    # A Ctrl-C signals the terminal's whole foreground group: the holder's group here.
    require_server(kind)
    process, pid, directory = _holder(kind)
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)
    assert _gone(pid, directory, wait_s=5)


def test_without_binaries_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(redis_binaries, "Path", lambda *_: Path("/nonexistent/redis-server"))
    monkeypatch.setattr(pg_binaries, "Path", lambda *_: Path("/nonexistent"))
    with pytest.raises(ServerUnavailable, match="apt-get install redis-server"):
        throwaway("redis").__enter__()
    with pytest.raises(ServerUnavailable, match="apt-get install postgresql"):
        throwaway("postgres").__enter__()
    assert not available("redis") and not available("postgres")


@pytest.mark.parametrize("delay_s", [0.0, 0.2, 0.5, 1.5])
def test_booking_killed_while_its_server_starts_leaves_nothing(delay_s: float) -> None:
    # SIGKILL at any point of the start (during initdb, before the server answers, just
    # after, with buyers running): the watchdog, started first, stops what was started and
    # deletes the folder. A folder of its own in /tmp: the cluster belongs to nobody when
    # run as root, who could not reach one under pytest's private tmp_path.
    require_server("postgres")
    scratch = Path(tempfile.mkdtemp(prefix="booking-test-"))
    try:
        scratch.chmod(0o777)
        process = subprocess.Popen(
            [sys.executable, "-m", "booking", "run", "--store", "postgres", "--buyers", "3",
             "--think", "200"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "TMPDIR": str(scratch)},
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list(scratch.glob("booking-postgres-*")):
            time.sleep(0.01)
        assert list(scratch.glob("booking-postgres-*")), "the run never made its server"
        time.sleep(delay_s)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and list(scratch.glob("booking-postgres-*")):
            time.sleep(0.1)
        assert list(scratch.glob("booking-postgres-*")) == []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _watchdog(directory: Path, parent: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "booking.servers.watchdog", str(directory), str(parent), "15"],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )


def test_the_watchdog_stops_what_runs_in_the_folder_and_spares_what_it_was_told_is_gone(
    tmp_path: Path,
) -> None:
    # booking (here `parent`) dies: a process working in the folder that booking never got
    # to name is stopped all the same; one it said was reaped ("gone") is never signalled,
    # since its pid may since belong to someone else.
    directory = tmp_path / "server"
    directory.mkdir()
    parent = subprocess.Popen(["sleep", "60"])
    unnamed = subprocess.Popen(["sleep", "60"], cwd=directory)
    reaped = subprocess.Popen(["sleep", "60"])
    watchdog = _watchdog(directory, parent.pid)
    try:
        assert watchdog.stdin is not None
        watchdog.stdin.write(f"pid {reaped.pid}\ngone {reaped.pid}\n".encode())
        watchdog.stdin.flush()
        time.sleep(0.5)
        parent.kill()
        parent.wait()
        assert unnamed.wait(timeout=20) == -signal.SIGTERM
        watchdog.wait(timeout=20)
        assert reaped.poll() is None  # never signalled
        assert not directory.exists()
    finally:
        for process in (parent, unnamed, reaped, watchdog):
            if process.poll() is None:
                process.kill()
                process.wait()


def test_a_clean_stop_signals_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "server"
    directory.mkdir()
    told = subprocess.Popen(["sleep", "60"], cwd=directory)
    watchdog = _watchdog(directory, os.getpid())
    try:
        assert watchdog.stdin is not None
        watchdog.stdin.write(f"pid {told.pid}\nstopped\n".encode())
        watchdog.stdin.flush()
        assert watchdog.wait(timeout=20) == 0  # at "stopped", without waiting for the pipe
        assert told.poll() is None and directory.exists()
    finally:
        for process in (told, watchdog):
            if process.poll() is None:
                process.kill()
                process.wait()
