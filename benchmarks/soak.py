"""Soak test (not part of CI): many runs of every safe strategy on every store, and many
--kill-writer runs, counting anomalies and corrupt stores. The README's reliability
section quotes its output.

    .venv/bin/python benchmarks/soak.py                       # 1,000 + 200 runs, ~1 h
    .venv/bin/python benchmarks/soak.py --runs 50 --kill-runs 20
    .venv/bin/python benchmarks/soak.py --only atomic,optimistic,queue,deferred --kill-runs 0

`deferred` claims no safety (its purchases fail by design), so it is soaked apart: how
often it oversold or lost an update (never, it should be), and how its runs ended.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from booking import Scenario, simulate
from booking.strategies import STRATEGIES

STORES = ("json", "sqlite")


def cells(only: set[str] | None = None) -> list[tuple[str, str]]:
    return [
        (strategy, store)
        for strategy, info in STRATEGIES.items()
        if info.claims_safe and (only is None or strategy in only)
        for store in STORES
        if info.supports(store)
    ]


def soak_safe(runs: int, only: set[str] | None = None) -> dict[str, dict[str, int]]:
    """`runs` runs per cell at 50 buyers, round-robin; verdict counts per cell, and for a
    compare-and-set cell its conflicts and the buyers who gave up, summed."""
    chosen = cells(only)
    found: dict[str, Counter[str]] = {f"{s}/{t}": Counter() for s, t in chosen}
    started = time.monotonic()
    for run in range(runs):
        for strategy, store in chosen:
            result = simulate(Scenario(buyers=50, strategy=strategy, store=store, seed=run))
            found[f"{strategy}/{store}"][result.verdict] += 1
            if result.protocol == "compare-and-set":
                found[f"{strategy}/{store}"]["conflicts"] += result.conflicts
                found[f"{strategy}/{store}"]["gave up"] += result.gave_up
        if (run + 1) % 50 == 0:
            elapsed = time.monotonic() - started
            print(f"safe: {run + 1}/{runs} rounds, {elapsed:.0f} s", file=sys.stderr, flush=True)
    return {cell: dict(counts) for cell, counts in found.items()}


def soak_kill_writer(runs: int) -> dict[str, dict[str, int]]:
    """--kill-writer 1 with atomic JSON writes and with SQLite: is the store ever corrupt?"""
    found: dict[str, Counter[str]] = {}
    for run in range(runs):
        for strategy, store in (("filelock", "json"), ("filelock", "sqlite")):
            with tempfile.TemporaryDirectory() as directory:
                path = Path(directory) / ("t.db" if store == "sqlite" else "t.json")
                result = simulate(
                    Scenario(
                        buyers=10, tickets=20, strategy=strategy, store=store, kill_writer=1,
                        seed=run, path=path, think_ms=(0, 2),
                    )
                )  # fmt: skip
                key = f"{strategy}/{store}"
                found.setdefault(key, Counter())[result.verdict] += 1
                found[key]["killed"] += result.killed
                found[key]["store valid"] += result.remaining is not None
                leftovers = [p for p in Path(directory).iterdir() if p.name.endswith(".tmp")]
                found[key]["temp files left"] += len(leftovers)
    return {cell: dict(counts) for cell, counts in found.items()}


def soak_deferred(runs: int) -> dict[str, int]:
    """`deferred` at 50 buyers: how its runs ended, and any oversell or lost update."""
    found: Counter[str] = Counter()
    for run in range(runs):
        result = simulate(Scenario(buyers=50, strategy="deferred", seed=run))
        found[result.verdict] += 1
        found["oversold runs"] += result.oversold > 0
        found["lost-update runs"] += result.lost_updates > 0
        found["failed purchases"] += result.busy
    return dict(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--kill-runs", type=int, default=200)
    parser.add_argument("--only", help="comma-separated strategies (default: every one)")
    parser.add_argument("--out", type=Path, default=Path("soak.json"))
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    started = time.monotonic()
    report: dict[str, object] = {
        "runs_per_cell": args.runs,
        "safe": soak_safe(args.runs, only),
        "kill_writer_runs": args.kill_runs,
        "kill_writer": soak_kill_writer(args.kill_runs),
    }
    if only is None or "deferred" in only:
        report["deferred"] = soak_deferred(args.runs)
    report["seconds"] = round(time.monotonic() - started)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
