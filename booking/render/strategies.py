"""`booking strategies`: the registry as people read it, one strategy a block: its name
beside its protocol, then its stores and safety, its cost and where it comes from. A block
wraps at word boundaries on any terminal width, where a six-column table would fold
words like multiprocessing.Lock in half."""

from __future__ import annotations

from typing import Any

from booking.render.console import console as make_console


def table(records: list[dict[str, Any]]) -> None:
    """Every strategy, in registry order."""
    from rich.markup import escape
    from rich.table import Table

    console = make_console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for n, record in enumerate(records):
        if n:
            grid.add_row("", "")  # a blank line between strategies
        claim = escape(str(record["claim"]))
        safety = "claims safety" if record["claims_safe"] else f"[red]{claim}[/]"
        details = "\n".join(
            (
                escape(record["protocol"]),
                f"[dim]stores[/] {', '.join(record['stores'])} · [dim]sells[/] "
                f"{_sells(record.get('sells', ['count']), record)} · {safety}",
                f"[dim]cost[/] {escape(record['cost'])}",
                f"[dim]faults[/] {_faults(record['faults'])}",
                f"[dim]from[/] {escape(record['origin'])}",
            )
        )
        grid.add_row(f"[bold]{escape(record['name'])}[/]", details)
    if console.is_terminal:
        console.print(grid)
        return
    # In a pipe or a file, without the spaces a grid pads every line with to its width.
    with console.capture() as captured:
        console.print(grid)
    console.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def _faults(faults: dict[str, str]) -> str:
    """'--kill-holder: a buyer ...; --kill-writer: ...', or what none applies means."""
    from rich.markup import escape

    if not faults:
        return "none apply"
    return "; ".join(f"--kill-{kind}: {escape(what)}" for kind, what in faults.items())


def _sells(sells: list[str], record: dict[str, object]) -> str:
    """'a count', 'seats (--seats)', or both; seats on fewer stores than it works on are
    named ('seats (--seats: json, sqlite, postgres)')."""
    seat_stores = record.get("seat_stores") or []
    where = ""
    if isinstance(seat_stores, list) and seat_stores != record.get("stores"):
        where = ": " + ", ".join(str(name) for name in seat_stores)
    words = {"count": "a count", "seats": f"seats (--seats{where})"}
    return " or ".join(words.get(what, what) for what in sells)
