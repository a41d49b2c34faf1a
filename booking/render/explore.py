"""What `booking explore` and `booking replay` print: what was searched, what it proves,
what was found, and a replay's records."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from booking.words import plural

if TYPE_CHECKING:
    from booking.judge.result import Result
    from booking.schedules.exploration import Exploration
    from booking.schedules.model import Trace
    from booking.schedules.workload import Workload

#: The record's fields that a schedule decides: the same in every replay of it.
DETERMINED = ("verdict", "sold", "remaining", "oversold", "lost_updates", "refused", "errors")


def workload_line(workload: Workload) -> str:
    lock = "" if workload.manager_lock or workload.strategy != "manager" else " without its lock"
    return (
        f"{workload.strategy}{lock} on {workload.store}: {plural(workload.buyers, 'buyer')}, "
        f"{plural(workload.tickets, 'ticket')}, {plural(workload.attempts, 'attempt')} each"
    )


def search_line(exploration: Exploration) -> str:
    mode = exploration.mode
    if mode == "exhaustive":
        bound = exploration.preemption_bound
        return (
            "every schedule (depth first)"
            if bound is None
            else f"every schedule with at most {plural(bound, 'preemption')} (depth first)"
        )
    seed = exploration.workload.seed
    if mode == "pct":
        return f"PCT, depth {exploration.depth}, seed {seed}"
    return f"random schedules, seed {seed}"


def claim(exploration: Exploration) -> str:
    """What the search shows, and no more."""
    count = plural(exploration.schedules, "schedule")
    if exploration.anomalies:
        first = "the first " if exploration.anomalies > 1 else ""
        how = "after shrinking" if exploration.shrunk else "as found"
        return (
            f"{count} run, {plural(exploration.anomalies, 'anomaly', 'anomalies')} found "
            f"({first}shown below {how})."
        )
    if exploration.mode == "exhaustive" and exploration.exhaustive:
        whose = "these buyers'" if exploration.workload.buyers > 1 else "this buyer's"
        bound = exploration.preemption_bound
        within = (
            " (two reads in either order counted once: reads commute)"
            if bound is None
            else f" with at most {plural(bound, 'preemption')}"
        )
        return (
            f"{count} run: every interleaving of {whose} steps{within} ends without an "
            "anomaly. That holds at step granularity, for this workload; it says nothing of "
            "more buyers, more tickets or more preemptions."
        )
    return (
        f"{count} run, none with an anomaly. A sample, not a proof: other schedules were not run."
    )


def summary(exploration: Exploration, out: IO[str] | None = None) -> None:
    """The human summary of a search."""
    out = out or sys.stdout
    print(f"explore {workload_line(exploration.workload)}", file=out)
    print(f"search: {search_line(exploration)}", file=out)
    verdicts = ", ".join(f"{v} {n:,}" for v, n in sorted(exploration.verdicts.items()))
    print(f"verdicts: {verdicts or 'none'}", file=out)
    print(claim(exploration), file=out)
    if exploration.interrupted:
        unshrunk = "; the counterexample is as found" if exploration.counterexample else ""
        print(f"Interrupted: the search stopped there{unshrunk}.", file=out)
    elif exploration.mode == "exhaustive" and not exploration.exhaustive:
        why = "at the first anomaly" if exploration.anomalies else "at --schedules"
        print(f"Not exhaustive: the search stopped {why}.", file=out)
    example = exploration.counterexample
    if example is not None:
        shrunk = f"{plural(exploration.found_steps, 'step')} as found"
        if exploration.shrink_runs:
            shrunk += f"; {plural(exploration.shrink_runs, 'run')} of shrinking"
        print(
            f"\ncounterexample: {workload_line(example.workload)}; "
            f"{plural(len(example.steps), 'step')}, "
            f"{plural(example.preemptions, 'preemption')} ({shrunk})",
            file=out,
        )
        print(f"  {example.story()}", file=out)
        print(f"  verdict {example.record.verdict}", file=out)
        for line in example.record.explanation:
            print(f"  {line}", file=out)
    print(
        f"\n{exploration.rate:,.0f} schedules/s; times in these records measure the "
        "scheduler's pace, not the strategy's",
        file=out,
    )


def exploration_json(exploration: Exploration) -> str:
    return json.dumps(exploration.to_dict(), indent=2, ensure_ascii=False)


def determined(record: Result) -> dict[str, Any]:
    """The fields a schedule decides, from one record."""
    data = record.to_dict()
    return {key: data[key] for key in DETERMINED}


def kinds(records: Sequence[Result]) -> Counter[str]:
    """How many records gave each set of the fields a schedule decides (as JSON)."""
    return Counter(json.dumps(determined(r), sort_keys=True) for r in records)


def alike(records: Sequence[Result]) -> bool:
    """Whether every record has the same fields a schedule decides."""
    return len(kinds(records)) <= 1


def replay_summary(
    origin: str, workload: Workload, records: Sequence[Result], out: IO[str] | None = None
) -> bool:
    """Say what the replays gave; False when they did not all give one record."""
    out = out or sys.stdout
    given = kinds(records)
    print(f"replay {origin}: {workload_line(workload)}", file=out)
    first = records[0]
    fields = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in determined(first).items())
    if len(given) == 1:
        same = "the one run" if len(records) == 1 else f"all {len(records):,} runs"
        print(f"{same} followed the schedule step for step and gave: {fields}", file=out)
        for line in first.explanation:
            print(f"  {line}", file=out)
        return True
    print(f"the {len(records):,} runs gave {len(given)} different records:", file=out)
    for key, count in given.items():
        print(f"  {plural(count, 'run')}: {key}", file=out)
    return False


def replay_json(records: Sequence[Result]) -> str:
    return json.dumps({"runs": [record.to_dict() for record in records]}, indent=2)


@contextmanager
def search_progress(total: int | None) -> Iterator[Callable[[int, Trace], None] | None]:
    """A hook that shows schedules run and anomalies found on stderr, redrawn at most ten
    times a second from the main thread (no refresh thread may run while buyers fork);
    None when stderr is not a terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        auto_refresh=False,
        transient=True,
    )
    task = progress.add_task("exploring", total=total)
    shown = [0.0, 0]

    def hook(count: int, trace: Trace) -> None:
        shown[1] += trace.anomalous
        now = time.monotonic()
        if now - shown[0] >= 0.1:
            shown[0] = now
            anomalies = plural(int(shown[1]), "anomaly", "anomalies")
            progress.update(task, completed=count, description=f"exploring · {anomalies}")
            progress.refresh()

    with progress:
        yield hook
