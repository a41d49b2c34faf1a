"""Two runs on one store (issue 10, defect 1): a run notices another writer and is not
called SAFE unless the store shows the other was coordinated with it."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import filelock
import pytest

from booking import Scenario, simulate
from booking.engine.frames import Outcome, Record
from booking.judge.checker import RunFacts, judge
from booking.judge.interference import stray_counts
from booking.stores.sighting import Sighting, Writer
from booking.strategies.mp_lock import TimedLock
from tests.engine.test_runner import _wait_for_children
from tests.helpers import booking_process
from tests.judge.test_checker import GATE, MS, step

CTX = multiprocessing.get_context("fork")
WAIT_S = 60.0  # a bound for a hung test, never a measured time

# --- two real runs, their purchases interleaved on purpose -----------------------------------
#
# Each run has one buyer, and the test patches the `lock` guard (TimedLock) before forking the
# two runs, so the buyers of both inherit the patch. `side` says which run a process belongs
# to. Two choreographies:
# - take turns: run 0's purchase, then run 1's, then run 0's... (each reads the other's write)
# - lockstep: both read, then both write (every pair of purchases sells one ticket twice)

_side = {"n": -1}  # which run this process belongs to; "started": its buyer has begun


def _turns() -> Callable[[], None]:
    turns = [CTX.Semaphore(1), CTX.Semaphore(0)]
    both_marked = CTX.Barrier(2, timeout=WAIT_S)  # a buyer starts after its run's mark
    acquire, release = TimedLock.acquire, TimedLock.release

    def take_turn(self: TimedLock) -> bool:
        if not _side.get("started"):
            _side["started"] = 1
            both_marked.wait()
        assert turns[_side["n"]].acquire(timeout=WAIT_S), "the other run never took its turn"
        return acquire(self)

    def pass_turn(self: TimedLock) -> None:
        release(self)
        turns[1 - _side["n"]].release()

    TimedLock.acquire = take_turn  # type: ignore[method-assign]
    TimedLock.release = pass_turn  # type: ignore[method-assign]

    def undo() -> None:
        TimedLock.acquire, TimedLock.release = acquire, release  # type: ignore[method-assign]

    return undo


def _lockstep() -> Callable[[], None]:
    """Both buyers have read before either writes: patched into the store's write."""
    from booking.stores.json_store import JsonStock
    from booking.stores.sqlite_store import SqliteStock

    both_read = CTX.Barrier(2, timeout=WAIT_S)
    originals = {kind: kind.write for kind in (JsonStock, SqliteStock)}

    def patch(kind: Any) -> None:
        write = originals[kind]

        def after_both_read(self: Any, count: int) -> None:
            both_read.wait()
            write(self, count)

        kind.write = after_both_read

    for kind in originals:
        patch(kind)

    def undo() -> None:
        for kind, write in originals.items():
            kind.write = write  # type: ignore[method-assign]

    return undo


def _run(side: int, scenario: Scenario, out: Any) -> None:
    _side["n"] = side
    out.send(json.dumps(simulate(scenario).to_dict()))


def two_runs(path: Path, tickets: int, attempts: int, choreography: str) -> list[dict[str, Any]]:
    """Two `lock` runs of one buyer each, at once on `path`, interleaved as told."""
    undo = _turns() if choreography == "turns" else _lockstep()
    try:
        scenario = Scenario(
            buyers=1,
            tickets=tickets,
            strategy="lock",
            think_ms=(0.0, 0.0),
            attempts=attempts,
            seed=1,
            timeout_s=WAIT_S,
            path=path,
        )
        pipes = [CTX.Pipe(duplex=False) for _ in range(2)]
        procs = [
            CTX.Process(target=_run, args=(side, scenario, pipes[side][1])) for side in range(2)
        ]
        for proc in procs:
            proc.start()
        records = []
        for (recv, _), proc in zip(pipes, procs, strict=True):
            assert recv.poll(WAIT_S), "a run did not finish"
            records.append(json.loads(recv.recv()))
            proc.join()
        return records
    finally:
        undo()


