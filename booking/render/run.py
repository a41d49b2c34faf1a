"""One run's output: the result record as JSON, or a compact rich summary for people."""

from __future__ import annotations

import json
from typing import IO

from booking.judge.result import Result
from booking.render.console import VERDICT_STYLE
from booking.render.console import console as make_console
from booking.scenarios.scenario import format_think
from booking.stores import NETWORK_STORES
from booking.words import figure, plural


def to_json(result: Result) -> str:
    return json.dumps(result.to_dict())


def heading(result: Result, strategy: str | None = None) -> str:
    """What ran: the strategy (as given, e.g. marked up), the store, the workload, the seed."""
    where = result.path or (
        f"a throwaway {result.store} server"
        if result.store in NETWORK_STORES
        else f"a fresh {result.store} store"
    )
    without = " without its lock" if result.manager_lock is False else ""
    title = (
        f"{strategy or result.strategy}{without} on {where} · {plural(result.buyers, 'buyer')} · "
        f"{_goods(result)} · think {format_think(result.think_ms)} ms · seed {result.seed}"
    )
    if result.attempts_per_buyer > 1:
        title += f" · {result.attempts_per_buyer} attempts each"
    return title


def _goods(result: Result) -> str:
    """'10 tickets', or '5x10 seats (50 free) · orders of 2, best picks'."""
    if result.seats is None:
        return plural(result.tickets, "ticket")
    return (
        f"{result.seats} seats ({result.tickets:,} free) · orders of {result.order}, "
        f"{result.pick} picks"
    )


def summary(result: Result, file: IO[str] | None = None) -> None:
    """Print the numbers, the verdict in colour, and the sentences that say what happened."""
    from rich.table import Table
    from rich.text import Text

    console = make_console(file)
    console.print(heading(result, f"[bold]{result.strategy}[/]"))
    grid = Table.grid(padding=(0, 1))
    for _ in range(4):
        grid.add_column(justify="right", style="dim")
        grid.add_column(justify="right")
    remaining = "?" if result.remaining is None else str(result.remaining)
    grid.add_row(
        "sold",
        str(result.sold),
        "remaining",
        remaining,
        "oversold",
        _flag(result.oversold),
        "lost updates",
        # Lost sales are counted against the count the store holds: unknown without it.
        "?" if result.remaining is None else _flag(result.lost_updates),
    )
    grid.add_row(
        "refused",
        str(result.refused),
        "errors",
        _flag(result.errors),
        "max inside",
        str(result.max_inside),
        "attempts",
        str(result.attempts),
    )
    if result.protocol == "compare-and-set":
        grid.add_row(
            "conflicts",
            str(result.conflicts),
            "retries",
            str(result.retries),
            "gave up",
            str(result.gave_up),
            "--retries",
            str(result.max_retries),
        )
    console.print(grid)
    lat = result.latency_ms
    console.print(
        f"[dim]wall[/] {result.wall_s:.3f} s [dim](+{result.startup_s:.3f} s start-up)[/] · "
        f"{figure(result.throughput)} attempts/s · [dim]latency[/] {_latency(lat, result.attempts)}"
    )
    verdict = Text(f" {result.verdict} ", style=VERDICT_STYLE.get(result.verdict, "bold"))
    line = Text.assemble(verdict, " ", result.explanation[0] if result.explanation else "")
    console.print(line)
    for sentence in result.explanation[1:]:
        console.print(Text(sentence), style="default")
    if result.seats is not None:
        from booking.render.seats import print_seats

        print_seats(console, result)


def _flag(value: int) -> str:
    return f"[bold red]{value}[/]" if value else "0"


def _latency(lat: dict[str, float], attempts: int) -> str:
    """The percentiles, or a plain statement when no attempt finished: zeros would claim
    a measurement that was never made."""
    if not attempts:
        return "not measured (no attempt finished)"
    return (
        f"p50 {figure(lat['p50'])} p95 {figure(lat['p95'])} p99 {figure(lat['p99'])} "
        f"max {figure(lat['max'])} ms"
    )
