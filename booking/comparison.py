"""compare(): the matrix of cells run round-robin, each run a fresh store, then statistics.

Each run is one `simulate()` on a store in a temporary directory, so a comparison never
touches the user's files and no run inherits another's leftovers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from booking.cellstats import CellSummary, summarize, with_relative_speed
from booking.errors import BookingError, ScenarioError
from booking.matrix import Cell, parse_reference, plan_cells, round_seed, schedule
from booking.result import Result
from booking.scenario import Scenario
from booking.simulation import simulate
from booking.strategies import STRATEGIES

#: Told before each run (runs finished, runs planned, the cell about to run, its round)
#: and once at the end with cell None.
ProgressHook = Callable[[int, int, Cell | None, int], None]


@dataclass(frozen=True)
class Comparison:
    workload: Scenario  # buyers, tickets, think, attempts, timeout shared by every cell
    seed: int  # round r runs every cell with seed + r
    repeat: int
    cells: list[CellSummary]  # matrix order; only cells with at least one finished run
    planned_runs: int
    finished_runs: int
    interrupted: bool = False
    stopped_by: str = ""  # the error that ended the comparison early, if one did
    reference: str | None = None  # label of the reference cell
    reference_given: bool = False  # named with --reference, not the default fastest safe cell

    @property
    def complete(self) -> bool:
        return self.finished_runs == self.planned_runs

    @property
    def anomaly_in_a_safe_cell(self) -> bool:
        return any(cell.claims_safe and cell.anomalous for cell in self.cells)


def plan(
    workload: Scenario,
    strategies: Sequence[str] | None = None,
    stores: Sequence[str] | None = None,
    repeat: int = 5,
    reference: str | None = None,
) -> tuple[list[Cell], list[tuple[int, Cell]], list[Cell] | None]:
    """Check everything before the first run: the cells, the order, the reference cells.
    Raises ScenarioError (a BookingError) for any bad choice."""
    if workload.path is not None or workload.reset:
        raise ScenarioError("compare runs every cell on a fresh store; it takes no path")
    cells = plan_cells(strategies, stores)
    for cell in cells:
        replace(workload, strategy=cell.strategy, store=cell.store).validate()
    order = schedule(cells, repeat)
    candidates = parse_reference(reference, cells) if reference is not None else None
    return cells, order, candidates


def compare(
    workload: Scenario,
    strategies: Sequence[str] | None = None,
    stores: Sequence[str] | None = None,
    repeat: int = 5,
    reference: str | None = None,
    on_progress: ProgressHook | None = None,
) -> Comparison:
    """Run every cell `repeat` times, round-robin, and summarise each cell.

    Ctrl-C (or an error such as a fork limit) ends it early: the runs finished so far are
    summarised and the Comparison says it is incomplete."""
    cells, order, candidates = plan(workload, strategies, stores, repeat, reference)
    seed = workload.seed if workload.seed is not None else random.SystemRandom().randrange(2**32)
    results: dict[Cell, list[Result]] = {cell: [] for cell in cells}
    interrupted, stopped_by, finished = False, "", 0
    try:
        for index, (round_, cell) in enumerate(order):
            if on_progress is not None:
                on_progress(index, len(order), cell, round_)
            scenario = replace(
                workload, strategy=cell.strategy, store=cell.store, seed=round_seed(seed, round_)
            )
            result = simulate(scenario)
            if result.interrupted:  # a run cut short is not a sample
                interrupted = True
                break
            results[cell].append(result)
            finished += 1
        if on_progress is not None:
            on_progress(finished, len(order), None, repeat)
    except KeyboardInterrupt:
        interrupted = True
    except BookingError as exc:
        stopped_by = str(exc)
    summaries = [
        summarize(cell, runs, claims_safe=STRATEGIES[cell.strategy].claims_safe)
        for cell, runs in results.items()
        if runs
    ]
    summaries, chosen = with_relative_speed(summaries, candidates)
    return Comparison(
        workload=replace(workload, seed=seed),
        seed=seed,
        repeat=repeat,
        cells=summaries,
        planned_runs=len(order),
        finished_runs=finished,
        interrupted=interrupted,
        stopped_by=stopped_by,
        reference=chosen.label if chosen else None,
        reference_given=candidates is not None,
    )
