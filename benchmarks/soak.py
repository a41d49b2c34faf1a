"""Soak test (not part of CI): many runs of every safe strategy on every store, and many
--kill-writer runs, counting anomalies and corrupt stores. The README's reliability
section quotes its output.

    .venv/bin/python benchmarks/soak.py                       # 1,000 + 200 runs, ~40 min
    .venv/bin/python benchmarks/soak.py --runs 50 --kill-runs 20
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


def cells() -> list[tuple[str, str]]:
    return [
        (strategy, store)
        for strategy, info in STRATEGIES.items()
        if info.claims_safe
        for store in STORES
        if info.supports(store)
    ]


def soak_safe(runs: int) -> dict[str, dict[str, int]]:
    """`runs` runs per cell at 50 buyers, round-robin; verdict counts per cell."""
    found: dict[str, Counter[str]] = {f"{s}/{t}": Counter() for s, t in cells()}
    started = time.monotonic()
    for run in range(runs):
        for strategy, store in cells():
            result = simulate(Scenario(buyers=50, strategy=strategy, store=store, seed=run))
            found[f"{strategy}/{store}"][result.verdict] += 1
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--kill-runs", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("soak.json"))
    args = parser.parse_args()
    started = time.monotonic()
    report = {
        "runs_per_cell": args.runs,
        "safe": soak_safe(args.runs),
        "kill_writer_runs": args.kill_runs,
        "kill_writer": soak_kill_writer(args.kill_runs),
    }
    report["seconds"] = round(time.monotonic() - started)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
