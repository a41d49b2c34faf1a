"""The history for people: a table of sessions, and one session's runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from booking.render.console import VERDICT_STYLE
from booking.render.console import console as make_console

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


def _when(iso: str | None) -> str:
    """'2026-11-23 18:53' from the stored ISO 8601 UTC time."""
    return "" if not iso else iso[:16].replace("T", " ")


def sessions(rows: list[dict[str, Any]], path: Path) -> None:
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
    table = Table(title=f"{path}", title_justify="left")
    for header in ("id", "started (UTC)", "kind", "name", "status", "runs", "not SAFE"):
        table.add_column(
            header, justify="right" if header in ("id", "runs", "not SAFE") else "left"
        )
    for row in rows:
        anomalies = row["anomalies"]
        table.add_row(
            str(row["id"]),
            _when(row["started_at"]),
            row["kind"],
            row["name"],
            row["status"],
            str(row["runs"]),
            f"[bold red]{anomalies}[/]" if anomalies else "0",
        )
    console.print(table)


def session(row: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    from rich import box
    from rich.table import Table

    console = make_console()
    console.print(
        f"[bold]session {row['id']}[/] · {row['kind']} {row['name']} · {row['status']} · "
        f"started {_when(row['started_at'])} UTC · booking {row['version']} · "
        f"Python {row['python']} · {row['cores']} cores · {row['platform']}"
    )
    params = json.loads(row["params"] or "{}")
    shown = ", ".join(
        f"{key}={value}"
        for key, value in params.items()
        if value is not None and key != "description"
    )
    if shown:
        console.print(f"[dim]options[/] {shown}")
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
            f"[{VERDICT_STYLE.get(run['verdict'], 'bold')}]{run['verdict']}[/]",
        )
    console.print(table)
