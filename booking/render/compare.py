"""Output of a comparison: a rich table for people; JSON, CSV and Markdown for machines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import IO, Any

from booking.comparison.cellstats import CellSummary
from booking.comparison.driver import Comparison
from booking.judge.result import INCONCLUSIVE, VERDICTS
from booking.render.console import console as make_console
from booking.render.console import print_whole
from booking.scenarios.scenario import Scenario, format_think
from booking.words import plural

FORMATS = ("table", "json", "csv", "markdown")
LATENCY_KEYS = ("p50", "p95", "p99")
CSV_LEADING = ("store", "strategy", "runs", "anomaly_runs", "anomaly_rate")
#: Added later: last, so the columns before them keep their places.
CSV_TRAILING = ("status", "planned_runs", "aborted")


def cell_records(comparison: Comparison) -> list[dict[str, Any]]:
    """One JSON object per cell: its statistics, then the workload every cell shared, and
    how the comparison ended (`status`: complete, interrupted, error or aborted, with the
    memory guard's reason in `aborted`), so a file kept from a stopped comparison says it
    holds only some of the runs."""
    workload = comparison.workload
    shared = {
        "status": comparison.status,
        "planned_runs": comparison.repeat,
        "aborted": comparison.aborted,
        "buyers": workload.buyers,
        "tickets": workload.initial_tickets,
        **(
            {"seats": workload.seats, "order": workload.order, "pick": workload.pick}
            if workload.seats
            else {}
        ),
        "think_ms": list(workload.think_ms),
        "attempts": workload.attempts,
        "repeat": comparison.repeat,
        "seed": comparison.seed,
    }
    return [{**cell.to_dict(), **shared, **cell.params} for cell in comparison.cells]


def to_json(comparison: Comparison) -> str:
    return json.dumps(cell_records(comparison), indent=2) + "\n"


def to_csv(comparison: Comparison) -> str:
    """One header row, one row per cell; nested values flattened into their own columns."""
    rows = []
    for record in cell_records(comparison):
        low, high = record.pop("anomaly_rate_ci95")
        latency = record.pop("latency_ms")
        verdicts = record.pop("verdicts")
        low_think, high_think = record.pop("think_ms")
        del record["seeds"], record["worst"], record["axes"]
        head = {key: record.pop(key) for key in CSV_LEADING}
        tail = {key: record.pop(key) for key in CSV_TRAILING}
        rows.append(
            head
            | {"anomaly_rate_ci95_low": low, "anomaly_rate_ci95_high": high}
            | {f"latency_{key}_ms": latency[key] for key in LATENCY_KEYS}
            | record
            | {f"verdict_{name.lower()}": verdicts.get(name, 0) for name in VERDICTS}
            | {"think_ms": format_think((low_think, high_think))}
            | tail
        )
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


# --- the human columns, shared by the rich table and Markdown ---------------------------------

HEADERS = (
    "cell",
    "anomalies\n(95% CI)",
    "oversold\nmean/max",
    "lost\nmean/max",
    "errors",
    "max\ninside",
    "attempts/s\nmedian±MAD",
    "latency ms\np50/p95/p99",
    "× slower\nthan ref",
)
RIGHT_ALIGNED = frozenset(range(1, len(HEADERS)))


def headers(comparison: Comparison) -> tuple[str, ...]:
    """The columns; a seat comparison counts seats double-booked where a count's oversold."""
    if comparison.workload.seats is None:
        return HEADERS
    return tuple("double-booked\nmean/max" if h == "oversold\nmean/max" else h for h in HEADERS)


def _num(value: float) -> str:
    """A mean: whole numbers and anything from 100 up without decimals, else one."""
    return f"{value:.0f}" if value == int(value) or value >= 100 else f"{value:.1f}"


def _ms(value: float) -> str:
    """Two significant digits at most, never an exponent: 0.55, 1.2, 21, 340."""
    if round(value, 1) >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}" if round(value, 2) >= 1 else f"{value:.2f}"


