"""A saved run keeps its step events: the timeline packs and unpacks to the same records
and clocks, is saved with its run or not at all, reads as None where none was kept (an
older history), and an unreadable one is a BookingError, never a traceback."""

from __future__ import annotations

import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from booking import Scenario, simulate
from booking.cli.app import app
from booking.comparison import driver
from booking.engine import frames
from booking.engine.frames import Failure, Kind, Outcome, Record
from booking.engine.runner import RawRun
from booking.errors import BookingError
from booking.history import timeline
from booking.history.store import History
from booking.scenarios.plan import Cell
from tests.helpers import fake_result

T0 = 7_000_000_000_000  # a monotonic_ns() of a machine up for about two hours


def made_up_run() -> RawRun:
    """Every kind of record, with every field away from its default somewhere."""
    return RawRun(
        records=[
            Record(Kind.READY, 0, t_begin=T0 + 5),
            Record(Kind.READY, 1, t_begin=T0 + 6),
            Record(Kind.FAILED, 2, message="cannot open the store: 买票 (permission denied)"),
            Record(Kind.QUERY, 0, read_value=10, t_begin=T0 + 100, t_read=T0 + 180),
            Record(Kind.ATTEMPT, 0, 1, Outcome.BOUGHT, read_value=10, written_value=9)._replace(
                t_begin=T0 + 200,
                t_acquired=T0 + 210,
                t_read=T0 + 220,
                t_write=T0 + 5_000_230,
                t_left=T0 + 5_000_240,
                t_end=T0 + 5_000_250,
            ),
            Record(Kind.CONFLICT, 1, 1, read_value=10, t_begin=T0 + 300, t_end=T0 + 400),
            Record(
                Kind.ATTEMPT, 1, 1, Outcome.ERROR, Failure.BUSY, 9, message="database is locked"
            ),
            Record(Kind.CUT, 1, 2, Outcome.STOPPED, t_begin=T0 + 900, t_end=T0 + 950),
        ],
        started_ns=T0,
        gate_ns=T0 + 90,
        stopped_ns=T0 + 960,
        finished_ns=T0 + 2_000,
        timed_out=True,
        exit_codes={0: 0, 1: 3, 2: 1},
        pids=[101, 102, 103],
    )


def test_a_timeline_unpacks_to_its_records_and_clocks() -> None:
    raw = made_up_run()
    back = timeline.unpack({"run_id": 1, **timeline.pack(raw)})
    # READY says nothing a picture draws; every other record comes back, in order, equal.
    assert back.records == [r for r in raw.records if r.kind is not Kind.READY]
    assert len(back.records) == 6
    assert (back.started_ns, back.gate_ns, back.stopped_ns, back.finished_ns) == (
        T0,
        T0 + 90,
        T0 + 960,
        T0 + 2_000,
    )


def test_a_timeline_is_data_compressed_not_a_pickle() -> None:
    raw = made_up_run()
    row = timeline.pack(raw)
    assert row["format"] == timeline.FORMAT == "frames-1"
    kept = [r for r in raw.records if r.kind is not Kind.READY]
    assert zlib.decompress(row["frames"]) == b"".join(frames.encode(r) for r in kept)


def test_a_real_run_compresses_to_a_fraction_of_its_frames() -> None:
    runs: list[RawRun] = []
    simulate(Scenario(buyers=20, tickets=5, strategy="none", think_ms=(0, 1), seed=3), None, runs)
    [raw] = runs
    stream = sum(len(frames.encode(r)) for r in raw.records if r.kind is not Kind.READY)
    blob = timeline.pack(raw)["frames"]
    assert len(blob) < stream / 2  # the stamps share their high bytes; measured ~1/3
    assert timeline.unpack({"run_id": 1, **timeline.pack(raw)}).records == [
        r for r in raw.records if r.kind is not Kind.READY
    ]


def execute(history: History, sql: str, *params: Any) -> None:
    """One statement on the history's file from a connection of its own, as another tool's."""
    conn = sqlite3.connect(history.path, isolation_level=None)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with History(tmp_path / "history.db") as h:
        yield h


def test_a_run_saved_with_its_raw_reads_back_its_timeline(history: History) -> None:
    session = history.begin("run", "none/json", {})
    with_raw = history.add(session, fake_result(), raw=made_up_run())
    without = history.add(session, fake_result())
    saved = history.timeline(with_raw)
    assert saved is not None
    assert saved.records == [r for r in made_up_run().records if r.kind is not Kind.READY]
    assert saved.gate_ns == T0 + 90
    assert history.timeline(without) is None  # saved without one
    assert history.timeline(with_raw + 100) is None  # no such run


def test_a_run_and_its_timeline_are_saved_together_or_not_at_all(history: History) -> None:
    session = history.begin("run", "none/json", {})
    history.add(session, fake_result(), raw=made_up_run())  # run 1: the table exists now
    # A timeline row left for run 2 makes the next timeline's insert fail.
    execute(history, "INSERT INTO timelines (run_id, format) VALUES (2, ?)", timeline.FORMAT)
    with pytest.raises(sqlite3.IntegrityError):
        history.add(session, fake_result(), raw=made_up_run())
    assert [run["id"] for run in history.session(session)[1]] == [1]  # run 2 rolled back


def corrupt(history: History, run_id: int, **columns: Any) -> None:
    sets = ", ".join(f"{name} = ?" for name in columns)
    execute(history, f"UPDATE timelines SET {sets} WHERE run_id = ?", *columns.values(), run_id)


# A frame whose kind is 9: no such kind.
_BAD_KIND = bytearray(frames.encode(Record(Kind.QUERY, 0)))
_BAD_KIND[2] = 9


