"""What a saved session reads back as: its overview (workload and outcome) from its runs,
and its params as an object."""

from __future__ import annotations

import json
from typing import Any

import pytest

from booking.history.summary import overview, params_of, session_record


def run_row(**changes: Any) -> dict[str, Any]:
    """The runs columns the overview reads, as a SAFE lock/json run of 50 buyers."""
    row = {
        "strategy": "lock",
        "store": "json",
        "point": None,
        "buyers": 50,
        "tickets": 10,
        "think_min_ms": 1.0,
        "think_max_ms": 5.0,
        "verdict": "SAFE",
    }
    return row | changes


def test_one_run_is_its_workload_and_verdict() -> None:
    assert overview({}, [run_row(verdict="OVERSOLD")]) == {
        "buyers": [50],
        "tickets": [10],
        "think_ms": [[1.0, 5.0]],
        "runs": 1,
        "anomalies": 1,
        "cells": 1,
        "bad_cells": 1,
        "verdict": "OVERSOLD",
    }


def test_a_cell_is_not_safe_if_any_of_its_runs_is_not() -> None:
    runs = [
        run_row(strategy=strategy, store=store, verdict=verdict)
        for strategy in ("lock", "none")
        for store in ("json", "sqlite")
        for verdict in ("SAFE", "OVERSOLD" if strategy == "none" else "SAFE")
    ]
    seen = overview({}, runs)
    assert (seen["runs"], seen["anomalies"], seen["cells"], seen["bad_cells"]) == (8, 2, 4, 2)
    assert seen["verdict"] is None


def test_a_sweep_point_is_a_cell_and_its_values_are_listed() -> None:
    runs = [
        run_row(point=json.dumps({"buyers": b}), buyers=b, think_min_ms=t, think_max_ms=t)
        for b, t in ((10, 0.0), (40, 5.0), (10, 0.0), (160, 20.0))
    ]
    seen = overview({}, runs)
    assert seen["buyers"] == [10, 40, 160]
    assert seen["think_ms"] == [[0.0, 0.0], [5.0, 5.0], [20.0, 20.0]]
    assert seen["cells"] == 3


def test_a_session_without_runs_falls_back_on_its_params() -> None:
    params = {"buyers": 50, "tickets": None, "think_ms": [1.0, 5.0]}
    seen = overview(params, [])
    assert (seen["buyers"], seen["tickets"], seen["think_ms"]) == ([50], [], [[1.0, 5.0]])
    assert (seen["runs"], seen["cells"], seen["verdict"]) == (0, 0, None)
    assert overview({"file": "grid.toml"}, [])["buyers"] == []


def test_an_old_runs_table_without_think_columns_still_summarises() -> None:
    old = {key: value for key, value in run_row().items() if not key.startswith("think")}
    assert overview({}, [old])["think_ms"] == []


@pytest.mark.parametrize(
    ("text", "params", "record"),
    [
        ('{"buyers": 50}', {"buyers": 50}, {"buyers": 50}),
        (None, {}, {}),
        ("", {}, {}),
        ("[1, 2]", {}, "[1, 2]"),  # not an object: kept as the text it is
        ("{not json", {}, "{not json"),
    ],
)
def test_params_read_back_as_an_object(text: str | None, params: Any, record: Any) -> None:
    row = {"id": 1, "params": text}
    assert params_of(row) == params
    assert session_record(row) == {"id": 1, "params": record}
