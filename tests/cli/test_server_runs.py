"""`booking run` on the networked stores end to end: a Ctrl-C in the middle of a run whose
buyers wait inside the server is an interruption (not errors of the strategy), and no
throwaway server outlives the command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.helpers import children_of

ROOT = Path(__file__).resolve().parents[2]


def _booking(*args: str) -> subprocess.Popen[str]:
    """`booking run ARGS --json` in a process group of its own, as a shell's job."""
    return subprocess.Popen(
        [sys.executable, "-m", "booking", "run", *args, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=ROOT,
    )


def _waiting_for_a_lock(dsn: str, deadline_s: float = 60.0) -> None:
    """Until some buyer's session waits for a row lock in the server."""
    deadline = time.monotonic() + deadline_s
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            (waiting,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone() or (0,)
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("no buyer ever waited for the row lock")


def _own_servers(pid: int) -> list[Path]:
    """The data directories of the postgres servers this booking process started (its
    children; other runs on the machine have their own)."""
    found = []
    for child in children_of(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-D" in argv and argv[0].endswith(b"postgres"):
            found.append(Path(argv[argv.index(b"-D") + 1].decode()).parent)
    return found


def test_ctrl_c_while_buyers_wait_for_a_row_lock_is_an_interruption(pg_dsn: str) -> None:
    process = _booking(
        "--store", "postgres", "--dsn", pg_dsn, "--strategy", "for-update",
        "--buyers", "8", "--think", "400", "--reset",
    )  # fmt: skip
    try:
        _waiting_for_a_lock(pg_dsn)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err
    record = json.loads(out)
    assert record["verdict"] == "INTERRUPTED", record["explanation"]
    assert record["errors"] == 0, record["explanation"]
    assert record["oversold"] == 0 and record["lost_updates"] == 0
    # A count run: its buyers waited for the stock row's lock, not for a seat's.
    assert "seat" not in " ".join(record["explanation"])


def test_ctrl_c_stops_the_throwaway_server_with_the_run() -> None:
    process = _booking("--store", "postgres", "--strategy", "for-update", "--buyers", "8",
                       "--think", "400")  # fmt: skip
    try:
        time.sleep(0.5)
        deadline = time.monotonic() + 60
        servers: list[Path] = []
        while time.monotonic() < deadline and not servers:
            servers = _own_servers(process.pid)
            time.sleep(0.05)
        assert servers, "the run never started its server"
        time.sleep(1.5)  # the buyers are in
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(p.exists() for p in servers):
        time.sleep(0.1)
    assert not any(p.exists() for p in servers)
