"""explore() and replay(): the Python API of `booking explore` and `booking replay`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from booking.errors import BookingError, ScenarioError
from booking.schedules import search
from booking.schedules.counterexample import Counterexample
from booking.schedules.executor import Executor
from booking.schedules.model import Chooser, Outcome, Trace, preemptions
from booking.schedules.shrink import shrink
from booking.schedules.workload import Workload

MODES = ("exhaustive", "pct", "random")
#: Schedules tried by pct and random when --schedules is not given.
DEFAULT_SAMPLES = 1000
#: The preemption bound of an exhaustive search when none is given (CHESS found most
#: bugs within two).
DEFAULT_PREEMPTIONS = 2
DEFAULT_DEPTH = 2
#: Runs the shrinker may make.
SHRINK_BUDGET = 300

OnSchedule = Callable[[int, Trace], None]


class Nondeterministic(BookingError):
    """A schedule run twice did not run the same way: a defect of booking, not of the
    strategy (EX_SOFTWARE)."""

    exit_code = 70


@dataclass
class Exploration:
    """What a search ran and found."""

    workload: Workload
    mode: str
    preemption_bound: int | None
    depth: int
    schedules: int = 0
    exhaustive: bool = False
    anomalies: int = 0
    deadlocks: int = 0
    counterexample: Counterexample | None = None
    found_steps: int = 0  # the counterexample's length before it was shrunk
    shrink_runs: int = 0
    elapsed_s: float = 0.0
    verdicts: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C or SIGTERM ended the search early
    shrunk: bool = False  # the counterexample was shrunk (not --no-shrink, not interrupted)

    @property
    def rate(self) -> float:
        """Schedules run per second, shrinking left out."""
        return self.schedules / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        workload = self.workload
        return {
            "strategy": workload.strategy,
            "store": workload.store,
            "buyers": workload.buyers,
            "tickets": workload.tickets,
            "attempts": workload.attempts,
            "mode": self.mode,
            "seed": workload.seed,
            "preemptions": self.preemption_bound,
            "depth": self.depth if self.mode == "pct" else None,
            "schedules": self.schedules,
            "exhaustive": self.exhaustive,
            "interrupted": self.interrupted,
            "shrunk": self.shrunk,
            "anomalies": self.anomalies,
            "deadlocks": self.deadlocks,
            "verdicts": self.verdicts,
            "schedules_per_s": round(self.rate, 1),
            "counterexample": None
            if self.counterexample is None
            else self.counterexample.to_dict(),
        }


def explore(
    strategy: str,
    *,
    store: str = "json",
    buyers: int = 2,
    tickets: int = 1,
    attempts: int = 1,
    mode: str = "exhaustive",
    schedules: int | None = None,
    depth: int | None = None,
    preemptions: int | None = DEFAULT_PREEMPTIONS,
    seed: int | None = None,
    all: bool = False,
    shrinking: bool = True,
    manager_lock: bool = True,
    retries: int = 3,
    json_write: str = "atomic",
    on_schedule: OnSchedule | None = None,
) -> Exploration:
    """Run `strategy`'s small workload under many schedules and return what was found.
    Raises ScenarioError for a bad value before any process starts."""
    if mode not in MODES:
        raise ScenarioError(f'unknown mode "{mode}"; expected one of {", ".join(MODES)}')
    for name, value, low in (("schedules", schedules, 1), ("preemptions", preemptions, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ScenarioError(f"{name} must be a whole number, not {value!r}")
        if value is not None and value < low:
            raise ScenarioError(f"{name} must be at least {low}, not {value}")
    if depth is not None and mode != "pct":
        raise ScenarioError("depth only applies to the pct mode")
    depth = DEFAULT_DEPTH if depth is None else depth
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 10:
        raise ScenarioError(f"depth must be between 1 and 10, not {depth!r}")
    if seed is None:  # an exhaustive search draws nothing: the same one, the same file
        seed = 0 if mode == "exhaustive" else random.SystemRandom().randrange(2**32)
    workload = Workload(
        strategy, store, buyers, tickets, attempts, manager_lock, retries, json_write, seed
    ).validate()
    bound = preemptions if mode == "exhaustive" else None
    exploration = Exploration(workload, mode, bound, depth)
    stop_at_first = not all

    started = time.monotonic()
    first: list[Trace] = []  # the first anomaly, kept as it comes for an interrupted search

    def seen(count: int, trace: Trace) -> None:
        exploration.schedules = count
        exploration.anomalies += trace.anomalous
        exploration.deadlocks += trace.ending == "deadlock"
        if trace.anomalous and not first:
            first.append(trace)
        if trace.result is not None:
            verdict = trace.result.verdict if trace.ending == "done" else trace.ending.upper()
            exploration.verdicts[verdict] = exploration.verdicts.get(verdict, 0) + 1
        if on_schedule is not None:
            on_schedule(count, trace)

    try:
        with _Executors(workload) as executors:
            _search(exploration, executors, schedules, stop_at_first, seen, shrinking)
    except search.PrefixMismatch as exc:
        raise Nondeterministic(f"{exc}; please report it") from None
    except KeyboardInterrupt:
        # Ctrl-C (or SIGTERM): every buyer is reaped already; say what was run, unshrunk.
        exploration.interrupted = True
        exploration.exhaustive = False
        if first and exploration.counterexample is None:
            exploration.found_steps = len(first[0].steps)
            exploration.counterexample = _counterexample(first[0], workload, None, exploration)
    exploration.elapsed_s = exploration.elapsed_s or time.monotonic() - started
    return exploration


def _search(
    exploration: Exploration,
    executors: _Executors,
    schedules: int | None,
    stop_at_first: bool,
    seen: OnSchedule,
    shrinking: bool,
) -> None:
    """Run the search, then shrink its first anomaly."""
    workload, mode, bound = exploration.workload, exploration.mode, exploration.preemption_bound
    depth, seed, buyers = exploration.depth, workload.seed, workload.buyers
    started = time.monotonic()
    execute = executors.get(buyers, workload.attempts)
    outcome: Outcome
    if mode == "exhaustive":
        outcome = search.exhaustive(
            execute, preemptions=bound, limit=schedules, stop_at_first=stop_at_first,
            on_schedule=seen,
        )  # fmt: skip
    elif mode == "pct":
        outcome = search.pct(
            execute, depth=depth, schedules=schedules or DEFAULT_SAMPLES, seed=seed,
            stop_at_first=stop_at_first, on_schedule=seen, buyers=buyers,
        )  # fmt: skip
    else:
        outcome = search.random_walk(
            execute, schedules=schedules or DEFAULT_SAMPLES, seed=seed,
            stop_at_first=stop_at_first, on_schedule=seen,
        )  # fmt: skip
    exploration.elapsed_s = time.monotonic() - started
    exploration.schedules = outcome.schedules
    exploration.exhaustive = outcome.exhaustive
    exploration.anomalies = outcome.anomalies
    exploration.deadlocks = outcome.deadlocks
    if outcome.first is not None:
        exploration.found_steps = len(outcome.first.steps)
        exploration.counterexample = _counterexample(
            outcome.first, workload, executors if shrinking else None, exploration
        )


def _counterexample(
    found: Trace, workload: Workload, executors: _Executors | None, exploration: Exploration
) -> Counterexample:
    """The found schedule, shrunk when `executors` are given."""
    trace, buyers, attempts = found, workload.buyers, workload.attempts
    if executors is not None:
        kind = _failure(found)

        def run(buyers: int, attempts: int, chooser: Chooser) -> Trace:
            """A smaller run counts only when it fails the same way (an oversell does not
            shrink into a mere lost update)."""
            ran = executors.get(buyers, attempts)(chooser)
            return replace(ran, anomalous=ran.anomalous and _failure(ran) == kind)

        shrunk = shrink(found, buyers, attempts, run, budget=SHRINK_BUDGET)
        trace, buyers, attempts = shrunk.trace, shrunk.buyers, shrunk.attempts
        exploration.shrink_runs = shrunk.tries
        exploration.shrunk = True
    assert trace.result is not None
    small = Workload(**{**workload.to_dict(), "buyers": buyers, "attempts": attempts})
    return Counterexample(
        small, trace.steps, trace.result, preemptions(trace.decisions, trace.order), trace.problem
    )


def _failure(trace: Trace) -> str:
    """How a schedule failed: its ending, or its record's verdict."""
    if trace.ending != "done" or trace.result is None:
        return trace.ending
    return trace.result.verdict


class _Executors:
    """One executor per workload size the shrinker asks for, all closed at the end."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self._made: dict[tuple[int, int], Executor] = {}

    def get(self, buyers: int, attempts: int) -> Executor:
        key = (buyers, attempts)
        if key not in self._made:
            size = {**self.workload.to_dict(), "buyers": buyers, "attempts": attempts}
            self._made[key] = Executor(Workload(**size))
        return self._made[key]

    def __enter__(self) -> _Executors:
        return self

    def __exit__(self, *exc: object) -> None:
        for executor in self._made.values():
            executor.close()
