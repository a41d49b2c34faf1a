"""How fast `booking explore` runs schedules (BENCHMARKS.md, section 8), against the floor
of what one schedule must do: fork its buyers, pass each step's grant and report through a
pipe, reap them.

    .venv/bin/python benchmarks/explore.py

Each case runs 2 buyers x 1 ticket under random schedules (the search's own cost is nil
beside a schedule's), three times; the median rate is shown. The floor forks two bare
children from the same parent (booking loaded) that make the same number of pipe round
trips as a `none` schedule on json (3 steps each) and exit.
"""

from __future__ import annotations

import os
import statistics
import time

from booking.schedules.executor import Executor
from booking.schedules.search import random_walk
from booking.schedules.workload import Workload

CASES = [
    ("none", "json"),
    ("lock", "json"),
    ("filelock", "json"),
    ("manager", "json"),
    ("queue", "json"),
    ("none", "sqlite"),
    ("transaction", "sqlite"),
    ("atomic", "sqlite"),
    ("optimistic", "sqlite"),
]
SCHEDULES = 200
REPEAT = 3


def rate(strategy: str, store: str) -> tuple[float, float]:
    """Median schedules/s and steps per schedule."""
    rates, steps = [], 0.0
    with Executor(Workload(strategy, store, 2, 1).validate()) as execute:
        seen: list[int] = []
        for seed in range(REPEAT):
            started = time.perf_counter()
            random_walk(
                execute,
                schedules=SCHEDULES,
                seed=seed,
                stop_at_first=False,
                on_schedule=lambda n, trace: seen.append(len(trace.steps)),
            )
            rates.append(SCHEDULES / (time.perf_counter() - started))
            steps = statistics.mean(seen)
    return statistics.median(rates), steps


def floor(round_trips: int = 3) -> float:
    """Schedules/s of two forked children doing `round_trips` grant/report pairs each."""
    rates = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        for _ in range(SCHEDULES):
            events_r, events_w = os.pipe()
            grants = [os.pipe() for _ in range(2)]
            pids = []
            for index in range(2):
                pid = os.fork()
                if pid == 0:
                    for _ in range(round_trips):
                        os.write(events_w, b"p")
                        os.read(grants[index][0], 1)
                    os._exit(0)
                pids.append(pid)
            for _ in range(round_trips):
                for index in range(2):
                    os.read(events_r, 1)
                    os.write(grants[index][1], b"g")
            for pid in pids:
                os.waitpid(pid, 0)
            for fd in (events_r, events_w, *(fd for pair in grants for fd in pair)):
                os.close(fd)
        rates.append(SCHEDULES / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    print(f"floor: fork 2, 3 round trips each, reap: {floor():,.0f} schedules/s")
    for strategy, store in CASES:
        per_s, steps = rate(strategy, store)
        print(f"{strategy:12} {store:7} {per_s:7,.0f} schedules/s  ({steps:.1f} steps each)")


if __name__ == "__main__":
    main()
