"""`booking compare`: every strategy on every store, repeated round-robin, one table."""

from __future__ import annotations

from typing import Annotated

import typer

from booking.cli.cells import check_output, finish, worst_runs
from booking.cli.options import (
    AttemptsOption,
    BuyersOption,
    CellsFailOption,
    DbOption,
    FormatOption,
    LockTtlOption,
    MaxMemoryOption,
    OrderOption,
    OutOption,
    PickOption,
    ReportOption,
    RetriesOption,
    SaveOption,
    SeatsOption,
    ThinkOption,
    TimeoutOption,
)
from booking.cli.session import compare_name, compare_params, history_file, run_recorded
from booking.stores import NETWORK_STORES, STORES
from booking.strategies import STRATEGIES, retrying_strategies


def compare(
    strategies: Annotated[
        str | None,
        typer.Option(
            metavar="A,B,...",
            help="Strategies to compare.  \\[default: all: " + ", ".join(STRATEGIES) + "]",
            show_default=False,
        ),
    ] = None,
    stores: Annotated[
        str | None,
        typer.Option(
            metavar="X,Y",
            help="Stores to compare on; postgres and redis (each run on a throwaway server of "
            "its own) only when named.  \\[default: "
            + ", ".join(s for s in STORES if s not in NETWORK_STORES)
            + "]",
            show_default=False,
        ),
    ] = None,
    buyers: BuyersOption = 50,
    tickets: Annotated[
        int | None,
        typer.Option(
            help="Tickets in each run's fresh store.  \\[default: 10]", show_default=False
        ),
    ] = None,
    seats: SeatsOption = None,
    order: OrderOption = 1,
    pick: PickOption = "best",
    think: ThinkOption = "1:5",
    attempts: AttemptsOption = 1,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of the first round; round r uses seed + r for every cell.  "
            "\\[default: random, shown in the heading]",
            show_default=False,
        ),
    ] = None,
    timeout: TimeoutOption = 30.0,
    repeat: Annotated[
        int, typer.Option(help="Runs per cell, interleaved round-robin across cells.")
    ] = 5,
    reference: Annotated[
        str | None,
        typer.Option(
            metavar="STRATEGY[/STORE]",
            help="The cell others are timed against.  \\[default: the fastest safe cell]",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = "table",
    out: OutOption = None,
    report: ReportOption = None,
    fail_on_anomaly: CellsFailOption = False,
    max_memory: MaxMemoryOption = None,
    retries: RetriesOption = None,
    lock_ttl: LockTtlOption = None,
    save: SaveOption = False,
    db: DbOption = None,
) -> None:
    """Run every strategy on every store several times and compare them in one table."""
    from booking.comparison.driver import compare as run_comparison
    from booking.comparison.driver import plan
    from booking.errors import ScenarioError
    from booking.scenarios.plan import parse_names
    from booking.scenarios.scenario import (
        DEFAULT_RETRIES,
        TTL_STRATEGIES,
        Scenario,
        parse_think,
    )

    check_output(output_format, out, report, history_file(save, db))
    worst = worst_runs(report)
    chosen_strategies = (
        parse_names(strategies, "strategy", STRATEGIES) if strategies is not None else None
    )
    chosen_stores = parse_names(stores, "store", STORES) if stores is not None else None
    workload = Scenario(
        buyers=buyers,
        tickets=10 if tickets is None and seats is None else tickets,
        seats=seats,
        order=order,
        pick=pick,
        think_ms=parse_think(think),
        attempts=attempts,
        seed=seed,
        timeout_s=timeout,
        max_memory=max_memory,
        retries=DEFAULT_RETRIES if retries is None else retries,
        lock_ttl_ms=lock_ttl,
    )
    # Every check before any run; the cells say what the session covered.
    cells, _, _ = plan(
        workload, chosen_strategies, chosen_stores, repeat, reference, "--max-memory"
    )
    if retries is not None and not any(STRATEGIES[c.strategy].retries for c in cells):
        raise ScenarioError(
            f"--retries only applies to --strategies that include {retrying_strategies()}"
        )
    if lock_ttl is not None and not any(c.strategy in TTL_STRATEGIES for c in cells):
        raise ScenarioError(
            "--lock-ttl only applies to --strategies that include ttl-lock or fenced"
        )
    params = {
        **compare_params(workload, cells),
        "repeat": repeat,
        "reference": reference,
    }
    comparison = run_recorded(
        save,
        db,
        "compare",
        compare_name(chosen_strategies, chosen_stores),
        params,
        repeat,
        lambda hook, on_run: run_comparison(
            workload,
            chosen_strategies,
            chosen_stores,
            repeat,
            reference,
            on_progress=hook,
            on_run=on_run,
        ),
        worst,
    )
    finish(comparison, output_format, out, fail_on_anomaly, report, worst)
