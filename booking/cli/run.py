"""`booking run`: one race on one store, its summary or its JSON record."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from booking.cli.cells import fail_if, write_files
from booking.cli.exits import EXIT_ABORTED, EXIT_ANOMALY, EXIT_TIMEOUT
from booking.cli.options import (
    AttemptsOption,
    BuyersOption,
    DbOption,
    DsnOption,
    KillServerOption,
    LockTtlOption,
    MaxMemoryOption,
    NoManagerLockOption,
    OrderOption,
    PickOption,
    RetriesOption,
    SaveOption,
    SeatsOption,
    SeedOption,
    StrategyOption,
    ThinkOption,
    TicketsOption,
    TimeoutOption,
    server_dsn,
)
from booking.cli.session import history_file, params_of, say_saved
from booking.engine import stopping
from booking.stores import STORES
from booking.strategies import STRATEGIES, retrying_strategies

#: Runs this big take seconds to start: the command says so first.
BIG_RUN = 1000


def run(
    buyers: BuyersOption = 50,
    tickets: TicketsOption = None,
    seats: SeatsOption = None,
    order: OrderOption = 1,
    pick: PickOption = "best",
    strategy: StrategyOption = "lock",
    store: Annotated[
        str | None,
        typer.Option(
            metavar="[" + "|".join(STORES) + "]",
            help="Where the tickets live.  \\[default: the --dsn's scheme; sqlite for a "
            ".db/.sqlite --path; else the store a strategy needs (sqlite for transaction, "
            "postgres for for-update, redis for fenced...); else json]",
            show_default=False,
        ),
    ] = None,
    path: Annotated[
        Path | None,
        typer.Option(
            help="Store file to use (created with --tickets if missing). "
            "Without it, a fresh store in a temporary directory.",
            dir_okay=False,
        ),
    ] = None,
    dsn: DsnOption = None,
    reset: Annotated[
        bool,
        typer.Option("--reset", help="Set the --path (or --dsn) store's count to --tickets first."),
    ] = False,
    think: ThinkOption = "1:5",
    attempts: AttemptsOption = 1,
    seed: SeedOption = None,
    timeout: TimeoutOption = 30.0,
    json_write: Annotated[
        str,
        typer.Option(
            metavar="[atomic|inplace]",
            help="JSON store writes: atomic (temp file, fsync, rename) or "
            "inplace (the seeds' truncating open(path, 'w')).",
        ),
    ] = "atomic",
    no_manager_lock: NoManagerLockOption = False,
    poll_ms: Annotated[
        float | None,
        typer.Option(
            help="filelock strategy: poll the lock every N ms. By default each waiter backs "
            "off from 1 ms to a cap chosen from --buyers (5 ms up to 16 buyers, longer for "
            "bigger crowds), so that many waiters do not starve the holder.  "
            "\\[default: adaptive]",
            show_default=False,
        ),
    ] = None,
    retries: RetriesOption = None,
    lock_ttl: LockTtlOption = None,
    kill_holder: Annotated[
        int,
        typer.Option(
            metavar="N",
            help="Fault: N buyers SIGKILL themselves inside the critical section (after "
            "reading, before writing), as terminate() would. --seed fixes which buyers, that "
            "each dies on its first attempt and how far into its think; not how many others "
            "get the guard first (the OS scheduler's order), so the sales before the death "
            "vary between runs of one seed. optimistic: between its read and its "
            "compare-and-set; queue: the seller, between its read and its write for that "
            "buyer; atomic holds nothing, so it does not apply.",
        ),
    ] = 0,
    kill_writer: Annotated[
        int,
        typer.Option(
            metavar="N",
            help="Fault: N buyers SIGKILL themselves half-way through their first write "
            "(which buyers follow --seed); queue: the seller dies half-way through writing "
            "that buyer's sale.",
        ),
    ] = 0,
    kill_server: KillServerOption = None,
    stall_timeout: Annotated[
        float | None,
        typer.Option(
            metavar="S",
            help="Stop the run when no buyer has reported anything for S seconds: DEADLOCK "
            "if buyers were waiting for a guard no live buyer held, TIMEOUT if one was still "
            "inside its purchase.  \\[default: only --timeout]",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the result record, as JSON, on stdout.")
    ] = False,
    trace: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.json",
            help="Also write every buyer's steps as a Chrome Trace Event file: open it in "
            "ui.perfetto.dev (Open trace file) or chrome://tracing (Load).",
            dir_okay=False,
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.html",
            help="Also write a self-contained HTML report: the verdict, a timeline of every "
            "buyer's steps, the latency and lock-wait distributions, the record.",
            dir_okay=False,
        ),
    ] = None,
    fail_on_anomaly: Annotated[
        bool,
        typer.Option(
            "--fail-on-anomaly",
            help="Exit 1 when the verdict is an anomaly (not SAFE, TIMEOUT, INTERRUPTED or "
            "ABORTED); exit 124 on TIMEOUT, which shows nothing either way. ABORTED (the "
            "memory guard) exits 75 with or without this option; a run it stopped after "
            "an anomaly was proven exits 1 with it.",
        ),
    ] = False,
    max_memory: MaxMemoryOption = None,
    save: SaveOption = False,
    db: DbOption = None,
) -> None:
    """Race buyer processes for the tickets in one store and report what went wrong."""
    from booking.errors import ScenarioError
    from booking.history.saving import recording
    from booking.render import run as render
    from booking.scenarios.scenario import DEFAULT_POLL_MS, DEFAULT_RETRIES, Scenario, parse_think
    from booking.simulation import admit, simulate

    scenario = Scenario(
        buyers=buyers,
        tickets=tickets,
        store=store,
        strategy=strategy,
        think_ms=parse_think(think),
        attempts=attempts,
        seed=seed,
        timeout_s=timeout,
        path=path,
        reset=reset,
        json_write=json_write,
        manager_lock=not no_manager_lock,
        poll_ms=DEFAULT_POLL_MS if poll_ms is None else poll_ms,
        kill_holder=kill_holder,
        kill_writer=kill_writer,
        stall_timeout_s=stall_timeout,
        max_memory=max_memory,
        retries=DEFAULT_RETRIES if retries is None else retries,
        seats=seats,
        order=order,
        pick=pick,
        dsn=dsn,
        lock_ttl_ms=lock_ttl,
        kill_server_ms=kill_server,
    )
    if dsn is None:  # $BOOKING_DSN, for the store named or the one the strategy needs
        scenario = replace(scenario, dsn=server_dsn(None, scenario.store_name))
    notes: list[str] = []
    scenario.validate()  # bad input never opens a history session
    if trace is not None:
        from booking.render.output import check_writable

        check_writable(trace, "--trace")
    if report is not None:
        from booking.render.output import check_writable

        check_writable(report, "--report")
    from booking.render.output import check_distinct

    check_distinct(
        {
            "--path": scenario.path,
            "--db": history_file(save, db),
            "--trace": trace,
            "--report": report,
        }
    )
    if retries is not None and not STRATEGIES[strategy].retries:
        raise ScenarioError(f"--retries only applies to --strategy {retrying_strategies()}")
    admit([scenario], "--max-memory")  # nor does a run the machine cannot hold
    if scenario.buyers >= BIG_RUN and sys.stderr.isatty():
        # Forking is ~3-5 ms a buyer here: say so before a long silent start.
        print(
            f"booking: starting {scenario.buyers:,} buyers (about "
            f"{scenario.buyers * 0.004:.0f} s before the gate opens)...",
            file=sys.stderr,
        )
    with recording(save, db, "run", _run_name(scenario), params_of(scenario)) as recorder:
        runs: list[Any] = []  # the raw run: for --trace, --report and the history's timeline
        keep = trace is not None or report is not None or recorder is not None
        result = simulate(scenario, notes, runs if keep else None)
        if recorder is not None:
            recorder.add(result, raw=runs[0] if runs else None)
            recorder.status = _status(result)
    say_saved(recorder)
    for note in notes:
        print(f"booking: note: {note}", file=sys.stderr)
    if as_json:
        print(render.to_json(result))
    else:
        render.summary(result)
    # After the result is shown, so a file that cannot be written loses nothing measured.
    raw = runs[0] if runs else None
    failed = write_files(
        [
            (
                trace if raw is not None else None,
                "--trace",
                lambda: _trace(raw, result),
                "the trace",
            ),
            (report, "--report", lambda: _report(result, raw), "the report"),
        ]
    )
    fail_if(failed)
    if result.interrupted or stopping.late():  # Ctrl-C during the run, or after it
        raise typer.Exit(stopping.exit_code())
    if fail_on_anomaly and result.anomalous:  # proven before a memory stop: an anomaly still
        raise typer.Exit(EXIT_ANOMALY)
    if result.aborted:
        raise typer.Exit(EXIT_ABORTED)
    if fail_on_anomaly and not result.safe:  # TIMEOUT: no anomaly, and no proof of safety
        raise typer.Exit(EXIT_TIMEOUT)


def _trace(raw: Any, result: Any) -> str:
    from booking.render import trace as trace_render

    return trace_render.to_json(raw, result)


def _report(result: Any, raw: Any) -> str:
    from booking.render.report import render_run

    return render_run(result, raw)


def _status(result: Any) -> str:
    """How the run ended, as the history records its session."""
    if result.interrupted:
        return "interrupted"
    return "aborted" if result.aborted else "complete"


def _run_name(scenario: Any) -> str:
    return f"{scenario.strategy}/{scenario.store_name}"
