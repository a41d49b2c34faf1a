"""Pure judgement of a run: from the records the buyers sent and the final count, the
numbers of the result record, the verdict, and plain sentences saying why.

Receipts (BOUGHT attempts) are the ground truth; the store's count is the claim checked.
"""

from __future__ import annotations

import itertools
import signal
from collections import defaultdict
from dataclasses import dataclass, field

from booking.engine.frames import EXIT_STOPPED, NO_VALUE, Failure, Kind, Outcome, Record
from booking.judge.stats import latency_summary, max_overlap
from booking.stores import Sighting, Writer


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
    queries = [r for r in facts.records if r.kind is Kind.QUERY]
    bought = [r for r in attempts if r.outcome is Outcome.BOUGHT]
    failed_ops = [r for r in attempts + queries if r.outcome is Outcome.ERROR]
    failures = [r.failure for r in failed_ops]
    crashed = {r.buyer for r in facts.records if r.kind is Kind.FAILED}
    killed = {b for b in facts.victims if facts.exit_codes.get(b) == -signal.SIGKILL}
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
    windows = [(r.t_read, r.t_left) for r in attempts if r.t_read and r.t_left]
    inside = max_overlap(windows)
    ends = [r.t_end for r in facts.records if r.t_end]
    wall_s = max(0, max(ends, default=facts.gate_ns) - facts.gate_ns) / 1e9
    throughput = len(attempts) / wall_s if wall_s > 0 else 0.0
    latency = latency_summary((r.t_end - r.t_begin) / 1e6 for r in attempts)
    # The acquire step alone: how long a buyer waited for the guard (to its timeout if
    # it never came).
    lock_wait = latency_summary(((r.t_acquired or r.t_end) - r.t_begin) / 1e6 for r in attempts)
    handoff = latency_summary(handoff_gaps_ms(attempts)) if inside <= 1 else {}
    errors = len(failed_ops) + len(crashed)
    others = interference(facts, sold, lost, external)

    if facts.timed_out:
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
    else:
        verdict = "SAFE"

    holders = len({r.buyer for r in bought})
    story = _headline(sold, holders, tickets, remaining, refused, oversold, lost)
    story += others.lines
    story += _interleaving(facts.strategy, bought, inside, oversold or lost, len(windows))
    story += _failures(failures, failed_ops, crashed, facts)
    story += _killed(killed, facts)
    if facts.timed_out:
        running = sum(1 for code in facts.exit_codes.values() if code != 0)
        idle_s = (facts.finished_ns - facts.last_progress_ns) / 1e9
        stalled = facts.stall_timeout_s is not None and idle_s >= facts.stall_timeout_s
        ended = (
            f"The run was stopped after {idle_s:.1f} s without progress (--stall-timeout "
            f"{facts.stall_timeout_s:g})"
            if stalled
            else f"The run did not finish within its {facts.timeout_s:g} s timeout"
        )
        story.append(
            f"{ended}: {_plural(running, 'buyer')} had to be stopped; nothing had been "
            f"reported for {idle_s:.1f} s. A lock that is never released, or a wait with no "
            "end, looks like this."
        )
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


def _killed(killed: set[int], facts: RunFacts) -> list[str]:
    """Who was killed on purpose, and what that did to the guard."""
    if not killed:
        return []
    holders = sorted(b for b in killed if facts.victims[b] == "holder")
    writers = sorted(b for b in killed if facts.victims[b] == "writer")
    lines = []
    if holders:
        who = ", ".join(f"buyer {b}" for b in holders)
        if facts.timed_out:
            lines.append(
                f"{who} {'was' if len(holders) == 1 else 'were'} killed inside the critical "
                f"section (--kill-holder) and the {facts.strategy} guard was never released: "
                "every other buyer waited for a holder that no longer existed."
            )
        else:
            held = (
                "nothing was held"
                if facts.strategy == "none"
                else f"the {facts.strategy} guard was released with the dead process"
            )
            lines.append(
                f"{who} {'was' if len(holders) == 1 else 'were'} killed inside the critical "
                f"section (--kill-holder); {held}, and the killed attempts left no receipt "
                "and no sale."
            )
    if writers:
        who = ", ".join(f"buyer {b}" for b in writers)
        guard = (
            f"; it died holding the {facts.strategy} guard, which was never released"
            if facts.timed_out and facts.strategy != "none"
            else ""
        )
        lines.append(
            f"{who} {'was' if len(writers) == 1 else 'were'} killed half-way through writing "
            f"the store (--kill-writer){guard}."
        )
    return lines


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


