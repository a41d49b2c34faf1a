"""The report of a comparison or a scenario sweep: the table, the charts, and the timeline
of each cell's worst run, in one self-contained page (see report.py).

"Worst" is the comparison's own choice (the run its table's worst story comes from): the
run with an anomaly and the most oversold, then lost updates, then errors, the earliest
of equals; a cell whose runs were all SAFE shows its first.
"""

from __future__ import annotations

from collections.abc import Mapping

from booking.comparison.cellstats import CellSummary
from booking.comparison.driver import Comparison
from booking.engine.runner import RawRun
from booking.judge.result import Result
from booking.render import chart, figures
from booking.render.compare import HEADERS, heading, notes, row
from booking.render.report import picture, render_page
from booking.words import plural

#: What a cell's worst run is, by its label: its result and its steps (None: not recorded).
WorstRuns = Mapping[str, tuple[Result, RawRun | None]]


def render_comparison(
    comparison: Comparison,
    worst: WorstRuns,
    missing: Mapping[str, str] | None = None,
    origin: str = "",
) -> str:
    """The page of a comparison; `missing` says by cell label why a worst run has no
    timeline, `origin` where a saved comparison came from."""
    anchors = {cell.label: f"worst-{index}" for index, cell in enumerate(comparison.cells)}
    runs = []
    for cell in comparison.cells:
        if cell.label in worst:
            result, raw = worst[cell.label]
            why = (missing or {}).get(cell.label, "")
            shown = picture(result, raw, anchors[cell.label], why)
            runs.append((cell, _which(cell), shown))
    return render_page(
        "compare.html.j2",
        page_title=f"booking: {comparison.title or 'compare'}",
        heading=heading(comparison),
        headers=[header.replace("\n", " ") for header in HEADERS],
        rows=[
            (cell, row(cell), anchors[cell.label] if cell.label in worst else "")
            for cell in comparison.cells
        ],
        notes=notes(comparison),
        throughput=_throughput(comparison.cells),
        anomalies=_anomalies(comparison.cells),
        sweeps=_sweeps(comparison),
        runs=runs,
        origin=origin,
    )


def _which(cell: CellSummary) -> str:
    if cell.runs == 1:
        return "its one run" + (f" (seed {cell.worst_seed})" if cell.anomalous else "")
    if cell.anomalous:
        return f"the worst of its {cell.runs} runs (seed {cell.worst_seed})"
    return f"none of its {cell.runs} runs had an anomaly: the first is shown"


def _throughput(cells: list[CellSummary]) -> figures.Figure | None:
    if not cells:
        return None
    items = [
        figures.Spread(
            cell.label,
            cell.throughput_median,
            cell.throughput_min,
            cell.throughput_max,
            f"{cell.label}: median {cell.throughput_median:,.1f} attempts/s "
            f"(MAD {cell.throughput_mad:,.1f}), from {cell.throughput_min:,.1f} to "
            f"{cell.throughput_max:,.1f} over {plural(cell.runs, 'run')}",
            "anomalous" if cell.anomalous else "",
        )
        for cell in cells
    ]
    return figures.spreads(items, "Attempts per second of each cell", "attempts/s")


def _anomalies(cells: list[CellSummary]) -> figures.Figure | None:
    if not cells:
        return None
    items = []
    for cell in cells:
        low, high = cell.anomaly_rate_ci95
        items.append(
            figures.Spread(
                cell.label,
                cell.anomaly_rate * 100,
                low * 100,
                high * 100,
                f"{cell.label}: {cell.anomaly_runs} of {plural(cell.judged_runs, 'judged run')} "
                f"not SAFE; 95% interval {low:.0%} to {high:.0%}",
                "anomalous" if cell.anomalous else "",
            )
        )
    return figures.spreads(
        items, "Share of runs with an anomaly, with its 95% interval", "% of runs", bars=False
    )


def _sweeps(comparison: Comparison) -> list[figures.Figure]:
    """For a sweep over one numeric axis: each metric against it, one line per cell."""
    axis = chart.sweep_axis(comparison)
    if axis is None:
        return []
    series = chart.lines(comparison, axis)
    xs = sorted(
        {x for points in series.values() for x in points},
        key=lambda x: chart.position(axis, x),
    )
    by = chart.axis_title(axis, xs)
    drawn = []
    for title, field, fmt in chart.METRICS:
        lines = [
            figures.Series(
                name,
                [
                    (
                        float(xs.index(x)),
                        float(getattr(cell, field)),
                        f"{name} at {axis} {x}: {fmt.format(getattr(cell, field))}",
                    )
                    for x, cell in sorted(points.items(), key=lambda p: xs.index(p[0]))
                ],
            )
            for name, points in series.items()
        ]
        drawn.append(figures.lines(lines, f"{title}, by {by}", by, title, xs))
    return drawn
