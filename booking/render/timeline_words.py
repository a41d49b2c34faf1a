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
    if lanes.windows > 1:  # one window: the checker says there was nothing to serialise
        said.append(_overlaps(lanes, result, guarded))
    if lanes.links or result.lost_updates:
        said.append(_lost(lanes, result))
    said += [line for line in (_think(raw, result), _unstamped(result), _cut(raw)) if line]
    return said


def _unstamped(result: Result) -> str:
    """Where a buyer's think is when its attempt has no read of its own to start it."""
    if result.protocol == "seller":
        return (
            "A buyer thinks before it sends its request, from the start of its attempt; the "
            "read -> write drawn is the seller's, for that buyer's sale."
        )
    if result.protocol == "conditional":
        return (
            "A buyer thinks from the start of its attempt to its conditional update, which "
            "reads and writes the count in one statement: no read of its own is drawn."
        )
    return ""


def _cut(raw: RawRun) -> str:
    """Attempts a stop or a fault cut short are drawn, but are no measure of latency."""
    cut = sum(r.kind is Kind.CUT for r in raw.records)
    if not cut:
        return ""
    return (
        f"{plural(cut, 'attempt')} cut short by the stop or a fault "
        f"{'is' if cut == 1 else 'are'} drawn up to where {'it' if cut == 1 else 'they'} "
        "ended, and left out of the latency and lock-wait charts, which measure finished "
        "attempts."
    )


def _overlaps(lanes: Timeline, result: Result, guarded: bool) -> str:
    counted = f"{lanes.overlapped:,} of {plural(lanes.windows, 'read -> write window')}"
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
    text += (
        f" {plural(len(lanes.links), 'curve')}{between}: each goes from a sale to the first "
        "later write whose buyer had read the count before that sale's write finished, and "
        "so wrote over it."
    )
    if len(lanes.links) != result.lost_updates and lanes.sampled_every == 1:
        text += (
            " The two counts differ: a sale written over is not lost when a later write "
            "builds on it, and the stamps say when a write began and finished, not the "
            "instant it took effect."
        )
    return text


def _think(raw: RawRun, result: Result) -> str:
    """Where the think's time went, when read -> write took much longer than asked (not
    under a seller, whose read -> write stamps are the seller's, with no think between)."""
    if raw.controlled:
        return (
            "Every step waited for the scheduler's grant and no think was slept: the order "
            "of the steps is the schedule's, and their times show the scheduler's pace, not "
            "the strategy's."
        )
    if result.protocol == "seller":
        return ""
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
