"""What a saved session reads back as, beyond its rows: the record `history show --json`
prints, and the overview the list shows (the workload that ran and how it came out).

The overview is worked out from the runs rather than the session's params because the runs
are what actually ran (a scenario's params hold only its file, a run's may leave tickets to
the store), and because every history file, however old, has them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from booking.history.store import History


def params_of(row: dict[str, Any]) -> dict[str, Any]:
    """A session's params as a dict; {} when the row holds none or not a JSON object."""
    try:
        params = json.loads(row.get("params") or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def session_record(row: dict[str, Any]) -> dict[str, Any]:
    """A sessions row for --json: params as the object they were saved as, not as JSON
    text inside JSON. Text that is not a JSON object is kept as it is, never dropped."""
    text = row.get("params")
    try:
        params = json.loads(text) if text else {}
    except ValueError:
        params = text
    return {**row, "params": params if isinstance(params, dict) else text}


def _distinct(values: list[Any]) -> list[Any]:
    return sorted({value for value in values if value is not None})


def _cell(run: dict[str, Any]) -> tuple[Any, ...]:
    """A run's cell: compare's strategy × store, and a scenario's sweep point on top."""
    return (run.get("strategy"), run.get("store"), run.get("point"))


def overview(params: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The distinct buyers, tickets and think (min, max) its runs had, and its outcome:
    runs and cells, how many of each were not SAFE, and the verdict when it is one run.

    A session with no runs yet falls back on its params for the workload."""
    if runs:
        buyers = _distinct([run.get("buyers") for run in runs])
        tickets = _distinct([run.get("tickets") for run in runs])
        think = [(run.get("think_min_ms"), run.get("think_max_ms")) for run in runs]
        thinks = sorted({pair for pair in think if None not in pair})
    else:
        buyers = _distinct([params.get("buyers")])
        tickets = _distinct([params.get("tickets")])
        pair = params.get("think_ms")
        thinks = [tuple(pair)] if isinstance(pair, list) and len(pair) == 2 else []
    cells = {_cell(run) for run in runs}
    bad = [run for run in runs if run.get("verdict") != "SAFE"]
    return {
        "buyers": buyers,
        "tickets": tickets,
        "think_ms": [list(pair) for pair in thinks],
        "runs": len(runs),
        "anomalies": len(bad),
        "cells": len(cells),
        "bad_cells": len({_cell(run) for run in bad}),
        "verdict": runs[0].get("verdict") if len(runs) == 1 else None,
    }


def listing(history: History, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` sessions, each row with its params decoded and its overview."""
    listed = []
    for row in history.sessions(limit):
        params = params_of(row)
        _, runs = history.session(row["id"])
        listed.append({**row, "params": params, **overview(params, runs)})
    return listed
