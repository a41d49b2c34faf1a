"""`booking history report ID`: a saved session drawn as the page `--report` would have
written, from its rows and the timelines saved with them.

A comparison is rebuilt from its runs, not from the numbers its table showed: the same
cellstats, grouped by strategy, store and sweep point, so the page agrees with
`history show`. What a history cannot give back is said, not guessed: how many runs
were planned (a session that ended early shows the runs it finished), and the timeline of
a run saved before booking kept one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from booking.comparison.cellstats import is_sample, severity, summarize, with_relative_speed
from booking.comparison.driver import Comparison
from booking.engine.runner import RawRun
from booking.errors import BookingError
from booking.history.columns import run_result
from booking.history.store import History
from booking.history.summary import params_of
from booking.judge.result import Result
from booking.scenarios.plan import Cell, parse_reference, plan_cells
from booking.scenarios.scenario import Scenario
from booking.strategies import STRATEGIES

NOT_RECORDED = (
    "The timeline of this run was not recorded: it was saved by a booking that kept no "
    "steps in its history."
)


def session_report(history: History, session_id: int) -> str:
    """The HTML page of one saved session."""
    from booking.render.compare_report import render_comparison
    from booking.render.report import render_run

    row, runs = history.session(session_id)
    if not runs:
        raise BookingError(f"session {session_id} has no saved runs to report")
    origin = (
        f"Saved session {session_id} ({row['kind']} {row['name']}): started "
        f"{str(row['started_at'])[:19].replace('T', ' ')} UTC on {row.get('platform')}, "
        f"booking {row.get('version')}, status {row.get('status')}."
    )
    if row["kind"] == "run":
        raw, why = _timeline(history, runs[0]["id"])
        return render_run(run_result(runs[0]), raw, why, origin)
    comparison, groups = rebuild(row, runs)
    worst = {}
    missing = {}
    for label, saved in groups.items():
        run_id, result = max(saved, key=lambda each: severity(each[1]))
        raw, missing[label] = _timeline(history, run_id)
        worst[label] = (result, raw)
    return render_comparison(comparison, worst, missing, origin)


def rebuild(
    row: dict[str, Any], runs: Sequence[dict[str, Any]]
) -> tuple[Comparison, dict[str, list[tuple[int, Result]]]]:
    """A saved compare or scenario session as a Comparison, and each cell's runs (id and
    Result) by its label, in the order they were saved."""
    params = params_of(row)
    cells: dict[Cell, list[tuple[int, Result]]] = {}
    aborted = ("", "")  # why the memory guard stopped a run, and the cell of that run
    for run in runs:
        result = run_result(run)
        cell = _cell(result, run.get("point"))
        if result.aborted:
            aborted = (result.aborted, cell.label)
        if not is_sample(result):
            continue  # saved for its reason, but compare's table left it out
        cells.setdefault(cell, []).append((run["id"], result))
    kept = sum(len(saved) for saved in cells.values())
    summaries = [
        summarize(
            cell,
            [result for _, result in saved],
            claims_safe=_claims_safe(cell.strategy, saved[0][1]),
        )
        for cell, saved in cells.items()
    ]
    candidates = _reference(params.get("reference"), list(cells))
    summaries, chosen = with_relative_speed(summaries, candidates)
    first = run_result(runs[0])
    repeat = max((len(saved) for saved in cells.values()), default=0)
    comparison = Comparison(
        workload=Scenario(
            buyers=first.buyers,
            tickets=None if first.seats else first.tickets,
            think_ms=first.think_ms,
            attempts=first.attempts_per_buyer,
            seats=first.seats,
            order=first.order or 1,
            pick=first.pick or "best",
        ),
        seed=_seed(params, first),
        repeat=int(params.get("repeat") or repeat),
        cells=summaries,
        planned_runs=_planned(row, params, kept) if row["kind"] == "compare" else 0,
        finished_runs=kept,
        interrupted=row.get("status") == "interrupted",
        stopped_by="the session ended in an error" if row.get("status") == "error" else "",
        aborted=aborted[0],
        aborted_cell=aborted[1],
        reference=chosen.label if chosen else None,
        reference_given=candidates is not None,
        title=f"scenario {row['name']}" if row["kind"] == "scenario" else "",
    )
    return comparison, {cell.label: saved for cell, saved in cells.items()}


def _timeline(history: History, run_id: int) -> tuple[RawRun | None, str]:
    """A run's steps, or why there are none: an unreadable timeline costs its picture,
    not the page."""
    try:
        raw = history.timeline(run_id)
    except BookingError as exc:
        return None, f"No timeline: {exc}."
    return raw, "" if raw is not None else NOT_RECORDED


def _cell(result: Result, point: str | None) -> Cell:
    axes = json.loads(point) if point else {}
    if not isinstance(axes, dict):
        axes = {}
    return Cell(result.strategy, result.store, tuple((k, str(v)) for k, v in axes.items()))


def _claims_safe(strategy: str, result: Result) -> bool:
    """As compare decides it; a strategy this booking does not know claims nothing."""
    info = STRATEGIES.get(strategy)
    return info is not None and info.claims_safe and result.manager_lock is not False


def _reference(text: Any, cells: list[Cell]) -> list[Cell] | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_reference(text, cells)
    except BookingError:
        return None  # a reference the saved cells no longer match: the default rule


def _seed(params: dict[str, Any], first: Result) -> int:
    seed = params.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else first.seed


def _planned(row: dict[str, Any], params: dict[str, Any], finished: int) -> int:
    """A whole session planned what it finished; one cut short, what compare's params
    say it planned, else 0: unknown (a scenario keeps only its file's path)."""
    if row.get("status") in ("complete", "running"):
        return finished
    try:
        sells = "seats" if params.get("seats") else "count"
        cells = plan_cells(params.get("strategies"), params.get("stores"), sells)
        return len(cells) * int(params["repeat"])
    except (BookingError, KeyError, TypeError, ValueError):
        return 0
