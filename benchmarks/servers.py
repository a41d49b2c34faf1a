"""The networked stores (issue 16): purchases/s of each PostgreSQL and Redis cell at think
0, beside floors measured on the same server in the same session.

    ../shared/tools/memwatch -- .venv/bin/python benchmarks/servers.py --repeat 3

One throwaway server of each kind serves the whole benchmark (started as booking starts it:
loopback, PostgreSQL with fsync off, Redis without persistence). Each booking run is the
workload of BENCHMARKS.md section 2 (8 buyers buy 2,000 tickets until sold out, think 0),
through `booking.simulate()` on the server with `--reset`, so each starts from 2,000;
purchases/s is `sold / wall_s` (gate to the last step; start-up and the server's start are
not in it). The cells of one repeat run back to back, round-robin; medians are reported.

The floors, each on the same server, 8 clients, 3 s:
- pgbench: `pgbench -n -c 8 -j 2 -T 3 -f` a one-statement script, `UPDATE floor SET n = n
  - 1 WHERE id = 1` (the hot row every purchase updates; one statement, one transaction:
  the C client's ceiling for a conditional decrement); `SELECT 1` (a round trip); and
  `BEGIN; SELECT ... FOR UPDATE; UPDATE; COMMIT` (for-update's transaction, bare).
- redis-benchmark: `redis-benchmark -c 8 -n 200000 DECR floor` (a hot key, C client).
- Python: 8 forked processes, each with its own psycopg / redis-py connection, running the
  same single statement (UPDATE ... / DECR) in a loop: the floor of the language our buyers
  are written in, before any booking code.
Nothing here is a test: no test asserts a time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import shutil
import statistics
import subprocess
import time
from typing import Any

from booking.scenarios.scenario import Scenario
from booking.servers import throwaway
from booking.simulation import simulate

PG_CELLS = ["none", "lock", "naive-tx", "for-update", "advisory", "serializable", "atomic",
            "optimistic", "manager", "queue"]  # fmt: skip
REDIS_CELLS = ["none", "lock", "atomic", "optimistic", "ttl-lock", "fenced", "manager", "queue"]
CLIENTS = 8
#: for-update's own protocol with nothing of booking's: the row lock held across a read and
#: a write, four round trips, every client queued on one row.
GUARDED = (
    "BEGIN;\nSELECT n FROM floor WHERE id = 1 FOR UPDATE;\n"
    "UPDATE floor SET n = n - 1 WHERE id = 1;\nCOMMIT"
)
SECONDS = 3.0


def run_cell(store: str, strategy: str, dsn: str) -> tuple[float, int, int]:
    """purchases/s, lost updates + oversold, conflicts of one booking run."""
    result = simulate(
        Scenario(
            buyers=CLIENTS,
            tickets=2000,
            attempts=2000,
            think_ms=(0, 0),
            store=store,
            strategy=strategy,
            dsn=dsn,
            reset=True,
            timeout_s=300,
            retries=1000 if strategy in ("optimistic", "serializable", "fenced") else 3,
        )
    )
    rate = result.sold / result.wall_s if result.wall_s else 0.0
    return rate, result.lost_updates + result.oversold, result.conflicts


def _pg_loop(dsn: str, sql: str | tuple[str, ...], until: float, out: Any) -> None:
    """One statement, or a purchase's statements in order, per iteration."""
    import psycopg

    statements = (sql,) if isinstance(sql, str) else sql
    with psycopg.connect(dsn, autocommit=True) as conn:
        n = 0
        while time.monotonic() < until:
            for statement in statements:
                conn.execute(statement)
            n += 1
    out.put(n)


#: booking's own statements for a purchase, run bare (no booking code around them): the
#: look (the seeds' search()), then atomic's one statement, or for-update's transaction.
SALE = "INSERT INTO floor_sales (run, buyer, sold_at) SELECT 'floor', 0, 0 FROM written"
ATOMIC_STATEMENTS = (
    "SELECT n FROM floor WHERE id = 1",
    "WITH written AS (UPDATE floor SET n = n - 1 WHERE id = 1 AND n > 0 RETURNING n) " + SALE,
)
FOR_UPDATE_STATEMENTS = (
    "SELECT n FROM floor WHERE id = 1",
    "BEGIN",
    "SELECT n FROM floor WHERE id = 1 FOR UPDATE",
    "WITH written AS (UPDATE floor SET n = n - 1 WHERE id = 1 RETURNING n) " + SALE,
    "COMMIT",
)


def _redis_loop(dsn: str, until: float, out: Any, looks: bool = False) -> None:
    """DECR in a loop; with `looks`, a GET first (atomic's look, then its one script call)."""
    import redis

    client = redis.Redis.from_url(dsn)
    n = 0
    while time.monotonic() < until:
        if looks:
            client.get("booking-floor")
        client.decr("booking-floor")
        n += 1
    out.put(n)


