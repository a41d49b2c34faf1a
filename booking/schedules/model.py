"""The words of a search: a granted step, what a scheduler sees, one schedule's trace.

A *schedule* is the order in which the parent grants buyers their next step. The search
only ever sees `Decision`s (who may move, who moved last) and `Trace`s (what a whole
schedule did); it never touches a process, so it is tested against a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from booking.engine.runner import RawRun
    from booking.judge.result import Result

#: The step points a controlled buyer stops at, by name. "look" is the unguarded query,
#: "update" a conditional update (atomic), "ask" a request to the single seller.
POINTS = ("look", "acquire", "read", "write", "update", "ask", "release")

#: How a schedule ended: every buyer done; no buyer able to move while some were not
#: done; a buyer that did not come back from a step it was granted.
Ending = Literal["done", "deadlock", "hung"]


@dataclass(frozen=True)
class Step:
    """One granted step. `value`: the count it read or wrote (-1: none, or a write that
    wrote nothing); `blocked`: a try for the guard that found it taken."""

    buyer: int
    point: str
    attempt: int = 0
    value: int = -1
    blocked: bool = False


@dataclass(frozen=True)
class Decision:
    """What a scheduler sees before each grant."""

    index: int  # how many steps were granted before this one
    enabled: tuple[int, ...]  # the buyers that may move, ascending
    at: dict[int, str]  # each enabled buyer's next point
    last: int | None  # the buyer granted the step before (None: the first step)


#: A scheduler: given a decision, the buyer to grant (one of decision.enabled).
Chooser = Callable[[Decision], int]


@dataclass
class Trace:
    """What one schedule did."""

    steps: list[Step]
    decisions: list[Decision]  # decisions[i] was taken before steps[i]
    ending: Ending
    anomalous: bool  # the record's verdict is an anomaly (not SAFE, not cut short)
    result: Result | None = None  # the record; None only in tests of the search
    problem: str = ""  # a deadlock's or a hang's sentence
    buyers: int = 0
    raw: RawRun | None = None  # the buyers' step records and clocks, for a report

    @property
    def order(self) -> list[int]:
        """The schedule as the buyers granted, in order."""
        return [step.buyer for step in self.steps]


#: Runs one schedule of a workload from scratch under a chooser.
Execute = Callable[[Chooser], Trace]


def preemptions(decisions: Sequence[Decision], order: Sequence[int]) -> int:
    """How many grants switched away from a buyer that could have gone on (CHESS's count:
    a switch when the last buyer is blocked or done is free)."""
    count = 0
    for decision, chosen in zip(decisions, order, strict=False):
        last = decision.last
        if last is not None and chosen != last and last in decision.enabled:
            count += 1
    return count


@dataclass
class Outcome:
    """A search's answer."""

    schedules: int = 0  # schedules run
    exhaustive: bool = False  # every schedule within the bounds was run
    anomalies: int = 0  # schedules whose record was an anomaly
    first: Trace | None = None  # the first anomalous schedule, as found
    found: list[Trace] = field(default_factory=list)  # every anomalous one (--all)
    deadlocks: int = 0
