"""Which schedules to run: exhaustive depth-first search, PCT and a random walk.

Every search only calls an `Execute` (one whole schedule under a chooser, from scratch) and
reads the `Trace` it returns, so the same code drives real buyer processes and the test
model. A search never keeps a process's state: to reach a schedule again it replays the
schedule's prefix, which is why a run that does not replay its prefix is an error.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from booking.schedules.model import Chooser, Decision, Execute, Outcome, Trace, preemptions

__all__ = [
    "OnSchedule",
    "default_choice",
    "exhaustive",
    "follow",
    "independent",
    "pct",
    "random_walk",
    "schedule_preemptions",
]

#: Called after each schedule with how many have run and the schedule's trace (progress).
OnSchedule = Callable[[int, Trace], None]

#: Step points that only read the count: two of them by different buyers commute.
READS = frozenset({"look", "read"})


#: How many anomalous traces a search without stop_at_first keeps (each holds its step
#: records): the rest are counted, not kept, so a long --all search stays small.
KEEP_FOUND = 100


class PrefixMismatch(RuntimeError):
    """A run did not follow the prefix it was given: the workload is not deterministic
    under a fixed schedule, and the search cannot call itself exhaustive."""


def default_choice(decision: Decision) -> int:
    """Let the last buyer go on when it can, else the lowest enabled one: never a
    preemption, so a schedule's preemptions are the ones a search forced."""
    if decision.last is not None and decision.last in decision.enabled:
        return decision.last
    return decision.enabled[0]


def follow(order: Sequence[int]) -> Chooser:
    """A chooser that grants `order`'s buyers in turn, then falls back to default_choice.

    An entry whose buyer is not enabled at the decision is dropped and the next entry is
    tried at the same decision, so a guide edited by a shrinker (entries removed, buyers
    renumbered) still steers the run as near to it as the workload allows. One chooser
    serves one run: it remembers how far into the order it is.
    """
    entries = list(order)
    position = 0

    def choose(decision: Decision) -> int:
        nonlocal position
        while position < len(entries):
            buyer = entries[position]
            position += 1
            if buyer in decision.enabled:
                return buyer
        return default_choice(decision)

    return choose


def independent(point: str, other: str) -> bool:
    """Whether steps at these points by two different buyers commute: only two reads of the
    count do (a look or a read); a write, an update, an ask or the guard's steps do not."""
    return point in READS and other in READS


def _tally(
    outcome: Outcome, trace: Trace, stop_at_first: bool, on_schedule: OnSchedule | None
) -> bool:
    """Count one schedule into `outcome`; True when the search should stop here."""
    outcome.schedules += 1
    if trace.ending == "deadlock":
        outcome.deadlocks += 1
    if trace.anomalous:
        outcome.anomalies += 1
        if outcome.first is None:
            outcome.first = trace
        if len(outcome.found) < (1 if stop_at_first else KEEP_FOUND):
            outcome.found.append(trace)
    if on_schedule is not None:
        on_schedule(outcome.schedules, trace)
    return stop_at_first and trace.anomalous


# --- exhaustive: stateless depth-first search -----------------------------------------------


@dataclass
class _Node:
    """One decision on the current path: what was enabled, what is chosen now, what was
    tried here already, and the sleep set the path arrived with."""

    decision: Decision
    chosen: int
    tried: set[int]
    sleep: frozenset[int] = frozenset()
    dead: bool = False  # at or below a sleep-set-blocked decision: nothing new below


@dataclass
class _Replay:
    """The chooser of one DFS run: the forced prefix, then default_choice (among the buyers
    not asleep, when sleep sets are on). It never raises inside the executor: a forced buyer
    that is not enabled is noted and checked after the run."""

    prefix: list[int]
    sleep: frozenset[int]
    reduce: bool
    sleeps: list[frozenset[int]] = field(default_factory=list)  # per decision past the prefix
    blocked: int | None = None  # the first decision where every enabled buyer was asleep
    missed: list[str] = field(default_factory=list)
    calls: int = 0

    def __call__(self, decision: Decision) -> int:
        index = self.calls
        self.calls += 1
        if index < len(self.prefix):
            buyer = self.prefix[index]
            if buyer in decision.enabled:
                return buyer
            self.missed.append(
                f"at step {index} buyer {buyer} was to move but only {list(decision.enabled)} could"
            )
            return default_choice(decision)
        self.sleeps.append(self.sleep)
        awake = tuple(b for b in decision.enabled if b not in self.sleep)
        if not awake and self.blocked is None:
            self.blocked = index
        chosen = default_choice(
            Decision(decision.index, awake, decision.at, decision.last) if awake else decision
        )
        if self.reduce:
            self.sleep = _wake(self.sleep, decision, chosen)
        return chosen


