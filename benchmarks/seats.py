"""Seat maps (issue 15): purchases per second of each strategy, random picks against best.

Run it under ../shared/tools/memwatch (60 buyers a run, about 3 minutes at --repeat 5):

    ../shared/tools/memwatch -- .venv/bin/python benchmarks/seats.py --repeat 5

A purchase is one order bought: `sold / order` of the result record (sold counts seats),
and purchases/s is that over the record's `wall_s` (gate open to the last buyer's last
step; start-up is not in it). Every cell is `booking.simulate()` in this process, so the
buyers fork from it. The cells of one repeat run back to back with the same seed (the same
think times and the same first picks for every strategy), so a busy spell of the machine
hits them all; the table gives medians and the spread (min-max) over the repeats, and the
ratio seatlock/lock is the median of the per-repeat ratios (each pair ran seconds apart).

`none` coordinates nothing: it is no floor of safety (it double-books), but the ceiling of
a think-bound run: every buyer thinks at once, and its wall is the gate, the longest think
and one write, on however many cores there are. A map too small for every order (buyers x
order > seats) gets more rows, so that every order can be bought: 60 buyers of 4 seats on
a 10x20 map are measured on 12x20. Nothing here is a test: no test asserts a time.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sqlite3
import statistics
import sys
import time
from typing import Any

import booking

CELLS = [
    ("none", "json"),
    ("none", "sqlite"),
    ("lock", "json"),
    ("lock", "sqlite"),
    ("seatlock", "json"),
    ("seatlock", "sqlite"),
    ("filelock", "json"),
    ("filelock", "sqlite"),
    ("transaction", "sqlite"),
    ("atomic", "sqlite"),
]


Key = tuple[str, int, str, str]  # pick, order, strategy, store


def fit(seats: str, buyers: int, order: int) -> str:
    """The map, with rows added until every buyer's order fits in it."""
    rows, cols = (int(n) for n in seats.lower().split("x"))
    return f"{max(rows, math.ceil(buyers * order / cols))}x{cols}"


def spread(values: list[float], digits: int = 0) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:,.{digits}f}"
    return f"{med:,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def run(key: Key, seats: str, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    pick, order, strategy, store = key
    result = booking.simulate(
        booking.Scenario(
            buyers=args.buyers,
            strategy=strategy,
            store=store,
            seats=seats,
            order=order,
            pick=pick,
            think_ms=args.think,
            seed=seed,
            timeout_s=args.timeout,
        )
    )
    purchases = result.sold // (result.order or 1)
    return {
        "purchases": purchases,
        "rate": purchases / result.wall_s if result.wall_s else 0.0,
        "wall_s": result.wall_s,
        "verdict": result.verdict,
        "double_booked": result.double_booked,
        "conflicts": result.conflicts,
        "refused": result.refused,
        "errors": result.errors,
    }


def machine() -> str:
    return (
        f"{os.cpu_count()} cores · Python {platform.python_version()} · SQLite "
        f"{sqlite3.sqlite_version} · kernel {platform.release()} · booking "
        f"{booking.__version__} · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def table(rows: dict[Key, list[dict[str, Any]]], maps: dict[int, str]) -> str:
    lines = [
        "| pick | order | map | strategy | store | purchases/s | wall ms | bought "
        "| conflicts | double-booked | verdicts |",
        "|---|---:|---|---|---|---|---|---|---|---|---|",
    ]
    for (pick, order, strategy, store), records in rows.items():
        verdicts = " ".join(sorted({r["verdict"] for r in records}))
        lines.append(
            f"| {pick} | {order} | {maps[order]} | {strategy} | {store} "
            f"| {spread([r['rate'] for r in records])} "
            f"| {spread([r['wall_s'] * 1000 for r in records])} "
            f"| {spread([r['purchases'] for r in records])} "
            f"| {spread([r['conflicts'] for r in records])} "
            f"| {spread([r['double_booked'] for r in records])} | {verdicts} |"
        )
    return "\n".join(lines)


def ratios(rows: dict[Key, list[dict[str, Any]]], over: str, under: str) -> str:
    """`over`/`under` purchases/s, per pick, order and store: median of the paired repeats."""
    lines = [
        f"| pick | order | store | {over}/{under} (min-max) |",
        "|---|---:|---|---|",
    ]
    for pick, order, strategy, store in rows:
        if strategy != over or (pick, order, under, store) not in rows:
            continue
        mine, theirs = rows[(pick, order, over, store)], rows[(pick, order, under, store)]
        pairs = zip(mine, theirs, strict=True)
        values = [a["rate"] / b["rate"] for a, b in pairs if b["rate"]]
        lines.append(f"| {pick} | {order} | {store} | {spread(values, 2)}x |")
    return "\n".join(lines)


def think(text: str) -> tuple[float, float]:
    low, _, high = text.partition(":")
    return float(low), float(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", default="10x20", help="the map (rows added if too small)")
    parser.add_argument("--buyers", type=int, default=60)
    parser.add_argument("--orders", default="1,2,4")
    parser.add_argument("--picks", default="random,best")
    parser.add_argument("--think", type=think, default=(1.0, 5.0), help="MIN:MAX ms")
    parser.add_argument("--strategies", help="only these (comma-separated)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1, help="repeat r runs with seed+r")
    parser.add_argument("--timeout", type=float, default=60.0, help="each run's timeout")
    args = parser.parse_args()
    orders = [int(n) for n in args.orders.split(",")]
    picks = args.picks.split(",")
    cells = [c for c in CELLS if not args.strategies or c[0] in args.strategies.split(",")]
    maps = {order: fit(args.seats, args.buyers, order) for order in orders}
    rows: dict[Key, list[dict[str, Any]]] = {
        (p, o, s, st): [] for p in picks for o in orders for s, st in cells
    }
    started = time.perf_counter()
    load_before = os.getloadavg()
    print(f"load average before: {load_before}", file=sys.stderr)
    for rep in range(args.repeat):
        for (pick, order, strategy, store), records in rows.items():
            record = run((pick, order, strategy, store), maps[order], args, args.seed + rep)
            records.append(record)
            print(
                f"{rep} {pick} {order} {strategy}/{store}: {record['rate']:,.0f}/s "
                f"{record['wall_s'] * 1000:.0f} ms {record['verdict']}",
                file=sys.stderr,
                flush=True,
            )
    elapsed = time.perf_counter() - started
    low, high = args.think
    print(
        f"{args.buyers} buyers · think {low:g}:{high:g} ms · maps "
        + ", ".join(f"order {o}: {m}" for o, m in maps.items())
        + f" · {args.repeat} repeats · {elapsed:.0f} s\n{machine()} · load average "
        + f"(1 min) {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after\n"
    )
    print(table(rows, maps))
    print()
    print(ratios(rows, "seatlock", "lock"))


if __name__ == "__main__":
    main()
