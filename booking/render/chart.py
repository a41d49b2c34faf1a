"""A small terminal chart for a sweep over one numeric axis: one line per strategy/store,
a bar per point, so "oversold against buyers" reads at a glance.

A think window is a pair (MIN:MAX): its columns stand in order of the window's midpoint
and are headed by the window itself, and the chart's title says so."""

from __future__ import annotations

from typing import IO

from booking.comparison.cellstats import CellSummary
from booking.comparison.driver import Comparison
from booking.render.console import console as make_console
from booking.scenarios.scenario import parse_think

NUMERIC_AXES = ("buyers", "tickets", "attempts", "seed", "timeout", "poll_ms", "retries")
#: Axes whose values are (MIN, MAX) windows in milliseconds, shown as "MIN:MAX" or "N".
WINDOW_AXES = ("think",)
BARS = "▁▂▃▄▅▆▇█"
#: (title, the CellSummary field drawn, format)
METRICS = (
    ("oversold, mean of the runs", "oversold_mean", "{:.3g}"),
    ("lost updates, mean of the runs", "lost_updates_mean", "{:.3g}"),
    ("max inside, median of the runs", "max_inside_median", "{:.3g}"),
    ("attempts/s, median of the runs", "throughput_median", "{:,.0f}"),
)


def sweep_axis(comparison: Comparison) -> str | None:
    """The one numeric axis every cell varies along, besides strategy and store; else None."""
    keys = {tuple(cell.axes) for cell in comparison.cells}
    if len(keys) != 1:
        return None
    (axes,) = keys
    if len(axes) != 1 or axes[0] not in (*NUMERIC_AXES, *WINDOW_AXES):
        return None
    return axes[0]


def position(axis: str, shown: str) -> tuple[float, ...]:
    """Where a point's column stands: its number, or a window's (midpoint, MIN, MAX)."""
    if axis in WINDOW_AXES:
        low, high = parse_think(shown)
        return ((low + high) / 2, low, high)
    return (float(shown),)


def axis_title(axis: str, shown: list[str]) -> str:
    """The axis as the chart's title names it, saying how windows are placed."""
    if axis not in WINDOW_AXES:
        return axis
    windows = [parse_think(value) for value in shown]
    if all(low == high for low, high in windows):
        return f"{axis} ms"
    return f"{axis} window MIN:MAX ms, in order of its midpoint"


def bar(value: float, top: float) -> str:
    if top <= 0:
        return BARS[0]
    return BARS[min(len(BARS) - 1, int(value / top * (len(BARS) - 1) + 0.5))]


def lines(comparison: Comparison, axis: str) -> dict[str, dict[str, CellSummary]]:
    """strategy/store -> {axis value as shown: cell}."""
    found: dict[str, dict[str, CellSummary]] = {}
    for cell in comparison.cells:
        found.setdefault(f"{cell.strategy}/{cell.store}", {})[cell.axes[axis]] = cell
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
    xs = sorted({x for points in series.values() for x in points}, key=lambda x: position(axis, x))
    by = axis_title(axis, xs)
    for title, field, fmt in METRICS:
        values = {id(c): float(getattr(c, field)) for p in series.values() for c in p.values()}
        top = max(values.values(), default=0.0)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1))
        table.add_column(f"{title}, by {by}", no_wrap=True)
        for x in xs:
            table.add_column(x, justify="right", no_wrap=True)
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