def _wake(sleep: frozenset[int] | set[int], decision: Decision, chosen: int) -> frozenset[int]:
    """The sleep set after `chosen` moves: the sleepers whose next step commutes with it."""
    point = decision.at.get(chosen, "")
    return frozenset(
        b for b in sleep if b != chosen and b in decision.at and independent(decision.at[b], point)
    )


def _switch(decision: Decision, chosen: int) -> int:
    """1 when granting `chosen` here is a preemption (model.preemptions for one decision)."""
    last = decision.last
    return int(last is not None and chosen != last and last in decision.enabled)


def _check_replay(stack: list[_Node], prefix: list[int], chooser: _Replay, trace: Trace) -> None:
    """Raise when the run strayed from its prefix: the search would silently explore
    schedules it never meant to, and call the search exhaustive."""
    problems = list(chooser.missed)
    if len(trace.decisions) < len(prefix) or len(trace.steps) < len(prefix):
        problems.append(f"it ended ({trace.ending}) after {len(trace.steps)} steps")
    for index, (node, new) in enumerate(zip(stack, trace.decisions[: len(prefix)], strict=False)):
        if new.enabled != node.decision.enabled or new.at != node.decision.at:
            problems.append(
                f"at step {index} the enabled buyers were {dict(sorted(new.at.items()))}, "
                f"not {dict(sorted(node.decision.at.items()))} as before"
            )
            break
    if not problems and trace.order[: len(prefix)] != prefix:
        problems.append(f"it granted {trace.order[: len(prefix)]} instead of {prefix}")
    if problems:
        raise PrefixMismatch(
            "the run did not replay its prefix: "
            + "; ".join(problems)
            + " (the workload is not deterministic under a fixed schedule)"
        )


def _backtrack(
    stack: list[_Node], bound: int | None, reduce: bool
) -> tuple[list[int], frozenset[int]] | None:
    """Move to the deepest decision with an untried alternative within the bound: the next
    prefix and the sleep set it starts with, or None when the search is complete."""
    before = [0] * len(stack)  # preemptions of the path before each decision
    for index in range(1, len(stack)):
        previous = stack[index - 1]
        before[index] = before[index - 1] + _switch(previous.decision, previous.chosen)
    for index in range(len(stack) - 1, -1, -1):
        node = stack[index]
        if node.dead:
            continue
        for buyer in node.decision.enabled:  # ascending: a deterministic order
            if buyer in node.tried or buyer in node.sleep:
                continue
            if bound is not None and before[index] + _switch(node.decision, buyer) > bound:
                continue
            sleep = _wake(node.sleep | node.tried, node.decision, buyer) if reduce else frozenset()
            node.tried.add(buyer)
            node.chosen = buyer
            del stack[index + 1 :]
            return [n.chosen for n in stack], sleep
    return None


def exhaustive(
    execute: Execute,
    *,
    preemptions: int | None,
    limit: int | None,
    stop_at_first: bool,
    on_schedule: OnSchedule | None = None,
    reduce: bool = True,
) -> Outcome:
    """Every schedule with at most `preemptions` preemptions (None: every schedule), depth
    first as CHESS does: replay a prefix of forced choices, let default_choice finish the
    run, then branch at the deepest decision with an untried enabled buyer (ascending ids).

    `limit` caps the schedules run; `Outcome.exhaustive` is True only when the whole tree
    within the bound was run. With `reduce` and no preemption bound, sleep sets skip runs
    that only reorder two commuting reads (`independent`); every final state is still
    reached. With a bound they are not used: sleep sets combined naively with a preemption
    bound can lose schedules within the bound (Coons, Musuvathi and McKinley, 2013).
    """
    if preemptions is not None and preemptions < 0:
        raise ValueError(f"preemptions must be at least 0, not {preemptions}")
    reduce = reduce and preemptions is None
    outcome = Outcome()
    stack: list[_Node] = []
    prefix: list[int] = []
    sleep: frozenset[int] = frozenset()
    while limit is None or outcome.schedules < limit:
        chooser = _Replay(prefix, sleep, reduce)
        trace = execute(chooser)
        _check_replay(stack, prefix, chooser, trace)
        pairs = list(zip(trace.decisions, trace.order, strict=False))
        for index in range(len(prefix), len(pairs)):
            decision, chosen = pairs[index]
            past = index - len(prefix)
            sleeps = chooser.sleeps[past] if past < len(chooser.sleeps) else frozenset()
            dead = chooser.blocked is not None and index >= chooser.blocked
            stack.append(_Node(decision, chosen, {chosen}, sleeps, dead))
        stop = _tally(outcome, trace, stop_at_first, on_schedule)
        following = _backtrack(stack, preemptions, reduce)
        if following is None:
            outcome.exhaustive = True
            break
        if stop:
            break
        prefix, sleep = following
    return outcome


