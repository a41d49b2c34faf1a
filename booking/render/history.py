"""The history for people: a table of sessions, and one session's runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from booking.render.console import VERDICT_STYLE, print_whole
from booking.render.console import console as make_console
from booking.scenarios.scenario import format_think
from booking.words import plural

RUN_HEADERS = (
    "run",
    "strategy",
    "store",
    "point",
    "buyers",
    "tickets",
    "seed",
    "sold",
    "oversold",
    "lost",
    "errors",
    "attempts/s",
    "p99 ms",
    "verdict",
)


LIST_HEADERS = (
    "id",
    "started (UTC)",
    "kind",
    "name",
    "buyers",
    "tickets",
    "think ms",
    "outcome",
)
RIGHT = ("id", "buyers", "tickets")
#: '9 cells, 2 not SAFE' on one line; the status of an unfinished session goes below.
OUTCOME_WIDTH = 19


def _when(iso: str | None) -> str:
    """'2026-11-23 18:53' from the stored ISO 8601 UTC time."""
    return "" if not iso else iso[:16].replace("T", " ")


def _span(values: list[Any], show: Callable[[Any], str] = str) -> str:
    """One value as itself, a sweep of several as lowest–highest; none as an empty cell."""
    if not values:
        return ""
    low, high = min(values), max(values)
    return show(low) if low == high else f"{show(low)}–{show(high)}"


def _think(pairs: list[list[float]]) -> str:
    """'1:5' for one think, '0–20' (lowest to highest) for a sweep of them."""
    if len(pairs) == 1:
        return format_think((pairs[0][0], pairs[0][1]))
    return _span([low for low, _ in pairs] + [high for _, high in pairs], lambda v: f"{v:g}")


def workload(overview: dict[str, Any]) -> str:
    """'50 buyers · 10 tickets · think 1:5 ms', with lowest–highest for a sweep."""
    parts = []
    if overview["buyers"]:
        parts.append(f"{_span(overview['buyers'])} buyers")
    if overview["tickets"]:
        parts.append(f"{_span(overview['tickets'])} tickets")
    if overview["think_ms"]:
        parts.append(f"think {_think(overview['think_ms'])} ms")
    return " · ".join(parts)


def outcome(row: dict[str, Any]) -> str:
    """A run's verdict, or how many cells of a comparison were not SAFE; then the status
    when the session did not complete, as its numbers are then partial."""
    from rich.markup import escape

    if row["runs"] == 0:
        text = "no runs"
    elif row["kind"] == "run" and row["verdict"]:
        text = f"[{VERDICT_STYLE.get(row['verdict'], 'bold')}]{escape(str(row['verdict']))}[/]"
    else:
        cells, bad = row["cells"], row["bad_cells"]
        text = plural(cells, "cell") + (
            f", [bold red]{bad} not SAFE[/]" if bad else (", SAFE" if cells == 1 else ", all SAFE")
        )
    if row["status"] != "complete":
        text += f" [yellow]({escape(str(row['status']))})[/]"
    return text


def sessions(rows: list[dict[str, Any]], path: Path) -> None:
    """The list: each session's workload and outcome, in a table that fits 100 columns."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    console = make_console()
    if not rows:
        console.print(
            f"No saved sessions in {escape(str(path))} yet: add --save to booking run, "
            "compare or scenario run to keep one.",
            soft_wrap=True,
        )
        return
    # One space between columns (as compare's table has) keeps a row within 100 columns.
    # The outcome keeps to OUTCOME_WIDTH, so a session that did not complete says so on a
    # line of its own rather than squeezing the names. The number of runs is left to
    # `history show`: the cells and the verdict are what a list is for.
    table = Table(title=escape(str(path)), title_justify="left", box=box.SIMPLE_HEAD)
    table.show_edge, table.padding = False, (0, 0, 0, 0)
    for header in LIST_HEADERS:
        table.add_column(
            header,
            justify="right" if header in RIGHT else "left",
            no_wrap=header not in ("name", "outcome"),
            max_width=OUTCOME_WIDTH if header == "outcome" else None,
        )
    for row in rows:
        table.add_row(
            str(row["id"]),
            _when(row["started_at"]),
            row["kind"],
            escape(row["name"]),
            _span(row["buyers"]),
            _span(row["tickets"]),
            _think(row["think_ms"]) if row["think_ms"] else "",
            outcome(row),
        )
    print_whole(console, table)


