"""Keeps the steps of each cell's worst run while a comparison runs, so a report can draw
its timeline without holding every run's steps in memory.

"Worst" is the comparison's own choice (cellstats.severity, the earliest of equals), among
the runs its statistics count: a run cut short counts only when it proved an anomaly.
"""

from __future__ import annotations

from booking.comparison.cellstats import is_sample, severity
from booking.engine.runner import RawRun
from booking.judge.result import Result
from booking.scenarios.plan import Cell
from booking.scenarios.scenario import Scenario


class WorstRuns:
    """An `on_run` hook; `kept` maps a cell's label to its worst run so far."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[Result, RawRun | None]] = {}

    def on_run(self, cell: Cell, scenario: Scenario, result: Result, raw: RawRun | None) -> None:
        if not is_sample(result):
            return  # not among the cell's runs
        held = self.kept.get(cell.label)
        if held is None or severity(result) > severity(held[0]):
            self.kept[cell.label] = (result, raw)
