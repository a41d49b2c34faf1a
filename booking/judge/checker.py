"""Pure judgement of a run: from the records the buyers sent and the final count, the
numbers of the result record, the verdict, and plain sentences saying why.

Receipts (BOUGHT attempts) are the ground truth; the store's count is the claim checked.
"""

from __future__ import annotations

import itertools
import signal
from collections import defaultdict
from dataclasses import dataclass, field

from booking.engine.frames import EXIT_STOPPED, Failure, Kind, Outcome, Record
from booking.judge.interference import interference
from booking.judge.stats import latency_summary, max_overlap
from booking.stores import Sighting


@dataclass(frozen=True)
class RunFacts:
    """What the runner measured, reduced to plain data."""

    strategy: str
    tickets: int
    buyers: int
    records: list[Record]
    remaining: int | None  # None: the store could not be read after the run
    store_problem: str
    gate_ns: int
    started_ns: int
    finished_ns: int
    last_progress_ns: int
    timed_out: bool
    interrupted: bool
    timeout_s: float
    exit_codes: dict[int, int]
    victims: dict[int, str] = field(default_factory=dict)  # buyer -> "holder" | "writer"
    stall_timeout_s: float | None = None
    across_runs: bool = False  # the strategy's guard is shared by other runs that use it
    sighting: Sighting | None = None  # what the store saw of other writers; None: not asked
    stopped_ns: int = 0  # when the watchdog or a stop request ended the run (0: it ended)
    manager_lock: bool = True  # False: the manager strategy's guard holds nothing


@dataclass(frozen=True)
class Judgement:
    sold: int
    refused: int
    errors: int
    attempts: int
    torn_reads: int
    lock_timeouts: int
    busy: int
    failed_buyers: int
    oversold: int
    lost_updates: int
    external_sales: int
    max_inside: int
    wall_s: float
    startup_s: float
    throughput: float
    latency_ms: dict[str, float]
    lock_wait_ms: dict[str, float]
    handoff_ms: dict[str, float]
    verdict: str
    killed: int
    explanation: list[str]
    interfered: bool = False
    other_sales: int | None = None
    store_sales: int | None = None
    store_oversold: int | None = None
    other_runs: list[str] = field(default_factory=list)


def receipts(records: list[Record]) -> list[int]:
    """The buyer behind each receipt: every attempt that ended BOUGHT."""
    return [r.buyer for r in records if r.kind is Kind.ATTEMPT and r.outcome is Outcome.BOUGHT]


def _who(holders: int, sold: int) -> str:
    """'33 buyers' when each holds one receipt, else '8 buyers (2,000 receipts)'."""
    if holders == sold:
        return _plural(holders, "buyer")
    return f"{_plural(holders, 'buyer')} ({sold:,} receipts)"


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def handoff_gaps_ms(attempts: list[Record]) -> list[float]:
    """How long the guard sat idle while someone waited for it: for each holder after the
    first, the time from the previous holder leaving (t_left) to this one getting the guard,
    counted only when this one was already waiting. This is the lock's own hand-off cost
    (a filelock waiter's poll interval shows up here), apart from the work done under it."""
    held = sorted((r for r in attempts if r.t_acquired and r.t_left), key=lambda r: r.t_acquired)
    return [
        (this.t_acquired - before.t_left) / 1e6
        for before, this in itertools.pairwise(held)
        if this.t_begin < before.t_left <= this.t_acquired
    ]