# --- other writers of the store ---------------------------------------------------------------
#
# What each check proves, for a run whose every write left a receipt (a buyer reports a
# write even when stopped; a killed holder dies before writing, a killed writer's half
# write never becomes a count):
# - the count went down by more than this run sold: someone else decremented it. Alone,
#   every write is (a count read) - 1 and every count read is the start or one of ours, so
#   the count can never fall below tickets - sold.
# - a buyer read a count that is neither the start nor one this run wrote (or the store
#   ended at one): someone else wrote it, for the same reason. Neither check sees another
#   writer whose values happen to be ours (two `lock` runs in lockstep write the same
#   sequence): that takes the store's own record below.
# - the sqlite ledger holds rows of another run written since this run's start mark: that
#   run sold those tickets meanwhile; the resets table says when another run reset it.
# - a JSON file a buyer read carries another writer's tag (an atomic write makes a new
#   file, tagged before it is renamed over the store): that writer wrote the store.
# Whether it did harm: the ledger balances (every sale since the mark took exactly one
# ticket off the count) or it does not; a JSON store only knows whether each writer it
# saw held the same <store>.lock.


@dataclass(frozen=True)
class Interference:
    """What this run can prove about other writers of its store, and what it makes of them."""

    proven: bool = False  # another process changed the store during the run
    harmless: bool = False  # coordinated with this run, and the store shows no harm
    voids_oversell: bool = False  # a reset meanwhile: receipts are not set against `tickets`
    other_sales: int | None = None  # ledger rows of other runs since the start
    store_sales: int | None = None  # ledger rows of every run since the start
    store_oversold: int | None = None  # max(0, store_sales - tickets)
    other_runs: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def interfered(self) -> bool:
        """The verdict's question: was this run's store changed by someone it did not
        coordinate with (or in a way the store shows did harm)?"""
        return self.proven and not self.harmless


def stray_counts(facts: RunFacts) -> list[int]:
    """Counts this run saw (read, or left at the end) that it never wrote and did not start
    from: each one was written by another process."""
    written = {r.written_value for r in facts.records if r.written_value != NO_VALUE}
    known = written | {facts.tickets}
    seen = {r.read_value for r in facts.records if r.read_value != NO_VALUE}
    if facts.remaining is not None:
        seen.add(facts.remaining)
    return sorted(seen - known, reverse=True)


def _writer(writer: Writer) -> str:
    if not writer.run:
        return "a process outside booking"
    return f"run {writer.run}" + (f" ({writer.strategy})" if writer.strategy else "")


def _runs(writers: list[Writer]) -> str:
    names = ", ".join(_writer(w) for w in writers[:3]) + (", ..." if len(writers) > 3 else "")
    return names if len(writers) == 1 else f"{len(writers)} other writers: {names}"


