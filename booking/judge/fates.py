"""What became of each buyer, counted once (bought, killed, stopped, sold out...), what a
fault did to the guard per strategy, and how the run ended: the sentences of a run that
was stopped, timed out or hit by a fault."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from booking.engine.frames import Failure, Outcome, Record
from booking.words import plural as _plural

if TYPE_CHECKING:
    from booking.judge.checker import RunFacts
from booking.judge.motion import DEATH_HOLDS, DEATH_RELEASES, Motion, guarded
from booking.judge.redis_story import DISCARDED


def killed_lines(
    killed: set[int], facts: RunFacts, cuts: list[Record], motion: Motion
) -> list[str]:
    """Who was killed on purpose, where, and what that did to the guard: true per strategy
    and checked against what the other buyers did afterwards."""
    deaths = {r.buyer: r for r in cuts if r.outcome is Outcome.KILLED}
    lines = []
    for kind in ("holder", "writer"):
        where = DEATH_PLACES.get((kind, facts.design), DEATH_PLACES[kind, "guard"])
        victims = sorted(b for b in killed if facts.victims.get(b) == kind)
        if not victims:
            continue
        who = ", ".join(f"buyer {b}" for b in victims)
        line = f"{who} {'was' if len(victims) == 1 else 'were'} killed {where}"
        read = [deaths[b].read_value for b in victims if b in deaths and deaths[b].read_value >= 0]
        if len(victims) == 1 and read and guarded(facts):
            # Under a guard the count it read is the start less the sales before it; with
            # none, others' reads and writes overlap and it says nothing of the kind.
            sold_before = facts.tickets - read[0]
            order = "; how many buyers got the guard before it is up to the scheduler, not the seed"
            line += f" after {_plural(sold_before, 'sale')} (it read {read[0]} left{order})"
        elif len(victims) == 1 and read:
            line += f" (it had read {read[0]} left)"
        died = [deaths[b] for b in victims if b in deaths]
        after = after_death(facts, died, motion, kind)
        if kind == "holder" and not motion.stuck_waits:
            after += ", and the killed attempts left no receipt and no sale"
        lines.append(f"{line}; {after}.")
    return lines


#: Where a victim died, by its fault and the design of its strategy's protocol.
DEATH_PLACES = {
    ("holder", "guard"): "inside the critical section (--kill-holder)",
    ("holder", "compare-and-set"): "between its read and its compare-and-set (--kill-holder)",
    ("writer", "guard"): "half-way through writing the store (--kill-writer)",
    ("writer", "conditional"): "inside its conditional update, before COMMIT (--kill-writer)",
    ("writer", "compare-and-set"): "half-way through its compare-and-set write (--kill-writer)",
    ("holder", "snapshot"): "inside its read transaction, during its think (--kill-holder)",
    ("writer", "snapshot"): "inside its write transaction, before COMMIT (--kill-writer)",
}
ROLLED_BACK = (
    "SQLite rolled its open transaction back and released the write lock when the process died"
)
PG_ROLLED_BACK = (
    "PostgreSQL ended the dead buyer's session, rolled its transaction back and released "
    "the row lock its write held"
)


def after_death(facts: RunFacts, died: list[Record], motion: Motion, kind: str = "") -> str:
    """The guard after its holder's death: what the strategy promises, and who waited."""
    if not guarded(facts):
        if kind == "writer" and facts.store == "redis":
            return DISCARDED
        if facts.store == "postgres":
            if kind == "holder":
                return (
                    "PostgreSQL ended the dead buyer's session and its transaction; it held no lock"
                )
            if facts.design == "guard" or kind == "writer":  # naive-tx, none: the UPDATE's
                return PG_ROLLED_BACK  # row lock; atomic, optimistic: their one statement
        if facts.design == "snapshot" and kind == "holder":
            return "SQLite ended its read transaction when the process died; it held no lock"
        if kind == "writer" and facts.design in ("snapshot", "conditional"):
            return ROLLED_BACK
        if kind == "writer" and facts.design == "compare-and-set":
            if facts.store == "sqlite":
                return ROLLED_BACK
            return "the kernel released the short flock of its compare-and-set when it died"
        return "nothing was held"
    if (
        facts.seat_locks and facts.strategy in DEATH_HOLDS
    ):  # who waited for which of its seats is said seat by seat
        return (
            "a dead holder never releases a multiprocessing.Lock, so its seats' locks stayed held"
        )
    first = min((r.t_end for r in died), default=0)
    later = sorted({r.buyer for r in motion.holds_after(first)} if first else set())
    if facts.strategy in DEATH_HOLDS:
        stuck = sorted({w.buyer for w in motion.stuck_waits})
        line = f"{DEATH_HOLDS[facts.strategy]}, so the {facts.strategy} guard was never released"
        if stuck:
            how = "until the run was stopped" if facts.stopped else "until their lock waits ran out"
            return f"{line}: {_plural(len(stuck), 'other buyer')} waited for it {how}"
        return (
            f"{line}, but no other buyer came for it afterwards (the others had finished), "
            "so nobody was stuck"
        )
    what = "seats' locks" if facts.seat_locks else "the guard"
    took = (
        f"{_plural(len(later), 'buyer')} took {what} after it"
        if later
        else f"no other buyer needed {what} afterwards"
    )
    released = DEATH_RELEASES.get(facts.strategy)
    return f"{released}; {took}" if released else took


