"""The results history: where it lives, what it refuses, what a saved run reads back as, and
that rows survive a crash and concurrent savers."""

from __future__ import annotations

import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import booking
from booking import Scenario, simulate
from booking.errors import BookingError
from booking.history.columns import flatten, run_record, run_result
from booking.history.store import ENV_VAR, History, default_path, resolve_path
from booking.judge.result import Result
from tests.helpers import sqlite_script

#: The runs columns a Result spreads over, and the to_dict() keys they replace.
SPREAD = {
    "latency_ms": ["latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "latency_max_ms"],
    "think_ms": ["think_min_ms", "think_max_ms"],
}


def make_result(**changes: Any) -> Result:
    """A Result with every field away from its default, so a dropped field shows."""
    fields: dict[str, Any] = {
        "store": "sqlite",
        "strategy": "none",
        "buyers": 40,
        "tickets": 10,
        "seed": 2**62 + 3,
        "sold": 38,
        "remaining": 4,
        "oversold": 28,
        "lost_updates": 32,
        "refused": 1,
        "errors": 2,
        "max_inside": 31,
        "wall_s": 0.123457,
        "throughput": 324.5,
        "latency_ms": {"p50": 41.25, "p95": 52.5, "p99": 59.125, "max": 61.0},
        "verdict": "OVERSOLD",
        "attempts": 41,
        "attempts_per_buyer": 2,
        "think_ms": (1.5, 5.0),
        "json_write": "inplace",
        "manager_lock": False,
        "torn_reads": 3,
        "lock_timeouts": 4,
        "busy": 5,
        "failed_buyers": 6,
        "external_sales": 7,
        "startup_s": 0.0675,
        "timed_out": True,
        "interrupted": True,
        "path": "/tmp/tickets.db",
        "arrival": "200/s",
        "explanation": ["40 buyers hold receipts for 10 tickets.", "买票 -> 抢票"],
    }
    fields.update(changes)
    return Result(**fields)


def as_json(record: Any) -> str:
    """JSON text, so True and 1, or a key order, no longer compare equal."""
    return json.dumps(record, ensure_ascii=False)


def safe(seed: int) -> Result:
    return make_result(verdict="SAFE", seed=seed)


def oversold(seed: int) -> Result:
    return make_result(verdict="OVERSOLD", seed=seed)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def history(db: Path) -> Iterator[History]:
    with History(db) as h:
        yield h


def in_child(work: Callable[[], None]) -> int:
    """Fork, run `work` in the child and exit 0 (70 if it raised); return the child's pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            work()
            code = 0
        except BaseException:
            traceback.print_exc()  # pytest shows the child's stderr with the failure
        finally:
            os._exit(code)
    return pid


def exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


# --- where the history lives ----------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No BOOKING_DB or XDG_DATA_HOME from the caller's shell; HOME in tmp_path."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_resolve_path_prefers_db_then_booking_db_then_the_default(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home_default = tmp_path / "home" / ".local" / "share" / "booking" / "history.db"
    assert default_path() == home_default
    assert resolve_path(None) == home_default

    env.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_path(None) == tmp_path / "xdg" / "booking" / "history.db"

    env.setenv(ENV_VAR, str(tmp_path / "env.db"))
    assert resolve_path(None) == tmp_path / "env.db"
    assert resolve_path(tmp_path / "flag.db") == tmp_path / "flag.db"

    env.setenv(ENV_VAR, "")
    assert resolve_path(None) == tmp_path / "xdg" / "booking" / "history.db"


@pytest.mark.parametrize("xdg", ["", "relative/data"])
def test_an_empty_or_relative_xdg_data_home_falls_back_to_home(
    env: pytest.MonkeyPatch, tmp_path: Path, xdg: str
) -> None:
    env.setenv("XDG_DATA_HOME", xdg)
    assert default_path() == tmp_path / "home" / ".local" / "share" / "booking" / "history.db"


def test_the_default_location_gets_its_directories(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = resolve_path(None)
    assert not (tmp_path / "data").exists()
    with History(path) as h:
        h.begin("run", "lock/json", {})
    assert path == tmp_path / "data" / "booking" / "history.db"
    assert path.is_file()
    with History(path, create=False) as h:
        assert [s["name"] for s in h.sessions()] == ["lock/json"]


def test_an_explicit_path_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "h.db"
    with pytest.raises(BookingError) as caught:
        History(path)
    assert str(caught.value) == f"{path}: directory {tmp_path / 'missing'} does not exist"
    assert not (tmp_path / "missing").exists()


def test_a_missing_history_is_not_created_when_only_reading(db: Path) -> None:
    with pytest.raises(BookingError) as caught:
        History(db, create=False)
    assert str(caught.value) == f"no history at {db}; save runs with --save"
    assert not db.exists()


def test_an_empty_file_becomes_a_history_only_when_creating(db: Path) -> None:
    db.touch()
    with pytest.raises(BookingError) as caught:
        History(db, create=False)
    assert str(caught.value) == f"no history at {db}; save runs with --save"
    with History(db) as h:
        assert h.sessions() == []
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"


# --- files that are not ours ----------------------------------------------------------------


def refused_untouched(path: Path) -> str:
    """Open `path` as a history: it must fail and leave the file and its directory as they were."""
    before = path.read_bytes()
    siblings = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(BookingError) as caught:
        History(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == siblings
    return str(caught.value)


@pytest.mark.parametrize("content", [b'{"tickets": 10}\n', b"SQL", b"\x00" * 4096])
def test_a_file_that_is_not_sqlite_is_refused_untouched(db: Path, content: bytes) -> None:
    db.write_bytes(content)
    assert refused_untouched(db) == f"{db}: not a SQLite database, so not a booking history"


def test_a_sqlite_header_on_garbage_is_refused_untouched(db: Path) -> None:
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    message = refused_untouched(db)
    assert message.startswith(f"{db}: not a usable booking history (")


def test_a_sessions_table_of_another_shape_is_refused_untouched(db: Path) -> None:
    sqlite_script(
        db,
        "CREATE TABLE sessions (id INTEGER PRIMARY KEY, name TEXT, user TEXT)",
        "INSERT INTO sessions (name, user) VALUES ('x', 'y')",
    )
    assert refused_untouched(db) == (
        f"{db}: the sessions table lacks columns cores, finished_at, kind, params, platform, "
        "python, started_at, status, version; not a booking history"
    )


def test_a_runs_table_of_another_shape_is_refused_untouched(db: Path) -> None:
    with History(db):
        pass
    sqlite_script(db, "DROP TABLE runs", "CREATE TABLE runs (id INTEGER PRIMARY KEY, verdict TEXT)")
    assert refused_untouched(db) == (
        f"{db}: the runs table lacks columns point, saved_at, session_id; not a booking history"
    )


def test_a_ticket_store_is_not_taken_for_a_history(db: Path) -> None:
    sqlite_script(
        db,
        "CREATE TABLE stock (id INTEGER PRIMARY KEY, count INTEGER)",
        "CREATE TABLE sales (id INTEGER PRIMARY KEY, run TEXT, buyer INTEGER, sold_at REAL)",
        "INSERT INTO stock VALUES (1, 10)",
    )
    assert refused_untouched(db) == f"{db}: not a booking history (it holds sales, stock)"


# --- what is saved --------------------------------------------------------------------------


def test_the_database_is_in_wal_mode_with_a_30_s_busy_timeout(history: History, db: Path) -> None:
    assert history._db.execute("PRAGMA busy_timeout").fetchone() == (30000,)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_a_session_records_its_options_and_machine(history: History) -> None:
    params = {"buyers": 40, "think_ms": [1.5, 5.0], "path": Path("/tmp/s.db"), "seed": None}
    sid = history.begin("compare", "all", params)
    row, runs = history.session(sid)
    started = datetime.fromisoformat(row["started_at"])
    assert started.utcoffset() == timedelta(0)
    assert abs(datetime.now(started.tzinfo) - started) < timedelta(minutes=1)
    assert runs == []
    assert row == {
        "id": sid,
        "kind": "compare",
        "name": "all",
        "started_at": row["started_at"],
        "finished_at": None,
        "status": "running",
        "version": booking.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "params": '{"buyers": 40, "think_ms": [1.5, 5.0], "path": "/tmp/s.db", "seed": null}',
    }

    history.finish(sid, "interrupted")
    row, _ = history.session(sid)
    assert row["status"] == "interrupted"
    assert datetime.fromisoformat(row["finished_at"]) >= started


@pytest.mark.parametrize(
    "result",
    [
        make_result(),
        make_result(remaining=None, json_write=None, manager_lock=None, path=None, explanation=[]),
        make_result(manager_lock=True, timed_out=False, interrupted=False, think_ms=(0.0, 0.0)),
    ],
    ids=["every-field-set", "nones", "other-bools"],
)
def test_every_result_field_reads_back(history: History, result: Result) -> None:
    sid = history.begin("run", "none/sqlite", {"buyers": 40})
    run_id = history.add(sid, result, {"buyers": 40})
    _, (row,) = history.session(sid)

    expected_columns = {"id", "session_id", "saved_at", "point"}
    for name in result.to_dict():
        expected_columns.update(SPREAD.get(name, [name]))
    assert set(row) == expected_columns
    assert (row["id"], row["session_id"], row["point"]) == (run_id, sid, '{"buyers": 40}')
    assert [row[c] for c in SPREAD["latency_ms"]] == list(result.latency_ms.values())
    assert [row[c] for c in SPREAD["think_ms"]] == list(result.think_ms)
    assert row["explanation"] == json.dumps(result.explanation, ensure_ascii=False)
    assert {k: v for k, v in row.items() if k in flatten(result)} == flatten(result)

    assert as_json(run_record(row)) == as_json(result.to_dict())
    assert run_result(row) == result


def test_a_real_run_reads_back_as_it_was_reported(history: History) -> None:
    result = simulate(Scenario(buyers=3, think_ms=(0, 1), seed=1))
    sid = history.begin("run", "lock/json", {"buyers": 3, "seed": 1})
    history.add(sid, result)
    history.finish(sid, "complete")
    session, (row,) = history.session(sid)
    assert session["status"] == "complete"
    assert row["point"] is None
    assert (row["buyers"], row["seed"], row["sold"], row["verdict"]) == (3, 1, 3, "SAFE")
    assert run_record(row) == result.to_dict()


def test_sessions_come_newest_first_with_their_counts(history: History) -> None:
    first = history.begin("run", "lock/json", {})
    history.add(first, safe(1))
    history.add(first, safe(2))
    history.finish(first, "complete")
    second = history.begin("scenario", "flash-sale", {})
    history.add(second, safe(3), {"buyers": 10})
    history.add(second, oversold(4), {"buyers": 20})
    history.add(second, make_result(verdict="ERRORS", seed=5), {"buyers": 40})
    history.finish(second, "error")
    third = history.begin("compare", "all", {})

    listed = history.sessions()
    assert [(s["id"], s["name"], s["status"]) for s in listed] == [
        (third, "all", "running"),
        (second, "flash-sale", "error"),
        (first, "lock/json", "complete"),
    ]
    assert [(s["runs"], s["anomalies"]) for s in listed] == [(0, 0), (3, 2), (2, 0)]
    assert [s["id"] for s in history.sessions(limit=2)] == [third, second]
    assert [s["id"] for s in history.sessions(limit=-1)] == [third, second, first]

    _, runs = history.session(second)
    assert [(r["seed"], r["verdict"], r["point"]) for r in runs] == [
        (3, "SAFE", '{"buyers": 10}'),
        (4, "OVERSOLD", '{"buyers": 20}'),
        (5, "ERRORS", '{"buyers": 40}'),
    ]


def test_an_unknown_session_is_named_in_the_error(history: History, db: Path) -> None:
    sid = history.begin("run", "lock/json", {})
    message = f"no saved session {sid + 1} in {db}"
    for call in (
        lambda: history.session(sid + 1),
        lambda: history.add(sid + 1, safe(1)),
        lambda: history.finish(sid + 1, "complete"),
    ):
        with pytest.raises(BookingError) as caught:
            call()
        assert str(caught.value) == message
    assert [(s["runs"], s["status"]) for s in history.sessions()] == [(0, "running")]


def test_bad_kinds_and_statuses_are_programming_errors(history: History) -> None:
    with pytest.raises(ValueError) as caught:
        history.begin("sweep", "x", {})
    assert str(caught.value) == "session kind must be one of run, compare, scenario, not 'sweep'"
    sid = history.begin("run", "x", {})
    with pytest.raises(ValueError) as caught:
        history.finish(sid, "running")
    assert str(caught.value) == (
        "status must be one of complete, interrupted, error, aborted, not 'running'"
    )
    assert [(s["name"], s["status"]) for s in history.sessions()] == [("x", "running")]


def test_an_older_history_gains_the_fields_added_since(db: Path) -> None:
    with History(db) as h:
        old = h.begin("run", "lock/json", {})
        h.add(old, safe(1))
    sqlite_script(db, "ALTER TABLE runs DROP COLUMN arrival")

    with History(db) as h:
        _, (row,) = h.session(old)
        assert "arrival" not in row
        assert "arrival" not in run_record(row)
        h.add(old, make_result(arrival="stagger 0:50 ms"))
        _, (before, after) = h.session(old)
    assert (before["arrival"], after["arrival"]) == (None, "stagger 0:50 ms")
    assert run_record(after) == make_result(arrival="stagger 0:50 ms").to_dict()


# --- crashes and concurrent savers ----------------------------------------------------------


def test_a_run_saved_before_a_crash_is_kept(db: Path) -> None:
    def crash_after_one_run() -> None:
        h = History(db)
        sid = h.begin("run", "none/json", {"buyers": 40})
        h.add(sid, oversold(9))
        os.kill(os.getpid(), signal.SIGKILL)

    assert exit_code(in_child(crash_after_one_run)) == -signal.SIGKILL
    # Killed: nothing checkpointed the write-ahead log, so the run is only in it.
    assert Path(f"{db}-wal").stat().st_size > 0

    with History(db, create=False) as h:
        (listed,) = h.sessions()
        session, (row,) = h.session(listed["id"])
    assert (session["status"], session["finished_at"]) == ("running", None)
    assert (listed["runs"], listed["anomalies"]) == (1, 1)
    assert as_json(run_record(row)) == as_json(oversold(9).to_dict())


def test_a_run_saved_before_the_history_was_dropped_unfinished_is_kept(db: Path) -> None:
    h = History(db)
    sid = h.begin("scenario", "flash-sale", {})
    h.add(sid, safe(1))
    del h
    with History(db) as again:
        session, runs = again.session(sid)
    assert session["status"] == "running"
    assert [r["seed"] for r in runs] == [1]


def test_two_histories_on_one_file_both_persist(db: Path) -> None:
    one, two = History(db), History(db)
    a = one.begin("run", "lock/json", {})
    b = two.begin("run", "none/json", {})
    for seed in range(3):
        one.add(a, safe(seed))
        two.add(b, oversold(100 + seed))
    one.finish(a, "complete")
    two.finish(b, "interrupted")
    one.close()
    two.close()

    with History(db, create=False) as h:
        assert [(s["id"], s["status"], s["runs"], s["anomalies"]) for s in h.sessions()] == [
            (b, "interrupted", 3, 3),
            (a, "complete", 3, 0),
        ]
        _, runs_a = h.session(a)
        _, runs_b = h.session(b)
    assert [r["seed"] for r in runs_a] == [0, 1, 2]
    assert [r["seed"] for r in runs_b] == [100, 101, 102]
    # Saved alternately, so the ids interleave.
    assert [r["id"] for r in runs_a] == [1, 3, 5]
    assert [r["id"] for r in runs_b] == [2, 4, 6]


def test_a_new_history_waits_for_a_writer_holding_the_file(db: Path) -> None:
    # Another process is writing when we first open the file: switching it to WAL must wait
    # for the lock (as every other statement does for 30 s), not fail at once.
    db.touch()
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, holder.execute, ["COMMIT"])
    release.start()
    started = time.monotonic()
    try:
        with History(db) as h:
            waited = time.monotonic() - started
            assert h.begin("run", "lock/json", {}) == 1
    finally:
        release.join()
        holder.close()
    assert waited >= 0.25
    with History(db, create=False) as h:
        assert [s["name"] for s in h.sessions()] == ["lock/json"]


def race(path: Path, names: list[str], runs_each: int) -> list[int]:
    """Fork one saver per name, let them all go at once on `path`; their exit codes."""
    gate_read, gate_write = os.pipe()

    def saver(name: str) -> Callable[[], None]:
        def work() -> None:
            os.close(gate_write)
            os.read(gate_read, 1)
            with History(path) as h:
                sid = h.begin("run", name, {})
                for seed in range(runs_each):
                    h.add(sid, safe(seed))
                h.finish(sid, "complete")

        return work

    pids = [in_child(saver(name)) for name in names]
    os.close(gate_read)
    os.write(gate_write, b"go" * len(names))
    os.close(gate_write)
    return [exit_code(pid) for pid in pids]


def test_processes_create_and_save_to_one_history_at_once(tmp_path: Path) -> None:
    # Creating the file is the touchy part (switching to WAL skips SQLite's busy handler),
    # so race several fresh files: without the wait, one in two races or so failed.
    names = ["first", "second", "third"]
    for attempt in range(4):
        path = tmp_path / f"race{attempt}.db"
        assert race(path, names, runs_each=10) == [0, 0, 0]
        with History(path, create=False) as h:
            listed = h.sessions()
        assert sorted((s["name"], s["status"], s["runs"]) for s in listed) == [
            (name, "complete", 10) for name in names
        ]


# --- read by other tools --------------------------------------------------------------------


def test_the_sqlite_utils_command_reads_the_history(db: Path) -> None:
    with History(db) as h:
        sid = h.begin("run", "none/sqlite", {"buyers": 40})
        h.add(sid, make_result(), {"buyers": 40})
        h.add(sid, safe(2))
        _, runs = h.session(sid)

    def rows(table: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "sqlite_utils", "rows", str(db), table],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return json.loads(done.stdout)

    assert rows("runs") == runs
    assert as_json([run_record(r) for r in rows("runs")]) == as_json(
        [make_result().to_dict(), safe(2).to_dict()]
    )
    assert [(s["id"], s["name"], json.loads(s["params"])) for s in rows("sessions")] == [
        (sid, "none/sqlite", {"buyers": 40})
    ]