@pytest.fixture(params=["json", "sqlite"])
def store_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / ("shared.json" if request.param == "json" else "shared.db")


def test_two_lock_runs_taking_turns_are_both_interfered(store_path: Path) -> None:
    records = two_runs(store_path, tickets=40, attempts=5, choreography="turns")
    for record in records:
        assert record["verdict"] == "INTERFERED", record["explanation"]
        assert record["interfered"] is True
        assert (record["sold"], record["oversold"]) == (5, 0)
        # The run that ends first may look before the other's last purchase: 9 or 10.
        drop = record["tickets"] - record["remaining"]
        assert drop in (9, 10)
        assert record["explanation"][1].startswith(
            f"Another process changed this store during the run: it went down by {drop} "
            "while this run sold 5; "
        )
        # The strategies that would have coordinated both runs, on this kind of store.
        others = (
            "transaction (SQLite's write lock)"
            if store_path.suffix == ".db"
            else "optimistic (a version under it)"
        )
        assert record["explanation"][2] == (
            "The lock strategy only coordinates the buyers of one run, so this result does "
            f"not show what it does alone: filelock (a lock file beside the store) and "
            f"{others} coordinate every run on the store."
        )
        assert len(record["other_runs"]) == 1  # the other run, by its id
    assert records[0]["other_runs"] != records[1]["other_runs"]
    if store_path.suffix == ".db":
        # Taking turns loses nothing: the ledger balances, but `lock` still did not coordinate.
        for record in records:
            assert record["other_sales"] in (4, 5)
            assert record["store_sales"] == 5 + record["other_sales"]
            assert record["store_oversold"] == 0


def test_two_lock_runs_in_lockstep_on_sqlite_count_the_oversell_across_runs(
    tmp_path: Path,
) -> None:
    store = tmp_path / "shared.db"
    records = two_runs(store, tickets=5, attempts=5, choreography="lockstep")
    conn = sqlite3.connect(store)
    try:
        assert conn.execute("SELECT count(*) FROM sales").fetchone() == (10,)
        assert conn.execute("SELECT count FROM stock").fetchone() == (0,)
    finally:
        conn.close()
    for record in records:
        # Each run's own receipts fit its stock: neither is OVERSOLD by itself, and each
        # saw only its own decrements (the other's writes wrote the very same counts).
        assert (record["sold"], record["tickets"], record["remaining"]) == (5, 5, 0)
        assert record["verdict"] == "INTERFERED", record["explanation"]
        assert (record["store_sales"], record["other_sales"], record["store_oversold"]) == (
            10,
            5,
            5,
        )
        assert (
            "Since this run started, the store's ledger holds 10 sales for the 5 tickets it "
            "held then: 5 tickets oversold across all runs on it; the count went down by "
            "only 5: 5 sales lost."
        ) in record["explanation"]


# --- two overlapping filelock runs: coordinated, so not accused -------------------------------


def test_two_filelock_runs_that_overlap_are_not_accused(store_path: Path) -> None:
    tickets = 40
    if store_path.suffix == ".json":
        store_path.write_text(f'{{"count": {tickets}}}')
    args = (
        "--path",
        str(store_path),
        "--tickets",
        str(tickets),
        "--strategy",
        "filelock",
        "--buyers",
        "5",
        "--attempts",
        "10",
        "--think",
        "1",
        "--json",
    )
    # Hold the store's lock until both runs have all their buyers waiting for it, so the
    # runs overlap by construction (as in test_runner).
    with filelock.FileLock(f"{store_path}.lock"):
        first, second = booking_process("run", *args), booking_process("run", *args)
        _wait_for_children(first.pid, 5)
        _wait_for_children(second.pid, 5)
    records = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=WAIT_S)
        assert proc.returncode == 0, err
        records.append(json.loads(out))
    assert records[0]["sold"] + records[1]["sold"] == tickets
    for record in records:
        assert record["verdict"] == "SAFE", record["explanation"]
        assert record["interfered"] is False
        told = [line for line in record["explanation"] if line.startswith("Another process")]
        if told:  # it saw the other run's sales: said truthfully, with no accusation
            assert any("none oversold" in line for line in record["explanation"])
        if store_path.suffix == ".db":
            assert record["store_sales"] in (None, record["tickets"])
            assert record["store_oversold"] in (None, 0)


