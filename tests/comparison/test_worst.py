"""WorstRuns keeps, for each cell, the run its statistics call the worst: the same seed as
the cell's worst story, the earliest of equals, and never a run the statistics leave out."""

from __future__ import annotations

from booking.comparison.cellstats import summarize
from booking.comparison.worst import WorstRuns
from booking.engine.runner import RawRun
from booking.scenarios.plan import Cell
from booking.scenarios.scenario import Scenario
from tests.comparison.fakes import make_result

CELL = Cell("none", "json")


def test_the_kept_run_is_the_one_the_cell_summary_calls_worst() -> None:
    results = [
        make_result(strategy="none", seed=1),
        make_result(strategy="none", seed=2, verdict="OVERSOLD", oversold=2, sold=7),
        make_result(strategy="none", seed=3, verdict="OVERSOLD", oversold=5, sold=10),
        make_result(strategy="none", seed=4, verdict="OVERSOLD", oversold=5, sold=10),
    ]
    worst = WorstRuns()
    raws = [RawRun(gate_ns=seed) for seed in range(4)]
    for result, raw in zip(results, raws, strict=True):
        worst.on_run(CELL, Scenario(), result, raw)
    kept_result, kept_raw = worst.kept[CELL.label]
    assert kept_result.seed == 3 and kept_raw is raws[2]  # the earliest of the two worst
    assert summarize(CELL, results, claims_safe=False).worst_seed == 3


def test_a_cell_of_safe_runs_keeps_its_first() -> None:
    worst = WorstRuns()
    for seed in (5, 6):
        worst.on_run(CELL, Scenario(), make_result(seed=seed), None)
    assert worst.kept[CELL.label][0].seed == 5


def test_a_run_cut_short_without_an_anomaly_is_not_kept() -> None:
    worst = WorstRuns()
    worst.on_run(CELL, Scenario(), make_result(verdict="INTERRUPTED", interrupted=True), None)
    worst.on_run(CELL, Scenario(), make_result(verdict="ABORTED", aborted="memory"), None)
    assert worst.kept == {}
    proved = make_result(verdict="OVERSOLD", oversold=1, aborted="memory", seed=9)
    worst.on_run(CELL, Scenario(), proved, None)
    assert worst.kept[CELL.label][0].seed == 9
