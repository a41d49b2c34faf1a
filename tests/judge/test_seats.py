"""The seat judge: each key counted from known receipts and a known store."""

from __future__ import annotations

from booking.engine.frames import Failure, Kind, Outcome, Record
from booking.judge.seat_waits import deadlock_cycle
from booking.judge.seats import SeatFacts, judge_seats
from booking.seating import Shape

RUN = "run-1"
MS = 1_000_000


def receipt(buyer: int, seats: str, at: int = 0) -> Record:
    return Record(Kind.ATTEMPT, buyer, outcome=Outcome.BOUGHT, t_begin=at, t_end=at + MS,
                  seats=seats)  # fmt: skip


def mine(buyer: int) -> str:
    return f"{RUN}/{buyer}"


def facts(at_end: list[str | None] | None, at_start: list[str | None] | None = None) -> SeatFacts:
    shape = Shape(2, 3)
    return SeatFacts(shape, 2, "best", RUN, at_start or [None] * shape.size, at_end)


def test_a_clean_run_has_no_anomaly_and_maps_every_seat() -> None:
    end = [mine(1), mine(1), mine(2), mine(2), None, "other-run/4"]
    judged = judge_seats(
        facts(end, [None, None, None, None, None, "other-run/4"]),
        [receipt(1, "A1,A2"), receipt(2, "A3,B1")],
    )
    assert (judged.double_booked, judged.partial_orders, judged.lost_seats) == (0, 0, 0)
    assert judged.seat_map == ["S", "S", "S", "S", ".", "O"]
    assert judged.fights == [1, 1, 1, 1, 0, 0]
    assert (
        judged.lines[0]
        == "2 orders of 2 seats bought of 5 free seats (2x3 map, best picks); 1 free now."
    )


def test_two_receipts_for_one_seat_are_a_double_booking_and_a_partial_order() -> None:
    # Buyers 1 and 2 both sold A2; the store kept buyer 2's write.
    end = [mine(1), mine(2), mine(2), None, None, None]
    judged = judge_seats(facts(end), [receipt(1, "A1,A2"), receipt(2, "A2,A3")])
    assert judged.double_booked == 1
    assert judged.lost_seats == 1  # buyer 1's A2
    assert judged.partial_orders == 1  # buyer 1 holds A1 but not A2
    assert judged.seat_map[:3] == ["S", "D", "S"]
    assert judged.fights[1] == 2
    text = " ".join(judged.lines)
    assert "Seat A2 was sold to buyer 1 and buyer 2: both saw it free, both wrote it" in text
    assert "the store shows buyer 2" in text
    assert "buyer 1 paid for A1, A2 but holds only A1; A2 went to another buyer" in text


def test_a_stale_map_written_over_a_sale_loses_its_seats() -> None:
    # Buyer 1's write of an old map freed buyer 2's seats: their receipt names them.
    end = [mine(1), mine(1), None, None, None, None]
    judged = judge_seats(facts(end), [receipt(1, "A1,A2"), receipt(2, "A3,B1")])
    assert (judged.double_booked, judged.partial_orders, judged.lost_seats) == (0, 0, 2)
    assert judged.seat_map[2:4] == ["L", "L"]
    assert "buyer 2's receipt names A3, but the store shows it free" in " ".join(judged.lines)


def test_selling_a_seat_sold_before_the_run_is_a_double_booking() -> None:
    start = [None, "old-run/3", None, None, None, None]
    end = [mine(1), mine(1), None, None, None, None]
    judged = judge_seats(facts(end, start), [receipt(1, "A1,A2")])
    assert judged.double_booked == 1
    assert "Seat A2 was sold before this run and sold again to buyer 1" in " ".join(judged.lines)


def test_seats_held_without_a_receipt_and_seats_taken_by_another_run() -> None:
    end = [mine(5), None, "other-run/1", None, None, None]
    judged = judge_seats(facts(end), [])
    assert (judged.unreceipted, judged.taken_by_others) == (1, 1)
    assert judged.seat_map[:3] == ["U", ".", "O"]


def test_an_unreadable_store_still_counts_the_fights() -> None:
    judged = judge_seats(facts(None), [receipt(1, "A1,A2")])
    assert judged.seat_map == [] and judged.fights[:2] == [1, 1]


def wait(buyer: int, seats: str, held: int, *, timeout: bool = False, at: int = 0) -> Record:
    if timeout:
        return Record(Kind.ATTEMPT, buyer, outcome=Outcome.ERROR, failure=Failure.LOCK_TIMEOUT,
                      t_begin=at, t_end=at + 30_000 * MS, seats=seats, held=held)  # fmt: skip
    return Record(Kind.CUT, buyer, outcome=Outcome.STOPPED, t_begin=at, t_end=at + 5_000 * MS,
                  seats=seats, held=held)  # fmt: skip


def test_crossed_waits_are_a_deadlock_cycle_named_seat_by_seat() -> None:
    records = [wait(4, "A2,A1", 1), wait(9, "A1,A2", 1), wait(3, "B1,B2", 1)]
    cycle = deadlock_cycle(records, Shape(2, 3))
    assert sorted(cycle) == [(4, "A2", "A1"), (9, "A1", "A2")]
    line = judge_seats(facts([None] * 6), records).lines[-1]
    assert (
        "buyer 4 holds A2 and waits for A1" in line and "buyer 9 holds A1 and waits for A2" in line
    )


