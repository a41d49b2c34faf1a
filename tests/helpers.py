"""Shared test helpers: run the CLI, and find the processes a run may have left behind."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from booking.cli.app import app
from booking.judge.result import Result
from booking.scenarios.scenario import Scenario


def children_of(pid: int) -> list[int]:
    """Live (or zombie) processes whose parent is `pid`, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def run_cli(*args: str) -> Any:
    """`booking run ARGS` through typer's CliRunner."""
    return CliRunner().invoke(app, ["run", *args])


def run_json(*args: str) -> dict[str, Any]:
    """`booking run ARGS --json`, checked to exit 0 and print one JSON object."""
    result = run_cli(*args, "--json")
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    record: dict[str, Any] = json.loads(result.stdout)
    return record


#: The session's throwaway servers and their watchdogs (tests/conftest.py): children of
#: this process for the whole session, never a run's leftovers.
SESSION_SERVERS: set[int] = set()


def no_children_left() -> bool:
    return [pid for pid in children_of(os.getpid()) if pid not in SESSION_SERVERS] == []


def fake_result(scenario: Scenario | None = None, **changes: Any) -> Result:
    """A SAFE result of `scenario` (10 of 10 tickets sold) as simulate() would return it,
    for driving compare and the history without forking; `changes` override fields."""
    scenario = scenario or Scenario()
    result = Result(
        store=scenario.store_name,
        strategy=scenario.strategy,
        buyers=scenario.buyers,
        tickets=10,
        seed=scenario.seed or 0,
        sold=10,
        remaining=0,
        oversold=0,
        lost_updates=0,
        refused=0,
        errors=0,
        max_inside=1,
        wall_s=0.1,
        throughput=100.0,
        latency_ms={"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 4.0},
        verdict="SAFE",
        explanation=["all good"],
    )
    return replace(result, **changes)


def booking_process(*args: str) -> subprocess.Popen[str]:
    """`python -m booking ARGS` as a real process, to signal it and watch its children."""
    return subprocess.Popen(
        [sys.executable, "-m", "booking", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def sqlite_script(path: Path, *statements: str) -> bytes:
    """Run SQL statements on a database file and return the file's bytes."""
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()
    return path.read_bytes()


def require_server(kind: str) -> None:
    """Skip a test that needs a throwaway server of this kind when the machine has no
    binaries for one; with BOOKING_REQUIRE_SERVERS=1 (set by .ci/run), fail instead."""
    import pytest

    from booking.servers import available

    if not available(kind):
        message = f"no {kind} binaries to start a throwaway server"
        if os.environ.get("BOOKING_REQUIRE_SERVERS") == "1":
            pytest.fail(message + " (BOOKING_REQUIRE_SERVERS=1)")
        pytest.skip(message)
