"""Judgement of a seat run: receipts name seats, the store names holders; set one against
the other. Pure, like the checker.

A receipt (a BOUGHT attempt) names the seats of its order. The store, read after the run,
names each seat's holder ("<run id>/<buyer>"). So:
- a seat named by two receipts, or sold by this run over a seat sold before it, was
  double-booked;
- a receipt's seat that the store shows free, or held by someone else, is a lost seat;
- a receipt whose buyer the store shows holding some of its seats but not all is a
  partial order (all-or-nothing was broken);
- a seat free at the start that another run holds at the end was taken by another writer.
A deadlock of per-seat locks is read off the waits: who held which seats and waited for
which, at the same time, in a cycle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from booking.engine.frames import Kind, Outcome, Record
from booking.judge.interference import Interference
from booking.judge.seat_waits import (
    behind,
    cycle_lines,
    deadlock_cycle,
    orphan_lines,
    orphaned_waits,
)
from booking.seating import Shape, buyer_of
from booking.words import plural, printable

#: How many seats, orders or waits a sentence names before it says "and N more".
NAMED = 3


@dataclass(frozen=True)
class SeatFacts:
    """What the run knows of its seat map: the shape, the order size, whose holders are
    this run's, and the holders at the start mark and after the run (None: unreadable)."""

    shape: Shape
    order: int
    pick: str
    run_id: str
    at_start: list[str | None]
    at_end: list[str | None] | None
    # Seats a manager's write-back wrote over after another writer had sold them.
    overwritten: tuple[int, ...] = ()


@dataclass(frozen=True)
class SeatJudgement:
    double_booked: int = 0
    partial_orders: int = 0
    lost_seats: int = 0
    unreceipted: int = 0  # seats this run's buyers hold with no receipt naming them
    taken_by_others: int = 0  # seats free at the start that another writer holds at the end
    other_runs: list[str] = field(default_factory=list)  # the runs whose holders those name
    seat_map: list[str] = field(default_factory=list)
    fights: list[int] = field(default_factory=list)
    cycle: list[tuple[int, str, str]] = field(default_factory=list)  # (buyer, holds, waits for)
    orphaned: list[tuple[int, str, int]] = field(default_factory=list)  # (waiter, seat, dead)
    queued: set[int] = field(default_factory=set)  # waiting behind those, one way or another

    @property
    def stuck(self) -> set[int]:
        """The buyers that could never move again: in a cycle, behind a dead holder, or
        queued behind either."""
        return {b for b, _, _ in self.cycle} | {b for b, _, _ in self.orphaned} | self.queued

    lines: list[str] = field(default_factory=list)


def seats_of(record: Record, shape: Shape) -> list[int]:
    """The seats a record names, as indexes (a name this map lacks is skipped)."""
    found = (shape.index(name) for name in record.seats.split(",") if name)
    return [seat for seat in found if seat is not None]