def killed_victims(facts: RunFacts, cuts: list[Record]) -> set[int]:
    """The victims that died by their fault: each says so just before it dies. (Without that
    report, a victim SIGKILLed in a run that was not stopped.)"""
    said = {r.buyer for r in cuts if r.outcome is Outcome.KILLED}
    stopped = facts.stopped
    return {
        b
        for b in facts.victims
        if b in said or (not stopped and facts.exit_codes.get(b) == -signal.SIGKILL)
    }


#: The fates of buyers a stop found still running.
STOPPED = ("stopped inside", "stopped waiting", "stopped arriving", "stopped")
_FATE_WORDS = {
    "bought": ("bought", "bought"),
    "killed": ("was killed", "were killed"),
    "stopped inside": (
        "was stopped inside its purchase",
        "were stopped inside their purchase",
    ),
    "stopped waiting": (
        "was stopped while waiting for {guard}",
        "were stopped while waiting for {guard}",
    ),
    "stopped arriving": ("was stopped before it arrived", "were stopped before they arrived"),
    "stopped": ("was stopped", "were stopped"),
    "failed": ("failed", "failed"),
    "sold out": ("was told sold out", "were told sold out"),
    "gave up waiting": ("gave up waiting for {guard}", "gave up waiting for {guard}"),
    "gave up": ("gave up after failed attempts", "gave up after failed attempts"),
    "out of retries": ("gave up after its retries", "gave up after their retries"),
    "not started": ("was never started", "were never started"),
    "no attempt": ("made no attempt", "made no attempt"),
}


def buyer_fates(
    facts: RunFacts,
    attempts: list[Record],
    cuts: list[Record],
    killed: set[int],
    crashed: set[int],
) -> dict[str, list[int]]:
    """Every buyer exactly once, by what became of it (the keys of _FATE_WORDS), so that
    the numbers told add up to the buyers. A stop outranks a purchase made before it."""
    stopped_run = facts.stopped
    halted = {r.buyer: r for r in cuts if r.outcome is Outcome.STOPPED}
    bought = {r.buyer for r in attempts if r.outcome is Outcome.BOUGHT}
    sold_out = {r.buyer for r in attempts if r.outcome is Outcome.SOLD_OUT}
    out_of_retries = {r.buyer for r in attempts if r.outcome is Outcome.GAVE_UP}
    tried = {r.buyer for r in attempts}
    got_guard = {r.buyer for r in attempts if r.failure is not Failure.LOCK_TIMEOUT}
    heard = {r.buyer for r in facts.records}
    fates: dict[str, list[int]] = {key: [] for key in _FATE_WORDS}
    for b in range(facts.buyers):
        code = facts.exit_codes.get(b)
        cut = halted.get(b)
        if b in killed:
            fate = "killed"
        elif b in crashed:
            fate = "failed"
        elif stopped_run and (cut is not None or code not in (None, 0)):
            if cut is None:
                fate = "stopped"
            elif facts.design != "guard":  # no guard to wait for: inside, or on its way
                fate = "stopped inside" if cut.t_begin else "stopped arriving"
            elif cut.t_acquired and not (facts.stopped_ns and cut.t_acquired > facts.stopped_ns):
                fate = "stopped inside"  # a guard taken after the stop: it was still waiting
            else:
                fate = "stopped waiting" if cut.t_begin else "stopped arriving"
        elif (facts.exit_codes or stopped_run) and code is None and b not in heard:
            fate = "not started"  # a stopped run reaped every buyer it started
        elif b in bought:
            fate = "bought"
        elif b in sold_out:
            fate = "sold out"
        elif b in out_of_retries:
            fate = "out of retries"
        elif b in tried:
            fate = "gave up" if b in got_guard else "gave up waiting"
        else:
            fate = "no attempt"
        fates[fate].append(b)
    return fates


