"""replay(): run a saved schedule again, step for step, and refuse any run that strays."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from booking.errors import BookingError, ScenarioError
from booking.judge.result import Result
from booking.schedules.counterexample import Counterexample
from booking.schedules.executor import Executor
from booking.schedules.model import Decision, Step, Trace
from booking.schedules.shrink import describe
from booking.schedules.workload import Workload
from booking.words import plural


class ReplayDiverged(BookingError):
    """A replay did not follow its saved schedule: the run is not what was saved."""


class _Strict:
    """Grants exactly the saved schedule, and notes the first step that does not fit."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = steps
        self.misfit = ""

    def __call__(self, decision: Decision) -> int:
        index = decision.index
        if index >= len(self.steps):
            self.misfit = self.misfit or (
                f"the schedule ends after {plural(len(self.steps), 'step')}, but "
                + (
                    f"buyer {decision.enabled[0]} still waits"
                    if len(decision.enabled) == 1
                    else f"buyers {', '.join(map(str, decision.enabled))} still wait"
                )
            )
            return decision.enabled[0]
        step = self.steps[index]
        if step.buyer not in decision.enabled or decision.at[step.buyer] != step.point:
            where = decision.at.get(step.buyer)
            self.misfit = self.misfit or (
                f"step {index + 1} grants buyer {step.buyer} its {step.point}, but "
                + (f"that buyer waits at its {where}" if where else "that buyer cannot move")
            )
            return decision.enabled[0]
        return step.buyer


def replay(
    schedule: Counterexample | str | os.PathLike[str],
    times: int = 1,
    on_run: Callable[[int, Result], None] | None = None,
) -> list[Result]:
    """Run a counterexample, or a schedule file saved by `booking explore
    --save-schedule`, `times` times on fresh processes and a fresh store. Raises
    ScenarioError for a file that is not a schedule this booking can replay (before any
    run), ReplayDiverged when a run does not follow it step for step."""
    if isinstance(schedule, Counterexample):
        return replay_steps(schedule.workload, schedule.steps, times, on_run)
    from booking.schedules.schedule_file import load_schedule

    workload, steps = load_schedule(Path(schedule))
    return replay_steps(workload, steps, times, on_run)


def replay_steps(
    workload: Workload,
    steps: Sequence[Step],
    times: int = 1,
    on_run: Callable[[int, Result], None] | None = None,
) -> list[Result]:
    """Run the granted `steps` of `workload` `times` times; ReplayDiverged when a run does
    not follow them step for step, values included."""
    traces = replay_traces(workload, steps, times, on_run)
    return [trace.result for trace in traces if trace.result is not None]


def replay_traces(
    workload: Workload,
    steps: Sequence[Step],
    times: int = 1,
    on_run: Callable[[int, Result], None] | None = None,
) -> list[Trace]:
    """replay_steps, keeping each run's whole trace (its step records for a report)."""
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 100_000:
        raise ScenarioError(f"times must be between 1 and 100,000, not {times!r}")
    workload.validate()
    traces = []
    with Executor(workload) as execute:
        for number in range(1, times + 1):
            chooser = _Strict(steps)
            trace = execute(chooser)
            problem = chooser.misfit or _differs(steps, trace.steps)
            if problem:
                raise ReplayDiverged(f"replay {number} did not follow the schedule: {problem}")
            assert trace.result is not None
            traces.append(trace)
            if on_run is not None:
                on_run(number, trace.result)
    return traces


def _told(step: Step) -> str:
    """One step in words, with what a story leaves out: its attempt, a blocked try."""
    blocked = ", blocked" if step.blocked and step.point != "acquire" else ""
    return f"{describe([step], ascii=True)} (attempt {step.attempt + 1}{blocked})"


def _differs(saved: Sequence[Step], ran: Sequence[Step]) -> str:
    """Where a run's steps differ from the saved ones ("" when they do not)."""
    for index, (want, got) in enumerate(zip(saved, ran, strict=False)):
        if want != got:
            return f"step {index + 1} was {_told(got)}, the file says {_told(want)}"
    if len(saved) != len(ran):
        return f"the run took {len(ran)} steps, the file has {len(saved)}"
    return ""