def judge_seats(seat: SeatFacts, records: list[Record]) -> SeatJudgement:
    shape, end = seat.shape, seat.at_end
    receipts = [
        r for r in records if r.kind is Kind.ATTEMPT and r.outcome is Outcome.BOUGHT and r.seats
    ]
    sold_to: defaultdict[int, list[Record]] = defaultdict(list)
    for receipt in receipts:
        for index in seats_of(receipt, shape):
            sold_to[index].append(receipt)
    fights = [0] * shape.size
    tried: defaultdict[int, set[int]] = defaultdict(set)
    for record in records:
        if record.kind in (Kind.QUERY, Kind.ATTEMPT, Kind.CONFLICT, Kind.CUT):
            for index in seats_of(record, shape):
                tried[index].add(record.buyer)
    for index, buyers in tried.items():
        fights[index] = len(buyers)
    cycle = deadlock_cycle(records, shape)
    orphaned = orphaned_waits(records)
    dead = {r.buyer for r in records if r.kind is Kind.CUT and r.outcome is Outcome.KILLED}
    stuck = {b for b, _, _ in cycle} | {b for b, _, _ in orphaned}
    queued = behind(records, stuck | dead) - dead if stuck else set()
    if end is None:
        lines = cycle_lines(cycle) + orphan_lines(orphaned)
        return SeatJudgement(
            fights=fights, cycle=cycle, orphaned=orphaned, queued=queued, lines=lines
        )

    def mine(index: int) -> int | None:
        holder = end[index]
        return None if holder is None else buyer_of(holder, seat.run_id)

    before = [index for index in sold_to if seat.at_start[index] is not None]
    before += [index for index in seat.overwritten if index in sold_to]
    doubled = sorted({i for i, rs in sold_to.items() if len({id(r) for r in rs}) > 1} | set(before))
    lost = [(r, i) for i, rs in sold_to.items() for r in rs if mine(i) != r.buyer]
    partial = []
    for receipt in receipts:
        got = [i for i in seats_of(receipt, shape) if mine(i) == receipt.buyer]
        if got and len(got) < len(seats_of(receipt, shape)):
            partial.append((receipt, got))
    receipted = {(i, r.buyer) for i, rs in sold_to.items() for r in rs}
    unreceipted = [
        i for i in range(shape.size) if mine(i) is not None and (i, mine(i)) not in receipted
    ]
    others = [
        i
        for i in range(shape.size)
        if seat.at_start[i] is None and end[i] is not None and mine(i) is None
    ]
    lost_seats = {i for _, i in lost}
    cells = []
    for index in range(shape.size):
        if index in doubled:
            cells.append("D")
        elif index in lost_seats:
            cells.append("L")
        elif index in sold_to:
            cells.append("S")
        elif end[index] is None:
            cells.append(".")
        elif mine(index) is not None:
            cells.append("U")
        else:
            cells.append("O")
    lines = [_headline(seat, records, receipts, end)]
    lines += _double_lines(doubled, sold_to, seat, mine)
    lines += _lost_lines(lost, doubled, shape, end, seat.run_id)
    lines += _partial_lines(partial, shape)
    if unreceipted:
        lines.append(
            f"{plural(len(unreceipted), 'seat')} ({_names(shape, unreceipted)}) "
            f"{'is' if len(unreceipted) == 1 else 'are'} held by this run's buyers with no "
            "receipt: a write that no report followed (a killed writer)."
        )
    lines += cycle_lines(cycle) + orphan_lines(orphaned)
    return SeatJudgement(
        double_booked=len(doubled),
        partial_orders=len(partial),
        lost_seats=len(lost),
        unreceipted=len(unreceipted),
        taken_by_others=len(others),
        other_runs=sorted({printable(str(end[i]).rpartition("/")[0]) for i in others}),
        seat_map=cells,
        fights=fights,
        cycle=cycle,
        orphaned=orphaned,
        queued=queued,
        lines=lines,
    )


def _names(shape: Shape, seats: list[int]) -> str:
    shown = ", ".join(shape.names(sorted(seats)[:NAMED]))
    return shown + (f" and {len(seats) - NAMED} more" if len(seats) > NAMED else "")


def _headline(
    seat: SeatFacts, records: list[Record], receipts: list[Record], end: list[str | None]
) -> str:
    free = sum(holder is None for holder in end)
    free_before = sum(holder is None for holder in seat.at_start)
    each = "" if seat.order == 1 else f" of {seat.order} seats"
    line = (
        f"{plural(len(receipts), 'order')}{each} bought of {plural(free_before, 'free seat')} "
        f"({seat.shape} map, {seat.pick} picks); {free:,} free now"
    )
    refused = sum(r.kind is Kind.ATTEMPT and r.outcome is Outcome.SOLD_OUT for r in records)
    if refused:
        together = " side by side" if seat.pick == "together" else ""
        line += (
            f"; {plural(refused, 'attempt')} told sold out (no {seat.order} free seats"
            f"{together} left)"
        )
    # A conflict on an attempt's last try is a give-up, not a re-pick; nor is a deadlock
    # the server broke (a conflict that says so: server_story.py tells those).
    last = {(r.buyer, r.attempt): r.message for r in records if r.kind is Kind.CONFLICT}
    gave_up = sum(
        r.kind is Kind.ATTEMPT
        and r.outcome is Outcome.GAVE_UP
        and not last.get((r.buyer, r.attempt))
        for r in records
    )
    repicks = sum(r.kind is Kind.CONFLICT and not r.message for r in records) - gave_up
    if repicks > 0:
        line += (
            f"; {plural(repicks, 're-pick')} (a chosen seat was sold by the time the buyer "
            "came to claim it)"
        )
    quit_ = sum(r.kind is Kind.ATTEMPT and r.outcome is Outcome.GAVE_UP for r in records)
    if quit_:
        line += (
            f"; {plural(quit_, 'attempt')} gave up after {'its' if quit_ == 1 else 'their'} retries"
        )
    return line + "."


