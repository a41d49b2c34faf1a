"""The waits of per-seat locks, read off the buyers' records: a cycle of buyers each
holding a seat's lock the next one waits for (a deadlock), and waits for a seat whose lock
a killed buyer took with it. Pure, like the checker."""

from __future__ import annotations

from booking.engine.frames import Failure, Kind, Outcome, Record
from booking.seating import Shape
from booking.words import plural


def _waits(records: list[Record]) -> list[Record]:
    """Waits for a seat's lock that never ended in the lock: stopped while waiting, or run
    into --timeout."""
    return [
        r
        for r in records
        if r.seats
        and r.held < len(r.seats.split(","))
        and (
            (r.kind is Kind.CUT and r.outcome is Outcome.STOPPED and not r.t_acquired)
            or (r.kind is Kind.ATTEMPT and r.failure is Failure.LOCK_TIMEOUT)
        )
    ]


def deadlock_cycle(records: list[Record], shape: Shape) -> list[tuple[int, str, str]]:
    """A cycle of buyers, each holding a seat's lock the next one waits for, all at the
    same time: [(buyer, the seats it holds, the seat it waits for)], or []."""
    waits = _waits(records)
    wanted = {id(r): r.seats.split(",")[r.held] for r in waits}
    held = {id(r): set(r.seats.split(",")[: r.held]) for r in waits}

    def blocks(waiter: Record, holder: Record) -> bool:
        overlap = max(waiter.t_begin, holder.t_begin) < min(waiter.t_end, holder.t_end)
        return waiter is not holder and wanted[id(waiter)] in held[id(holder)] and overlap

    for start in waits:
        path, seen, current = [start], {id(start)}, start
        while True:
            after = next((r for r in waits if blocks(current, r)), None)
            if after is None:
                break
            if id(after) in seen:
                loop = path[path.index(after) :]
                return [(r.buyer, ", ".join(sorted(held[id(r)])), wanted[id(r)]) for r in loop]
            path.append(after)
            seen.add(id(after))
            current = after
    return []


def cycle_lines(cycle: list[tuple[int, str, str]]) -> list[str]:
    if not cycle:
        return []
    links = "; ".join(f"buyer {b} holds {h} and waits for {w}" for b, h, w in cycle)
    return [
        f"Deadlock: {links}. Each waits for a lock another holds, in a cycle: each buyer "
        "took its seats' locks in an order of its own (seatlock takes them in seat order, "
        "which no cycle can form against)."
    ]


def orphaned_waits(records: list[Record]) -> list[tuple[int, str, int]]:
    """Waits for a seat whose lock a killed buyer held when it died (--kill-holder): a
    dead holder never releases a multiprocessing.Lock. [(waiter, seat, dead buyer)]."""
    dead = [
        (r, set(r.seats.split(",")[: r.held]))
        for r in records
        if r.kind is Kind.CUT and r.outcome is Outcome.KILLED and r.held
    ]
    found = []
    for wait in _waits(records):
        seat = wait.seats.split(",")[wait.held]
        holder = next((d for d, held in dead if seat in held and d.t_end < wait.t_end), None)
        if holder is not None:
            found.append((wait.buyer, seat, holder.buyer))
    return found


def orphan_lines(orphaned: list[tuple[int, str, int]]) -> list[str]:
    if not orphaned:
        return []
    waiter, seat, dead = orphaned[0]
    others = len({w for w, _, _ in orphaned}) - 1
    more = f" ({plural(others, 'other buyer')} likewise)" if others else ""
    return [
        f"Buyer {waiter} waited for seat {seat}, whose lock buyer {dead} took with it when it "
        f"was killed{more}: a dead holder never releases a multiprocessing.Lock."
    ]


def behind(records: list[Record], stuck: set[int]) -> set[int]:
    """The buyers queued, directly or through others, for a seat whose lock a stuck buyer
    (in a cycle, or dead) holds: stuck too, not cut by --timeout."""
    waits = _waits(records)
    holds: dict[int, set[str]] = {}
    for r in waits + [r for r in records if r.kind is Kind.CUT and r.outcome is Outcome.KILLED]:
        holds.setdefault(r.buyer, set()).update(r.seats.split(",")[: r.held])
    found = set(stuck)
    grew = True
    while grew:
        grew = False
        for wait in waits:
            wanted = wait.seats.split(",")[wait.held]
            if wait.buyer not in found and any(wanted in holds.get(b, ()) for b in found):
                found.add(wait.buyer)
                grew = True
    return found - stuck