def _redis_look_loop(dsn: str, until: float, out: Any) -> None:
    _redis_loop(dsn, until, out, looks=True)


def python_floor(target: Any, *args: Any) -> float:
    """Statements/s of CLIENTS forked Python processes running one statement in a loop."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    until = time.monotonic() + 0.3 + SECONDS
    procs = [ctx.Process(target=target, args=(*args, until, out)) for _ in range(CLIENTS)]
    for proc in procs:
        proc.start()
    total = sum(out.get() for _ in procs)
    for proc in procs:
        proc.join()
    return total / SECONDS


def pgbench(dsn: str, sql: str) -> float | None:
    tool = shutil.which("pgbench")
    if tool is None:
        return None
    script = f"/tmp/booking-pgbench-{os.getpid()}.sql"
    with open(script, "w") as handle:
        handle.write(sql + ";\n")
    try:
        out = subprocess.run(
            [
                tool,
                "-n",
                "-c",
                str(CLIENTS),
                "-j",
                "2",
                "-T",
                str(int(SECONDS)),
                "-f",
                script,
                dsn,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    found = re.search(r"tps = ([0-9.]+)", out)
    return float(found.group(1)) if found else None


def redis_benchmark(port: int) -> float | None:
    tool = shutil.which("redis-benchmark")
    if tool is None:
        return None
    out = subprocess.run(
        [
            tool,
            "-p",
            str(port),
            "-c",
            str(CLIENTS),
            "-n",
            "200000",
            "-q",
            "DECR",
            "booking-floor",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(r"([0-9.]+) requests per second", out)
    return float(found[-1]) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stores", default="postgres,redis")
    args = parser.parse_args()
    stores = args.stores.split(",")
    rows: list[str] = []
    for store in stores:
        cells = PG_CELLS if store == "postgres" else REDIS_CELLS
        with throwaway(store, connections=64) as server:
            floors: dict[str, float | None] = {}
            if store == "postgres":
                import psycopg

                with psycopg.connect(server.dsn, autocommit=True) as conn:
                    conn.execute("CREATE TABLE floor (id int PRIMARY KEY, n bigint)")
                    conn.execute("INSERT INTO floor VALUES (1, 1000000000)")
                    conn.execute(
                        "CREATE TABLE floor_sales (id bigserial PRIMARY KEY, run text, "
                        "buyer int, sold_at double precision)"
                    )
                update = "UPDATE floor SET n = n - 1 WHERE id = 1"
                floors["pgbench UPDATE hot row"] = pgbench(server.dsn, update)
                floors["pgbench SELECT 1"] = pgbench(server.dsn, "SELECT 1")
                floors["pgbench BEGIN; SELECT FOR UPDATE; UPDATE; COMMIT"] = pgbench(
                    server.dsn, GUARDED
                )
                floors["Python psycopg UPDATE hot row"] = python_floor(_pg_loop, server.dsn, update)
                floors["Python psycopg, atomic's statements"] = python_floor(
                    _pg_loop, server.dsn, ATOMIC_STATEMENTS
                )
                floors["Python psycopg, for-update's statements"] = python_floor(
                    _pg_loop, server.dsn, FOR_UPDATE_STATEMENTS
                )
            else:
                floors["redis-benchmark DECR"] = redis_benchmark(server.port)
                floors["Python redis-py DECR"] = python_floor(_redis_loop, server.dsn)
                floors["Python redis-py GET + DECR"] = python_floor(_redis_look_loop, server.dsn)
            rates: dict[str, list[float]] = {cell: [] for cell in cells}
            lost: dict[str, list[int]] = {cell: [] for cell in cells}
            conflicts: dict[str, list[int]] = {cell: [] for cell in cells}
            for _ in range(args.repeat):
                for cell in cells:
                    rate, bad, conflicted = run_cell(store, cell, server.dsn)
                    rates[cell].append(rate)
                    lost[cell].append(bad)
                    conflicts[cell].append(conflicted)
                    print(f"{cell}/{store}: {rate:,.0f}/s", flush=True)
            for name, value in floors.items():
                shown = "—" if value is None else f"{value:,.0f}/s"
                rows.append(f"| floor: {name} ({store}) | {shown} | | |")
            for cell in cells:
                ours = statistics.median(rates[cell])
                spread = f"{min(rates[cell]):,.0f}–{max(rates[cell]):,.0f}"
                notes = []
                if max(lost[cell]):
                    notes.append(f"unsafe: {statistics.median(lost[cell]):,.0f} lost/oversold")
                if max(conflicts[cell]):
                    notes.append(f"{statistics.median(conflicts[cell]):,.0f} conflicts")
                rows.append(f"| {cell}/{store} | {ours:,.0f}/s | {spread} | {'; '.join(notes)} |")
    print()
    print("| cell | purchases/s (median) | min–max | notes |")
    print("|---|---:|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
