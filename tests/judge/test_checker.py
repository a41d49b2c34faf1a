"""Pure unit tests of booking.stats and booking.checker on hand-built records."""

from __future__ import annotations

import pytest

from booking.engine.frames import NO_VALUE, Failure, Kind, Outcome, Record
from booking.judge.checker import Judgement, RunFacts, handoff_gaps_ms, judge, receipts
from booking.judge.stats import latency_summary, max_overlap, percentile

GATE = 1000
MS = 1_000_000

# --- stats.percentile ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4], 0, 1),
        ([1, 2, 3, 4], 100, 4),
        ([1, 2, 3, 4], 25, 1.75),
        ([1, 2, 3, 4], 75, 3.25),
        ([10, 20, 30, 40, 50], 50, 30),
        ([10, 20, 30, 40, 50], 90, 46),
        ([0, 100], 95, 95),
        ([7], 0, 7),
        ([7], 50, 7),
        ([7], 100, 7),
    ],
)
def test_percentile_known_values(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([], 0) == 0.0
    assert percentile([], 100) == 0.0


@pytest.mark.parametrize("q", [-0.1, 100.5, -50, 1000, float("nan")])
def test_percentile_outside_0_100_raises(q: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1, 2, 3], q)


# --- stats.latency_summary -------------------------------------------------------------------


def test_latency_summary_keys_and_values() -> None:
    summary = latency_summary(iter([4.0, 1.0, 3.0, 2.0]))  # any iterable, any order
    assert list(summary) == ["p50", "p95", "p99", "max"]
    assert summary == {"p50": 2.5, "p95": 3.85, "p99": 3.97, "max": 4.0}


def test_latency_summary_rounds_to_microseconds() -> None:
    assert latency_summary([1.23456, 1.23456]) == {
        "p50": 1.235,
        "p95": 1.235,
        "p99": 1.235,
        "max": 1.235,
    }


def test_latency_summary_of_nothing() -> None:
    assert latency_summary([]) == {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}


def test_latency_summary_of_a_hundred_values() -> None:
    summary = latency_summary(float(v) for v in range(1, 101))
    assert summary == {"p50": 50.5, "p95": 95.05, "p99": 99.01, "max": 100.0}


# --- stats.max_overlap -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ([], 0),
        ([(0, 5)], 1),
        ([(0, 5), (10, 15)], 1),
        ([(10, 15), (0, 5)], 1),
        ([(0, 5), (5, 9)], 1),  # half-open: [0,5) and [5,9) never share an instant
        ([(5, 9), (0, 5), (9, 12)], 1),
        ([(0, 5), (4, 9)], 2),
        ([(0, 10), (2, 8), (3, 4)], 3),  # nested
        ([(0, 4), (2, 6), (5, 9)], 2),  # a chain: never three at once
        ([(0, 10), (1, 2), (3, 4), (5, 6)], 2),
        ([(0, 10), (0, 10), (0, 10)], 3),
        ([(0, 10), (10, 20), (10, 20), (5, 15)], 3),
        ([(3, 3)], 0),  # empty window contains no instant
        ([(0, 10), (5, 5), (5, 8)], 2),
    ],
)
def test_max_overlap(windows: list[tuple[int, int]], expected: int) -> None:
    assert max_overlap(windows) == expected


# --- checker: hand-built records -------------------------------------------------------------


def step(
    buyer: int,
    outcome: Outcome,
    read: int = NO_VALUE,
    *,
    at: int,
    window: int = 400,
    took: int = 2 * MS,
    index: int = 0,
    failure: Failure = Failure.NONE,
    message: str = "",
) -> Record:
    """An ATTEMPT that begins at `at`, reads at at+200, leaves the window at at+window and
    ends at at+took. A BOUGHT one writes read-1 at at+300."""
    bought = outcome is Outcome.BOUGHT
    return Record(
        Kind.ATTEMPT,
        buyer,
        index,
        outcome,
        failure,
        read,
        read - 1 if bought else NO_VALUE,
        t_begin=at,
        t_acquired=at + 100,
        t_read=at + 200,
        t_write=at + 300 if bought else 0,
        t_left=at + window,
        t_end=at + took,
        message=message,
    )


