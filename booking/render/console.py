"""The console every table is drawn on, and the colour of each verdict: one width rule
for the run summary, compare, the chart and the history."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

VERDICT_STYLE = {
    "SAFE": "bold green",
    "OVERSOLD": "bold red",
    "LOST_UPDATES": "bold red",
    "ERRORS": "bold yellow",
    "DEADLOCK": "bold magenta",
    "CORRUPT": "bold red",
}


#: Wide enough for booking's tables unsqueezed; used when the output is not a terminal.
PIPE_WIDTH = 120


def console(file: IO[str] | None = None, width: int | None = None) -> Console:
    """A rich console for a table: the terminal's width, or PIPE_WIDTH for a pipe or a
    file (which have no width to fit, so a table is never squeezed) unless COLUMNS says."""
    import os

    from rich.console import Console

    made = Console(file=file, highlight=False, width=width)
    if width is None and not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = PIPE_WIDTH
    return made
