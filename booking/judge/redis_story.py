"""What the Redis locks add to the story of a run: whether a ttl-lock's holders outlived
the lock's time-to-live, who took an expired lock before its holder had written, what
fenced's store refused, and what became of a lock whose holder was killed. Pure, like the
checker: from the step records and the TTL alone.

A hold runs from the acquire to the end of the write (t_left: the write lands somewhere
before it), or of the window when nothing was written. Redis deletes the key `lock_ttl_ms`
after the acquire, whether the holder is done or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from booking.engine.frames import Outcome, Record
from booking.words import plural as _plural

if TYPE_CHECKING:
    from booking.judge.checker import RunFacts

TTL_STRATEGIES = ("ttl-lock", "fenced")

#: What became of a writer killed inside its MULTI (--kill-writer), on Redis.
DISCARDED = (
    "Redis discarded its MULTI, queued but never executed, when its connection closed: "
    "nothing was written"
)


class Hold(NamedTuple):
    record: Record
    taken: int  # t_acquired
    done: int  # t_left (the write done), or t_end

    @property
    def ms(self) -> float:
        return (self.done - self.taken) / 1e6


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.1f} ms"


def _ttl(ms: float) -> str:
    return f"{ms:g} ms"


def holds_of(records: list[Record]) -> list[Hold]:
    """Every hold of the lock that the records show, in the order the lock was taken."""
    holds = [Hold(r, r.t_acquired, r.t_left or r.t_end) for r in records if r.t_acquired]
    return sorted(holds, key=lambda h: h.taken)


def redis_lines(
    facts: RunFacts, records: list[Record], conflicts: int, gave_up: int, anomalous: int
) -> list[str]:
    """The sentences of a ttl-lock or fenced run (none for other strategies)."""
    if facts.strategy not in TTL_STRATEGIES or facts.lock_ttl_ms is None:
        return []
    ttl_ms = facts.lock_ttl_ms
    holds = holds_of(records)
    # Cut short (a stop, a killed server): what never reached the store proves nothing
    # about the TTL, so no sentence says every holder finished within it.
    whole = facts.server_killed_ms is None and not facts.stopped
    lines = []
    if facts.strategy == "ttl-lock":
        lines += ttl_lock_lines(holds, ttl_ms, anomalous, whole)
    else:
        lines += fenced_lines(
            holds, ttl_ms, conflicts, gave_up, facts.retries, not anomalous, whole
        )
    lines += dead_holder_lines(holds, ttl_ms)
    return lines


def _outlived(holds: list[Hold], ttl_ms: float) -> list[Hold]:
    """Holds that ended after their lock had expired (killed holders aside)."""
    return [h for h in holds if h.ms > ttl_ms and h.record.outcome is not Outcome.KILLED and h.done]


def _taker(late: Hold, holds: list[Hold], ttl_ms: float) -> Hold | None:
    """The first other buyer that took the lock after it expired under `late`, before
    `late` had written."""
    expired = late.taken + ttl_ms * 1e6
    return next(
        (
            h
            for h in holds
            if h.record.buyer != late.record.buyer and expired <= h.taken < late.done
        ),
        None,
    )


def ttl_lock_lines(
    holds: list[Hold], ttl_ms: float, anomalous: int, whole: bool = True
) -> list[str]:
    late = _outlived(holds, ttl_ms)
    if not holds:
        return []
    # Only a holder that went on to write can do harm once its lock is gone; one that found
    # the stock sold out wrote nothing.
    late = [h for h in late if h.record.t_write]
    if not late and not whole:
        return []
    if not late:
        longest = max(h.ms for h in holds)
        killed = any(h.record.outcome is Outcome.KILLED for h in holds)
        return [
            f"Every holder that wrote finished within the lock's {_ttl(ttl_ms)} TTL (the "
            f"longest hold lasted {longest:.1f} ms), so no write came after its lock had "
            + ("expired (only a killed holder's lock did)." if killed else "expired.")
        ]
    overtaken = [(h, t) for h in late if (t := _taker(h, holds, ttl_ms)) is not None]
    head = (
        f"{_plural(len(late), 'holder')} of {len(holds)} wrote after the lock's "
        f"{_ttl(ttl_ms)} TTL had run out, when Redis had deleted it"
    )
    if not overtaken:
        if len({h.record.buyer for h in holds}) == 1:
            return [head + ", but no other buyer came for the lock: nobody could take it."]
        return [
            head + ", but no other buyer took the expired lock meanwhile: safe this time by "
            "luck, not by the lock."
        ]
    first, taker = overtaken[0]
    a, b = first.record, taker.record
    were = "was" if len(overtaken) == 1 else "were"
    line = (
        f"{head}; {_plural(len(overtaken), 'expired lock')} {were} "
        f"taken by another buyer before {'its' if len(overtaken) == 1 else 'their'} holder "
        f"had written. For example buyer {a.buyer} "
        f"took the lock and wrote {first.ms:.1f} ms later, past its {_ttl(ttl_ms)} TTL; "
        f"buyer {b.buyer} "
        f"took the expired lock {_ms(taker.taken - first.taken)} after buyer {a.buyer} had "
        f"taken it, before buyer {a.buyer} had written"
    )
    if a.read_value >= 0 and b.read_value >= 0 and a.written_value >= 0 and b.written_value >= 0:
        line += (
            f": buyer {a.buyer} read {a.read_value} and wrote {a.written_value}, "
            f"buyer {b.buyer} read {b.read_value} and wrote {b.written_value}"
        )
    else:
        line += ": both wrote"
    line += (
        ". A lock with a time-to-live is no lock once a holder outlives it; fenced adds a "
        "token the store checks, so such a write is refused."
        if anomalous
        else "."
    )
    return [line]


def fenced_lines(
    holds: list[Hold],
    ttl_ms: float,
    conflicts: int,
    gave_up: int,
    retries: int,
    safe: bool = True,
    whole: bool = True,
) -> list[str]:
    late = _outlived(holds, ttl_ms)
    if not conflicts:
        if not whole:
            return []
        if late:
            return [
                f"{_plural(len(late), 'holder')} held the lock past its {_ttl(ttl_ms)} TTL, "
                "but no later holder had used the store meanwhile: the store refused no "
                "write (its fencing token was still the newest)."
            ]
        return [
            f"No write was refused: every holder finished within the lock's {_ttl(ttl_ms)} "
            "TTL, so its fencing token was always the newest the store had seen."
        ]
    line = (
        f"The store refused {_plural(conflicts, 'write')} whose fencing token was stale: "
        f"{'its' if conflicts == 1 else 'their'} holder's lock ({_ttl(ttl_ms)} TTL) had "
        "expired before the write, and a later holder, with a newer token, had used the "
        "store since"
    )
    if gave_up:
        when = "at their first refusal (--retries 0)" if retries == 0 else (
            f"after {_plural(retries, 'retry', 'retries')}"
        )  # fmt: skip
        line += f"; {_plural(gave_up, 'attempt')} gave up {when}"
    else:
        line += "; each one took the lock and a new token again, and retried"
    if not safe:
        return [line + "."]
    return [line + ". Nothing was oversold: the token, not the lock, kept the stale writes out."]


def dead_holder_lines(holds: list[Hold], ttl_ms: float) -> list[str]:
    """A holder killed holding the lock (--kill-holder): nothing releases it but the TTL."""
    lines = []
    for dead in (h for h in holds if h.record.outcome is Outcome.KILLED):
        after = next((h for h in holds if h.taken > dead.taken), None)
        who = dead.record.buyer
        line = (
            f"Buyer {who} died holding the lock; nothing released it until its {_ttl(ttl_ms)} "
            "TTL ran out"
        )
        if after is not None:
            line += (
                f"; buyer {after.record.buyer} took the lock next, "
                f"{_ms(after.taken - dead.taken)} after buyer {who} had taken it"
            )
        lines.append(line + ".")
    return lines
