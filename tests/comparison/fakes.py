"""Hand-built Results, cells and comparisons for the compare and render unit tests:
no buyer process is started."""

from __future__ import annotations

import math
from typing import Any

from booking.comparison.cellstats import CellSummary, summarize
from booking.comparison.driver import Comparison
from booking.judge.result import Result
from booking.scenarios.plan import (
    Cell,
)
from booking.scenarios.scenario import Scenario


def make_result(**overrides: Any) -> Result:
    """A SAFE run of lock/json; any field can be overridden."""
    fields: dict[str, Any] = {
        "store": "json",
        "strategy": "lock",
        "buyers": 10,
        "tickets": 5,
        "seed": 1,
        "sold": 5,
        "remaining": 0,
        "oversold": 0,
        "lost_updates": 0,
        "refused": 5,
        "errors": 0,
        "max_inside": 1,
        "wall_s": 0.1,
        "throughput": 100.0,
        "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 4.0},
        "verdict": "SAFE",
        "explanation": ["every sale was accounted for"],
    }
    fields.update(overrides)
    return Result(**fields)


def safe_cell(
    strategy: str, store: str, throughputs: list[float], *, claims_safe: bool = True
) -> CellSummary:
    """A cell whose runs were all SAFE, at these speeds."""
    results = [
        make_result(strategy=strategy, store=store, throughput=t, seed=i)
        for i, t in enumerate(throughputs)
    ]
    return summarize(Cell(strategy, store), results, claims_safe=claims_safe)


def oversold_cell(
    strategy: str, store: str, throughput: float, *, claims_safe: bool, seed: int = 7
) -> CellSummary:
    """A one-run cell that oversold."""
    result = make_result(
        strategy=strategy,
        store=store,
        throughput=throughput,
        verdict="OVERSOLD",
        oversold=2,
        sold=7,
        seed=seed,
        max_inside=3,
        explanation=["buyers 1 and 2 both read 3, then both wrote 2", "a second line"],
    )
    return summarize(Cell(strategy, store), [result], claims_safe=claims_safe)


def make_comparison(cells: list[CellSummary], **overrides: Any) -> Comparison:
    fields: dict[str, Any] = {
        "workload": Scenario(buyers=10, tickets=5, think_ms=(1.0, 5.0), seed=42),
        "seed": 42,
        "repeat": 3,
        "cells": cells,
        "planned_runs": 3 * len(cells),
        "finished_runs": 3 * len(cells),
        "reference": None,
    }
    fields.update(overrides)
    return Comparison(**fields)


def wilson_reference(k: int, n: int) -> tuple[float, float]:
    """The textbook Wilson score interval, written out independently."""
    z = 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = (z / (1 + z * z / n)) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
