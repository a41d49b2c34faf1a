"""Was the run still moving when it ended? From the buyers' reports alone: who held the
guard, who waited for it and since when, who had not arrived. This decides DEADLOCK (no
one could move) against TIMEOUT (cut short while moving)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from booking.engine.frames import Failure, Kind, Outcome, Record
from booking.strategies import keeps_buyers_out

if TYPE_CHECKING:
    from booking.judge.checker import RunFacts


#: A guard that no live buyer held or released for this long while others waited for it is
#: stuck: a hand-off takes microseconds, or a few poll intervals, never this long.
STUCK_S = 0.5
#: A lock wait that lasted this share of --timeout ran into the bound --timeout sets on it.
BOUND_SHARE = 0.9


class Motion(NamedTuple):
    """What the records say about the guard and the buyers when the run ended: who held
    it, who waited for it and since when, and whether anything could still move."""

    holds: list[tuple[int, int, Record]]  # (acquired, left) of holds by live buyers
    holding: list[Record]  # stopped inside a purchase (holding the guard): moving
    waiting: list[Record]  # stopped while waiting for the guard
    arriving: list[Record]  # stopped before they arrived: moving
    cut_waits: list[Record]  # lock waits cut by the --timeout bound while the guard moved
    stuck_waits: list[Record]  # waits on a guard no live buyer held or released
    idle_s: float  # from the last report to the stop
    stuck_s: float  # how long a guard must stand still, watched, to count as stuck
    deadlocked: bool

    def holds_after(self, t: int) -> list[Record]:
        return [r for acquired, _, r in self.holds if acquired > t]


def assess_motion(facts: RunFacts, operations: list[Record], cuts: list[Record]) -> Motion:
    """Decide, from what the buyers reported, whether the run could still progress.

    A stopped run was moving if a live buyer was inside its purchase or on its way. It was
    stuck if buyers were waiting for a guard that no live buyer had held or released for
    STUCK_S (or --stall-timeout, if shorter), or that a holder took with it into a death
    that does not release it; with no such evidence at all, if nothing had been reported
    for that long. A lock wait that ran into the --timeout limit is judged the same way;
    a database-busy wait that did is never stuck (the kernel frees a dead holder's lock)."""
    attempts = [r for r in operations if r.kind is Kind.ATTEMPT]
    stopped = facts.stopped
    stop_ns = facts.stopped_ns or facts.finished_ns
    stuck_s = min(STUCK_S, facts.stall_timeout_s or STUCK_S)
    stuck_ns = int(stuck_s * 1e9)
    halted = [r for r in cuts if r.outcome is Outcome.STOPPED]
    holds = [(r.t_acquired, r.t_left or r.t_end, r) for r in attempts + halted if r.t_acquired]
    dead = [
        r
        for r in cuts
        if r.outcome is Outcome.KILLED and r.t_acquired and facts.strategy in DEATH_HOLDS
    ] if guarded(facts) else []  # fmt: skip
    bound_ns = facts.timeout_s * 1e9 * BOUND_SHARE
    bounded = [
        r for r in attempts if r.failure is Failure.LOCK_TIMEOUT and r.t_end - r.t_begin >= bound_ns
    ]
    busy = [
        r
        for r in operations
        if r.failure is Failure.BUSY
        and (r.t_left or r.t_end) - (r.t_write or r.t_read or r.t_begin) >= bound_ns
    ]
    # A guard got after the stop was asked for was handed over by a holder that was
    # stopping (it releases on the way out): its taker was still waiting at the stop.
    late = {id(r) for r in halted if r.t_acquired and facts.stopped_ns and r.t_acquired > stop_ns}
    holding = [r for r in halted if r.t_acquired and id(r) not in late]
    waiting = [r for r in halted if r.t_begin and (not r.t_acquired or id(r) in late)]
    if facts.design != "guard":  # no guard to wait for: a buyer stopped mid-purchase moved
        holding, waiting = [r for r in halted if r.t_begin], []
    arriving = [r for r in halted if not r.t_begin]

    def stuck(wait: Record) -> bool:
        # Watched until the stop at most: a buyer that only reported later (a database
        # wait runs on to its busy timeout) was not seen waiting meanwhile.
        begin, end = wait.t_begin, min(wait.t_end, stop_ns) if stopped else wait.t_end
        if any(acquired > end for acquired, _, _ in holds):
            return False  # the guard moved again afterwards
        last = max([0] + [min(left, end) for acquired, left, _ in holds if acquired <= end])
        if end - max(begin, last) >= stuck_ns:
            return True
        # Its holder took it after the last live hold and died, which releases nothing.
        return any(last <= d.t_acquired and d.t_end <= end for d in dead)

    # Without a guard no one is stuck behind a holder: a wait that ran into --timeout (for
    # the seller's answer) was cut by the timeout.
    stuck_waits = [w for w in bounded + waiting if stuck(w)] if facts.design == "guard" else []
    cut_waits = [w for w in bounded if not any(w is s for s in stuck_waits)] + busy
    idle_s = max(0, stop_ns - facts.last_progress_ns) / 1e9
    # A holder died with a guard its death does not release, and no live buyer held it
    # after: whoever waits, or arrives later, waits for ever.
    guard_dead = any(all(acquired < d.t_acquired for acquired, _, _ in holds) for d in dead)
    if stopped and holding:
        deadlocked = False
    elif guard_dead and (waiting or bounded):
        deadlocked = True
    elif stopped and arriving:
        deadlocked = False
    elif stuck_waits:
        deadlocked = True
    else:  # no one was seen waiting: only the silence before the stop can tell
        deadlocked = facts.timed_out and not waiting and idle_s >= stuck_s
    return Motion(
        holds, holding, waiting, arriving, cut_waits, stuck_waits, idle_s, stuck_s, deadlocked
    )


DEATH_RELEASES = {
    "filelock": "the kernel released its flock when the process died",
    "transaction": "SQLite rolled its open transaction back and released the write lock "
    "when the process died",
    "ttl-lock": "Redis deleted its lock when the TTL ran out (nothing else releases it)",
    "fenced": "Redis deleted its lock when the TTL ran out (nothing else releases it)",
    "for-update": "PostgreSQL ended the dead buyer's session, rolled its transaction back and "
    "released its row lock",
    "advisory": "PostgreSQL ended the dead buyer's session, rolled its transaction back and "
    "released its advisory lock",
    "for-update-unordered": "PostgreSQL ended the dead buyer's session, rolled its "
    "transaction back and released its seats' row locks",
    "skip-locked": "PostgreSQL ended the dead buyer's session, rolled its transaction back "
    "and released its seats' row locks",
}

DEATH_HOLDS = {
    "lock": "a dead holder never releases a multiprocessing.Lock",
    "seatlock": "a dead holder never releases a multiprocessing.Lock",
    "seatlock-unordered": "a dead holder never releases a multiprocessing.Lock",
    "manager": "a dead holder never releases the Manager's lock",
}


def guarded(facts: RunFacts) -> bool:
    """Whether the strategy's guard keeps other buyers out (none, manager without its lock,
    and BEGIN DEFERRED do not; protocols without a guard hold nothing)."""
    return facts.design == "guard" and keeps_buyers_out(facts.strategy, facts.manager_lock)