def fates_sentence(
    fates: dict[str, list[int]], buyers: int, bought: set[int], guard: str = "the guard"
) -> str:
    """'Of 10 buyers: 6 bought, 1 was killed, 3 were stopped while waiting for the guard.'"""
    parts = [
        f"{len(who)} {_FATE_WORDS[fate][len(who) != 1].format(guard=guard)}"
        for fate, who in fates.items()
        if who
    ]
    line = f"Of {_plural(buyers, 'buyer')}: {', '.join(parts)}."
    stopped = {b for key in STOPPED for b in fates[key]}
    if earlier := len(stopped & bought):
        line = line[:-1] + f" ({earlier} of the stopped had bought before)."
    return line


def ending_lines(facts: RunFacts, motion: Motion, stopped: int) -> list[str]:
    """How the run ended, when it did not end by itself: stuck (DEADLOCK) or cut while it
    was still moving (TIMEOUT: raise the limit); and lock waits cut by the --timeout bound."""
    lines = []
    if facts.timed_out:
        idle_s = motion.idle_s
        stalled = facts.stall_timeout_s is not None and idle_s >= facts.stall_timeout_s
        ended = (
            f"The run was stopped after {idle_s:.1f} s without a report from any buyer "
            f"(--stall-timeout {facts.stall_timeout_s:g})"
            if stalled
            else f"The run did not finish within its {facts.timeout_s:g} s timeout"
        )
        if motion.deadlocked:
            line = (
                f"{ended}: {_plural(stopped, 'buyer')} had to be stopped; nothing had been "
                f"reported for {idle_s:.1f} s."
            )
            if motion.waiting:
                n = len(motion.waiting)
                line += (
                    f" {n} {'was' if n == 1 else 'were'} waiting for the guard, and no "
                    "buyer alive held it."
                )
            lines.append(
                line + " A lock that is never released, or a wait with no end, looks like this."
            )
        else:
            option = "--stall-timeout" if stalled else "--timeout"
            lines.append(
                f"{ended}, but it was still moving: {moving_words(facts, motion)}. That is a "
                f"timeout, not a deadlock: raise {option} to let the run finish."
            )
    if motion.cut_waits:
        n = len(motion.cut_waits)
        lines.append(
            f"{_plural(n, 'wait')} for a lock (the guard, or SQLite's write lock) ran into "
            f"the {facts.timeout_s:g} s limit that --timeout sets on every such wait while "
            "the run kept moving: the limit was too short for the queue, nothing was stuck "
            "(not counted as errors). Raise --timeout."
        )
    return lines


def moving_words(facts: RunFacts, motion: Motion) -> str:
    """What showed that a stopped run was still making progress."""
    parts = []
    if motion.holding:
        n = len(motion.holding)
        guard = ", holding the guard" if guarded(facts) else ""
        parts.append(
            f"buyer {motion.holding[0].buyer} was inside its purchase{guard}"
            if n == 1
            else f"{n} buyers were inside their purchase{guard}"
        )
    if motion.arriving:
        parts.append(f"{_plural(len(motion.arriving), 'buyer')} had not arrived yet")
    if not parts:
        parts.append(f"the last report came {motion.idle_s:.2f} s before the stop")
    return " and ".join(parts)
