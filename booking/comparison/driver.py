"""compare(): the matrix of cells run round-robin, each run a fresh store, then statistics.

Each run is one `simulate()` on a store in a temporary directory, so a comparison never
touches the user's files and no run inherits another's leftovers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from booking.comparison.cellstats import CellSummary, is_sample, summarize, with_relative_speed
from booking.errors import BookingError, ScenarioError
from booking.judge.result import Result
from booking.scenarios.files import ScenarioFile
from booking.scenarios.plan import Cell, parse_reference, plan_cells, round_seed, schedule
from booking.scenarios.scenario import TTL_STRATEGIES, Scenario
from booking.simulation import admit, simulate
from booking.strategies import STRATEGIES

if TYPE_CHECKING:
    from booking.engine.runner import RawRun

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
    aborted: str = ""  # why the memory guard stopped a run (and so the comparison), if it did
    aborted_cell: str = ""  # the label of the cell whose run it stopped
    reference: str | None = None  # label of the reference cell
    reference_given: bool = False  # named with --reference, not the default fastest safe cell
    title: str = ""  # a scenario's name; compare's heading is built from the workload

    @property
    def complete(self) -> bool:
        return self.finished_runs == self.planned_runs

    @property
    def status(self) -> str:
        """How it ended, as the history records it: complete, interrupted, error or
        aborted (the memory guard stopped a run)."""
        if self.stopped_by:
            return "error"
        if self.interrupted:
            return "interrupted"
        return "aborted" if self.aborted else "complete"

    @property
    def anomaly_in_a_safe_cell(self) -> bool:
        return any(cell.claims_safe and cell.anomalous for cell in self.cells)


def cell_scenario(workload: Scenario, cell: Cell) -> Scenario:
    """The workload as one cell runs it: its strategy and store, and --lock-ttl only for
    the TTL locks (the other cells ignore it, as they ignore --retries)."""
    ttl = workload.lock_ttl_ms if cell.strategy in TTL_STRATEGIES else None
    return replace(workload, strategy=cell.strategy, store=cell.store, lock_ttl_ms=ttl)


def _servers_available(stores: set[str]) -> None:
    """A networked store in the matrix needs its server's binaries: said before any run."""
    from booking.servers import KINDS, ServerUnavailable, available

    for store in sorted(stores & set(KINDS)):
        if not available(store):
            try:
                KINDS[store].binaries()
            except FileNotFoundError as exc:
                raise ServerUnavailable(f"--stores {store} needs {exc}") from None


def plan(
    workload: Scenario,
    strategies: Sequence[str] | None = None,
    stores: Sequence[str] | None = None,
    repeat: int = 5,
    reference: str | None = None,
    limit_name: str = "max_memory",
) -> tuple[list[Cell], list[tuple[int, Cell]], list[Cell] | None]:
    """Check everything before the first run: the cells, the order, the reference cells,
    the machine's room for the runs. Raises ScenarioError (a BookingError) for any bad
    choice, ResourceError for runs the machine cannot hold."""
    if workload.path is not None or workload.reset:
        raise ScenarioError("compare runs every cell on a fresh store; it takes no path")
    cells = plan_cells(strategies, stores, "seats" if workload.seats else "count")
    runs = [cell_scenario(workload, cell) for cell in cells]
    _servers_available({cell.store for cell in cells})
    for run in runs:
        run.validate()
    order = schedule(cells, repeat)
    candidates = parse_reference(reference, cells) if reference is not None else None
    admit(runs, limit_name)  # the dearest cell first: a filelock buyer costs twice a lock one
    return cells, order, candidates


#: Told after each finished run: its cell, the scenario it ran and its result.
ResultHook = Callable[[Cell, Scenario, Result], None]
#: As ResultHook, with the raw run too (its step records and clocks), e.g. to save them.
RunHook = Callable[[Cell, Scenario, Result, "RawRun"], None]


@dataclass
class _Progress:
    results: dict[Cell, list[Result]]
    finished: int = 0
    interrupted: bool = False
    stopped_by: str = ""
    aborted: str = ""
    aborted_cell: str = ""


def run_cells(
    jobs: Sequence[tuple[Cell, Scenario]],
    repeat: int,
    seed: int,
    on_progress: ProgressHook | None = None,
    on_result: ResultHook | None = None,
    on_run: RunHook | None = None,
) -> _Progress:
    """Run each (cell, scenario) `repeat` times, round-robin. Round r runs every cell with
    seed + r (or the cell's own seed + r when its scenario names one). The raw runs are
    kept only for `on_run`, one at a time: without it they are never collected."""
    scenarios = dict(jobs)
    order = schedule(list(scenarios), repeat)
    progress = _Progress(results={cell: [] for cell in scenarios})
    try:
        for index, (round_, cell) in enumerate(order):
            if on_progress is not None:
                on_progress(index, len(order), cell, round_)
            scenario = scenarios[cell]
            base = scenario.seed if scenario.seed is not None else seed
            run = replace(scenario, seed=round_seed(base, round_))
            raws: list[RawRun] = []
            result = simulate(run) if on_run is None else simulate(run, None, raws)
            # Nothing runs after a run cut short: the user asked to stop, or the machine is
            # short of memory and the next run would take more.
            if is_sample(result):
                progress.results[cell].append(result)
                progress.finished += 1
            if not result.interrupted or result.anomalous:  # an aborted run: for its reason
                if on_result is not None:
                    on_result(cell, run, result)
                if on_run is not None:
                    on_run(cell, run, result, raws[0])  # simulate() returned: it gave one
            if result.interrupted:
                progress.interrupted = True
                break
            if result.aborted:
                progress.aborted, progress.aborted_cell = result.aborted, cell.label
                break
        if on_progress is not None:
            on_progress(progress.finished, len(order), None, repeat)
    except KeyboardInterrupt:
        progress.interrupted = True
    except BookingError as exc:
        progress.stopped_by = str(exc)
    return progress