def test_waits_that_never_met_are_no_cycle() -> None:
    # Both timed out waiting for the other's seat, but one wait ended before the other began.
    records = [
        wait(4, "A2,A1", 1, timeout=True, at=0),
        wait(9, "A1,A2", 1, timeout=True, at=40_000 * MS),
    ]
    assert deadlock_cycle(records, Shape(2, 3)) == []
    assert deadlock_cycle([wait(4, "A2,A1", 1), wait(9, "A1,A3", 1)], Shape(2, 3)) == []


# --- the verdict of a seat run (judge/checker.py) ---------------------------------------


def seat_run(
    receipts: list[tuple[int, str]],
    end: list[str | None],
    start: list[str | None] | None = None,
    across_runs: bool = False,
) -> str:
    from dataclasses import replace

    from booking.judge.checker import judge
    from tests.judge.test_checker import GATE, facts, step

    records = [
        step(buyer, Outcome.BOUGHT, 6, at=GATE + n * 10 * MS)._replace(seats=seats)
        for n, (buyer, seats) in enumerate(receipts)
    ]
    free = sum(holder is None for holder in (start or [None] * 6))
    run = facts(records, tickets=free, remaining=sum(h is None for h in end), strategy="none")
    seat = SeatFacts(Shape(2, 3), 2, "best", RUN, start or [None] * 6, end)
    return judge(replace(run, seats=seat, across_runs=across_runs)).verdict


def test_the_verdict_names_the_seat_anomaly_first() -> None:
    clean = [mine(1), mine(1), mine(2), mine(2), None, None]
    assert seat_run([(1, "A1,A2"), (2, "A3,B1")], clean) == "SAFE"
    doubled = [mine(1), mine(2), mine(2), None, None, None]
    assert seat_run([(1, "A1,A2"), (2, "A2,A3")], doubled) == "DOUBLE_BOOKED"
    # Buyer 1's A2 went to a writer with no receipt (killed): a partial order, no double.
    partial = [mine(1), mine(5), None, None, None, None]
    assert seat_run([(1, "A1,A2")], partial) == "PARTIAL"
    lost = [mine(1), mine(1), None, None, None, None]
    assert seat_run([(1, "A1,A2"), (2, "A3,B1")], lost) == "LOST_UPDATES"
    # Another run sold A3 meanwhile. A guard both runs share (a lock file, the database's
    # own) kept them apart, and this run's orders are whole: said, no harm. A guard of
    # this run's alone kept nothing apart: its writes may have undone the other's sales.
    other = [mine(1), mine(1), "other-run/3", None, None, None]
    assert seat_run([(1, "A1,A2")], other, across_runs=True) == "SAFE"
    assert seat_run([(1, "A1,A2")], other) == "INTERFERED"
    # Another run holds a seat this run sold: the harm may be the other writer's doing.
    stolen = [mine(1), "other-run/3", None, None, None, None]
    assert seat_run([(1, "A1,A2")], stolen) == "INTERFERED"


def test_waits_queued_behind_a_cycle_are_stuck_too() -> None:
    from booking.judge.seat_waits import behind

    # 4 and 9 are the cycle; 3 waits for A1 (which 9 holds), 7 for B1 (which 3 holds).
    records = [
        wait(4, "A2,A1", 1),
        wait(9, "A1,A2", 1),
        wait(3, "B1,A1", 1),
        wait(7, "B1", 0),
        wait(5, "B3", 0),  # waits for a seat no stuck buyer holds
    ]
    assert behind(records, {4, 9}) == {3, 7}
    assert judge_seats(facts([None] * 6), records).stuck == {4, 9, 3, 7}


def test_a_conflict_that_ends_in_giving_up_is_no_re_pick() -> None:
    gave_up = Record(Kind.ATTEMPT, 2, outcome=Outcome.GAVE_UP, seats="A1,A2")
    conflict = Record(Kind.CONFLICT, 2, seats="A1,A2")
    end = [mine(1), mine(1), None, None, None, None]
    judged = judge_seats(facts(end), [receipt(1, "A1,A2"), conflict, gave_up])
    assert "re-pick" not in judged.lines[0]
    judged = judge_seats(facts(end), [receipt(1, "A1,A2"), conflict, conflict, gave_up])
    assert "; 1 re-pick (" in judged.lines[0]


def test_locks_per_seat_measure_no_hand_off_of_one_guard() -> None:
    from dataclasses import replace

    from booking.judge.checker import judge
    from tests.judge.test_checker import GATE, facts, step

    # Two buyers of different seats, one after the other: under one guard the gap between
    # them would be a hand-off; under a lock per seat nothing was handed over.
    records = [
        step(1, Outcome.BOUGHT, 6, at=GATE)._replace(seats="A1,A2"),
        step(2, Outcome.BOUGHT, 4, at=GATE + 1_000)._replace(t_begin=GATE + 100, seats="B1,B2"),
    ]
    end = [mine(1), mine(1), None, mine(2), mine(2), None]
    run = replace(
        facts(records, tickets=6, remaining=2, strategy="seatlock"),
        seats=SeatFacts(Shape(2, 3), 2, "best", RUN, [None] * 6, end),
    )
    assert judge(replace(run, seat_locks=True)).handoff_ms == {}
    assert judge(run).handoff_ms != {}  # the same records, read as one guard