# --- pure judgement of hand-built facts --------------------------------------------------------


def run_facts(
    records: list[Record],
    *,
    tickets: int,
    remaining: int | None,
    strategy: str = "lock",
    across_runs: bool = False,
    sighting: Sighting | None = None,
) -> RunFacts:
    return RunFacts(
        strategy=strategy,
        tickets=tickets,
        buyers=10,
        records=records,
        remaining=remaining,
        store_problem="",
        gate_ns=GATE,
        started_ns=0,
        finished_ns=GATE + 3000 * MS,
        last_progress_ns=GATE + 1500 * MS,
        timed_out=False,
        interrupted=False,
        timeout_s=30.0,
        exit_codes={},
        across_runs=across_runs,
        sighting=sighting,
    )


def bought(reads: list[int]) -> list[Record]:
    """One purchase per read value, one after another."""
    return [step(b, Outcome.BOUGHT, read, at=GATE + b * 10 * MS) for b, read in enumerate(reads)]


def test_alone_with_an_empty_sighting_nothing_changes() -> None:
    result = judge(run_facts(bought([10, 9, 8]), tickets=10, remaining=7, sighting=Sighting()))
    assert result.verdict == "SAFE"
    assert not result.interfered
    assert not any(line.startswith("Another process") for line in result.explanation)
    assert (result.other_sales, result.store_sales, result.store_oversold) == (None, None, None)


def test_a_json_file_written_by_another_lock_run_is_interference() -> None:
    sighting = Sighting(others=(Writer("20260101T000000-7", "lock", reads=3),))
    result = judge(run_facts(bought([10, 9, 8]), tickets=10, remaining=7, sighting=sighting))
    assert result.verdict == "INTERFERED"
    assert result.other_runs == ["20260101T000000-7"]
    assert result.explanation[1] == (
        "Another process changed this store during the run: it went down by 3 while this run "
        "sold 3; 3 of this run's reads found a file written by run 20260101T000000-7 (lock)."
    )


def test_the_ledger_counts_the_oversell_across_runs() -> None:
    sighting = Sighting(
        ledger=True, sales=51, ledger_count=0, others=(Writer("B", sales=21),), identity=True
    )
    result = judge(
        run_facts(bought(list(range(39, 9, -1))), tickets=39, remaining=0, sighting=sighting)
    )
    assert result.verdict == "INTERFERED"
    assert (result.store_sales, result.other_sales, result.store_oversold) == (51, 21, 12)
    assert (
        "Since this run started, the store's ledger holds 51 sales for the 39 tickets it held "
        "then: 12 tickets oversold across all runs on it; the count went down by only 39: "
        "12 sales lost."
    ) in result.explanation


def test_an_own_oversell_stays_oversold_and_the_interference_is_told() -> None:
    sighting = Sighting(others=(Writer("B", "lock", reads=1),))
    result = judge(run_facts(bought([3, 3, 2, 2, 1]), tickets=3, remaining=0, sighting=sighting))
    assert result.verdict == "OVERSOLD"
    assert result.interfered
    assert any(line.startswith("Another process changed") for line in result.explanation)


def test_interference_outranks_lost_updates_that_it_may_have_caused() -> None:
    sighting = Sighting(others=(Writer("B", "lock", reads=1),))
    result = judge(run_facts(bought([10, 9, 9]), tickets=10, remaining=8, sighting=sighting))
    assert result.lost_updates == 1
    assert result.verdict == "INTERFERED"
    assert result.explanation[-2] == (
        "The 1 sale lost may be the other process's doing: its writes and this run's may have "
        "overwritten each other."
    )


