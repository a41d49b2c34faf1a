"""`booking explore` and `booking replay`: search the interleavings of a small workload,
and run a saved one again, step for step."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from booking.cli.cells import fail_if, write_files
from booking.cli.exits import EXIT_ANOMALY, EXIT_SOFTWARE
from booking.cli.options import NoManagerLockOption, RetriesOption, StrategyOption
from booking.stores import STORES
from booking.strategies import STRATEGIES, retrying_strategies


def explore(
    strategy: StrategyOption,
    store: Annotated[
        str,
        typer.Option(
            metavar="[" + "|".join(STORES) + "]",
            help="Where the tickets live (a fresh store for every schedule).  "
            "\\[default: json, or sqlite for a strategy that needs it]",
            show_default=False,
        ),
    ] = "",
    buyers: Annotated[int, typer.Option(help="Buyer processes (1 to 8).")] = 2,
    tickets: Annotated[int, typer.Option(help="Tickets in the store (0 to 20).")] = 1,
    attempts: Annotated[
        int, typer.Option(help="Purchase attempts per buyer (1 to 5); a buyer stops once sold out.")
    ] = 1,
    mode: Annotated[
        str,
        typer.Option(
            metavar="[exhaustive|pct|random]",
            help="exhaustive: every schedule within --preemptions, depth first; pct: "
            "probabilistic concurrency testing (random priorities, --depth - 1 change "
            "points); random: a random enabled buyer at every step.",
        ),
    ] = "exhaustive",
    schedules: Annotated[
        int | None,
        typer.Option(
            metavar="M",
            help="Run at most M schedules.  \\[default: pct and random 1000; exhaustive: "
            "until done]",
            show_default=False,
        ),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option(
            metavar="D",
            help="pct: the bug depth it targets (D - 1 change points).  \\[default: 2]",
            show_default=False,
        ),
    ] = None,
    preemptions: Annotated[
        int | None,
        typer.Option(
            metavar="P",
            help="exhaustive: at most P preemptions (switches away from a buyer that could go "
            "on) per schedule; -1 for no bound.  \\[default: 2]",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of pct's and random's choices.  \\[default: random, shown in the "
            "output; exhaustive: 0]",
            show_default=False,
        ),
    ] = None,
    no_manager_lock: NoManagerLockOption = False,
    retries: RetriesOption = None,
    save_schedule: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write the counterexample's schedule and workload as JSON, for booking replay.",
            dir_okay=False,
        ),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help="Go on after the first anomaly and count every one."),
    ] = False,
    no_shrink: Annotated[
        bool, typer.Option("--no-shrink", help="Show the counterexample as found, unshrunk.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the exploration, as one JSON object.")
    ] = False,
    fail_on_anomaly: Annotated[
        bool, typer.Option("--fail-on-anomaly", help="Exit 1 when an anomaly was found.")
    ] = False,
) -> None:
    """Explore the interleavings of a small run, one buyer step at a time, on real processes."""
    from booking import __version__
    from booking.errors import ScenarioError
    from booking.render import explore as render
    from booking.schedules.exploration import DEFAULT_PREEMPTIONS
    from booking.schedules.exploration import explore as search
    from booking.schedules.schedule_file import dumps

    info = STRATEGIES.get(strategy)
    if retries is not None and info is not None and not info.retries:
        raise ScenarioError(f"--retries only applies to --strategy {retrying_strategies()}")
    if depth is not None and mode != "pct":
        raise ScenarioError("--depth only applies to --mode pct")
    if preemptions is not None and mode != "exhaustive":
        raise ScenarioError("--preemptions only applies to --mode exhaustive")
    if preemptions is not None and preemptions < -1:
        raise ScenarioError(f"--preemptions must be -1 (no bound) or more, not {preemptions}")
    if save_schedule is not None:
        from booking.render.output import check_writable

        check_writable(save_schedule, "--save-schedule")
    bound: int | None = DEFAULT_PREEMPTIONS if preemptions is None else preemptions
    if bound == -1:
        bound = None
    chosen_store = store or _default_store(strategy)
    total = None if mode == "exhaustive" else (schedules or 1000)
    with render.search_progress(schedules if mode == "exhaustive" else total) as hook:
        exploration = search(
            strategy,
            store=chosen_store,
            buyers=buyers,
            tickets=tickets,
            attempts=attempts,
            mode=mode,
            schedules=schedules,
            depth=depth,
            preemptions=bound,
            seed=seed,
            all=all_,
            shrinking=not no_shrink,
            manager_lock=not no_manager_lock,
            retries=3 if retries is None else retries,
            on_schedule=hook,
        )
    if as_json:
        print(render.exploration_json(exploration))
    else:
        render.summary(exploration)
    example = exploration.counterexample
    if save_schedule is not None and example is None:
        print(f"booking: no counterexample: {save_schedule} was not written", file=sys.stderr)
    if example is not None:
        fail_if(
            write_files(
                [
                    (
                        save_schedule,
                        "--save-schedule",
                        lambda: dumps(example, __version__),
                        "the schedule",
                    )
                ]
            )
        )
    if exploration.interrupted:
        from booking.engine import stopping

        raise typer.Exit(stopping.exit_code())
    if fail_on_anomaly and exploration.anomalies:
        raise typer.Exit(EXIT_ANOMALY)


def replay(
    schedule: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A schedule written by booking explore --save-schedule.",
            dir_okay=False,
        ),
    ],
    times: Annotated[int, typer.Option(metavar="N", help="Replay it N times.")] = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"runs": \\[record, ...]} on stdout.')
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.html",
            help="Also write the first replay as a self-contained HTML report (its timeline "
            "shows the steps in the order they were granted).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run a saved schedule again, step for step, on fresh buyer processes and a fresh store."""
    from booking.errors import ScenarioError
    from booking.render import explore as render
    from booking.render.output import check_distinct, check_writable
    from booking.schedules.replaying import replay_traces
    from booking.schedules.schedule_file import load_schedule

    if isinstance(times, int) and not 1 <= times <= 100_000:
        raise ScenarioError(f"--times must be between 1 and 100,000, not {times}")
    if report is not None:
        check_writable(report, "--report")
        check_distinct({"FILE": schedule, "--report": report})
    workload, steps = load_schedule(schedule)
    done: list[Any] = []  # the records of the replays finished, should one be interrupted
    try:
        traces = replay_traces(workload, steps, times, lambda number, record: done.append(record))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every buyer is reaped already
        from booking.engine import stopping

        if as_json:
            print(render.replay_json(done))
        elif done:
            render.replay_summary(str(schedule), workload, done)
        print(f"booking: interrupted after {len(done):,} of {times:,} replays", file=sys.stderr)
        raise typer.Exit(stopping.exit_code()) from None
    records = [trace.result for trace in traces if trace.result is not None]
    if as_json:
        print(render.replay_json(records))
    else:
        render.replay_summary(str(schedule), workload, records)
    first = traces[0]
    origin = f"The first replay of {schedule}, granted step by step in the saved order."
    fail_if(write_files([(report, "--report", lambda: _report(first, origin), "the report")]))
    if not render.alike(records):  # every run followed the steps: a defect of booking's
        raise typer.Exit(EXIT_SOFTWARE)


def _report(trace: Any, origin: str) -> str:
    from booking.render.report import render_run

    return render_run(trace.result, trace.raw, origin=origin)


def _default_store(strategy: str) -> str:
    info = STRATEGIES.get(strategy)
    if info is not None and info.stores and "json" not in info.stores:
        return info.stores[0]
    return "json"
