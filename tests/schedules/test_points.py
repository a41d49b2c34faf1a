"""The steps a schedule file may name are the ones the workload's buyers really stop at:
a file naming another is refused before anything runs, so the list must be right."""

from __future__ import annotations

import pytest

from booking.schedules.executor import Executor
from booking.schedules.search import random_walk
from booking.schedules.workload import Workload

WORKLOADS = [
    Workload("none"),
    Workload("lock"),
    Workload("filelock"),
    Workload("manager"),
    Workload("manager", manager_lock=False),
    Workload("transaction", "sqlite"),
    Workload("deferred", "sqlite"),
    Workload("atomic", "sqlite"),
    Workload("optimistic", "sqlite"),
    Workload("queue"),
]


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: f"{w.strategy}-{w.manager_lock}")
def test_every_step_a_buyer_stops_at_is_one_its_workload_names(workload: Workload) -> None:
    seen: set[str] = set()
    with Executor(workload.validate()) as execute:
        random_walk(
            execute,
            schedules=12,
            seed=1,
            stop_at_first=False,
            on_schedule=lambda count, trace: seen.update(s.point for s in trace.steps),
        )
    assert seen == workload.points()
