"""A small terminal chart for a sweep over one numeric axis: one line per strategy/store,
a bar per point, so "oversold against buyers" reads at a glance."""

from __future__ import annotations

from typing import IO

from booking.comparison.cellstats import CellSummary
from booking.comparison.driver import Comparison
from booking.render.console import console as make_console

NUMERIC_AXES = ("buyers", "tickets", "attempts", "seed", "timeout")
BARS = "▁▂▃▄▅▆▇█"
#: (title, the CellSummary field drawn, format)
METRICS = (
    ("oversold, mean of the runs", "oversold_mean", "{:.3g}"),
    ("lost updates, mean of the runs", "lost_updates_mean", "{:.3g}"),
    ("attempts/s, median of the runs", "throughput_median", "{:,.0f}"),
)


def sweep_axis(comparison: Comparison) -> str | None:
    """The one numeric axis every cell varies along, besides strategy and store; else None."""
    keys = {tuple(cell.axes) for cell in comparison.cells}
    if len(keys) != 1:
        return None
    (axes,) = keys
    if len(axes) != 1 or axes[0] not in NUMERIC_AXES:
        return None
    return axes[0]


def bar(value: float, top: float) -> str:
    if top <= 0:
        return BARS[0]
    return BARS[min(len(BARS) - 1, int(value / top * (len(BARS) - 1) + 0.5))]


def lines(comparison: Comparison, axis: str) -> dict[str, dict[float, CellSummary]]:
    """strategy/store -> {axis value: cell}."""
    found: dict[str, dict[float, CellSummary]] = {}
    for cell in comparison.cells:
        found.setdefault(f"{cell.strategy}/{cell.store}", {})[float(cell.axes[axis])] = cell
    return found


def render(comparison: Comparison, file: IO[str] | None = None, width: int | None = None) -> bool:
    """Draw the chart when the comparison is a one-axis numeric sweep; say whether it did."""
    axis = sweep_axis(comparison)
    if axis is None:
        return False
    from rich import box
    from rich.table import Table

    console = make_console(file, width)
    series = lines(comparison, axis)
    xs = sorted({x for points in series.values() for x in points})
    for title, field, fmt in METRICS:
        values = {id(c): float(getattr(c, field)) for p in series.values() for c in p.values()}
        top = max(values.values(), default=0.0)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1))
        table.add_column(f"{title}, by {axis}", no_wrap=True)
        for x in xs:
            table.add_column(f"{x:g}", justify="right", no_wrap=True)
        for name, points in series.items():
            row = [name]
            for x in xs:
                cell = points.get(x)
                if cell is None:
                    row.append("")
                else:
                    value = values[id(cell)]
                    row.append(f"{fmt.format(value)} {bar(value, top)}")
            table.add_row(*row)
        console.print(table)
    return True