# --- randomised searches -------------------------------------------------------------------


def _buyers_in(trace: Trace) -> int:
    """How many buyers a trace shows (the highest id seen, plus one)."""
    seen = [step.buyer for step in trace.steps]
    for decision in trace.decisions:
        seen.extend(decision.enabled)
        if decision.last is not None:
            seen.append(decision.last)
    return max(seen, default=-1) + 1


@dataclass
class _Priorities:
    """PCT's chooser for one run: the highest-priority enabled buyer moves; after the step
    numbered by a change point, the buyer that took it drops to that point's priority.

    A buyer with no priority yet (its number was not known before the run) gets one below
    every initial priority and above every changed one, earlier-seen buyers higher."""

    priority: dict[int, float]
    changes: dict[int, int]  # step number (1-based) -> the priority it lowers to
    floor: int  # the depth: initial priorities are depth, depth+1, ...
    newcomers: int = 0

    def __call__(self, decision: Decision) -> int:
        for buyer in decision.enabled:
            if buyer not in self.priority:
                self.newcomers += 1
                self.priority[buyer] = self.floor - 1 + 1 / (1 + self.newcomers)
        chosen = max(decision.enabled, key=lambda b: (self.priority[b], -b))
        change = self.changes.get(decision.index + 1)
        if change is not None:
            self.priority[chosen] = change
        return chosen


def pct(
    execute: Execute,
    *,
    depth: int,
    schedules: int,
    seed: int,
    stop_at_first: bool,
    on_schedule: OnSchedule | None = None,
    buyers: int | None = None,
) -> Outcome:
    """Probabilistic concurrency testing (Burckhardt et al., 2010): each schedule gives the
    buyers random distinct priorities depth, depth+1, ... and draws depth-1 change points
    among steps 1..k; the highest-priority enabled buyer moves, and the buyer that takes the
    i-th change point's step drops to priority i, below every initial one. A bug of depth d
    is then found with probability at least 1/(n k^(d-1)) per schedule.

    k is the longest run seen so far, so the first schedule has no change points (it only
    learns k). `buyers` may be given; otherwise it is learnt from the traces. Every random
    draw comes from random.Random(seed), so one seed gives the same schedules.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth}")
    rng = random.Random(seed)
    outcome = Outcome()
    known = buyers or 0
    steps = 0
    for _ in range(schedules):
        values = rng.sample(range(depth, depth + known), known)
        priority: dict[int, float] = dict(enumerate(values))
        points = rng.sample(range(1, steps + 1), min(depth - 1, steps)) if steps else []
        changes = {point: number for number, point in enumerate(points, start=1)}
        trace = execute(_Priorities(priority, changes, depth))
        steps = max(steps, len(trace.steps))
        known = max(known, _buyers_in(trace))
        if _tally(outcome, trace, stop_at_first, on_schedule):
            break
    return outcome


def random_walk(
    execute: Execute,
    *,
    schedules: int,
    seed: int,
    stop_at_first: bool,
    on_schedule: OnSchedule | None = None,
) -> Outcome:
    """Each decision grants an enabled buyer uniformly at random, from random.Random(seed):
    the baseline the other searches are measured against."""
    rng = random.Random(seed)
    outcome = Outcome()

    def choose(decision: Decision) -> int:
        return decision.enabled[rng.randrange(len(decision.enabled))]

    for _ in range(schedules):
        if _tally(outcome, execute(choose), stop_at_first, on_schedule):
            break
    return outcome


def schedule_preemptions(trace: Trace) -> int:
    """The preemptions of a whole run (model.preemptions over its decisions and order)."""
    return preemptions(trace.decisions, trace.order)
