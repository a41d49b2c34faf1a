"""What `compare` and `scenario run` share after the runs: checking the output format
and file before any run, printing or writing the cells, and the exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from booking.cli.exits import EXIT_ABORTED, EXIT_ANOMALY
from booking.engine import stopping
from booking.errors import BookingError
from booking.words import plural


def check_output(
    output_format: str,
    out: Path | None,
    report: Path | None = None,
    history: Path | None = None,
) -> None:
    """Before any run: a known format, and a --out and a --report that can be written,
    neither of them the other, nor the `history` file the runs are saved to."""
    from booking.render import compare as compare_render

    if output_format not in compare_render.FORMATS:
        raise BookingError(
            f'unknown format "{output_format}"; expected one of '
            + ", ".join(compare_render.FORMATS)
        )
    if out is not None:
        from booking.render.output import check_writable

        check_writable(out)
    if report is not None:
        from booking.render.output import check_writable

        check_writable(report, "--report")
    from booking.render.output import check_distinct

    check_distinct({"--db": history, "--out": out, "--report": report})


def worst_runs(report: Path | None) -> Any:
    """What keeps each cell's worst run for the --report; None when none is asked for."""
    if report is None:
        return None
    from booking.comparison.worst import WorstRuns

    return WorstRuns()


def finish(
    comparison: Any,
    output_format: str,
    out: Path | None,
    fail_on_anomaly: bool,
    report: Path | None = None,
    worst: Any = None,
) -> None:
    """Show the cells (and write the --report with the worst runs `worst` kept), then exit
    as the comparison ended: error 2, Ctrl-C 130, anomaly 1 (with --fail-on-anomaly, even
    when the memory guard then stopped it), the guard 75."""
    failed = []
    try:
        emit(comparison, output_format, out)
    except BookingError as exc:  # --out could not be written: the report still is
        failed.append(str(exc))
    if report is not None:
        from booking.render.compare_report import render_comparison

        kept = worst.kept if worst is not None else {}
        make = lambda: render_comparison(comparison, kept)  # noqa: E731
        failed += write_files([(report, "--report", make, "the report")])
    fail_if(failed)
    if comparison.stopped_by:
        raise BookingError(comparison.stopped_by)
    if comparison.interrupted or stopping.late():  # Ctrl-C during a run, or after the last
        raise typer.Exit(stopping.exit_code())
    if fail_on_anomaly and comparison.anomaly_in_a_safe_cell:
        raise typer.Exit(EXIT_ANOMALY)
    if comparison.aborted:
        raise typer.Exit(EXIT_ABORTED)


def write_files(jobs: list[tuple[Path | None, str, Callable[[], str], str]]) -> list[str]:
    """Write each (path, option, make, what) whose path is given; return one line for
    each that failed. Every file that can be written is, whatever became of the others,
    and the caller has shown the results first, so nothing measured is lost."""
    from booking.render.output import write_atomically

    failed = []
    for path, option, make, what in jobs:
        if path is None:
            continue
        try:
            write_atomically(path, make())
        except OSError as exc:
            failed.append(f"{option} {path}: {exc.strerror or exc}; {what} was not written")
            continue
        print(f"booking: wrote {what} to {path}", file=sys.stderr)
    return failed


def fail_if(failed: list[str]) -> None:
    """One error line for every output that could not be written."""
    if failed:
        raise BookingError("; ".join(failed))


def emit(comparison: Any, output_format: str, out: Path | None) -> None:
    """Print or write the comparison. The machine formats keep stdout parseable: their
    findings (what went wrong where) follow on stderr."""
    from booking.render import chart
    from booking.render import compare as compare_render
    from booking.render.console import PIPE_WIDTH

    if output_format == "table" and out is None:
        compare_render.table(comparison)
        chart.render(comparison)
        return
    if output_format == "table":
        import io

        buffer = io.StringIO()
        compare_render.table(comparison, file=buffer, width=PIPE_WIDTH)
        chart.render(comparison, file=buffer, width=PIPE_WIDTH)
        text = buffer.getvalue()
    else:
        text = compare_render.RENDERERS[output_format](comparison)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        from booking.render.output import write_atomically

        try:
            write_atomically(out, text)
        except OSError as exc:
            sys.stdout.write(text)  # nothing measured is lost, nor what went wrong
            _notes(comparison, output_format)
            raise BookingError(
                f"--out {out}: {exc.strerror or exc}; the output went to stdout instead"
            ) from None
        print(f"booking: wrote {plural(len(comparison.cells), 'cell')} to {out}", file=sys.stderr)
    _notes(comparison, output_format)


def _notes(comparison: Any, output_format: str) -> None:
    """The machine formats' findings, on stderr so stdout stays parseable."""
    from booking.render import compare as compare_render

    if output_format in ("json", "csv"):
        for note in compare_render.findings(comparison):
            print(f"booking: note: {note}", file=sys.stderr)