def _anomalies(cell: CellSummary) -> str:
    """'1/5 4–62%': anomalies of the runs that finished; then '+2 timed out', never hidden."""
    low, high = cell.anomaly_rate_ci95
    text = f"{cell.anomaly_runs}/{cell.judged_runs} {low * 100:.0f}–{high:.0%}"
    if cell.timeout_runs:
        text += f" +{cell.timeout_runs} timed out"
    return text


def times_slower(cell: CellSummary) -> str:
    """'ref', '3.10±0.20' (3.1 times slower than the reference), '0.29±0.03' (faster),
    '2.00' when no spread was measured, or '' when there is no reference."""
    if cell.reference:
        return "ref"
    if cell.times_slower is None:
        return ""
    if cell.times_slower_error is None or cell.runs < 2:  # one run: no spread, no '±0.00'
        return f"{cell.times_slower:.2f}"
    return f"{cell.times_slower:.2f}±{cell.times_slower_error:.2f}"


def row(cell: CellSummary) -> list[str]:
    latency = cell.latency_ms
    return [
        cell.label + (" †" if cell.never_raced else ""),
        _anomalies(cell),
        (
            f"{_num(cell.oversold_mean)}/{cell.oversold_max}"
            if cell.double_booked_mean is None
            else f"{_num(cell.double_booked_mean)}/{cell.double_booked_max}"
        ),
        f"{_num(cell.lost_updates_mean)}/{cell.lost_updates_max}",
        str(cell.errors),
        _num(cell.max_inside_median),
        _throughput(cell),
        "/".join(_ms(latency[key]) for key in LATENCY_KEYS),
        times_slower(cell),
    ]


def _throughput(cell: CellSummary) -> str:
    """'503±12'; one run has no spread, so just '503' rather than a '±0' it never measured."""
    if cell.runs < 2:
        return f"{cell.throughput_median:,.0f}"
    return f"{cell.throughput_median:,.0f}±{cell.throughput_mad:,.0f}"


def heading(comparison: Comparison) -> str:
    w = comparison.workload
    cells, runs = plural(len(comparison.cells), "cell"), plural(comparison.repeat, "run")
    if comparison.title:
        return f"{comparison.title} · {cells} × {runs} · seed {comparison.seed}"
    text = (
        f"compare · {cells} × {runs} · "
        f"{plural(w.buyers, 'buyer')} · {_goods(w)} · think {format_think(w.think_ms)} ms"
    )
    if w.attempts > 1:
        text += f" · {w.attempts} attempts each"
    return text + f" · seed {comparison.seed}"


def _goods(workload: Scenario) -> str:
    """'10 tickets', or '5x10 seats, orders of 2, best picks' for a seat map."""
    if workload.seats is None:
        return plural(workload.initial_tickets, "ticket")
    return f"{workload.shape} seats, orders of {workload.order}, {workload.pick} picks"


def findings(comparison: Comparison) -> list[str]:
    """What went wrong where (and whether the comparison is whole), one sentence each."""
    lines = []
    if comparison.interrupted or comparison.stopped_by:
        why = "interrupted" if comparison.interrupted else f"stopped ({comparison.stopped_by})"
        planned = f" of {comparison.planned_runs}" if comparison.planned_runs else ""
        lines.append(
            f"{why} after {comparison.finished_runs}{planned} runs: "
            "the cells hold the runs finished so far."
        )
    elif comparison.aborted:
        lines.append(
            f"ABORTED after {comparison.finished_runs}"
            f"{f' of {comparison.planned_runs}' if comparison.planned_runs else ''} runs: "
            f"a run of {comparison.aborted_cell} was stopped ({comparison.aborted}), and no "
            "further run was started. The cells hold the runs finished before it (and it, if "
            "it had proven an anomaly first); run fewer --buyers, or free memory, and try "
            "again."
        )
    for cell in comparison.cells:
        if cell.anomalous:
            seen = [
                (name, n)
                for name, n in cell.verdicts.items()
                if name != "SAFE" and name not in INCONCLUSIVE and n
            ]
            found = ", ".join(f"{name} {n}" for name, n in seen)
            claim = " although it claims to be safe" if cell.claims_safe else ""
            lines.append(
                f"{cell.label}: {cell.anomaly_runs} of {plural(cell.runs, 'run')} not SAFE{claim} "
                f"({found}). Worst, seed {cell.worst_seed}: {cell.worst}"
            )
        elif cell.never_raced:
            lines.append(
                f"{cell.label} †: never raced — at most one buyer was ever inside the "
                "read → write window, so its 0 anomalies prove nothing about the race. To "
                "make buyers overlap: widen think, add buyers, or bring their arrivals closer."
            )
        if cell.timeout_runs:
            lines.append(_timed_out(cell))
    return lines