def test_filelock_with_writers_on_the_same_lock_file_is_safe() -> None:
    sighting = Sighting(others=(Writer("B", "filelock", same_lock=True, reads=4),))
    result = judge(
        run_facts(
            bought([10, 7, 5]),
            tickets=10,
            remaining=2,
            strategy="filelock",
            across_runs=True,
            sighting=sighting,
        )
    )
    assert result.verdict == "SAFE"
    assert not result.interfered
    assert result.explanation[2] == (
        "Every writer seen held the store's lock file too (filelock coordinates every run "
        "that uses it), so all sales were made one at a time: together they took 8 tickets "
        "off the count, none oversold."
    )


def test_filelock_with_a_writer_that_did_not_hold_its_lock_is_interfered() -> None:
    sighting = Sighting(
        others=(
            Writer("B", "filelock", same_lock=True, reads=1),
            Writer("C", "lock", reads=1),
        )
    )
    result = judge(
        run_facts(
            bought([10, 7]),
            tickets=10,
            remaining=5,
            strategy="filelock",
            across_runs=True,
            sighting=sighting,
        )
    )
    assert result.verdict == "INTERFERED"
    assert result.explanation[2] == (
        "filelock only coordinates runs that hold the store's lock file too; run C (lock) did "
        "not, so this run's purchases were not protected from it."
    )


def test_filelock_without_writer_tags_cannot_show_the_other_was_coordinated() -> None:
    result = judge(
        run_facts(
            bought([10, 7]),
            tickets=10,
            remaining=5,
            strategy="filelock",
            across_runs=True,
            sighting=Sighting(identity=False),
        )
    )
    assert result.verdict == "INTERFERED"
    assert result.explanation[2] == (
        "The store keeps no writer tags to say who that was: another filelock run on the same "
        "lock would have lost nothing, but this run cannot show it was one."
    )


@pytest.mark.parametrize(("sales", "count", "verdict"), [(8, 2, "SAFE"), (9, 2, "INTERFERED")])
def test_transaction_is_safe_exactly_when_the_ledger_balances(
    sales: int, count: int, verdict: str
) -> None:
    sighting = Sighting(
        ledger=True, sales=sales, ledger_count=count, others=(Writer("B", sales=sales - 3),)
    )
    result = judge(
        run_facts(
            bought([10, 7, 4]),
            tickets=10,
            remaining=count,
            strategy="transaction",
            across_runs=True,
            sighting=sighting,
        )
    )
    assert result.verdict == verdict
    if verdict == "SAFE":
        assert result.explanation[2] == (
            "transaction coordinates every run on the store, and the ledger agrees: since "
            "this run started it holds 8 sales for the 10 tickets the store held then, and the "
            "count went down by exactly that: none oversold, none lost."
        )


def test_a_reset_by_another_run_voids_an_oversell_by_receipts() -> None:
    sighting = Sighting(ledger=True, sales=5, ledger_count=1, resets=("B",))
    result = judge(run_facts(bought([3, 2, 1, 3, 2]), tickets=3, remaining=1, sighting=sighting))
    assert result.oversold == 2
    assert result.verdict == "INTERFERED"
    assert result.store_oversold is None  # no single stock to set the sales against
    assert (
        "A reset in the middle of a run gives the store a new stock, so this run's sales "
        "cannot all be set against the tickets it started with: its 5 receipts for 3 "
        "tickets are not proof of an oversell."
    ) in result.explanation


def test_a_manager_write_back_over_a_changed_store_is_interference() -> None:
    sighting = Sighting(overwritten=4)
    result = judge(
        run_facts(bought([10, 9]), tickets=10, remaining=8, strategy="manager", sighting=sighting)
    )
    assert result.verdict == "INTERFERED"
    assert (
        "while the stock was in the manager its count changed from 10 to 4"
        in (result.explanation[1])
    )


