"""What the protocols beyond a guard add to the story of a run: where their safety came
from when buyers overlapped, what a compare-and-set cost, and why BEGIN DEFERRED failed.
Pure, like the checker."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from booking.engine.frames import Failure, Kind, Outcome, Record
from booking.words import plural as _plural

if TYPE_CHECKING:
    from booking.judge.checker import RunFacts

STALE_SNAPSHOT = "SQLITE_BUSY_SNAPSHOT"

#: Where the safety of a design that lets buyers overlap comes from, when it held.
SAFE_BY_STORE = {
    "conditional": "the store (one UPDATE ... WHERE count > 0 reads and decrements in a "
    "single statement, so a sold-out stock changes no row)",
    "compare-and-set": "the store's compare-and-set (a write whose version had changed "
    "since its read wrote nothing)",
    "snapshot": "the database (a write whose read snapshot had gone stale was refused "
    "with SQLITE_BUSY)",
}
#: The same on the servers' stores, where it differs: (store, design) -> where from.
SAFE_BY_SERVER = {
    ("postgres", "snapshot"): "the database (PostgreSQL aborted every SERIALIZABLE "
    "transaction whose read had gone stale with a serialization failure, and the buyer "
    "tried again)",
    ("redis", "conditional"): "the store (one Lua script reads and decrements only above "
    "zero, and Redis runs a script whole, with no other command in between)",
    ("redis", "compare-and-set"): "the store's compare-and-set (WATCH on the count, then "
    "MULTI/EXEC: a transaction whose watched count had changed since its read ran nothing)",
}
#: What a conditional update waits for on each store, while it waits.
WAITS_FOR = {
    "sqlite": "SQLite's write lock",
    "postgres": "the row lock",
    "redis": "Redis's one command thread",
}


def conflict_lines(
    facts: RunFacts, conflicts: int, gave_up: list[Record], remaining: int | None
) -> list[str]:
    """What the compare-and-set cost: conflicts, retries, and the attempts that gave up
    (with tickets left: sales the design lost)."""
    if facts.design != "compare-and-set":
        return []
    if not conflicts:
        return ["No compare-and-set found the store changed: no conflict, no retry."]
    found = (
        "a chosen seat sold"
        if facts.seats
        else "the watched count changed"
        if facts.store == "redis"
        else "the version changed"
    )
    line = f"{_plural(conflicts, 'conflict')} (a compare-and-set that found {found})"
    quit_, quitters = len(gave_up), len({r.buyer for r in gave_up})
    if not quit_:
        return [line + ": every one was retried and no buyer gave up."]
    who = (
        _plural(quit_, "buyer")
        if quit_ == quitters
        else f"{_plural(quit_, 'attempt')} (by {_plural(quitters, 'buyer')})"
    )
    when = (
        "at their first conflict (--retries 0)"
        if facts.retries == 0
        else f"after {_plural(facts.retries, 'retry', 'retries')}"
    )
    line += f": {who} gave up {when}"
    order = facts.seats.order if facts.seats else 1
    if remaining is not None and remaining < order:  # the seats left make no order
        remaining = 0
    if remaining:
        line += (
            f" while {_plural(remaining, 'seat' if facts.seats else 'ticket')} "
            f"{'was' if remaining == 1 else 'were'} "
            "still unsold, sales the design lost"
        )
    line += (
        ". Another buyer's sale landed between most reads and their compare-and-set"
        if facts.retries == 0
        else ". Each retry re-reads and thinks again, and another buyer's sale usually lands first"
    ) + (
        ": the optimistic design traded double booking for conflicts"
        if facts.seats
        else ": the optimistic design traded oversell for conflicts"
    )
    return [line + (" and lost sales." if remaining else ".")]


def deferred_lines(facts: RunFacts, failed: list[Record], anomalous: int) -> list[str]:
    """Why `deferred` purchases failed: the lesson of BEGIN DEFERRED, with its numbers."""
    if facts.design != "snapshot":
        return []
    busy = [r for r in failed if r.failure is Failure.BUSY and r.t_write]
    if not busy:
        return []
    stale = sum(STALE_SNAPSHOT in r.message for r in busy)
    reasons = []
    if stale:
        reasons.append(
            f"{stale} because another buyer had committed since their read (a stale snapshot)"
        )
    if len(busy) - stale:
        reasons.append(
            f"{len(busy) - stale} because another buyer held the write lock (a transaction "
            "that has read cannot wait for it: that could deadlock)"
        )
    outcome = "" if anomalous else " Nothing was oversold: the database refused every stale write."
    got = "no ticket"
    if facts.seats:  # a snapshot goes stale at any commit, to whatever seats
        got = "no seats"
        outcome = (
            ""
            if anomalous
            else (
                " No seat was double-booked; a snapshot goes stale at any other buyer's commit, "
                "so most refused orders wanted seats that were still free."
            )
        )
    return [
        f"Under BEGIN DEFERRED each purchase read inside a read transaction that its write "
        f"had to upgrade, and SQLite refused {_plural(len(busy), 'upgrade')} at once with "
        f"SQLITE_BUSY: {'; '.join(reasons)}. Those buyers got {got}.{outcome} "
        "The transaction strategy takes the write lock before the read (BEGIN IMMEDIATE)."
    ]


GONE = "the seller is gone: "


def seller_lines(facts: RunFacts, failed: list[Record]) -> list[str]:
    """`queue`: a dead seller ends every sale; say how it died and what that cost."""
    if facts.design != "seller":
        return []
    gone = [r for r in failed if r.failure is Failure.SELLER_GONE]
    if not gone:
        return []
    victims = [r for r in gone if "(--kill-" in r.message]
    if victims:
        first = victims[0]
        how = (
            first.message[len(GONE) :]
            .removeprefix("it was ")
            .replace("this buyer", f"buyer {first.buyer}")
        )
        line = f"The single seller was {how}"
        others = len(gone) - len(victims)
    else:
        line = "The single seller died during the run"
        others = len(gone)
    rest = (
        f"; {_plural(others, 'other request')} then found no one to answer "
        f"{'it' if others == 1 else 'them'}"
        if others
        else ""
    )
    return [f"{line}{rest}: with one seller, no sale can be made once it is gone."]


def retries_made(conflicts: list[Record], ends: list[Record]) -> int:
    """The retries that began: a conflict is followed by one unless it was the attempt's
    last (it gave up, or was stopped or killed before its next read)."""
    final = {(r.buyer, r.attempt): r for r in ends}
    made = 0
    for (buyer, index), count in Counter((r.buyer, r.attempt) for r in conflicts).items():
        end = final.get((buyer, index))
        again = end is not None and (
            bool(end.t_read) if end.kind is Kind.CUT else end.outcome is not Outcome.GAVE_UP
        )
        made += count if again else count - 1
    return made


def server_killed_sentence(facts: RunFacts, errors: int) -> str:
    """--kill-server: what killing the store's server did to the run."""
    when = f"{facts.server_killed_ms:g} ms" if facts.server_killed_ms is not None else "during"
    failed = (
        f"{_plural(errors, 'operation')} then failed, the server gone (a broken or refused "
        "connection)"
        if errors
        else "no operation was under way or left to make"
    )
    return (
        f"The {facts.store} server was killed {when} after the gate opened (--kill-server): "
        f"{failed}. The sales counted are this run's receipts; a purchase the server may have "
        "committed just before, whose answer never came back, is among the failures, and "
        "the count it held is unknown."
    )