def judge(facts: RunFacts) -> Judgement:
    attempts = [r for r in facts.records if r.kind is Kind.ATTEMPT]
    cuts = [r for r in facts.records if r.kind is Kind.CUT]
    queries = [r for r in facts.records if r.kind is Kind.QUERY]
    bought = [r for r in attempts if r.outcome is Outcome.BOUGHT]
    failed_ops = [r for r in attempts + queries if r.outcome is Outcome.ERROR]
    failures = [r.failure for r in failed_ops]
    crashed = {r.buyer for r in facts.records if r.kind is Kind.FAILED}
    killed = _killed_victims(facts, cuts)
    if not (facts.timed_out or facts.interrupted):  # else the stop itself set the exit codes
        crashed.update(b for b, code in facts.exit_codes.items() if code not in (0, EXIT_STOPPED))
    crashed -= killed  # killed on purpose: counted apart, not as errors

    sold = len(bought)
    refused = sum(r.outcome is Outcome.SOLD_OUT for r in attempts)
    tickets, remaining = facts.tickets, facts.remaining
    oversold = max(0, sold - tickets)
    decrements = tickets - remaining if remaining is not None else sold
    lost = max(0, min(sold, sold - decrements))  # never more sales lost than were made
    external = max(0, decrements - sold)
    # A window a stop or a fault cut short was open all the same.
    windows = [(r.t_read, r.t_left) for r in attempts + cuts if r.t_read and r.t_left]
    inside = max_overlap(windows)
    ends = [r.t_end for r in facts.records if r.t_end]
    wall_s = max(0, max(ends, default=facts.gate_ns) - facts.gate_ns) / 1e9
    if facts.stopped_ns:  # a stopped run ran until the stop, reports or not
        wall_s = max(wall_s, (facts.stopped_ns - facts.gate_ns) / 1e9)
    throughput = len(attempts) / wall_s if wall_s > 0 else 0.0
    latency = latency_summary((r.t_end - r.t_begin) / 1e6 for r in attempts)
    # The acquire step alone: how long a buyer waited for the guard (to its timeout if
    # it never came).
    lock_wait = latency_summary(((r.t_acquired or r.t_end) - r.t_begin) / 1e6 for r in attempts)
    handoff = latency_summary(handoff_gaps_ms(attempts)) if inside <= 1 else {}
    motion = _motion(facts, attempts + queries, cuts)
    # A wait that ran into the limit --timeout sets while the run kept moving is the
    # timeout's doing, not the strategy's: counted by its kind, not among the errors.
    counted = [r for r in failed_ops if not any(r is w for w in motion.cut_waits)]
    errors = len(counted) + len(crashed)
    others = interference(facts, sold, lost, external)

    if motion.deadlocked:
        verdict = "DEADLOCK"
    elif remaining is None:
        verdict = "CORRUPT"
    elif oversold and not others.voids_oversell:
        verdict = "OVERSOLD"
    elif others.interfered:
        verdict = "INTERFERED"
    elif lost:
        verdict = "LOST_UPDATES"
    elif errors:
        verdict = "ERRORS"
    elif facts.interrupted:
        verdict = "INTERRUPTED"
    elif facts.timed_out or motion.cut_waits:
        verdict = "TIMEOUT"
    else:
        verdict = "SAFE"

    holders = len({r.buyer for r in bought})
    story = _headline(sold, holders, tickets, remaining, refused, oversold, lost)
    story += others.lines
    story += _interleaving(facts.strategy, bought, inside, oversold or lost, len(windows))
    story += _failures([r.failure for r in counted], counted, crashed, facts)
    story += _killed(killed, facts, cuts, motion)
    fates = buyer_fates(facts, attempts, cuts, killed, crashed)
    if killed or facts.timed_out or facts.interrupted:
        story.append(_fates_sentence(fates, facts.buyers, {r.buyer for r in bought}))
    story += _ending(facts, motion, sum(len(fates[k]) for k in _STOPPED))
    if facts.interrupted:
        story.append("Interrupted: these are the numbers measured before the stop.")
    if remaining is None:
        story.append(f"The store could not be read after the run: {facts.store_problem}")
    return Judgement(
        sold=sold,
        refused=refused,
        errors=errors,
        attempts=len(attempts),
        torn_reads=failures.count(Failure.TORN_READ),
        lock_timeouts=failures.count(Failure.LOCK_TIMEOUT),
        busy=failures.count(Failure.BUSY),
        failed_buyers=len(crashed),
        killed=len(killed),
        oversold=oversold,
        lost_updates=lost,
        external_sales=external,
        max_inside=inside,
        wall_s=round(wall_s, 6),
        startup_s=round(max(0, facts.gate_ns - facts.started_ns) / 1e9, 6),
        throughput=round(throughput, 1),
        latency_ms=latency,
        lock_wait_ms=lock_wait,
        handoff_ms=handoff,
        verdict=verdict,
        explanation=story,
        interfered=others.interfered,
        other_sales=others.other_sales,
        store_sales=others.store_sales,
        store_oversold=others.store_oversold,
        other_runs=others.other_runs,
    )


