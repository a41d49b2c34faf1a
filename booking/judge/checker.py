"""Pure judgement of a run: from the records the buyers sent and the final count, the
numbers of the result record, the verdict, and plain sentences saying why.

Receipts (BOUGHT attempts) are the ground truth; the store's count is the claim checked.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from booking.engine.frames import EXIT_STOPPED, Failure, Kind, Outcome, Record
from booking.judge.designs import (
    conflict_lines,
    deferred_lines,
    retries_made,
    seller_lines,
    server_killed_sentence,
)
from booking.judge.fates import (
    STOPPED,
    buyer_fates,
    ending_lines,
    fates_sentence,
    killed_lines,
    killed_victims,
)
from booking.judge.interference import interference
from booking.judge.motion import Motion, assess_motion, guarded
from booking.judge.redis_story import redis_lines
from booking.judge.seats import SeatFacts, SeatJudgement, judge_seats, seat_interference
from booking.judge.server_story import server_lines
from booking.judge.stats import latency_summary, max_overlap
from booking.judge.story import headline, interleaving, plural_of
from booking.stores.sighting import Sighting


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
    aborted: str = ""  # why the memory guard stopped the run ("": it did not)
    design: str = "guard"  # the shape of the strategy's protocol (StrategyInfo.design)
    store: str = ""  # the store's kind
    private_store: bool = False  # a fresh store in a folder of this run's own
    retries: int = 0  # compare-and-set: the tries a buyer had after its first
    seats: SeatFacts | None = None  # a seat run: its map; tickets are its free seats
    seat_locks: bool = False  # a lock per seat (seatlock): no one guard to be stuck behind
    server_killed_ms: float | None = None  # --kill-server: when the server was SIGKILLed
    server_kill_missed_ms: float | None = None  # --kill-server asked for, after the run ended
    # The count could not be read because the store's server did not answer: unknown, not
    # corrupt.
    store_unreachable: bool = False
    lock_ttl_ms: float | None = None  # ttl-lock and fenced: the lock's time-to-live

    @property
    def stopped(self) -> bool:
        """Ended by the watchdog, a stop request or the memory guard, not by itself."""
        return self.timed_out or self.interrupted or bool(self.aborted)


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
    conflicts: int = 0
    retries: int = 0
    gave_up: int = 0
    interfered: bool = False
    other_sales: int | None = None
    store_sales: int | None = None
    store_oversold: int | None = None
    other_runs: list[str] = field(default_factory=list)
    seats: SeatJudgement | None = None


def receipts(records: list[Record]) -> list[int]:
    """The buyer behind each receipt: every attempt that ended BOUGHT."""
    return [r.buyer for r in records if r.kind is Kind.ATTEMPT and r.outcome is Outcome.BOUGHT]


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
    conflicts = [r for r in facts.records if r.kind is Kind.CONFLICT]
    queries = [r for r in facts.records if r.kind is Kind.QUERY]
    bought = [r for r in attempts if r.outcome is Outcome.BOUGHT]
    failed_ops = [r for r in attempts + queries if r.outcome is Outcome.ERROR]
    failures = [r.failure for r in failed_ops]
    crashed = {r.buyer for r in facts.records if r.kind is Kind.FAILED}
    killed = killed_victims(facts, cuts)
    if not facts.stopped:  # else the stop itself set the exit codes
        crashed.update(b for b, code in facts.exit_codes.items() if code not in (0, EXIT_STOPPED))
    crashed -= killed  # killed on purpose: counted apart, not as errors

    # A seat run counts seats: each receipt is an order of `order` of them.
    sold = len(bought) * (facts.seats.order if facts.seats else 1)
    refused = sum(r.outcome is Outcome.SOLD_OUT for r in attempts)
    tickets, remaining = facts.tickets, facts.remaining
    oversold = max(0, sold - tickets)
    decrements = tickets - remaining if remaining is not None else sold
    lost = max(0, min(sold, sold - decrements))  # never more sales lost than were made
    external = max(0, decrements - sold)
    # A window a stop or a fault cut short was open all the same, and so was each try of a
    # compare-and-set. A conditional update reads inside its write: its window is the write.
    windows = [
        (r.t_read or r.t_write, r.t_left)
        for r in attempts + cuts + conflicts
        if (r.t_read or r.t_write) and r.t_left
    ]
    gave_up = [r for r in attempts if r.outcome is Outcome.GAVE_UP]
    inside = max_overlap(windows)
    ends = [r.t_end for r in facts.records if r.t_end]
    wall_s = max(0, max(ends, default=facts.gate_ns) - facts.gate_ns) / 1e9
    timed = attempts
    if facts.stopped_ns:
        # A stopped run is measured up to the stop, reports or not: what buyers finished
        # while being stopped (a write let finish, a database wait that only ends at its
        # busy timeout) is no measure of its speed, nor of how long a purchase takes.
        wall_s = max(0, facts.stopped_ns - facts.gate_ns) / 1e9
        timed = [r for r in attempts if r.t_end <= facts.stopped_ns]
    throughput = len(timed) / wall_s if wall_s > 0 else 0.0
    latency = latency_summary((r.t_end - r.t_begin) / 1e6 for r in timed)
    # The acquire step alone: how long a buyer waited for the guard (to its timeout if
    # it never came).
    lock_wait = (
        latency_summary(((r.t_acquired or r.t_end) - r.t_begin) / 1e6 for r in timed)
        if guarded(facts)
        else {}  # no guard (or one that holds nothing: none's), no wait for one
    )
    # One guard that held everyone out: its idle gaps are hand-offs. Locks per seat are
    # many guards; a gap between two buyers of different seats hands nothing over.
    guard_held = guarded(facts) and inside <= 1 and not facts.seat_locks
    handoff = latency_summary(handoff_gaps_ms(attempts)) if guard_held else {}
    motion = assess_motion(facts, attempts + queries, cuts)
    seated = judge_seats(facts.seats, facts.records) if facts.seats else None
    if seated is not None and facts.seat_locks:
        motion = seat_motion(motion, seated.stuck)
    # A wait that ran into the limit --timeout sets while the run kept moving is the
    # timeout's doing, not the strategy's: counted by its kind, not among the errors.
    counted = [r for r in failed_ops if not any(r is w for w in motion.cut_waits)]
    errors = len(counted) + len(crashed)
    if seated is None:
        others = interference(facts, sold, lost, external, inside)
    else:  # free seats are no count: the seat judge reads other runs' holders itself
        concurrent = facts.sighting is not None and facts.sighting.concurrent
        others = seat_interference(seated, concurrent, facts.strategy, facts.across_runs)
        lost = max(lost, seated.lost_seats)
    if motion.deadlocked:
        verdict = "DEADLOCK"
    elif remaining is None and not facts.store_unreachable:
        verdict = "CORRUPT"
    elif seated and others.interfered:  # a seat freed by another writer is sold twice
        verdict = "INTERFERED"
    elif seated and seated.double_booked:
        verdict = "DOUBLE_BOOKED"
    elif seated and seated.partial_orders:
        verdict = "PARTIAL"
    elif oversold and not others.voids_oversell:
        verdict = "OVERSOLD"
    elif others.interfered:
        verdict = "INTERFERED"
    elif lost:
        verdict = "LOST_UPDATES"
    elif errors:
        verdict = "ERRORS"
    elif facts.aborted:
        verdict = "ABORTED"
    elif facts.interrupted:
        verdict = "INTERRUPTED"
    elif facts.timed_out or motion.cut_waits:
        verdict = "TIMEOUT"
    else:
        verdict = "SAFE"

    holders = len({r.buyer for r in bought})
    if seated is None:
        story = headline(sold, holders, tickets, remaining, refused, oversold, lost, len(gave_up))
        story += others.lines
        story += interleaving(facts, bought, inside, oversold or lost, len(windows))
    else:
        story = seated.lines[:1] + list(others.lines) + seated.lines[1:]
        if verdict == "SAFE":
            story += seat_safety(facts, bought, inside, len(windows))
    story += conflict_lines(facts, len(conflicts), gave_up, remaining)
    story += redis_lines(
        facts, attempts + cuts + conflicts, len(conflicts), len(gave_up), oversold or lost
    )
    story += _failures([r.failure for r in counted], counted, crashed, facts)
    story += deferred_lines(facts, counted, oversold or lost)
    story += seller_lines(facts, counted)
    story += server_lines(facts, verdict, inside, gave_up)
    story += killed_lines(killed, facts, cuts, motion)
    fates = buyer_fates(facts, attempts, cuts, killed, crashed)
    if killed or facts.stopped:
        guard = "a seat's lock" if facts.seat_locks else "the guard"
        story.append(fates_sentence(fates, facts.buyers, {r.buyer for r in bought}, guard))
    story += ending_lines(facts, motion, sum(len(fates[k]) for k in STOPPED))
    if facts.aborted:
        story.append(aborted_sentence(facts.aborted))
    elif facts.interrupted:
        story.append("Interrupted: these are the numbers measured before the stop.")
    if facts.server_killed_ms is not None:
        story.append(server_killed_sentence(facts, errors))
    elif facts.server_kill_missed_ms is not None:
        story.append(
            f"--kill-server {facts.server_kill_missed_ms:g} never fired: the run was over "
            f"{wall_s * 1000:,.0f} ms after the gate opened, before it; the server was "
            "stopped in order afterwards."
        )
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
        conflicts=len(conflicts),
        retries=retries_made(conflicts, attempts + cuts),
        gave_up=len(gave_up),
        interfered=others.interfered,
        other_sales=others.other_sales,
        store_sales=others.store_sales,
        store_oversold=others.store_oversold,
        other_runs=list(others.other_runs),
        seats=seated,
    )


def seat_safety(facts: RunFacts, bought: list[Record], inside: int, windows: int) -> list[str]:
    """Why no seat went twice: one guard serialised the purchases, locks per seat kept
    each seat's buyers apart, or the store's conditional claim refused a taken seat."""
    if facts.seat_locks and inside > 1:
        return [
            f"Up to {inside} buyers were inside their read -> write windows at once, each "
            "holding the locks of its own seats: buyers after different seats never waited "
            "for each other's locks, and no two held one seat"
            + (
                " (a JSON file's reads and rewrites still queue, briefly, on one lock)."
                if facts.store == "json"
                else "."
            )
        ]
    if facts.design == "compare-and-set" and inside > 1:
        return [
            f"Up to {inside} buyers were inside their read -> claim window at once, as this "
            "design allows: safety came from the claim, which wrote nothing when a chosen "
            "seat had been sold since the read."
        ]
    if facts.design == "conditional" and inside > 1:
        return [
            f"Up to {inside} buyers were inside their claim at once: safety came from the "
            "store (one UPDATE ... WHERE holder IS NULL claims an order's seats only if "
            "every one is still free)."
        ]
    return interleaving(facts, bought, inside, 0, windows)


def seat_motion(motion: Motion, stuck: set[int]) -> Motion:
    """Motion under a lock per seat: a buyer that waits while others take other seats may
    still be stuck for good: in a cycle, or behind a killed holder (`stuck`). Stuck too are
    the waits the stop ended; every other wait that ran into --timeout was cut by it."""
    waits = motion.cut_waits + motion.stuck_waits
    bounded = (Failure.LOCK_TIMEOUT, Failure.BUSY)
    return motion._replace(
        deadlocked=bool(stuck),
        waiting=[],
        # A wait stopped by the run's end was not cut by --timeout: behind a cycle, stuck.
        stuck_waits=[w for w in waits if w.buyer in stuck or w.failure not in bounded],
        cut_waits=[w for w in waits if w.buyer not in stuck and w.failure in bounded],
    )


def aborted_sentence(reason: str) -> str:
    """Why a run was aborted and what to do about it."""
    return (
        f"Aborted to keep the machine usable ({reason}); these are the numbers measured "
        "before the stop. Run fewer --buyers, or free memory, and try again."
    )


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
            Failure.SELLER_GONE: (
                "request the dead seller could not answer",
                "requests the dead seller could not answer",
            ),
            Failure.OTHER: ("other error", "other errors"),
        }
        for failure, (one, many) in names.items():
            if n := failures.count(failure):
                parts.append(plural_of(n, one, many))
        if Failure.TORN_READ in failures:
            parts[0] += " (the file was caught half-written by an in-place write)"
        looks = sum(r.kind is Kind.QUERY for r in failed_ops)
        where = ""
        if looks == len(failed_ops):
            where = " (all in the unguarded look-ups before buying, the seeds' search())"
        elif looks:
            where = f" ({looks} of them in the unguarded look-ups before buying)"
        lines.append(
            f"{plural_of(len(failures), 'operation')} failed{where}: {', '.join(parts)}. "
            f"First: {failed_ops[0].message}"
        )
    if crashed:
        first = next((r.message for r in facts.records if r.kind is Kind.FAILED), "")
        detail = f": {first}" if first else ""
        lines.append(f"{plural_of(len(crashed), 'buyer')} failed outside a purchase{detail}")
    return lines
