"""Fixtures shared by the tests: of `booking explore` and `booking replay` (engine, cli,
schedules), and the throwaway servers of the networked stores."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from booking.schedules.executor import Executor
from booking.schedules.workload import Workload
from booking.servers import Server
from tests.helpers import require_server


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Executors make their store's directory with tempfile: keep it under tmp_path, and
    check that every executor removed its own when it closed."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    assert sorted(p.name for p in scratch.glob("booking-explore-*")) == []


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> list[Workload]:
    """Make any executor fail: what is refused must be refused before any run."""
    made: list[Workload] = []

    def refuse(self: Executor, workload: Workload, *args: Any) -> None:
        made.append(workload)
        raise AssertionError("an executor was made: the command ran")

    monkeypatch.setattr(Executor, "__init__", refuse)
    return made


# Throwaway PostgreSQL and Redis servers for the tests of the networked stores: one of each
# per session, started on first use; each test gets a database (postgres) or a flushed
# keyspace (redis) of its own. Where the binaries are missing the tests skip and say so;
# with BOOKING_REQUIRE_SERVERS=1 (set by .ci/run) they fail instead.


def _session_server(server: Server) -> None:
    """Not a leftover of any test: no_children_left() passes over it."""
    from tests.helpers import SESSION_SERVERS

    SESSION_SERVERS.add(server.pid)
    if server.watchdog is not None:
        SESSION_SERVERS.add(server.watchdog.pid)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    from booking.servers import throwaway

    require_server("postgres")
    with throwaway("postgres", connections=400) as server:
        _session_server(server)
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    from booking.servers import throwaway

    require_server("redis")
    with throwaway("redis") as server:
        _session_server(server)
        yield server


@pytest.fixture
def pg_dsn(pg_server: Server) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL, dropped after the test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_server.dsn.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def redis_dsn(redis_server: Server) -> Iterator[str]:
    """The session's Redis, flushed before and after the test."""
    import redis

    client = redis.Redis.from_url(redis_server.dsn)
    client.flushall()
    yield redis_server.dsn
    client.flushall()
    client.close()