def _words(value: Any) -> str:
    """A saved value as text: lists joined by commas, objects as `key value` pairs."""
    if isinstance(value, list):
        return ", ".join(_words(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} {_words(item)}" for key, item in value.items())
    return f"{value:g}" if isinstance(value, float) else str(value)


def _size(value: Any) -> str:
    """A saved --max-memory: bytes as a size; a string (an older or odd row) as it is."""
    from booking.memory import format_size

    return format_size(value) if isinstance(value, int) else _words(value)


def _flags(overrides: dict[str, Any]) -> str:
    """A scenario's overrides as the command line gave them: 'with --repeat 1 --buyers 5'."""
    return "with " + " ".join(
        f"--max-memory {_size(value)}" if key == "max_memory" else f"--{key} {_words(value)}"
        for key, value in overrides.items()
    )


#: How each known option reads, given its value; None or an empty value is left out.
_OPTION_WORDS: dict[str, Callable[[Any], str]] = {
    "attempts": lambda n: "" if n == 1 else f"{n} attempts per buyer",
    "arrival": lambda a: f"arrival {a}",
    "strategy": lambda s: f"strategy {s}",
    "store": lambda s: f"store {s}",
    "path": lambda p: f"store file {p}",
    "seed": lambda n: f"seed {n}",
    "timeout_s": lambda t: f"timeout {_words(t)} s",
    "max_memory": lambda n: f"max memory {_size(n)}",
    "strategies": lambda names: f"strategies {_words(names or 'all')}",
    "stores": lambda names: f"stores {_words(names or 'all')}",
    "repeat": lambda n: f"{plural(n, 'run')} per cell",
    "reference": lambda cell: f"reference {cell}",
    "file": lambda path: f"file {path}",
    "overrides": lambda o: _flags(o) if isinstance(o, dict) else f"overrides {_words(o)}",
}
#: An older compare saved its workload's unused default strategy and store beside these.
_PLURAL = {"strategy": "strategies", "store": "stores"}
#: Options that an older compare saved as None to mean every one.
_ALL = {"strategies", "stores"}
#: Shown by the workload line instead, or too long for one (a scenario's description).
_NOT_OPTIONS = {"buyers", "tickets", "think_ms", "description"}


def options(params: dict[str, Any]) -> str:
    """A session's options in words ('seed 1 · timeout 30 s · strategies lock, filelock'),
    whatever shape of params an older booking saved them in."""
    parts = []
    for key, value in params.items():
        if key in _NOT_OPTIONS or value in ({}, []) or (value is None and key not in _ALL):
            continue
        if _PLURAL.get(key) in params:
            continue
        show = _OPTION_WORDS.get(key)
        text = show(value) if show else f"{key} {_words(value)}"
        if text:
            parts.append(text)
    return " · ".join(parts)


def session(row: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """One session: what ran (in words), where, and a row of numbers per run."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    console = make_console()
    console.print(
        f"[bold]session {row['id']}[/] · {escape(str(row['kind']))} {escape(row['name'])} · "
        f"{escape(str(row['status']))} · "
        f"started {_when(row['started_at'])} UTC · booking {row['version']} · "
        f"Python {row['python']} · {row['cores']} cores · {row['platform']}"
    )
    for label, text in (("workload", workload(row)), ("options", options(row["params"]))):
        if text:
            console.print(f"[dim]{label}[/] {escape(text)}")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0))
    for header in RUN_HEADERS:
        left = header in ("strategy", "store", "point", "verdict")
        table.add_column(header, justify="left" if left else "right")
    for run in runs:
        point = json.loads(run["point"]) if run["point"] else {}
        table.add_row(
            str(run["id"]),
            run["strategy"],
            run["store"],
            " ".join(f"{k}={v}" for k, v in point.items()),
            str(run["buyers"]),
            str(run["tickets"]),
            str(run["seed"]),
            str(run["sold"]),
            str(run["oversold"]),
            str(run["lost_updates"]),
            str(run["errors"]),
            f"{run['throughput']:,.0f}",
            f"{run['latency_p99_ms']:.3g}",
            f"[{VERDICT_STYLE.get(run['verdict'], 'bold')}]{escape(str(run['verdict']))}[/]",
        )
    print_whole(console, table)
    for run in runs:
        if run.get("aborted"):  # a history saved before the memory guard has no such column
            console.print(f"run {run['id']} was ABORTED: {escape(str(run['aborted']))}")