def facts(
    records: list[Record],
    *,
    tickets: int,
    remaining: int | None,
    strategy: str = "lock",
    buyers: int = 10,
    store_problem: str = "",
    timed_out: bool = False,
    interrupted: bool = False,
    exit_codes: dict[int, int] | None = None,
    finished_ns: int = GATE + 3000 * MS,
    last_progress_ns: int = GATE + 1500 * MS,
) -> RunFacts:
    return RunFacts(
        strategy=strategy,
        tickets=tickets,
        buyers=buyers,
        records=records,
        remaining=remaining,
        store_problem=store_problem,
        gate_ns=GATE,
        started_ns=0,
        finished_ns=finished_ns,
        last_progress_ns=last_progress_ns,
        timed_out=timed_out,
        interrupted=interrupted,
        timeout_s=30.0,
        exit_codes=exit_codes if exit_codes is not None else {},
    )


def serialised_records() -> list[Record]:
    """Ten purchases one after another reading 10..1, then five buyers told sold out;
    the last attempt ends exactly 0.5 s after the gate."""
    records = [
        step(b, Outcome.BOUGHT, 11 - b, at=GATE + b * 10 * MS, took=2 * MS) for b in range(1, 11)
    ]
    records += [
        step(b, Outcome.SOLD_OUT, 0, at=GATE + b * 10 * MS, took=1 * MS) for b in range(11, 15)
    ]
    records.append(step(15, Outcome.SOLD_OUT, 0, at=GATE + 499 * MS, took=1 * MS))
    return records


def test_serialised_run_is_safe() -> None:
    records = serialised_records()
    result = judge(
        facts(records, tickets=10, remaining=0, exit_codes=dict.fromkeys(range(1, 16), 0))
    )
    assert result.verdict == "SAFE"
    assert (result.sold, result.refused, result.attempts) == (10, 5, 15)
    assert (result.oversold, result.lost_updates, result.external_sales) == (0, 0, 0)
    assert (result.errors, result.failed_buyers, result.torn_reads) == (0, 0, 0)
    assert result.max_inside == 1
    assert result.wall_s == 0.5
    assert result.throughput == 30.0  # 15 attempts / 0.5 s
    assert result.startup_s == 0.000001
    assert result.latency_ms == {"p50": 2.0, "p95": 2.0, "p99": 2.0, "max": 2.0}
    assert result.explanation == [
        "10 buyers bought 10 of 10 tickets; 5 attempts told sold out; 0 left.",
        "At most 1 buyer was inside the read -> write window at a time: "
        "the lock strategy serialised every purchase.",
    ]


def test_serialised_run_under_none_says_the_race_had_no_chance() -> None:
    result = judge(facts(serialised_records(), tickets=10, remaining=0, strategy="none"))
    assert result.verdict == "SAFE"
    assert result.explanation[1].startswith("No two purchases overlapped")


def oversold_records() -> list[Record]:
    """Five buyers all read 3 within 400 ns and hold their windows for 1 ms: all write 2."""
    return [
        step(b, Outcome.BOUGHT, 3, at=GATE + b * 100, window=1 * MS, took=2 * MS)
        for b in (4, 2, 5, 1, 3)
    ]


def test_oversold_run() -> None:
    result = judge(facts(oversold_records(), tickets=3, remaining=2, strategy="none", buyers=5))
    assert result.verdict == "OVERSOLD"
    assert (result.sold, result.oversold, result.lost_updates) == (5, 2, 4)
    assert result.external_sales == 0
    assert result.max_inside == 5
    assert result.explanation[0] == (
        "5 buyers hold receipts for 3 tickets: 2 tickets oversold, 4 sales lost."
    )
    assert result.explanation[1].startswith(
        "Up to 5 buyers were inside the read -> write window at once."
    )
    # The first two readers by t_read are buyers 1 and 2.
    assert "buyer 1 and buyer 2 both read 3 and both wrote 2" in result.explanation[1]
    assert any("both read 3" in line for line in result.explanation)