def test_stray_counts_see_foreign_values_but_not_a_lockstep_twin() -> None:
    # Another writer's 6 was read; the same counts written by a twin run are invisible.
    assert stray_counts(run_facts(bought([10, 9, 6]), tickets=10, remaining=5)) == [6]
    assert stray_counts(run_facts(bought([10, 9, 8]), tickets=10, remaining=7)) == []


def test_a_resets_table_of_another_shape_is_refused_untouched(tmp_path: Path) -> None:
    from tests.helpers import run_cli, sqlite_script

    store = tmp_path / "s.db"
    before = sqlite_script(
        store,
        "CREATE TABLE stock (id INTEGER PRIMARY KEY, count INTEGER)",
        "INSERT INTO stock VALUES (1, 5)",
        "CREATE TABLE resets (x)",
    )
    result = run_cli("--path", str(store), "--buyers", "2")
    assert result.exit_code == 2
    assert "the resets table needs columns id, reset_at, run, tickets" in result.stderr
    assert store.read_bytes() == before


def test_a_count_raised_by_someone_else_is_not_called_an_oversell() -> None:
    # Started at 2; someone restocked to 5 (a hand edit, another run's --reset the buyers
    # never saw as a reset): 4 receipts for "2 tickets" prove no oversell (found in review).
    result = judge(run_facts(bought([2, 1, 5, 4]), tickets=2, remaining=3, sighting=Sighting()))
    assert result.verdict == "INTERFERED"
    assert any("raised the count above the 2" in line for line in result.explanation)
    alone = judge(run_facts(bought([2, 1, 0, 0]), tickets=2, remaining=0, sighting=Sighting()))
    assert alone.verdict == "OVERSOLD"  # no count above the start: a real oversell


def test_a_loss_in_a_run_whose_purchases_never_overlapped_is_another_process() -> None:
    # transaction, and someone outside restocked by 1 through SQLite's own lock: three
    # sales, the count down by two. Serialised buyers cannot lose each other's updates, so
    # this is not LOST_UPDATES of the strategy (found in review).
    result = judge(run_facts(bought([10, 9, 8]), tickets=10, remaining=8, sighting=Sighting()))
    assert result.max_inside == 1
    assert result.verdict == "INTERFERED"
    assert any("every purchase of this run was made alone" in s for s in result.explanation)


def test_a_queue_sale_its_dead_seller_never_answered_is_its_own_not_another_process() -> None:
    # Three receipts, but the count went down by four and the ledger holds four sales of
    # this run alone: the seller sold once more and died before it could answer.
    ledger = Sighting(ledger=True, sales=4, ledger_count=6)
    facts = replace(
        run_facts(bought([10, 9, 8]), tickets=10, remaining=6, strategy="queue", sighting=ledger),
        design="seller",
    )
    result = judge(facts)
    assert result.verdict != "INTERFERED"
    assert not result.interfered
    assert any(
        "1 sale of this run reached the store but no buyer heard of it" in line
        for line in result.explanation
    )
    # Not when another run's sales could explain it: then it is interference, as before.
    shared = replace(facts, sighting=ledger._replace(others=(Writer("other", sales=1),)))
    assert judge(shared).verdict == "INTERFERED"
    # Nor for a design whose buyers write themselves.
    assert judge(replace(facts, design="guard", strategy="lock")).verdict == "INTERFERED"
    # A JSON store: told by its writer tags (every write seen was this run's), or by being
    # in a folder of this run's own; without either, it cannot be told.
    untold = replace(facts, sighting=Sighting(identity=False))
    assert judge(untold).verdict == "INTERFERED"
    assert judge(replace(untold, sighting=Sighting(identity=True))).verdict != "INTERFERED"
    assert judge(replace(untold, private_store=True)).verdict != "INTERFERED"
