"""What the strategies of a store on a server add to the story of a run (PostgreSQL): why
naive-tx lost updates, what made for-update and advisory safe, the serialization
failures of serializable, the deadlocks PostgreSQL broke among unordered seat row locks.
Pure, like the checker; the checker appends these lines."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from booking.engine.frames import Kind, Outcome, Record
from booking.words import plural

if TYPE_CHECKING:
    from booking.judge.checker import RunFacts

#: How a conflict record names a deadlock the server broke (strategies/pg_seats.py).
DEADLOCK = "deadlock detected"
#: What serialised the purchases of a guard held in the server, when it did.
SERIALISED_BY = {
    "for-update": "the row lock: each buyer's SELECT ... FOR UPDATE waited for the stock row "
    "until the buyer before it committed, so every read saw the count the last sale left",
    "advisory": "the advisory lock: each buyer's pg_advisory_xact_lock waited until the "
    "buyer before it committed, so every read saw the count the last sale left",
}


def server_lines(facts: RunFacts, verdict: str, inside: int, gave_up: list[Record]) -> list[str]:
    """The lines of a PostgreSQL strategy's run; none for any other."""
    if facts.store != "postgres":
        return []
    records = facts.records
    lines: list[str] = []
    if facts.strategy == "naive-tx" and verdict in ("OVERSOLD", "LOST_UPDATES"):
        lines.append(_naive(records))
    if facts.strategy in SERIALISED_BY and verdict == "SAFE" and not facts.seats and inside <= 1:
        lines.append(f"The purchases were serialised by {SERIALISED_BY[facts.strategy]}.")
    if facts.strategy == "serializable":
        lines += _serialization(facts, records, gave_up, safe=verdict == "SAFE")
    deadlocks = sum(r.kind is Kind.CONFLICT and r.message == DEADLOCK for r in records)
    if deadlocks:
        retries = plural(facts.retries, "retry", "retries")
        last = {(r.buyer, r.attempt): r.message for r in records if r.kind is Kind.CONFLICT}
        quit_ = sum(last.get((r.buyer, r.attempt)) == DEADLOCK for r in gave_up)
        lines.append(
            f"PostgreSQL detected {plural(deadlocks, 'deadlock')} among the seat row locks and "
            + (
                "aborted one of its transactions; that buyer"
                if deadlocks == 1
                else "aborted one transaction of each; those buyers"
            )
            + " tried again"
            + (f" ({plural(quit_, 'buyer')} gave up after {retries})." if quit_ else ".")
            + " Two buyers that lock the same seats in different orders can each hold one "
            "the other waits for; for-update takes them in seat order, and never deadlocks."
        )
    return lines


def _naive(records: list[Record]) -> str:
    """Why one READ COMMITTED transaction around read -> think -> write lost sales."""
    bought = [r for r in records if r.kind is Kind.ATTEMPT and r.outcome is Outcome.BOUGHT]
    by_value: defaultdict[int, list[Record]] = defaultdict(list)
    for record in sorted(bought, key=lambda r: r.t_read):
        by_value[record.read_value].append(record)
    clash = next((group for group in by_value.values() if len(group) > 1), None)
    example = ""
    if clash:
        first, second = clash[0], clash[1]
        example = (
            f" (buyer {first.buyer} and buyer {second.buyer} both read {first.read_value} "
            f"and both wrote {first.written_value})"
        )
    return (
        "Each purchase ran in one transaction at READ COMMITTED, PostgreSQL's default, and "
        "that did not help: its SELECT took no lock, so buyers read the same count while "
        "others' purchases were open; each UPDATE waited for the row lock of the one "
        "before, then wrote the value it had computed from its stale read" + example + ". "
        "READ COMMITTED re-reads nothing for it: the UPDATE sets count = read - 1 as given. "
        "SELECT ... FOR UPDATE (for-update), SERIALIZABLE (serializable) or one UPDATE ... "
        "WHERE count > 0 (atomic) would not lose them."
    )


def _serialization(
    facts: RunFacts, records: list[Record], gave_up: list[Record], safe: bool
) -> list[str]:
    failures = sum(r.kind is Kind.CONFLICT for r in records)
    if not failures:
        return ["No SERIALIZABLE transaction was aborted: no serialization failure, no retry."]
    line = (
        f"{plural(failures, 'serialization failure')}: PostgreSQL aborted a SERIALIZABLE "
        "transaction whose read had gone stale (another buyer's sale committed after it "
        "read; SQLSTATE 40001), rolled it back, and the buyer tried again from a fresh "
        "snapshot"
    )
    if gave_up:
        line += (
            f"; {plural(len(gave_up), 'attempt')} gave up after "
            f"{plural(facts.retries, 'retry', 'retries')}"
        )
    return [line + (". Nothing stale was ever written: the database refused it." if safe else ".")]