@pytest.mark.parametrize(
    ("columns", "why"),
    [
        ({"frames": b"not zlib at all"}, "the frames do not decompress"),
        ({"frames": zlib.compress(b"x")[:-2]}, "the frames do not decompress"),
        ({"frames": None}, "the frames do not decompress"),
        ({"frames": zlib.compress(b"\x10\x00 half a frame")}, "bytes after the last whole"),
        ({"frames": zlib.compress(bytes(_BAD_KIND))}, "a frame does not decode"),
        ({"format": "frames-2"}, "format 'frames-2'; this booking reads 'frames-1'"),
        ({"gate_ns": "soon"}, "gate_ns is 'soon', not whole nanoseconds"),
    ],
)
def test_an_unreadable_timeline_is_a_booking_error(
    history: History, columns: dict[str, Any], why: str
) -> None:
    run_id = history.add(history.begin("run", "none/json", {}), fake_result(), raw=made_up_run())
    corrupt(history, run_id, **columns)
    with pytest.raises(BookingError) as caught:
        history.timeline(run_id)
    message = str(caught.value)
    assert message.startswith(f"run {run_id}: its timeline is unreadable (")
    assert why in message
    assert "\n" not in message


def test_run_cells_tells_on_run_of_exactly_the_runs_on_result_is_told_of(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second run is interrupted before it proved anything: not kept, by either hook."""
    calls: list[int] = []

    def fake(scenario: Scenario, notes: Any = None, runs: list[RawRun] | None = None) -> Any:
        calls.append(1)
        assert runs is not None  # on_run given: the raw run is collected
        runs.append(RawRun(records=[Record(Kind.QUERY, len(calls))], gate_ns=len(calls)))
        return fake_result(scenario, interrupted=len(calls) == 2, verdict="INTERRUPTED")

    monkeypatch.setattr(driver, "simulate", fake)
    results: list[Any] = []
    raws: list[RawRun] = []
    cell = Cell("none", "json")
    driver.run_cells(
        [(cell, Scenario(strategy="none"))],
        repeat=3,
        seed=1,
        on_result=lambda c, s, r: results.append(r),
        on_run=lambda c, s, r, raw: raws.append(raw),
    )
    assert len(calls) == 2  # the interruption ends the runs
    assert len(results) == len(raws) == 1
    assert raws[0].gate_ns == 1 and raws[0].records == [Record(Kind.QUERY, 1)]


# --- through the command line ------------------------------------------------------------------


def cli(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args), prog_name="booking")
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def saved_timelines(db: Path, session: int) -> list[RawRun | None]:
    with History(db, create=False) as history:
        _, runs = history.session(session)
        return [history.timeline(run["id"]) for run in runs]


def test_run_save_keeps_one_attempt_per_buyer(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    cli("run", "--buyers", "6", "--tickets", "3", "--strategy", "none", "--save", "--db", str(db))
    [saved] = saved_timelines(db, 1)
    assert saved is not None
    attempts = Counter(r.buyer for r in saved.records if r.kind is Kind.ATTEMPT)
    assert attempts == dict.fromkeys(range(6), 1)
    assert Kind.READY not in {r.kind for r in saved.records}
    assert 0 < saved.started_ns < saved.gate_ns < saved.finished_ns
    assert saved.stopped_ns == 0  # the run ended by itself


def test_compare_save_keeps_a_timeline_per_run(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    cells = ["--strategies", "none,lock", "--stores", "json", "--buyers", "3", "--repeat", "2"]
    cli("compare", *cells, "--format", "json", "--save", "--db", str(db))
    saved = saved_timelines(db, 1)
    assert len(saved) == 4
    for raw in saved:
        assert raw is not None
        assert sorted(r.buyer for r in raw.records if r.kind is Kind.ATTEMPT) == [0, 1, 2]
    assert len({raw.gate_ns for raw in saved if raw is not None}) == 4  # four runs, not one


def test_scenario_save_keeps_a_timeline_per_run(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('name = "grid"\nbuyers = [2, 3]\nstrategy = "lock"\nrepeat = 1\n')
    db = tmp_path / "h.db"
    cli("scenario", "run", str(path), "--format", "json", "--save", "--db", str(db))
    saved = saved_timelines(db, 1)
    counts = [
        len([r for r in raw.records if r.kind is Kind.ATTEMPT]) if raw else None for raw in saved
    ]
    assert counts == [2, 3]


def tables_of(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def test_an_old_history_has_no_timelines_and_still_lists_and_shows(old_db: Path) -> None:
    assert "timelines" not in tables_of(old_db)
    assert "none/json" in cli("history", "--db", str(old_db)).stdout
    assert "LOST_UPDATES" in cli("history", "show", "1", "--db", str(old_db)).stdout
    with History(old_db, create=False) as history:
        run_ids = [run["id"] for run in history.session(1)[1]]
        assert run_ids
        assert [history.timeline(run_id) for run_id in run_ids] == [None] * len(run_ids)
    assert "timelines" not in tables_of(old_db)  # reading made nothing


def test_an_old_history_gains_timelines_for_new_runs_only(old_db: Path) -> None:
    with History(old_db) as history:
        session = history.begin("run", "none/json", {})
        new = history.add(session, fake_result(), raw=made_up_run())
        saved = history.timeline(new)
        assert saved is not None and saved.gate_ns == T0 + 90
        old = history.session(1)[1][0]["id"]
        assert history.timeline(old) is None
    listing = cli("history", "--db", str(old_db)).stdout.splitlines()[3:]
    assert [line.split()[0] for line in listing] == ["4", "3", "2", "1"]