def interference(facts: RunFacts, sold: int, lost: int, external: int) -> Interference:
    """Judge what the run saw of other writers of its store (see the notes above)."""
    seen = facts.sighting or Sighting(identity=False)
    tickets = facts.tickets
    stray = stray_counts(facts)
    others = list(seen.others)
    proven = bool(external or stray or others or seen.resets or seen.overwritten is not None)
    if not proven:
        return Interference()
    drop = tickets - facts.remaining if facts.remaining is not None else None
    # The ledger's sales are set against the count read in the same snapshot (later than
    # `remaining` when another run is still selling).
    books = tickets - seen.count if seen.count is not None else drop
    moved = (
        "" if drop is None else f"it went down by {drop}" if drop >= 0 else f"it went up by {-drop}"
    )
    facts_seen: list[str] = []
    other_sales = store_sales = store_oversold = None
    balanced = False
    if seen.ledger:
        other_sales = sum(w.sales or 0 for w in others)
        store_sales = seen.sales
        balanced = books == store_sales and not seen.resets
        if others:
            facts_seen.append(
                f"its ledger holds {_plural(other_sales, 'sale')} by {_runs(others)} made meanwhile"
            )
        if not seen.resets:
            store_oversold = max(0, store_sales - tickets)
    elif others:
        read = sum(w.reads for w in others)
        facts_seen.append(
            f"{read} of this run's reads found a file written by {_runs(others)}"
            if read
            else f"the store was last written by {_runs(others)}"
        )
    if seen.resets:
        facts_seen.append(f"run {', '.join(seen.resets)} reset its count")
    if seen.overwritten is not None:
        facts_seen.append(
            f"while the stock was in the manager its count changed from {tickets} to "
            f"{seen.overwritten}, and writing back erased that change"
        )
    if stray and not facts_seen:
        shown = ", ".join(map(str, stray[:3])) + (", ..." if len(stray) > 3 else "")
        facts_seen.append(f"the store held counts this run never wrote ({shown})")
    what = "; ".join(([f"{moved} while this run sold {sold}"] if moved else []) + facts_seen)
    lines = [f"Another process changed this store during the run: {what}."]

    strategy = facts.strategy
    coordinated = facts.across_runs and not seen.resets and seen.overwritten is None
    harmless = False
    if coordinated and seen.ledger:
        harmless = balanced
    elif coordinated and seen.identity and others:
        harmless = all(w.same_lock for w in others)
    if harmless and seen.ledger:
        lines.append(
            f"{strategy} coordinates every run on the store, and the ledger agrees: since this "
            f"run started it holds {_plural(store_sales or 0, 'sale')} for the "
            f"{_plural(tickets, 'ticket')} the store held then, and the count went down by "
            "exactly that: none oversold, none lost."
        )
    elif harmless:
        lines.append(
            f"Every writer seen held the store's lock file too (filelock coordinates every "
            f"run that uses it), so all sales were made one at a time: together they took "
            f"{drop} tickets off the count, none oversold."
        )
    elif not facts.across_runs:
        lines.append(
            f"The {strategy} strategy only coordinates the buyers of one run, so this result "
            "does not show what it does alone: filelock (a lock file beside the store) and "
            "transaction (SQLite's write lock) coordinate every run on the store."
        )
    elif seen.ledger:
        lines.append(
            f"{strategy} only coordinates runs that use it too, and the ledger shows "
            "someone did not."
        )
    elif others and seen.identity:
        stranger = [w for w in others if not w.same_lock]
        lines.append(
            f"filelock only coordinates runs that hold the store's lock file too; "
            f"{_runs(stranger)} did not, so this run's purchases were not protected from it."
        )
    elif not seen.resets and seen.overwritten is None:
        why = "no writer tags" if facts.sighting is not None else "nothing"
        lines.append(
            f"The store keeps {why} to say who that was: another {strategy} run on the same "
            "lock would have lost nothing, but this run cannot show it was one."
        )
    if store_sales is not None and store_oversold is not None and not harmless:
        lost_all = max(0, store_sales - books) if books is not None else 0
        ended = (
            f"{_plural(store_oversold, 'ticket')} oversold across all runs on it"
            if store_oversold
            else "none oversold across the runs on it"
        )
        if lost_all:
            ended += f"; the count went down by only {books}: {_plural(lost_all, 'sale')} lost"
        lines.append(
            f"Since this run started, the store's ledger holds "
            f"{_plural(store_sales, 'sale')} for the {_plural(tickets, 'ticket')} it "
            f"held then: {ended}."
        )
    voids = bool(seen.resets) and sold > tickets
    if seen.resets:
        lines.append(
            "A reset in the middle of a run gives the store a new stock, so this run's "
            "sales cannot all be set against the tickets it started with"
            + (
                f": its {sold} receipts for {tickets} tickets are not proof of an oversell."
                if voids
                else "."
            )
        )
    if lost and not harmless:
        lines.append(
            f"The {_plural(lost, 'sale')} lost may be the other process's doing: its writes "
            "and this run's may have overwritten each other."
        )
    return Interference(
        proven=True,
        harmless=harmless,
        voids_oversell=voids,
        other_sales=other_sales,
        store_sales=store_sales,
        store_oversold=store_oversold,
        other_runs=[w.run for w in others if w.run],
        lines=lines,
    )
