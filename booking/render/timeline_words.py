"""What a timeline shows, in sentences above it, so the picture can be checked against
the verdict and the record: the windows that overlapped and what kept the others apart,
the sales lost beside the curves drawn for them, and where the think's time went."""

from __future__ import annotations

from statistics import median

from booking.engine.frames import Kind
from booking.engine.runner import RawRun
from booking.judge.result import Result
from booking.render.timeline import Timeline
from booking.scenarios.scenario import format_think
from booking.words import plural

#: Who decides, when a design lets purchase windows overlap.
_DECIDER = {
    "conditional": "the store's conditional update decides who buys",
    "compare-and-set": "the version check decides whose write counts",
    "snapshot": "the database refuses a stale write",
    "seller": "the seller decides, one request at a time",
}


def sentences(lanes: Timeline, result: Result, raw: RawRun, guarded: bool) -> list[str]:
    said = []
    if lanes.sampled_every > 1:
        said.append(
            f"{lanes.buyers:,} buyers: one in every {lanes.sampled_every} has a lane "
            f"({lanes.shown:,} lanes); the counts of windows below cover them all."
        )
    if lanes.windows:
        said.append(_overlaps(lanes, result, guarded))
    if lanes.links or result.lost_updates:
        said.append(_lost(lanes, result))
    think = _think(raw, result)
    if think:
        said.append(think)
    return said


def _overlaps(lanes: Timeline, result: Result, guarded: bool) -> str:
    counted = f"{lanes.overlapped} of {plural(lanes.windows, 'read -> write window')}"
    if lanes.overlapped:
        why = "those buyers were inside at the same time"
        if result.protocol in _DECIDER:
            why += f", which this design allows: {_DECIDER[result.protocol]}"
        return f"{counted} overlapped another buyer's (outlined in red): {why}."
    if result.protocol == "guard" and guarded:
        return f"{counted} overlapped another buyer's: the guard let one buyer in at a time."
    if result.protocol == "guard":
        return (
            f"{counted} overlapped another buyer's: nothing kept them apart, but no two were "
            "open at once, so this run never raced."
        )
    return f"{counted} overlapped another buyer's."


def _lost(lanes: Timeline, result: Result) -> str:
    """The record's count of lost sales, which the store decides, beside the curves, which
    the stamps draw. They can differ: a sale written over is not lost when a later write
    builds on it, and the stamps say when a write began and finished, not the instant it
    took effect."""
    lost = plural(result.lost_updates, "sale")
    text = f"{lost} lost, by the count the store kept."
    if not lanes.links:
        return text
    between = " between the lanes shown" if lanes.sampled_every > 1 else ""
    return (
        f"{text} {plural(len(lanes.links), 'curve')}{between}: each goes from a sale to "
        "the first later write whose buyer had read the count before that sale's write "
        "finished, and so wrote over it."
    )


def _think(raw: RawRun, result: Result) -> str:
    """Where the think's time went, when read -> write took much longer than asked."""
    taken = [
        (r.t_write - r.t_read) / 1e6
        for r in raw.records
        if r.kind is Kind.ATTEMPT and r.t_read and r.t_write
    ]
    if not taken:
        return ""
    asked = max(result.think_ms)
    typical = median(taken)
    if typical <= 2 * asked + 1:
        return ""
    return (
        f"The think asked for {format_think(result.think_ms).replace(':', '–')} ms, but from "
        "read to the start "
        f"of the write took a median {typical:.1f} ms: the rest is time the "
        f"{plural(result.buyers, 'buyer process', 'buyer processes')} spent waiting to run "
        "on the machine's cores."
    )
