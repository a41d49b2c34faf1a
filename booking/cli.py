"""The command line: options -> Scenario -> simulate -> render. No logic of its own."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

# typer 0.28 vendors click as typer._click; we catch its errors to print them as one line.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from booking import stopping
from booking.errors import BookingError
from booking.stores import STORES
from booking.strategies import STRATEGIES

EXIT_ANOMALY = 1
EXIT_USAGE = 2
#: Runs this big take seconds to start: the command says so first.
BIG_RUN = 1000


def _error(prog: str, message: str) -> None:
    one_line = message.replace("\r", "\\r").replace("\n", "\\n")
    print(f"{prog}: error: {one_line}", file=sys.stderr)


class BookingGroup(TyperGroup):
    """Every bad input ends as one line on stderr and exit 2: no box, no traceback."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        previous = stopping.install()
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as exc:
            if message := exc.format_message().strip():  # typer has printed the help already
                print(message, file=sys.stderr)
            sys.exit(EXIT_USAGE)
        except UsageError as exc:
            prog = exc.ctx.command_path if exc.ctx else "booking"
            hint = f" (see '{prog} --help')" if exc.ctx else ""
            _error(prog, exc.format_message() + hint)
            sys.exit(EXIT_USAGE)
        except BookingError as exc:
            _error(prog_name or "booking", str(exc))
            sys.exit(exc.exit_code)
        except ClickException as exc:
            _error(prog_name or "booking", exc.format_message())
            sys.exit(exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            print("Aborted.", file=sys.stderr)
            sys.exit(stopping.exit_code())
        finally:
            # Whatever was printed reaches the pipe before a late SIGTERM could kill us.
            sys.stdout.flush()
            stopping.restore(previous)
        if code in (stopping.EXIT_INTERRUPTED, stopping.EXIT_TERMINATED):
            code = stopping.exit_code()  # typer turns any KeyboardInterrupt into 130
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=BookingGroup,
    help="A ticket-booking race simulator: buyer processes race to buy tickets from one store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from booking import __version__

        print(f"booking {__version__}")
        raise typer.Exit()


@app.callback()
def booking(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """A ticket-booking race simulator: buyer processes race to buy tickets from one store."""


_STRATEGIES_EPILOG = "Strategies: " + "; ".join(
    f"{name}: {info.summary}" for name, info in STRATEGIES.items()
)


# The workload options, shared by `run` and `compare`.
BuyersOption = Annotated[int, typer.Option(help="Buyer processes racing at once.")]
TicketsOption = Annotated[
    int | None,
    typer.Option(
        help="Tickets in a new store (or with --reset).  \\[default: 10]", show_default=False
    ),
]
ThinkOption = Annotated[
    str,
    typer.Option(
        metavar="MIN:MAX",
        help="Milliseconds between reading the count and writing it back "
        "(the race window); one number for a fixed pause.",
    ),
]
AttemptsOption = Annotated[
    int, typer.Option(help="Purchase attempts per buyer; a buyer stops once sold out.")
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        help="Seed for every buyer's random think times.  \\[default: random, shown in the result]",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        help="Watchdog for a run, in seconds; also bounds every "
        "lock wait. A run that cannot finish ends as DEADLOCK."
    ),
]


# Keeping results: shared by `run`, `compare` and `scenario run`.
SaveOption = Annotated[
    bool,
    typer.Option("--save", help="Keep every run in the history database (see booking history)."),
]
DbOption = Annotated[
    Path | None,
    typer.Option(
        help="History database.  \\[default: $BOOKING_DB, else "
        "$XDG_DATA_HOME/booking/history.db or ~/.local/share/booking/history.db]",
        show_default=False,
        dir_okay=False,
    ),
]


@app.command(epilog=_STRATEGIES_EPILOG)
def run(
    buyers: BuyersOption = 50,
    tickets: TicketsOption = None,
    strategy: Annotated[
        str, typer.Option(metavar="[" + "|".join(STRATEGIES) + "]", help="How buyers coordinate.")
    ] = "lock",
    store: Annotated[
        str | None,
        typer.Option(
            metavar="[" + "|".join(STORES) + "]",
            help="Where the tickets live.  \\[default: sqlite for a .db/.sqlite --path, else json]",
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
    reset: Annotated[
        bool, typer.Option("--reset", help="Set the --path store's count to --tickets first.")
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
    no_manager_lock: Annotated[
        bool,
        typer.Option(
            "--no-manager-lock",
            help="manager strategy: share the dict without its lock (seed 003's lost updates).",
        ),
    ] = False,
    poll_ms: Annotated[
        float | None,
        typer.Option(
            help="filelock strategy: how often a waiter retries the lock, in ms "
            "(filelock's own default is 50).  \\[default: 5]",
            show_default=False,
        ),
    ] = None,
    kill_holder: Annotated[
        int,
        typer.Option(
            metavar="N",
            help="Fault: N buyers SIGKILL themselves inside the critical section (after "
            "reading, before writing), as terminate() would. Who and when follow --seed.",
        ),
    ] = 0,
    kill_writer: Annotated[
        int,
        typer.Option(
            metavar="N", help="Fault: N buyers SIGKILL themselves half-way through a write."
        ),
    ] = 0,
    stall_timeout: Annotated[
        float | None,
        typer.Option(
            metavar="S",
            help="End the run as DEADLOCK when no buyer has reported anything for S "
            "seconds.  \\[default: only --timeout]",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the result record, as JSON, on stdout.")
    ] = False,
    fail_on_anomaly: Annotated[
        bool, typer.Option("--fail-on-anomaly", help="Exit 1 when the verdict is not SAFE.")
    ] = False,
    save: SaveOption = False,
    db: DbOption = None,
) -> None:
    """Race buyer processes for the tickets in one store and report what went wrong."""
    from booking import render
    from booking.saving import recording
    from booking.scenario import DEFAULT_POLL_MS, Scenario, parse_think
    from booking.simulation import simulate

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
    )
    notes: list[str] = []
    scenario.validate()  # bad input never opens a history session
    if scenario.buyers >= BIG_RUN and sys.stderr.isatty():
        # Forking is ~3-5 ms a buyer here: say so before a long silent start.
        print(
            f"booking: starting {scenario.buyers:,} buyers (about "
            f"{scenario.buyers * 0.004:.0f} s before the gate opens)...",
            file=sys.stderr,
        )
    with recording(save, db, "run", _run_name(scenario), _params(scenario)) as recorder:
        result = simulate(scenario, notes)
        if recorder is not None:
            recorder.add(result)
            recorder.status = "interrupted" if result.interrupted else "complete"
    _saved(recorder)
    for note in notes:
        print(f"booking: note: {note}", file=sys.stderr)
    if as_json:
        print(render.to_json(result))
    else:
        render.summary(result)
    if result.interrupted:
        raise typer.Exit(stopping.exit_code())
    if fail_on_anomaly and not result.safe:
        raise typer.Exit(EXIT_ANOMALY)


# The output options, shared by `compare` and `scenario run`.
FormatOption = Annotated[
    str, typer.Option("--format", metavar="[table|json|csv|markdown]", help="Output format.")
]
OutOption = Annotated[
    Path | None,
    typer.Option(help="Write the output to this file (whole, or not at all) instead of stdout."),
]
CellsFailOption = Annotated[
    bool,
    typer.Option(
        "--fail-on-anomaly", help="Exit 1 when a cell that claims to be safe had an anomaly."
    ),
]


@app.command(epilog=_STRATEGIES_EPILOG)
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
            help="Stores to compare on.  \\[default: all: " + ", ".join(STORES) + "]",
            show_default=False,
        ),
    ] = None,
    buyers: BuyersOption = 50,
    tickets: Annotated[int, typer.Option(help="Tickets in each run's fresh store.")] = 10,
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
    fail_on_anomaly: CellsFailOption = False,
    save: SaveOption = False,
    db: DbOption = None,
) -> None:
    """Run every strategy on every store several times and compare them in one table."""
    from booking.comparison import compare as run_comparison
    from booking.comparison import plan
    from booking.matrix import parse_names
    from booking.scenario import Scenario, parse_think

    _check_output(output_format, out)
    chosen_strategies = parse_names(strategies, "strategy", STRATEGIES) if strategies else None
    chosen_stores = parse_names(stores, "store", STORES) if stores else None
    workload = Scenario(
        buyers=buyers,
        tickets=tickets,
        think_ms=parse_think(think),
        attempts=attempts,
        seed=seed,
        timeout_s=timeout,
    )
    plan(workload, chosen_strategies, chosen_stores, repeat, reference)  # all checks, no runs
    params = {
        **_params(workload),
        "strategies": chosen_strategies,
        "stores": chosen_stores,
        "repeat": repeat,
        "reference": reference,
    }
    comparison = _run_recorded(
        save,
        db,
        "compare",
        "compare",
        params,
        repeat,
        lambda hook, on_result: run_comparison(
            workload,
            chosen_strategies,
            chosen_stores,
            repeat,
            reference,
            on_progress=hook,
            on_result=on_result,
        ),
    )
    _finish(comparison, output_format, out, fail_on_anomaly)


def _run_recorded(
    save: bool,
    db: Path | None,
    kind: str,
    name: str,
    params: dict[str, Any],
    repeat: int,
    start: Callable[[Any, Any], Any],
) -> Any:
    """Run a comparison under the progress bar, saving each run when --save asks, and
    close the history session with how the comparison ended."""
    from booking.progress import compare_bar
    from booking.saving import recording

    with recording(save, db, kind, name, params) as recorder, compare_bar(repeat) as hook:
        comparison = start(hook, recorder.on_result if recorder else None)
        if recorder is not None:
            recorder.status = comparison.status
    _saved(recorder)
    return comparison


def _check_output(output_format: str, out: Path | None) -> None:
    """Before any run: a known format, and a --out that can be written."""
    from booking import compare_render

    if output_format not in compare_render.FORMATS:
        raise BookingError(
            f'unknown format "{output_format}"; expected one of '
            + ", ".join(compare_render.FORMATS)
        )
    if out is not None:
        from booking.output import check_writable

        check_writable(out)


def _finish(comparison: Any, output_format: str, out: Path | None, fail_on_anomaly: bool) -> None:
    """Show the cells, then exit as the comparison ended: error 2, Ctrl-C 130, anomaly 1."""
    _emit(comparison, output_format, out)
    if comparison.stopped_by:
        raise BookingError(comparison.stopped_by)
    if comparison.interrupted:
        raise typer.Exit(stopping.exit_code())
    if fail_on_anomaly and comparison.anomaly_in_a_safe_cell:
        raise typer.Exit(EXIT_ANOMALY)


def _emit(comparison: Any, output_format: str, out: Path | None) -> None:
    """Print or write the comparison. The machine formats keep stdout parseable: their
    findings (what went wrong where) follow on stderr."""
    from booking import chart, compare_render, render

    if output_format == "table" and out is None:
        compare_render.table(comparison)
        chart.render(comparison)
        return
    if output_format == "table":
        import io

        buffer = io.StringIO()
        compare_render.table(comparison, file=buffer, width=render.PIPE_WIDTH)
        chart.render(comparison, file=buffer, width=render.PIPE_WIDTH)
        text = buffer.getvalue()
    else:
        text = compare_render.RENDERERS[output_format](comparison)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        from booking.output import write_atomically

        try:
            write_atomically(out, text)
        except OSError as exc:
            sys.stdout.write(text)  # nothing measured is lost
            raise BookingError(
                f"--out {out}: {exc.strerror or exc}; the output went to stdout instead"
            ) from None
        print(f"booking: wrote {len(comparison.cells)} cells to {out}", file=sys.stderr)
    if output_format in ("json", "csv"):
        for note in compare_render.findings(comparison):
            print(f"booking: note: {note}", file=sys.stderr)


scenario_app = typer.Typer(
    help="Scenario files: TOML workloads where any list is a sweep axis.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")


def _bundled() -> list[Path]:
    from importlib.resources import files

    folder = files("booking") / "scenarios"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def _scenario_path(name: str) -> Path:
    """A path, or the name of a bundled scenario (with or without .toml)."""
    path = Path(name)
    if path.exists() or "/" in name:
        return path
    for bundled in _bundled():
        if name in (bundled.name, bundled.stem):
            return bundled
    return path


ScenarioArgument = Annotated[
    str,
    typer.Argument(
        metavar="FILE", help="A scenario .toml file, or the name of a bundled one (see list)."
    ),
]


@scenario_app.command("run")
def scenario_run(
    file: ScenarioArgument,
    repeat: Annotated[
        int | None, typer.Option(help="Runs per point (overrides the file).", show_default=False)
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the first round (overrides the file).", show_default=False),
    ] = None,
    buyers: Annotated[
        int | None, typer.Option(help="Buyers (overrides the file).", show_default=False)
    ] = None,
    tickets: Annotated[
        int | None, typer.Option(help="Tickets (overrides the file).", show_default=False)
    ] = None,
    think: Annotated[
        str | None,
        typer.Option(metavar="MIN:MAX", help="Think (overrides the file).", show_default=False),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Watchdog per run (overrides the file).", show_default=False),
    ] = None,
    output_format: FormatOption = "table",
    out: OutOption = None,
    fail_on_anomaly: CellsFailOption = False,
    save: SaveOption = False,
    db: DbOption = None,
) -> None:
    """Run a scenario file: every point of its sweep, repeated and interleaved."""
    from booking.comparison import run_scenario
    from booking.scenario_file import load

    _check_output(output_format, out)
    overrides: dict[str, Any] = {
        key: value
        for key, value in (
            ("repeat", repeat),
            ("buyers", buyers),
            ("tickets", tickets),
            ("think", think),
            ("timeout", timeout),
            ("seed", seed),
        )
        if value is not None
    }
    path = _scenario_path(file)
    scenario_file = load(path, overrides)
    params = {"file": str(path), "overrides": overrides, "description": scenario_file.description}
    comparison = _run_recorded(
        save,
        db,
        "scenario",
        scenario_file.name,
        params,
        scenario_file.repeat,
        lambda hook, on_result: run_scenario(
            scenario_file, seed, on_progress=hook, on_result=on_result
        ),
    )
    _finish(comparison, output_format, out, fail_on_anomaly)


@scenario_app.command("validate")
def scenario_validate(file: ScenarioArgument) -> None:
    """Check a scenario file without running it: keys, values, and the sweep it makes."""
    from booking.scenario_file import load

    path = _scenario_path(file)
    scenario_file = load(path)
    axes = ", ".join(scenario_file.axes) or "no sweep"
    print(
        f"{path}: ok: {scenario_file.name}: {len(scenario_file.points)} points ({axes}) × "
        f"{scenario_file.repeat} runs = {scenario_file.runs} runs"
    )


@scenario_app.command("list")
def scenario_list() -> None:
    """The bundled scenarios and what each one shows."""
    from booking.scenario_file import load

    for path in _bundled():
        scenario_file = load(path)
        print(f"{path.stem}\n    {' '.join(scenario_file.description.split())}\n")


def _run_name(scenario: Any) -> str:
    return f"{scenario.strategy}/{scenario.store_name}"


def _params(scenario: Any) -> dict[str, Any]:
    """A workload as plain JSON values, for the history's session row."""
    return {
        "buyers": scenario.buyers,
        "tickets": scenario.tickets,
        "strategy": scenario.strategy,
        "store": scenario.store,
        "think_ms": list(scenario.think_ms),
        "attempts": scenario.attempts,
        "seed": scenario.seed,
        "timeout_s": scenario.timeout_s,
        "path": None if scenario.path is None else str(scenario.path),
        "arrival": scenario.arrival.describe(),
    }


def _saved(recorder: Any) -> None:
    if recorder is not None:
        print(
            f"booking: saved {recorder.saved} run{'s' if recorder.saved != 1 else ''} to "
            f"{recorder.history.path} (session {recorder.session_id})",
            file=sys.stderr,
        )


history_app = typer.Typer(
    help="Saved runs (see --save): list the recent sessions, or show one.",
    invoke_without_command=True,
)
app.add_typer(history_app, name="history")


@history_app.callback()
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many sessions, newest first.")] = 20,
    db: DbOption = None,
) -> None:
    """List the recent saved sessions: one per run, compare or scenario invocation."""
    if ctx.invoked_subcommand is not None:
        return
    from booking import history_render
    from booking.history import History, resolve_path

    if limit < 1:
        raise BookingError(f"limit must be at least 1, not {limit}")
    with History(resolve_path(db), create=False) as saved:
        history_render.sessions(saved.sessions(limit), saved.path)


@history_app.command("show")
def history_show(
    session: Annotated[int, typer.Argument(metavar="ID", help="A session id from the list.")],
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the session and its run records as JSON.")
    ] = False,
) -> None:
    """Show one saved session: what ran, where, and every run's numbers."""
    from booking import history_render
    from booking.history import History, resolve_path, run_record

    with History(resolve_path(db), create=False) as saved:
        row, runs = saved.session(session)
    if as_json:
        import json

        print(json.dumps({"session": row, "runs": [run_record(r) for r in runs]}))
    else:
        history_render.session(row, runs)