def _timed_out(cell: CellSummary) -> str:
    """Runs cut short by --timeout while still moving: no anomaly, no proof of safety."""
    n = cell.timeout_runs
    rate = (
        f"the anomaly rate is of the other {cell.judged_runs}"
        if cell.judged_runs
        else "no run finished, so the cell shows nothing either way"
    )
    return (
        f"{cell.label}: {n} of {plural(cell.runs, 'run')} timed out (TIMEOUT) while still "
        f"making progress: not {'an anomaly' if n == 1 else 'anomalies'} of the strategy, "
        f"and no proof of its safety; {rate}. Raise --timeout."
    )


def _retried(cell: CellSummary) -> str:
    """What a cell that retries paid instead of oversell: conflicts and quitters."""
    return (
        f"{cell.label}: per run, a median of {_num(cell.conflicts_median or 0)} "
        f"conflict{'' if cell.conflicts_median == 1 else 's'} and "
        f"{_num(cell.gave_up_median or 0)} attempt{'' if cell.gave_up_median == 1 else 's'} "
        "given up after their retries."
    )


def notes(comparison: Comparison) -> list[str]:
    """The sentences under the table: the findings, then how to read the speed columns."""
    lines = findings(comparison)
    lines += [
        _retried(cell)
        for cell in comparison.cells
        if cell.conflicts_median is not None
        and (cell.protocol == "compare-and-set" or cell.conflicts_median or cell.gave_up_median)
    ]
    if comparison.reference:
        which = "" if comparison.reference_given else ", the fastest safe cell"
        lines.append(
            "attempts/s: median ± median absolute deviation of the runs. × slower: the median "
            f"attempts/s of the reference (ref: {comparison.reference}{which}) over the cell's, "
            "the ± of both propagated; below 1 is faster."
        )
    elif comparison.reference_given:
        lines.append("The reference cell finished no run that sold: no relative speed.")
    elif comparison.cells:
        lines.append("No cell is safe and fast enough to be the reference for relative speed.")
    return lines


def to_markdown(comparison: Comparison) -> str:
    """A GitHub table; the notes follow as a list."""
    align = ["---:" if i in RIGHT_ALIGNED else ":---" for i in range(len(HEADERS))]
    lines = [
        "| " + " | ".join(header.replace("\n", " ") for header in headers(comparison)) + " |",
        "| " + " | ".join(align) + " |",
    ]
    lines += ["| " + " | ".join(row(cell)) + " |" for cell in comparison.cells]
    lines.append("")
    lines += [f"- {note}" for note in notes(comparison)]
    return "\n".join(lines) + "\n"


def table(comparison: Comparison, file: IO[str] | None = None, width: int | None = None) -> None:
    """The rich table, then the notes."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = make_console(file, width)
    grid = Table(
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 0),
    )
    for index, header in enumerate(headers(comparison)):
        grid.add_column(
            header,
            justify="right" if index in RIGHT_ALIGNED else "left",
            no_wrap=True,  # a number is never split across lines, nor cut
        )
    for cell in comparison.cells:
        style = ""
        if cell.anomalous:
            style = "red" if not cell.claims_safe else "bold red"
        elif cell.never_raced or cell.timeout_runs:
            style = "yellow"
        grid.add_row(*row(cell), style=style)
    console.print(Text(heading(comparison)))
    print_whole(console, grid)
    for note in notes(comparison):
        console.print(Text(note))


#: The text formats, by --format name.
RENDERERS: dict[str, Callable[[Comparison], str]] = {
    "json": to_json,
    "csv": to_csv,
    "markdown": to_markdown,
}