def summarize_cells(
    jobs: Sequence[tuple[Cell, Scenario]],
    progress: _Progress,
    candidates: Sequence[Cell] | None,
    params: Callable[[Scenario], dict[str, object]] | None = None,
) -> tuple[list[CellSummary], CellSummary | None]:
    """Per-cell statistics of the finished runs, with speeds relative to the reference."""
    summaries = [
        summarize(
            cell,
            progress.results[cell],
            claims_safe=STRATEGIES[cell.strategy].claims_safe and scenario.manager_lock,
            params=params(scenario) if params else None,
        )
        for cell, scenario in jobs
        if progress.results[cell]
    ]
    return with_relative_speed(summaries, candidates)


def new_seed() -> int:
    return random.SystemRandom().randrange(2**32)


def compare(
    workload: Scenario,
    strategies: Sequence[str] | None = None,
    stores: Sequence[str] | None = None,
    repeat: int = 5,
    reference: str | None = None,
    on_progress: ProgressHook | None = None,
    on_result: ResultHook | None = None,
    on_run: RunHook | None = None,
) -> Comparison:
    """Run every cell `repeat` times, round-robin, and summarise each cell. `on_result`
    and `on_run` are told of each run that counts (see run_cells).

    Ctrl-C, the memory guard or an error (such as a fork limit) ends it early: the runs
    finished so far are summarised and the Comparison says it is incomplete."""
    cells, _, candidates = plan(workload, strategies, stores, repeat, reference)
    seed = workload.seed if workload.seed is not None else new_seed()
    jobs = [(cell, replace(cell_scenario(workload, cell), seed=None)) for cell in cells]
    progress = run_cells(jobs, repeat, seed, on_progress, on_result, on_run)
    return _comparison(replace(workload, seed=seed), seed, repeat, jobs, progress, candidates)


def cell_params(scenario: Scenario) -> dict[str, object]:
    """The workload of one sweep cell, as plain values for its output row."""
    return {
        "buyers": scenario.buyers,
        "tickets": scenario.initial_tickets,
        "think_ms": list(scenario.think_ms),
        "attempts": scenario.attempts,
        "arrival": scenario.arrival.describe(),
        **({"lock_ttl_ms": scenario.lock_ttl_ms} if scenario.lock_ttl_ms is not None else {}),
    }


def run_scenario(
    scenario_file: ScenarioFile,
    seed: int | None = None,
    on_progress: ProgressHook | None = None,
    on_result: ResultHook | None = None,
    on_run: RunHook | None = None,
) -> Comparison:
    """Run a scenario file's sweep: every point `repeat` times, round-robin, as compare
    does, and summarise each point as a cell. Raises ResourceError before the first run
    when the machine cannot hold the largest point."""
    base = seed if seed is not None else new_seed()
    jobs = list(scenario_file.points)
    admit(scenario for _, scenario in jobs)
    _servers_available({scenario.store_name for _, scenario in jobs if scenario.dsn is None})
    progress = run_cells(jobs, scenario_file.repeat, base, on_progress, on_result, on_run)
    workload = jobs[0][1] if jobs else Scenario()
    return _comparison(
        workload,
        base,
        scenario_file.repeat,
        jobs,
        progress,
        None,
        params=cell_params,
        title=f"scenario {scenario_file.name}",
    )


def _comparison(
    workload: Scenario,
    seed: int,
    repeat: int,
    jobs: Sequence[tuple[Cell, Scenario]],
    progress: _Progress,
    candidates: Sequence[Cell] | None,
    params: Callable[[Scenario], dict[str, object]] | None = None,
    title: str = "",
) -> Comparison:
    """The cells' statistics and how the runs ended, as one Comparison."""
    summaries, chosen = summarize_cells(jobs, progress, candidates, params)
    return Comparison(
        workload=workload,
        seed=seed,
        repeat=repeat,
        cells=summaries,
        planned_runs=len(jobs) * repeat,
        finished_runs=progress.finished,
        interrupted=progress.interrupted,
        stopped_by=progress.stopped_by,
        aborted=progress.aborted,
        aborted_cell=progress.aborted_cell,
        reference=chosen.label if chosen else None,
        reference_given=candidates is not None,
        title=title,
    )