def seat_interference(
    seated: SeatJudgement, concurrent: bool, strategy: str, across_runs: bool
) -> Interference:
    """Another writer on the store during the run: its seats are said; when this run's
    orders came to harm, the harm cannot be laid at this strategy's door (INTERFERED). A
    strategy whose guard is this run's alone (a multiprocessing.Lock, a Manager) kept
    nothing apart from the other writer, whichever run's sales its writes undid."""
    if not (seated.taken_by_others or concurrent):
        return Interference()
    harm = seated.double_booked or seated.lost_seats or seated.partial_orders
    runs = ", ".join(seated.other_runs[:NAMED]) or "another booking run"
    if not harm and not across_runs:
        line = (
            f"Another writer was on this store during the run ({runs}): the {strategy} "
            "strategy coordinates only the buyers of one run, so the two runs' writes were "
            "not kept apart, and this run's may have undone the other's sales."
        )
        return Interference(proven=True, other_runs=tuple(seated.other_runs), lines=(line,))
    if not harm:
        took = (
            f" and took {plural(seated.taken_by_others, 'seat')}" if seated.taken_by_others else ""
        )
        line = (
            f"Another writer was on this store during the run ({runs}){took}; it did no "
            "harm to this run's orders."
        )
        return Interference(proven=True, harmless=True, lines=(line,))
    line = (
        f"Another writer sold seats of this store during the run ({runs}): this run's "
        f"double bookings and lost seats may be its doing, not the {strategy} strategy's, "
        "which coordinates only the writers that use it."
    )
    return Interference(proven=True, other_runs=tuple(seated.other_runs), lines=(line,))


def _double_lines(
    doubled: list[int],
    sold_to: Mapping[int, list[Record]],
    seat: SeatFacts,
    mine: Callable[[int], int | None],
) -> list[str]:
    if not doubled:
        return []
    shape = seat.shape
    lines = [
        f"{plural(len(doubled), 'seat')} double-booked: {_names(shape, doubled)}.",
    ]
    for index in doubled[:NAMED]:
        buyers = [r.buyer for r in sold_to[index]]
        name = shape.name(index)
        holder = mine(index)
        shows = (
            "the store gives it to none of them"
            if holder not in buyers
            else f"the store shows buyer {holder}"
        )
        if len(buyers) == 2:
            lines.append(
                f"Seat {name} was sold to buyer {buyers[0]} and buyer {buyers[1]}: both saw it "
                f"free, both wrote it; {shows}."
            )
        elif len(buyers) > 2:
            lines.append(
                f"Seat {name} was sold to {len(buyers)} buyers (buyer {buyers[0]}, buyer "
                f"{buyers[1]} and {len(buyers) - 2} more): each saw it free and wrote it; "
                f"{shows}."
            )
        elif index in seat.overwritten:
            lines.append(
                f"Seat {name} was sold by another writer during the run and again to buyer "
                f"{buyers[0]}: the write-back of the Manager's map wrote over it."
            )
        else:
            lines.append(
                f"Seat {name} was sold before this run and sold again to buyer {buyers[0]}, "
                "who wrote over it."
            )
    return lines


def _lost_lines(
    lost: list[tuple[Record, int]],
    doubled: list[int],
    shape: Shape,
    end: list[str | None],
    run_id: str,
) -> list[str]:
    if not lost:
        return []
    undone = [(r, i) for r, i in lost if i not in doubled]
    receipt, index = (undone or lost)[0]
    holder = end[index]
    now = "free" if holder is None else f"held by {_holder(holder, run_id)}"
    return [
        f"{plural(len(lost), 'seat')} on receipts the store does not show sold to their "
        f"buyer: buyer {receipt.buyer}'s receipt names {shape.name(index)}, but the store "
        f"shows it {now} (a later write undid the sale)."
    ]


def _holder(holder: str, run_id: str) -> str:
    buyer = buyer_of(holder, run_id)
    return f"buyer {buyer}" if buyer is not None else "another run"


def _partial_lines(partial: list[tuple[Record, list[int]]], shape: Shape) -> list[str]:
    if not partial:
        return []
    receipt, got = partial[0]
    missing = [i for i in seats_of(receipt, shape) if i not in got]
    return [
        f"{plural(len(partial), 'order')} only partly held: buyer {receipt.buyer} paid for "
        f"{receipt.seats.replace(',', ', ')} but holds only {', '.join(shape.names(got))}; "
        f"{', '.join(shape.names(missing))} went to another buyer."
    ]
