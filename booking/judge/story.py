"""The sentences that open a count run's explanation: what was sold against what the store
holds, and how the purchases interleaved (the checker decides; this says it)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from booking.engine.frames import Record
from booking.judge.designs import SAFE_BY_SERVER, SAFE_BY_STORE, WAITS_FOR
from booking.judge.motion import guarded

if TYPE_CHECKING:
    from booking.judge.checker import RunFacts


def who(holders: int, sold: int) -> str:
    """'33 buyers' when each holds one receipt, else '8 buyers (2,000 receipts)'."""
    if holders == sold:
        return plural_of(holders, "buyer")
    return f"{plural_of(holders, 'buyer')} ({sold:,} receipts)"


def plural_of(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def headline(
    sold: int,
    holders: int,
    tickets: int,
    remaining: int | None,
    refused: int,
    oversold: int,
    lost: int,
    gave_up: int = 0,
) -> list[str]:
    if oversold:
        line = (
            f"{who(holders, sold)} hold receipts for {plural_of(tickets, 'ticket')}: "
            f"{plural_of(oversold, 'ticket')} oversold, {plural_of(lost, 'sale')} lost."
        )
    elif lost:
        line = (
            f"{plural_of(sold, 'receipt')} for {plural_of(tickets, 'ticket')}, but the store "
            f"went down by only {sold - lost}: {plural_of(lost, 'sale')} lost "
            "(their decrement was overwritten)."
        )
    else:
        left = "" if remaining is None else f"; {remaining} left"
        line = (
            f"{plural_of(holders, 'buyer')} bought {sold} of {plural_of(tickets, 'ticket')}; "
            f"{plural_of(refused, 'attempt')} told sold out"
            + (f", {gave_up} gave up after conflicts" if gave_up else "")
            + f"{left}."
        )
    return [line]


def interleaving(
    facts: RunFacts, bought: list[Record], inside: int, anomalous: int, windows: int
) -> list[str]:
    strategy = facts.strategy
    if not windows:
        return []
    if windows == 1:
        return ["Only one purchase window opened, so there was nothing to serialise."]
    waits_for = WAITS_FOR.get(facts.store, "SQLite's write lock")
    window = (
        f"conditional update (waiting for {waits_for}, or writing)"
        if facts.design == "conditional"
        else "read -> write window"
    )
    safe_by = SAFE_BY_SERVER.get((facts.store, facts.design)) or SAFE_BY_STORE.get(facts.design)
    if inside > 1 and not anomalous and safe_by:
        return [
            f"Up to {inside} buyers were inside the {window} at once, as this design "
            f"allows: safety came not from mutual exclusion but from {safe_by}."
        ]
    if inside <= 1:
        if facts.design == "guard" and not guarded(facts):
            return [
                "No two purchases overlapped, so the race never had a chance: "
                "widen --think or add buyers to see it."
            ]
        if safe_by:
            return [
                f"At most 1 buyer was inside the {window} at a time: they happened not to "
                f"overlap. The {strategy} strategy does not serialise purchases; its safety "
                f"comes from {safe_by}."
            ]
        if facts.design == "seller":
            return [
                "At most 1 purchase was inside the read -> write window at a time: the "
                "single seller made every sale itself, one request after another."
            ]
        return [
            f"At most 1 buyer was inside the {window} at a time: "
            f"the {strategy} strategy serialised every purchase."
        ]
    line = f"Up to {inside} buyers were inside the read -> write window at once."
    if anomalous:
        by_value: defaultdict[int, list[Record]] = defaultdict(list)
        for record in sorted(bought, key=lambda r: r.t_read):
            by_value[record.read_value].append(record)
        clash = next((group for group in by_value.values() if len(group) > 1), None)
        if clash:
            first, second = clash[0], clash[1]
            line += (
                f" For example buyer {first.buyer} and buyer {second.buyer} both read "
                f"{first.read_value} and both wrote {first.written_value}: the second "
                "write overwrote the first, so one sale never reached the store."
            )
    return [line]
