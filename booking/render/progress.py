"""A progress bar for long work that forks: refreshed by us, never by a thread.

rich's Progress normally redraws from a background thread. Forking while another thread
runs can deadlock the child (a lock held by that thread stays held forever in the copy)
and warns from Python 3.12 on. So the bar is built with auto_refresh=False and redrawn
from the main thread between runs, when no buyer is being forked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from booking.scenarios.plan import Cell

if TYPE_CHECKING:
    from rich.console import Console

    from booking.comparison.driver import ProgressHook


@contextmanager
def compare_bar(repeat: int, console: Console | None = None) -> Iterator[ProgressHook | None]:
    """Yield a hook for compare() that draws a bar on stderr; None when stderr is not a
    terminal (a log or a pipe gets no bar at all)."""
    from rich.console import Console

    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        auto_refresh=False,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    task = progress.add_task("starting", total=None)

    def hook(finished: int, total: int, cell: Cell | None, round_: int) -> None:
        doing = f"{cell.label} · run {round_ + 1} of {repeat}" if cell else "done"
        progress.update(task, total=total, completed=finished, description=doing)
        progress.refresh()

    with progress:
        yield hook