def _headline(
    sold: int,
    holders: int,
    tickets: int,
    remaining: int | None,
    refused: int,
    oversold: int,
    lost: int,
) -> list[str]:
    if oversold:
        line = (
            f"{_who(holders, sold)} hold receipts for {_plural(tickets, 'ticket')}: "
            f"{_plural(oversold, 'ticket')} oversold, {_plural(lost, 'sale')} lost."
        )
    elif lost:
        line = (
            f"{_plural(sold, 'receipt')} for {_plural(tickets, 'ticket')}, but the store "
            f"went down by only {sold - lost}: {_plural(lost, 'sale')} lost "
            "(their decrement was overwritten)."
        )
    else:
        left = "" if remaining is None else f"; {remaining} left"
        line = (
            f"{_plural(holders, 'buyer')} bought {sold} of {_plural(tickets, 'ticket')}; "
            f"{_plural(refused, 'attempt')} told sold out{left}."
        )
    return [line]


def _interleaving(
    strategy: str, bought: list[Record], inside: int, anomalous: int, windows: int
) -> list[str]:
    if not windows:
        return []
    if inside <= 1:
        if strategy == "none":
            return [
                "No two purchases overlapped, so the race never had a chance: "
                "widen --think or add buyers to see it."
            ]
        return [
            "At most 1 buyer was inside the read -> write window at a time: "
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


def _killed(killed: set[int], facts: RunFacts, cuts: list[Record], motion: Motion) -> list[str]:
    """Who was killed on purpose, where, and what that did to the guard: true per strategy
    and checked against what the other buyers did afterwards."""
    deaths = {r.buyer: r for r in cuts if r.outcome is Outcome.KILLED}
    lines = []
    for kind, where in (
        ("holder", "inside the critical section (--kill-holder)"),
        ("writer", "half-way through writing the store (--kill-writer)"),
    ):
        victims = sorted(b for b in killed if facts.victims.get(b) == kind)
        if not victims:
            continue
        who = ", ".join(f"buyer {b}" for b in victims)
        line = f"{who} {'was' if len(victims) == 1 else 'were'} killed {where}"
        read = [deaths[b].read_value for b in victims if b in deaths and deaths[b].read_value >= 0]
        if len(victims) == 1 and read:
            sold_before = facts.tickets - read[0]
            order = (
                "; how many buyers got the guard before it is up to the scheduler, not the seed"
                if _guarded(facts)
                else ""
            )
            line += f" after {_plural(sold_before, 'sale')} (it read {read[0]} left{order})"
        died = [deaths[b] for b in victims if b in deaths]
        after = _after_death(facts, died, motion)
        if kind == "holder" and not motion.stuck_waits:
            after += ", and the killed attempts left no receipt and no sale"
        lines.append(f"{line}; {after}.")
    return lines


#: What a holder's death does to each strategy's guard (FACTS.md).
_DEATH_RELEASES = {
    "filelock": "the kernel released its flock when the process died",
    "transaction": "SQLite rolled its open transaction back and released the write lock "
    "when the process died",
}
_DEATH_HOLDS = {
    "lock": "a dead holder never releases a multiprocessing.Lock",
    "manager": "a dead holder never releases the Manager's lock",
}


def _after_death(facts: RunFacts, died: list[Record], motion: Motion) -> str:
    """The guard after its holder's death: what the strategy promises, and who waited."""
    if not _guarded(facts):
        return "nothing was held"
    first = min((r.t_end for r in died), default=0)
    later = sorted({r.buyer for r in motion.holds_after(first)} if first else set())
    if facts.strategy in _DEATH_HOLDS:
        stuck = sorted({w.buyer for w in motion.stuck_waits})
        line = f"{_DEATH_HOLDS[facts.strategy]}, so the {facts.strategy} guard was never released"
        if stuck:
            how = (
                "until the run was stopped"
                if facts.timed_out or facts.interrupted
                else "until their lock waits ran out"
            )
            return f"{line}: {_plural(len(stuck), 'other buyer')} waited for it {how}"
        return (
            f"{line}, but no other buyer came for it afterwards (the others had finished), "
            "so nobody was stuck"
        )
    took = (
        f"{_plural(len(later), 'buyer')} took the guard after it"
        if later
        else "no other buyer needed the guard afterwards"
    )
    released = _DEATH_RELEASES.get(facts.strategy)
    return f"{released}; {took}" if released else took


def _guarded(facts: RunFacts) -> bool:
    """Whether the strategy's guard holds anything (none, and manager without its lock,
    do not)."""
    return facts.strategy != "none" and not (facts.strategy == "manager" and not facts.manager_lock)


def _killed_victims(facts: RunFacts, cuts: list[Record]) -> set[int]:
    """The victims that died by their fault: each says so just before it dies. (Without that
    report, a victim SIGKILLed in a run that was not stopped.)"""
    said = {r.buyer for r in cuts if r.outcome is Outcome.KILLED}
    stopped = facts.timed_out or facts.interrupted
    return {
        b
        for b in facts.victims
        if b in said or (not stopped and facts.exit_codes.get(b) == -signal.SIGKILL)
    }


# --- was the run still moving when it ended? ------------------------------------------------

#: A guard that no live buyer held or released for this long while others waited for it is
#: stuck: a hand-off takes microseconds, or a few poll intervals, never this long.
STUCK_S = 0.5
#: A lock wait that lasted this share of --timeout ran into the bound --timeout sets on it.
BOUND_SHARE = 0.9


@dataclass(frozen=True)
class Motion:
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


def _motion(facts: RunFacts, operations: list[Record], cuts: list[Record]) -> Motion:
    """Decide, from what the buyers reported, whether the run could still progress.

    A stopped run was moving if a live buyer was inside its purchase or on its way. It was
    stuck if buyers were waiting for a guard that no live buyer had held or released for
    STUCK_S (or --stall-timeout, if shorter), or that a holder took with it into a death
    that does not release it; with no such evidence at all, if nothing had been reported
    for that long. A lock wait that ran into the --timeout limit is judged the same way;
    a database-busy wait that did is never stuck (the kernel frees a dead holder's lock)."""
    attempts = [r for r in operations if r.kind is Kind.ATTEMPT]
    stopped = facts.timed_out or facts.interrupted
    stop_ns = facts.stopped_ns or facts.finished_ns
    stuck_s = min(STUCK_S, facts.stall_timeout_s or STUCK_S)
    stuck_ns = int(stuck_s * 1e9)
    halted = [r for r in cuts if r.outcome is Outcome.STOPPED]
    holds = [(r.t_acquired, r.t_left or r.t_end, r) for r in attempts + halted if r.t_acquired]
    dead = [
        r
        for r in cuts
        if r.outcome is Outcome.KILLED and r.t_acquired and facts.strategy in _DEATH_HOLDS
    ] if _guarded(facts) else []  # fmt: skip
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
    holding = [r for r in halted if r.t_acquired]
    waiting = [r for r in halted if r.t_begin and not r.t_acquired]
    arriving = [r for r in halted if not r.t_begin]

    def stuck(wait: Record) -> bool:
        begin, end = wait.t_begin, wait.t_end
        if any(acquired > end for acquired, _, _ in holds):
            return False  # the guard moved again afterwards
        last = max([0] + [min(left, end) for acquired, left, _ in holds if acquired <= end])
        if end - max(begin, last) >= stuck_ns:
            return True
        # Its holder took it after the last live hold and died, which releases nothing.
        return any(last <= d.t_acquired and d.t_end <= end for d in dead)

    stuck_waits = [w for w in bounded + waiting if stuck(w)]
    cut_waits = [w for w in bounded if not any(w is s for s in stuck_waits)] + busy
    idle_s = max(0, stop_ns - facts.last_progress_ns) / 1e9
    if stopped and (holding or arriving):
        deadlocked = False
    elif stuck_waits:
        deadlocked = True
    else:  # no one was seen waiting: only the silence before the stop can tell
        deadlocked = facts.timed_out and not waiting and idle_s >= stuck_s
    return Motion(
        holds, holding, waiting, arriving, cut_waits, stuck_waits, idle_s, stuck_s, deadlocked
    )


# --- what became of each buyer, and how the run ended ---------------------------------------

#: The fates of buyers a stop found still running.
_STOPPED = ("stopped inside", "stopped waiting", "stopped arriving", "stopped")
_FATE_WORDS = {
    "bought": ("bought", "bought"),
    "killed": ("was killed", "were killed"),
    "stopped inside": (
        "was stopped inside its purchase",
        "were stopped inside their purchase",
    ),
    "stopped waiting": (
        "was stopped while waiting for the guard",
        "were stopped while waiting for the guard",
    ),
    "stopped arriving": ("was stopped before it arrived", "were stopped before they arrived"),
    "stopped": ("was stopped", "were stopped"),
    "failed": ("failed", "failed"),
    "sold out": ("was told sold out", "were told sold out"),
    "gave up waiting": ("gave up waiting for the guard", "gave up waiting for the guard"),
    "gave up": ("gave up after failed attempts", "gave up after failed attempts"),
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
    stopped_run = facts.timed_out or facts.interrupted
    halted = {r.buyer: r for r in cuts if r.outcome is Outcome.STOPPED}
    bought = {r.buyer for r in attempts if r.outcome is Outcome.BOUGHT}
    sold_out = {r.buyer for r in attempts if r.outcome is Outcome.SOLD_OUT}
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
            elif cut.t_acquired:
                fate = "stopped inside"
            else:
                fate = "stopped waiting" if cut.t_begin else "stopped arriving"
        elif facts.exit_codes and code is None and b not in heard:
            fate = "not started"
        elif b in bought:
            fate = "bought"
        elif b in sold_out:
            fate = "sold out"
        elif b in tried:
            fate = "gave up" if b in got_guard else "gave up waiting"
        else:
            fate = "no attempt"
        fates[fate].append(b)
    return fates


def _fates_sentence(fates: dict[str, list[int]], buyers: int, bought: set[int]) -> str:
    """'Of 10 buyers: 6 bought, 1 was killed, 3 were stopped while waiting for the guard.'"""
    parts = [f"{len(who)} {_FATE_WORDS[fate][len(who) != 1]}" for fate, who in fates.items() if who]
    line = f"Of {_plural(buyers, 'buyer')}: {', '.join(parts)}."
    stopped = {b for key in _STOPPED for b in fates[key]}
    if earlier := len(stopped & bought):
        line = line[:-1] + f" ({earlier} of the stopped had bought before)."
    return line


def _ending(facts: RunFacts, motion: Motion, stopped: int) -> list[str]:
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
                f"{ended}, but it was still moving: {_moving(facts, motion)}. That is a "
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


def _moving(facts: RunFacts, motion: Motion) -> str:
    """What showed that a stopped run was still making progress."""
    parts = []
    if motion.holding:
        n = len(motion.holding)
        guard = ", holding the guard" if _guarded(facts) else ""
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


def _failures(
    failures: list[Failure], failed_ops: list[Record], crashed: set[int], facts: RunFacts
) -> list[str]:
    lines = []
    if failures:
        parts = []
        names = {
            Failure.TORN_READ: ("torn read", "torn reads"),
            Failure.BUSY: ("database-busy error", "database-busy errors"),
            Failure.LOCK_TIMEOUT: ("lock wait that timed out", "lock waits that timed out"),
            Failure.OTHER: ("other error", "other errors"),
        }
        for failure, (one, many) in names.items():
            if n := failures.count(failure):
                parts.append(_plural(n, one, many))
        if Failure.TORN_READ in failures:
            parts[0] += " (the file was caught half-written by an in-place write)"
        lines.append(
            f"{_plural(len(failures), 'operation')} failed: {', '.join(parts)}. "
            f"First: {failed_ops[0].message}"
        )
    if crashed:
        first = next((r.message for r in facts.records if r.kind is Kind.FAILED), "")
        detail = f": {first}" if first else ""
        lines.append(f"{_plural(len(crashed), 'buyer')} failed outside a purchase{detail}")
    return lines
