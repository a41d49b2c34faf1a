"""Make a found schedule small enough to read: fewer buyers, fewer attempts, then fewer
preemptions and steps, keeping the anomaly at every accepted step.

Each candidate is a *guide* (an order followed by `search.follow`); what counts is the run
it produced, so an accepted candidate's actual trace becomes the new current schedule and
the answer's steps are steps that really happened, ready to print and to save.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from booking.engine.controlled import STEP_FAILED
from booking.schedules.model import Chooser, Step, Trace, preemptions
from booking.schedules.search import follow

__all__ = ["Run", "Shrunk", "describe", "shrink", "steps_that_matter"]

#: Runs one whole schedule of a workload of `buyers` buyers making `attempts` attempts each.
Run = Callable[[int, int, Chooser], Trace]

#: What a step that raised says instead of "failed to <point>".
FAILED_WORDS = {"ask": "get an answer", "look": "look"}

#: The steps that read or change the count within an attempt.
MATTER = frozenset({"read", "write", "update", "ask"})


@dataclass(frozen=True)
class Shrunk:
    """The smallest anomalous run found, its workload, and how many runs shrinking took."""

    trace: Trace
    buyers: int
    attempts: int
    tries: int


def _size(trace: Trace) -> tuple[int, int]:
    """What a smaller schedule means once the workload is fixed: fewer preemptions first
    (they are what a reader must follow), then fewer steps."""
    return preemptions(trace.decisions, trace.order), len(trace.steps)


class _Shrinker:
    """The current smallest anomaly and the budget of runs left to improve it."""

    def __init__(self, found: Trace, buyers: int, attempts: int, run: Run, budget: int) -> None:
        self.trace, self.buyers, self.attempts = found, buyers, attempts
        self.run, self.budget, self.tries = run, budget, 0

    def spent(self) -> bool:
        return self.tries >= self.budget

    def attempt(self, buyers: int, attempts: int, guide: Sequence[int]) -> Trace | None:
        """Run a guide; its trace when anomalous, else None (also when the budget is out)."""
        if self.spent():
            return None
        self.tries += 1
        trace = self.run(buyers, attempts, follow(guide))
        return trace if trace.anomalous else None

    def fewer_buyers(self) -> bool:
        """Drop one buyer (highest first) with its entries, renumbering those above it."""
        changed = False
        buyer = self.buyers - 1
        while self.buyers > 1 and buyer >= 0 and not self.spent():
            guide = [b - (b > buyer) for b in self.trace.order if b != buyer]
            trace = self.attempt(self.buyers - 1, self.attempts, guide)
            if trace is not None:
                self.trace, self.buyers, changed = trace, self.buyers - 1, True
                buyer = self.buyers - 1
            else:
                buyer -= 1
        return changed

    def fewer_attempts(self) -> bool:
        """One attempt fewer per buyer, the same order, while that keeps the anomaly."""
        changed = False
        while self.attempts > 1 and not self.spent():
            trace = self.attempt(self.buyers, self.attempts - 1, self.trace.order)
            if trace is None:
                break
            self.trace, self.attempts, changed = trace, self.attempts - 1, True
        return changed

    def smaller_order(self) -> bool:
        """Delta debugging (Zeller's ddmin) over the order: try each chunk alone, then each
        chunk removed, at granularity n; on success restart coarser, else refine."""
        changed = False
        chunks = 2
        while len(self.trace.order) >= 2 and not self.spent():
            order = self.trace.order
            chunks = min(chunks, len(order))
            bounds = [len(order) * i // chunks for i in range(chunks + 1)]
            parts = [order[bounds[i] : bounds[i + 1]] for i in range(chunks)]
            candidates = [(part, 2) for part in parts] + [
                ([b for j, part in enumerate(parts) if j != i for b in part], max(chunks - 1, 2))
                for i in range(chunks)
            ]
            for guide, granularity in candidates:
                trace = self.attempt(self.buyers, self.attempts, guide)
                if trace is not None and _size(trace) < _size(self.trace):
                    self.trace, chunks, changed = trace, granularity, True
                    break
            else:
                if chunks >= len(order):
                    break
                chunks = min(2 * chunks, len(order))
        return changed

    def renumber(self) -> None:
        """Name the buyers in the order they first move (buyer 0 moves first), so that one
        race reads the same however it was found; kept only if it stays as small."""
        first = list(dict.fromkeys(self.trace.order))
        names = first + [b for b in range(self.buyers) if b not in first]
        if names == list(range(len(names))):
            return
        rename = {old: new for new, old in enumerate(names)}
        trace = self.attempt(self.buyers, self.attempts, [rename[b] for b in self.trace.order])
        if trace is not None and _size(trace) <= _size(self.trace):
            self.trace = trace


def shrink(found: Trace, buyers: int, attempts: int, run: Run, budget: int = 300) -> Shrunk:
    """Shrink an anomalous schedule of `buyers` x `attempts`: fewer buyers, then fewer
    attempts, then a smaller order (fewer preemptions, then fewer steps), repeated until
    none helps or `budget` runs are spent; last, the buyers are renumbered in the order they
    first move. The answer's trace is the last accepted run (the found one when nothing
    smaller kept the anomaly), and `tries` the runs made, never more than `budget`."""
    if not found.anomalous:
        raise ValueError("only an anomalous schedule can be shrunk")
    shrinker = _Shrinker(found, buyers, attempts, run, budget)
    while not shrinker.spent():
        changed = shrinker.fewer_buyers()
        changed = shrinker.fewer_attempts() or changed
        changed = shrinker.smaller_order() or changed
        if not changed:
            break
    shrinker.renumber()
    return Shrunk(shrinker.trace, shrinker.buyers, shrinker.attempts, shrinker.tries)


def steps_that_matter(trace: Trace) -> list[Step]:
    """The steps that read or change the count (read, write, update, ask): the story of a
    race, without the looks, the guard's steps and the tries that found it taken."""
    return [step for step in trace.steps if step.point in MATTER and not step.blocked]


def _words(step: Step) -> str:
    """What one step did, in words."""
    value, point = step.value, step.point
    if value == STEP_FAILED:  # the step raised: a busy store, a torn read, a dead seller
        return f"failed to {FAILED_WORDS.get(point, point)}"
    if point == "read":
        return f"read {value}"
    if point == "write":
        return f"wrote {value}" if value != -1 else "wrote nothing"
    if point == "update":
        return f"took one, leaving {value}" if value != -1 else "found none left"
    if point == "ask":
        return f"was sold one, leaving {value}" if value != -1 else "was refused"
    if point == "look":
        return f"looked and saw {value}"
    if point == "acquire":
        return "found the guard taken" if step.blocked else "took the guard"
    if point == "release":
        return "let the guard go"
    return point


def describe(steps: Sequence[Step], ascii: bool = False) -> str:
    """One line a reader can follow: "buyer 0 read 1 · buyer 1 read 1 · ...". `ascii`
    joins with " - " for a terminal that cannot encode the middle dot."""
    separator = " - " if ascii else " \u00b7 "
    return separator.join(f"buyer {step.buyer} {_words(step)}" for step in steps)
