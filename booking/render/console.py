"""The console every table is drawn on, and the colour of each verdict: one width rule
for the run summary, compare, the chart and the history."""

from __future__ import annotations

import errno
import functools
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

VERDICT_STYLE = {
    "SAFE": "bold green",
    "OVERSOLD": "bold red",
    "DOUBLE_BOOKED": "bold red",
    "PARTIAL": "bold red",
    "LOST_UPDATES": "bold red",
    "ERRORS": "bold yellow",
    "DEADLOCK": "bold magenta",
    "CORRUPT": "bold red",
    "INTERFERED": "bold red",
    "TIMEOUT": "bold yellow",  # cut short while moving: no anomaly, no proof of safety
    "INTERRUPTED": "bold yellow",
    "ABORTED": "bold yellow",  # stopped by the memory guard: no anomaly, no proof of safety
}


#: Wide enough for booking's tables unsqueezed; used when the output is not a terminal.
PIPE_WIDTH = 120


def console(file: IO[str] | None = None, width: int | None = None) -> Console:
    """A rich console for booking's output: the terminal's width; for a pipe or a file
    (which have no width to fit) PIPE_WIDTH for tables and sentences left unwrapped, one
    line each, unless COLUMNS says otherwise. A reader that goes away (`| head -1`) is a
    BrokenPipeError for the command to handle, not rich's own exit 1."""
    import os

    made = _console_class()(file=file, highlight=False, width=width)
    if width is None and not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = PIPE_WIDTH
        made.soft_wrap = True
    return made


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class BookingConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")

    return BookingConsole


def print_whole(console: Console, table: Any) -> None:
    """Print a table at its natural width even on a terminal narrower than that
    (COLUMNS=60): the terminal wraps the lines, but no number or verdict is folded or
    cut to fit."""
    from rich.measure import Measurement

    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    fitted = console.width
    console.width = max(fitted, natural)
    try:
        console.print(table)
    finally:
        console.width = fitted
