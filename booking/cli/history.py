"""`booking history [show ID | report ID]`: the sessions saved with --save, read back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from booking.cli.options import DbOption
from booking.errors import BookingError

history_app = typer.Typer(
    help="Saved runs (see --save): list the recent sessions, show one, or draw it as a report.",
    invoke_without_command=True,
)


@history_app.callback()
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many sessions, newest first.")] = 20,
    db: DbOption = None,
) -> None:
    """List the recent saved sessions: one per run, compare or scenario invocation."""
    if ctx.invoked_subcommand is not None:
        return
    from booking.history.store import History, NoHistory, resolve_path
    from booking.history.summary import listing
    from booking.render import history as history_render

    if limit < 1:
        raise BookingError(f"limit must be at least 1, not {limit}")
    path = resolve_path(db)
    try:
        with History(path, create=False) as saved:
            rows = listing(saved, limit)
    except NoHistory:  # a new machine: nothing saved yet is an answer, not bad input
        rows = []
    history_render.sessions(rows, path)


@history_app.command("show")
def history_show(
    session: Annotated[int, typer.Argument(metavar="ID", help="A session id from the list.")],
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the session and its run records as JSON.")
    ] = False,
) -> None:
    """Show one saved session: what ran, where, and every run's numbers."""
    from booking.history.columns import run_record
    from booking.history.store import History, resolve_path
    from booking.history.summary import overview, params_of, session_record
    from booking.render import history as history_render

    with History(resolve_path(db), create=False) as saved:
        row, runs = saved.session(session)
    if as_json:
        import json

        record = {"session": session_record(row), "runs": [run_record(r) for r in runs]}
        print(json.dumps(record))
    else:
        params = params_of(row)
        history_render.session({**row, "params": params, **overview(params, runs)}, runs)


@history_app.command("report")
def history_report(
    session: Annotated[int, typer.Argument(metavar="ID", help="A session id from the list.")],
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.html",
            help="Where to write the page.  \\[default: booking-session-ID.html here]",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a saved session as a self-contained HTML report: a run's timeline, or a
    comparison's table, charts and each cell's worst run."""
    from booking.cli.cells import fail_if, write_files
    from booking.history.reports import session_report
    from booking.history.store import History, resolve_path
    from booking.render.output import check_distinct, check_writable

    path = out if out is not None else Path(f"booking-session-{session}.html")
    check_writable(path, "--out")
    check_distinct({"--db": resolve_path(db), "--out": path})
    with History(resolve_path(db), create=False) as saved:
        page = session_report(saved, session)
    fail_if(write_files([(path, "--out", lambda: page, "the report")]))
