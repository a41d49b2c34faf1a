"""A saved schedule: the workload and the granted steps, as JSON data.

`booking explore --save-schedule FILE` writes one; `booking replay FILE` reads it. The
file is data, checked key by key before anything runs: a schedule from another version of
booking (whose buyers may stop at other points), with unknown buyers or unknown steps, is
refused whole, never half run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from booking.errors import ScenarioError
from booking.schedules.counterexample import Counterexample, step_record
from booking.schedules.model import POINTS, Step
from booking.schedules.workload import Workload

#: What the file says it is, and the version of the step points it was recorded with.
KIND = "booking-schedule"
FORMAT = 1
#: Beyond this a file is not a schedule of a small workload.
MAX_STEPS = 100_000


def dumps(counterexample: Counterexample, version: str) -> str:
    """The file's text for a counterexample found by booking `version`."""
    document = {
        "kind": KIND,
        "format": FORMAT,
        "booking": version,
        "workload": counterexample.workload.to_dict(),
        "schedule": [step_record(step) for step in counterexample.steps],
        "story": counterexample.story(),
        "record": counterexample.record.to_dict(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_schedule(path: Path) -> tuple[Workload, list[Step]]:
    """The workload and steps of the schedule file at `path` (see loads)."""
    from booking import __version__

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ScenarioError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a schedule file (not UTF-8 text)") from None
    return loads(text, __version__, str(path))


def loads(text: str, version: str, origin: str) -> tuple[Workload, list[Step]]:
    """The workload and steps of a schedule file; ScenarioError naming `origin` when it is
    not one this booking can replay exactly."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise ScenarioError(f"{origin}: not a schedule file (nested too deeply)") from None
    except ValueError as exc:
        raise ScenarioError(f"{origin}: not a schedule file (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise ScenarioError(f"{origin}: not a schedule file (booking explore --save-schedule)")
    if document.get("format") != FORMAT or document.get("booking") != version:
        raise ScenarioError(
            f"{origin}: saved by booking {document.get('booking')!s} (format "
            f"{document.get('format')!s}); this is booking {version}, whose buyers may stop "
            "at other steps: explore again to get a schedule it can replay"
        )
    try:
        workload = Workload.from_dict(document.get("workload"))
    except ScenarioError as exc:
        raise ScenarioError(f"{origin}: {exc}") from None
    schedule = document.get("schedule")
    if not isinstance(schedule, list) or not 1 <= len(schedule) <= MAX_STEPS:
        raise ScenarioError(f"{origin}: the schedule must be a list of 1 to {MAX_STEPS:,} steps")
    return workload, [_step(entry, index, workload, origin) for index, entry in enumerate(schedule)]


def _step(entry: Any, index: int, workload: Workload, origin: str) -> Step:
    where = f"{origin}: step {index + 1}"
    if not isinstance(entry, dict):
        raise ScenarioError(f"{where} is not an object")
    unknown = sorted(set(entry) - {"buyer", "step", "attempt", "value", "blocked"})
    if unknown:
        raise ScenarioError(f"{where} has an unknown key {unknown[0]!r}")
    buyer, point = entry.get("buyer"), entry.get("step")
    attempt, value = entry.get("attempt", 0), entry.get("value", -1)
    blocked = entry.get("blocked", False)
    for name, number in (("buyer", buyer), ("attempt", attempt), ("value", value)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise ScenarioError(f"{where}: {name} must be a whole number, not {number!r}")
    assert isinstance(buyer, int) and isinstance(attempt, int) and isinstance(value, int)
    if not 0 <= buyer < workload.buyers:
        raise ScenarioError(
            f"{where} grants buyer {buyer}, but the workload has buyers 0 to {workload.buyers - 1}"
        )
    if point not in POINTS:
        raise ScenarioError(f"{where}: unknown step {point!r}; expected one of {', '.join(POINTS)}")
    if point not in workload.points():
        steps = ", ".join(p for p in POINTS if p in workload.points())
        raise ScenarioError(
            f"{where}: a {workload.strategy} buyer has no {point} step (it stops at {steps})"
        )
    if not 0 <= attempt < workload.attempts:
        raise ScenarioError(f"{where}: attempt {attempt} is beyond the workload's attempts")
    if not isinstance(blocked, bool):
        raise ScenarioError(f"{where}: blocked must be true or false")
    if blocked and point != "acquire":
        raise ScenarioError(f"{where}: only an acquire can be blocked, not a {point}")
    return Step(buyer, point, attempt, value, blocked)
