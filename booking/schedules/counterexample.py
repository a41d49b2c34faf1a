"""A counterexample: the smallest failing schedule found, its record, and how it is told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from booking.judge.result import Result
from booking.schedules.model import Step, Trace
from booking.schedules.shrink import describe, steps_that_matter
from booking.schedules.workload import Workload
from booking.words import plural


@dataclass
class Counterexample:
    """The smallest failing schedule found, and the record it produces."""

    workload: Workload
    steps: list[Step]
    record: Result
    preemptions: int
    problem: str = ""  # a deadlock's or a hang's sentence

    def story(self, ascii: bool = False) -> str:
        """The steps that matter and what they led to, on one line."""
        arrow = "->" if ascii else "\u2192"
        told = describe(steps_that_matter(Trace(self.steps, [], "done", True)), ascii)
        return f"{told} {arrow} {consequence(self.record, self.problem)}".strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload.to_dict(),
            "schedule": [step_record(step) for step in self.steps],
            "story": self.story(),
            "preemptions": self.preemptions,
            "problem": self.problem or None,
            "record": self.record.to_dict(),
        }


def step_record(step: Step) -> dict[str, Any]:
    """One granted step as JSON: who, which step, what it read or wrote."""
    record: dict[str, Any] = {"buyer": step.buyer, "step": step.point, "attempt": step.attempt}
    if step.value != -1:
        record["value"] = step.value
    if step.blocked:
        record["blocked"] = True
    return record


def consequence(record: Result, problem: str = "") -> str:
    """What a failing schedule led to, in a few words."""
    if problem:
        return problem
    if record.oversold:
        return f"{plural(record.sold, 'receipt')} for {plural(record.tickets, 'ticket')}"
    if record.lost_updates:
        return (
            f"{plural(record.sold, 'receipt')}, the store's count fell by "
            f"{record.tickets - (record.remaining or 0)}: "
            f"{plural(record.lost_updates, 'sale')} lost"
        )
    if record.errors:
        return f"{plural(record.errors, 'operation')} failed ({record.verdict})"
    return record.verdict