def test_oversold_beats_lost_updates_and_errors() -> None:
    records = [
        *oversold_records(),
        Record(Kind.QUERY, 9, 0, Outcome.ERROR, Failure.OTHER, message="boom"),
    ]
    result = judge(facts(records, tickets=3, remaining=2, strategy="none"))
    assert result.verdict == "OVERSOLD"
    assert result.errors == 1


def lost_update_records() -> list[Record]:
    """Buyers 1 and 2 both read 10 and both write 9; then buyer 3 reads 9 and writes 8."""
    return [
        step(1, Outcome.BOUGHT, 10, at=GATE, window=5 * MS, took=6 * MS),
        step(2, Outcome.BOUGHT, 10, at=GATE + MS, window=5 * MS, took=6 * MS),
        step(3, Outcome.BOUGHT, 9, at=GATE + 20 * MS, window=MS, took=2 * MS),
    ]


def test_lost_update_without_oversell() -> None:
    result = judge(facts(lost_update_records(), tickets=10, remaining=8, strategy="none"))
    assert result.verdict == "LOST_UPDATES"
    assert (result.sold, result.oversold, result.lost_updates) == (3, 0, 1)
    assert result.max_inside == 2
    assert result.explanation[0] == (
        "3 receipts for 10 tickets, but the store went down by only 2: 1 sale lost "
        "(their decrement was overwritten)."
    )
    assert "buyer 1 and buyer 2 both read 10 and both wrote 9" in result.explanation[1]


def test_lost_updates_beat_errors() -> None:
    records = [*lost_update_records(), step(4, Outcome.ERROR, at=GATE, failure=Failure.BUSY)]
    result = judge(facts(records, tickets=10, remaining=8, strategy="none"))
    assert result.verdict == "LOST_UPDATES"
    assert (result.errors, result.busy) == (1, 1)


def test_torn_read_query_is_an_error() -> None:
    records = [
        Record(
            Kind.QUERY,
            2,
            0,
            Outcome.ERROR,
            Failure.TORN_READ,
            t_begin=GATE,
            t_read=GATE,
            t_end=GATE + 100,
            message="torn read: read 0 bytes that are not a whole JSON document",
        ),
        step(1, Outcome.BOUGHT, 10, at=GATE),
    ]
    result = judge(facts(records, tickets=10, remaining=9))
    assert result.verdict == "ERRORS"
    assert (result.errors, result.torn_reads) == (1, 1)
    assert (result.lock_timeouts, result.busy, result.failed_buyers) == (0, 0, 0)
    assert (result.sold, result.attempts, result.lost_updates) == (1, 1, 0)
    line = result.explanation[-1]
    assert line.startswith(
        "1 operation failed (all in the unguarded look-ups before buying, the seeds' "
        "search()): 1 torn read"
    )
    assert line.endswith("First: torn read: read 0 bytes that are not a whole JSON document")


def test_each_kind_of_failed_attempt_is_counted() -> None:
    records = [
        step(1, Outcome.ERROR, at=GATE, failure=Failure.LOCK_TIMEOUT, message="lock wait"),
        step(2, Outcome.ERROR, at=GATE, failure=Failure.LOCK_TIMEOUT),
        step(3, Outcome.ERROR, at=GATE, failure=Failure.BUSY),
        step(4, Outcome.ERROR, at=GATE, failure=Failure.OTHER),
        step(5, Outcome.BOUGHT, 10, at=GATE + 10 * MS),
    ]
    result = judge(facts(records, tickets=10, remaining=9))
    assert result.verdict == "ERRORS"
    assert (result.errors, result.attempts, result.sold) == (4, 5, 1)
    assert (result.lock_timeouts, result.busy, result.torn_reads) == (2, 1, 0)
    line = result.explanation[-1]
    assert line.startswith("4 operations failed: ")
    assert "1 database-busy error" in line
    assert "2 lock waits that timed out" in line
    assert "1 other error" in line
    assert line.endswith(". First: lock wait")


def test_unreadable_store_is_corrupt() -> None:
    result = judge(
        facts(
            oversold_records(),
            tickets=3,
            remaining=None,
            store_problem="s.json: not valid JSON",
        )
    )
    assert result.verdict == "CORRUPT"  # above OVERSOLD
    assert (result.sold, result.oversold, result.lost_updates, result.external_sales) == (
        5,
        2,
        0,
        0,
    )
    assert result.explanation[-1] == (
        "The store could not be read after the run: s.json: not valid JSON"
    )


