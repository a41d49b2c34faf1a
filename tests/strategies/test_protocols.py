"""atomic, optimistic and deferred: safe where they claim it, and their lessons forced.

A race is forced with a wide think (every buyer reads within a few ms of the gate, then
thinks 400 ms), so the order of the writes is fixed by the think, not by luck.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from booking import Scenario, simulate
from booking.engine.attempt import Recorder
from booking.engine.frames import NO_VALUE
from booking.engine.reports import Signals
from booking.judge.result import Result
from tests.helpers import no_children_left, run_cli

WIDE = (400.0, 400.0)  # ms: every read happens before any write, on a loaded machine too


def race(strategy: str, store: str, buyers: int = 5, tickets: int = 10, **more: object) -> Result:
    return simulate(
        Scenario(
            buyers=buyers, tickets=tickets, strategy=strategy, store=store, think_ms=WIDE,
            seed=1, **more,  # type: ignore[arg-type]
        )
    )  # fmt: skip


# --- optimistic --------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_optimistic_counts_the_conflicts_it_forces_and_who_gave_up(store: str) -> None:
    # Five buyers read 10 and think together: the first compare-and-set wins, the other
    # four find the version changed. With no retry, those four give up.
    result = race("optimistic", store, retries=0)
    assert result.verdict == "SAFE", result.explanation
    assert (result.sold, result.remaining) == (1, 9)
    assert (result.conflicts, result.retries, result.gave_up) == (4, 0, 4)
    assert result.max_retries == 0
    assert result.max_inside == 5  # all inside their window at once: allowed, and safe
    story = " ".join(result.explanation)
    assert "4 conflicts" in story and "4 buyers gave up at their first conflict" in story
    assert "while 9 tickets were still unsold, sales the design lost" in story
    assert "4 gave up after conflicts; 9 left." in result.explanation[0]
    assert "safety came not from mutual exclusion" in story


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_each_retry_rereads_and_one_more_buyer_wins_each_round(store: str) -> None:
    # Round 1: 1 of 5 wins, 4 conflict. Round 2 (their one retry): 1 of 4 wins, 3 conflict.
    result = race("optimistic", store, retries=1)
    assert (result.sold, result.remaining) == (2, 8)
    assert (result.conflicts, result.retries, result.gave_up) == (7, 4, 3)
    assert result.oversold == result.lost_updates == result.errors == 0


def test_with_more_attempts_gave_up_counts_attempts_and_the_arithmetic_holds() -> None:
    # Two attempts a buyer, no retry: every conflict is an attempt given up.
    result = race("optimistic", "sqlite", retries=0, attempts=2)
    assert result.conflicts == result.retries + result.gave_up
    assert result.retries == 0
    assert result.attempts == result.sold + result.refused + result.gave_up + result.errors


def test_a_gave_up_attempt_is_timed_from_its_first_try() -> None:
    # Two tries of a 150 ms think each: a buyer that gave up waited through both.
    result = race("optimistic", "sqlite", retries=1)
    assert result.latency_ms["max"] >= 2 * WIDE[0]


def test_the_json_version_goes_up_with_every_sale(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"count": 10, "venue": "hall"}')
    result = simulate(
        Scenario(buyers=4, strategy="optimistic", path=path, think_ms=(0, 1), seed=2, retries=10)
    )
    assert result.verdict == "SAFE"
    doc = json.loads(path.read_text())
    assert doc == {"count": 6, "venue": "hall", "version": 4}


# --- atomic ------------------------------------------------------------------------------------


def test_atomic_never_oversells_a_wide_window_and_says_why() -> None:
    result = race("atomic", "sqlite", buyers=12, tickets=5)
    assert result.verdict == "SAFE", result.explanation
    assert (result.sold, result.remaining, result.refused) == (5, 0, 7)
    assert result.oversold == result.lost_updates == 0
    assert result.protocol == "conditional"
    assert not result.lock_wait_ms  # no guard, so no wait for one is claimed
    assert result.steps == ["think", "conditional update"]  # no read step of its own


def test_an_atomic_attempt_reads_inside_its_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Signals, "deferring", False)  # update() defers a stop: undo it
    # The record says there was no separate read step: no read stamp; the count the
    # statement decremented is known from what it returned.
    steps = Recorder(0, 0, 0.0, events_fd=-1, fault=None)
    assert steps.update(lambda: 6, None) == 6
    assert (steps.t_read, steps.read_value, steps.written_value) == (0, 7, 6)
    assert 0 < steps.t_write <= steps.t_left
    sold_out = Recorder(0, 0, 0.0, events_fd=-1, fault=None)
    assert sold_out.update(lambda: None, None) is None
    assert (sold_out.read_value, sold_out.written_value) == (NO_VALUE, NO_VALUE)


# --- deferred ----------------------------------------------------------------------------------


def test_deferred_fails_the_stale_upgrades_and_never_oversells() -> None:
    # All five read inside BEGIN DEFERRED; the first write commits; the other four hold a
    # stale snapshot (or meet the writer's lock) and SQLite refuses them at once.
    result = race("deferred", "sqlite")
    assert result.verdict == "ERRORS"
    assert (result.sold, result.remaining) == (1, 9)
    assert result.busy == result.errors == 4
    assert result.oversold == result.lost_updates == 0
    story = " ".join(result.explanation)
    assert "Under BEGIN DEFERRED" in story and "Nothing was oversold" in story
    assert "BEGIN IMMEDIATE" in story


def test_deferred_never_oversells_over_many_runs() -> None:
    for seed in range(10):
        result = simulate(
            Scenario(buyers=30, tickets=10, strategy="deferred", think_ms=(0, 2), seed=seed)
        )
        assert result.oversold == result.lost_updates == 0, result.explanation
        assert result.sold == 10 - (result.remaining or 0)
        assert result.verdict in ("SAFE", "ERRORS")
    assert no_children_left()


# --- faults and options, per protocol -----------------------------------------------------------


def test_kill_holder_is_refused_where_nothing_is_held() -> None:
    result = run_cli("--strategy", "atomic", "--kill-holder", "1")
    assert result.exit_code == 2
    assert "--kill-holder does not apply to --strategy atomic" in result.stderr
    assert "--kill-writer" in result.stderr


def test_a_killed_atomic_writer_is_rolled_back() -> None:
    result = simulate(
        Scenario(buyers=6, tickets=10, strategy="atomic", think_ms=(0, 1), seed=3, kill_writer=1)
    )
    assert result.killed == 1
    assert result.oversold == result.lost_updates == 0
    assert (result.sold, result.remaining) == (5, 5)


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_an_optimistic_buyer_killed_before_its_swap_stops_no_one(store: str) -> None:
    result = simulate(
        Scenario(
            buyers=6, tickets=10, strategy="optimistic", store=store, think_ms=(0, 1), seed=3,
            kill_holder=1, retries=10,
        )
    )  # fmt: skip
    assert result.killed == 1
    assert result.verdict == "SAFE", result.explanation
    assert (result.sold, result.remaining) == (5, 5)
    assert any("between its read and its compare-and-set" in line for line in result.explanation)


def test_an_optimistic_json_writer_killed_under_its_short_lock_frees_it() -> None:
    result = simulate(
        Scenario(
            buyers=6, tickets=10, strategy="optimistic", store="json", think_ms=(0, 1), seed=3,
            kill_writer=1, retries=10, timeout_s=10,
        )
    )  # fmt: skip
    assert result.killed == 1
    assert result.verdict == "SAFE", result.explanation  # the kernel freed its flock
    assert (result.sold, result.remaining) == (5, 5)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--strategy", "lock", "--retries", "2"],
            "--retries only applies to --strategy optimistic",
        ),
        (["--strategy", "optimistic", "--retries", "-1"], "retries must be between 0 and 1,000"),
        (
            ["--strategy", "atomic", "--store", "json"],
            'strategy "atomic" does not work on the json',
        ),
        (["--strategy", "deferred", "--store", "json"], "it needs sqlite"),
    ],
)
def test_bad_protocol_options_are_one_line_and_exit_2(args: list[str], line: str) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    assert line in result.stderr


def test_the_record_carries_the_new_keys() -> None:
    result = run_cli("--strategy", "optimistic", "--store", "sqlite", "--buyers", "5", "--json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["protocol"] == "compare-and-set"
    assert record["max_retries"] == 3
    # One attempt a buyer: every conflict but a buyer's last was retried.
    assert record["retries"] == record["conflicts"] - record["gave_up"]


def test_compare_refuses_retries_that_no_cell_would_use() -> None:
    from typer.testing import CliRunner

    from booking.cli.app import app

    result = CliRunner().invoke(app, ["compare", "--strategies", "lock", "--retries", "2"])
    assert result.exit_code == 2
    assert "--retries only applies to --strategies that include optimistic" in result.stderr


def test_the_history_keeps_retries_only_where_they_applied(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from booking.cli.app import app

    db = str(tmp_path / "h.db")
    runner = CliRunner()
    for args in (["--strategy", "optimistic", "--retries", "5"], ["--strategy", "atomic"]):
        made = runner.invoke(app, ["run", "--buyers", "4", *args, "--save", "--db", db])
        assert made.exit_code == 0, made.stderr
    shown = [
        json.loads(runner.invoke(app, ["history", "show", n, "--db", db, "--json"]).stdout)
        for n in ("1", "2")
    ]
    assert shown[0]["session"]["params"]["retries"] == 5
    assert "retries" not in shown[1]["session"]["params"]
    assert shown[0]["runs"][0]["max_retries"] == 5


def test_a_version_that_is_not_ours_is_refused_and_left_alone(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "v.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE stock (id INTEGER PRIMARY KEY, count INTEGER, version TEXT)")
        conn.execute("INSERT INTO stock VALUES (1, 10, 'abc')")
    conn.close()
    doc = tmp_path / "v.json"
    doc.write_text('{"count": 10, "version": "1.0"}')
    for path, line in (
        (db, "the stock table's version column must hold a whole number"),
        (doc, '"version" must be a whole number for the optimistic strategy'),
    ):
        before = path.read_bytes()
        result = run_cli("--strategy", "optimistic", "--path", str(path))
        assert result.exit_code == 2
        assert line in result.stderr
        assert path.read_bytes() == before


# --- a guard that holds nothing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "manager_lock"), [("none", True), ("manager", False), ("lock", True)]
)
def test_a_lock_wait_is_measured_only_where_a_guard_keeps_buyers_out(
    strategy: str, manager_lock: bool
) -> None:
    result = race(strategy, "json", buyers=3, manager_lock=manager_lock)
    if strategy == "lock":
        assert set(result.lock_wait_ms) == {"p50", "p95", "p99", "max"}
        assert result.steps[0] == "acquire"
    else:  # none's guard is a no-op, manager's without its lock holds nothing
        assert result.lock_wait_ms == {} and result.handoff_ms == {}
    if strategy == "none":
        assert result.steps == ["read", "think", "write"]  # nothing acquired or released
