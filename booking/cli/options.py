"""The options several commands share, declared once: the workload (`run`, `compare`),
the memory a run may use and keeping results (`run`, `compare`, `scenario run`), output
(`compare`, `scenario run`). Declarations, and the parser of a size: typer reads these
Annotated types when it builds the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from booking.strategies import STRATEGIES

STRATEGIES_EPILOG = "Strategies: " + "; ".join(
    f"{name}: {info.summary}" for name, info in STRATEGIES.items()
)


# The workload options, shared by `run`, `compare` and `explore`.
StrategyOption = Annotated[
    str, typer.Option(metavar="[" + "|".join(STRATEGIES) + "]", help="How buyers coordinate.")
]
NoManagerLockOption = Annotated[
    bool,
    typer.Option(
        "--no-manager-lock",
        help="manager strategy: share the dict without its lock (seed 003's lost updates).",
    ),
]
BuyersOption = Annotated[int, typer.Option(help="Buyer processes racing at once.")]
TicketsOption = Annotated[
    int | None,
    typer.Option(
        help="Tickets in a new store (or with --reset).  \\[default: 10]", show_default=False
    ),
]
SeatsOption = Annotated[
    str | None,
    typer.Option(
        metavar="ROWSxCOLS",
        help="Sell named seats (A1 ... J20 for 10x20) instead of a count of tickets: "
        "double bookings, partial orders and per-seat locks become possible. Not with "
        "--tickets.",
        show_default=False,
    ),
]
OrderOption = Annotated[
    int,
    typer.Option(metavar="K", help="Seats per order (with --seats), all or nothing."),
]
PickOption = Annotated[
    str,
    typer.Option(
        metavar="[best|random|together]",
        help="How a buyer picks its seats (with --seats): the front-most free ones (everyone "
        "wants the same), random free ones, or K adjacent ones in one row.",
    ),
]
ThinkOption = Annotated[
    str,
    typer.Option(
        metavar="MIN:MAX",
        help="Milliseconds between reading the count and writing it back "
        "(the race window); one number for a fixed pause.",
    ),
]
AttemptsOption = Annotated[
    int, typer.Option(help="Purchase attempts per buyer; a buyer stops once sold out.")
]
RetriesOption = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="optimistic, serializable, fenced, for-update-unordered: after a conflict (a "
        "compare-and-set that found the store changed, a serialization failure, a stale "
        "fencing token, a deadlock the server broke), try again up to N times, then give "
        "up.  \\[default: 3]",
        show_default=False,
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        help="Seed for every buyer's random think times.  \\[default: random, shown in the result]",
        show_default=False,
    ),
]
DsnOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help="The server of a postgres or redis store: postgresql://user@host:port/db or "
        "redis://host:port/n (its scheme picks the store). Without it (and without a "
        "matching $BOOKING_DSN), booking starts a throwaway server for the run and deletes "
        "it afterwards.  \\[default: $BOOKING_DSN, else a throwaway server]",
        show_default=False,
    ),
]
LockTtlOption = Annotated[
    float | None,
    typer.Option(
        metavar="MS",
        help="ttl-lock and fenced: the lock's time to live in milliseconds. A holder whose "
        "think outlives it loses the lock without knowing.  \\[default: 1000]",
        show_default=False,
    ),
]
KillServerOption = Annotated[
    float | None,
    typer.Option(
        metavar="MS",
        help="Fault: SIGKILL the throwaway postgres or redis server MS milliseconds after "
        "the buyers start (never a server given by --dsn).",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        help="Watchdog for a run, in seconds; also bounds every lock wait. A run cut while "
        "it was still moving ends as TIMEOUT (raise it); one in which nothing could move, "
        "as DEADLOCK."
    ),
]


def server_dsn(dsn: str | None, store: str | None) -> str | None:
    """--dsn, else $BOOKING_DSN when the store is a networked one its scheme names (so a
    BOOKING_DSN in the environment never gets in the way of a file store's run)."""
    import os

    if dsn is not None:
        return dsn
    from booking.stores import DSN_SCHEMES

    env = os.environ.get("BOOKING_DSN", "").strip()
    if env and store in DSN_SCHEMES and env.lower().startswith(DSN_SCHEMES[store]):
        return env
    return None


def _size(text: str) -> int:
    """A --max-memory value in bytes; a bad one is a usage error with parse_size's reason."""
    from booking.memory import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


# Admission: shared by `run`, `compare` and `scenario run`.
MaxMemoryOption = Annotated[
    int | None,
    typer.Option(
        metavar="SIZE",
        parser=_size,
        help="Memory the run may use, e.g. 800M or 4G; a run estimated to need more is "
        "refused before it starts.  \\[default: half of what is available]",
        show_default=False,
    ),
]


# Keeping results: shared by `run`, `compare` and `scenario run`.
SaveOption = Annotated[
    bool,
    typer.Option("--save", help="Keep every run in the history database (see booking history)."),
]
DbOption = Annotated[
    Path | None,
    typer.Option(
        help="History database.  \\[default: $BOOKING_DB, else "
        "$XDG_DATA_HOME/booking/history.db or ~/.local/share/booking/history.db]",
        show_default=False,
        dir_okay=False,
    ),
]


# The output options, shared by `compare` and `scenario run`.
FormatOption = Annotated[
    str, typer.Option("--format", metavar="[table|json|csv|markdown]", help="Output format.")
]
OutOption = Annotated[
    Path | None,
    typer.Option(help="Write the output to this file (whole, or not at all) instead of stdout."),
]
ReportOption = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE.html",
        help="Also write a self-contained HTML report (no network needed to open it).",
        show_default=False,
        dir_okay=False,
    ),
]
CellsFailOption = Annotated[
    bool,
    typer.Option(
        "--fail-on-anomaly",
        help="Exit 1 when a cell that claims to be safe had an anomaly; runs that timed out "
        "are counted apart, not as anomalies.",
    ),
]