def test_timeout_is_a_deadlock_whatever_else_went_wrong() -> None:
    result = judge(
        facts(
            oversold_records(),
            tickets=3,
            remaining=None,
            timed_out=True,
            exit_codes={1: 0, 2: -15, 3: 3},
        )
    )
    assert result.verdict == "DEADLOCK"
    assert result.failed_buyers == 0
    assert any(
        line.startswith(
            "The run did not finish within its 30 s timeout: 2 buyers had to be stopped; "
            "nothing had been reported for 1.5 s."
        )
        for line in result.explanation
    )


def test_timeout_beats_a_consistent_run() -> None:
    result = judge(facts(serialised_records(), tickets=10, remaining=0, timed_out=True))
    assert result.verdict == "DEADLOCK"


def test_external_sales_are_not_lost_updates() -> None:
    records = [
        step(1, Outcome.BOUGHT, 10, at=GATE),
        step(2, Outcome.BOUGHT, 9, at=GATE + 10 * MS),
    ]
    result = judge(facts(records, tickets=10, remaining=5))
    assert (result.sold, result.external_sales, result.lost_updates) == (2, 3, 0)
    assert result.verdict == "INTERFERED"  # lock coordinates one run: not SAFE (issue 10)
    assert result.explanation[1] == (
        "Another process changed this store during the run: it went down by 5 while this "
        "run sold 2; the store held counts this run never wrote (5)."
    )


def test_a_store_that_went_up_loses_no_sales_that_were_never_made() -> None:
    result = judge(facts([], tickets=10, remaining=12))
    assert result.sold == 0
    assert result.lost_updates == 0


def test_no_records_at_all() -> None:
    result = judge(facts([], tickets=10, remaining=10))
    assert result.verdict == "SAFE"
    assert (result.sold, result.attempts, result.max_inside) == (0, 0, 0)
    assert (result.wall_s, result.throughput) == (0.0, 0.0)
    assert result.latency_ms == {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}


def judged_with(
    extra: list[Record],
    exit_codes: dict[int, int],
    *,
    timed_out: bool = False,
    interrupted: bool = False,
) -> Judgement:
    records = [step(1, Outcome.BOUGHT, 10, at=GATE), *extra]
    return judge(
        facts(
            records,
            tickets=10,
            remaining=9,
            exit_codes=exit_codes,
            timed_out=timed_out,
            interrupted=interrupted,
        )
    )


def test_clean_exit_codes_are_not_failures() -> None:
    result = judged_with([], {1: 0, 2: 3})  # 3: stopped by the parent
    assert (result.failed_buyers, result.errors, result.verdict) == (0, 0, "SAFE")


@pytest.mark.parametrize("code", [1, 2, 70, -9, -15])
def test_a_bad_exit_code_is_a_failed_buyer(code: int) -> None:
    result = judged_with([], {1: 0, 2: code})
    assert (result.failed_buyers, result.errors, result.verdict) == (1, 1, "ERRORS")
    assert result.explanation[-1] == "1 buyer failed outside a purchase"


def test_a_failed_record_is_a_failed_buyer() -> None:
    failed = Record(Kind.FAILED, 4, message="StoreError: no such store")
    result = judged_with([failed], {1: 0, 4: 1})  # one buyer, counted once
    assert (result.failed_buyers, result.errors, result.verdict) == (1, 1, "ERRORS")
    assert result.explanation[-1] == (
        "1 buyer failed outside a purchase: StoreError: no such store"
    )


def test_failed_records_and_exit_codes_of_different_buyers_add_up() -> None:
    failed = Record(Kind.FAILED, 4, message="x")
    result = judged_with([failed], {1: 0, 4: 1, 5: 70})
    assert (result.failed_buyers, result.errors) == (2, 2)


def test_exit_codes_after_a_timeout_are_not_failures() -> None:
    result = judged_with([], {1: 0, 2: -15, 3: -9}, timed_out=True)
    assert (result.failed_buyers, result.errors, result.verdict) == (0, 0, "DEADLOCK")


def test_exit_codes_after_an_interrupt_are_not_failures() -> None:
    result = judged_with([], {1: 0, 2: -15, 3: 1}, interrupted=True)
    assert (result.failed_buyers, result.errors) == (0, 0)
    assert result.explanation[-1] == (
        "Interrupted: these are the numbers measured before the stop."
    )


def test_failed_records_still_count_after_an_interrupt() -> None:
    failed = Record(Kind.FAILED, 4, message="x")
    result = judged_with([failed], {1: 0, 2: -15, 4: 1}, interrupted=True)
    assert (result.failed_buyers, result.errors) == (1, 1)


# --- checker.receipts ------------------------------------------------------------------------


def test_receipts_are_the_buyers_of_bought_attempts() -> None:
    records = [
        Record(Kind.READY, 9, t_begin=GATE),
        Record(Kind.QUERY, 9, 0, Outcome.NONE, Failure.NONE, 10),
        step(1, Outcome.BOUGHT, 10, at=GATE),
        step(2, Outcome.SOLD_OUT, 0, at=GATE),
        step(3, Outcome.BOUGHT, 9, at=GATE),
        step(4, Outcome.ERROR, at=GATE, failure=Failure.BUSY),
        step(1, Outcome.BOUGHT, 8, at=GATE, index=1),
        Record(Kind.QUERY, 5, 0, Outcome.BOUGHT),  # not an attempt
        Record(Kind.FAILED, 6, message="x"),
    ]
    assert receipts(records) == [1, 3, 1]
    assert receipts([]) == []


def queued(buyer: int, begin: int, acquired: int, left: int) -> Record:
    return Record(
        Kind.ATTEMPT,
        buyer,
        0,
        Outcome.BOUGHT,
        Failure.NONE,
        5,
        4,
        t_begin=begin,
        t_acquired=acquired,
        t_read=acquired + 10,
        t_write=acquired + 20,
        t_left=left,
        t_end=left + 10,
    )


def test_handoff_counts_the_idle_guard_only_while_someone_waited() -> None:
    g = GATE
    records = [
        queued(0, begin=g, acquired=g, left=g + 1 * MS),
        queued(1, begin=g + 10, acquired=g + 3 * MS, left=g + 4 * MS),  # waited: 2 ms idle
        queued(2, begin=g + 20, acquired=g + 4 * MS + 500_000, left=g + 5 * MS),  # 0.5 ms
        queued(3, begin=g + 9 * MS, acquired=g + 9 * MS, left=g + 10 * MS),  # came later
    ]
    assert handoff_gaps_ms(records) == [2.0, 0.5]
    result = judge(facts(records, tickets=10, remaining=6))
    assert result.handoff_ms["p50"] == 1.25
    assert result.lock_wait_ms["max"] == pytest.approx(4.5, abs=1e-3)


def test_no_handoff_is_reported_when_windows_overlapped() -> None:
    result = judge(facts(oversold_records(), tickets=3, remaining=2, strategy="none"))
    assert result.max_inside > 1
    assert result.handoff_ms == {}


def test_retries_count_only_the_tries_that_began() -> None:
    from booking.judge.designs import retries_made

    def conflict(buyer: int) -> Record:
        return Record(Kind.CONFLICT, buyer, 0, t_begin=1, t_read=2, t_write=3, t_left=4, t_end=5)

    conflicts = [conflict(0), conflict(0), conflict(1), conflict(2), conflict(3)]
    ends = [
        Record(Kind.ATTEMPT, 0, 0, Outcome.BOUGHT, t_read=6),  # 2 conflicts, 2 retries
        Record(Kind.ATTEMPT, 1, 0, Outcome.GAVE_UP),  # its last conflict had no retry
        Record(Kind.CUT, 2, 0, Outcome.STOPPED, t_read=6),  # stopped during its retry
        Record(Kind.CUT, 3, 0, Outcome.STOPPED),  # stopped before its retry read
    ]
    assert retries_made(conflicts, ends) == 2 + 0 + 1 + 0
