"""The executor: one schedule on real forked buyers and a fresh store, judged for real.

A schedule is the order of grants, so the same order must give the same steps, values
included, on every store and under every strategy; and nothing one schedule did may
leak into the next.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from booking.schedules.executor import Executor
from booking.schedules.model import Step, Trace
from booking.schedules.search import follow
from booking.schedules.workload import Workload
from tests.helpers import no_children_left

pytestmark = pytest.mark.usefixtures("private_tmp")


ROUND_ROBIN = [0, 1, 2] * 20

#: Every kind of step point: the unguarded look, a guard's acquire and release, a plain
#: read and write, a conditional update, a compare-and-set, a request to a seller.
CASES = [
    ("none", "json"),
    ("none", "sqlite"),
    ("lock", "json"),
    ("transaction", "sqlite"),
    ("optimistic", "sqlite"),
    ("queue", "json"),
    ("atomic", "sqlite"),
]


def run_twice(workload: Workload, order: list[int]) -> tuple[Trace, Trace, Trace]:
    """The order run twice on one executor, and once more on a fresh one."""
    with Executor(workload) as execute:
        first, second = execute(follow(order)), execute(follow(order))
    with Executor(workload) as execute:
        third = execute(follow(order))
    return first, second, third


@pytest.mark.parametrize(("strategy", "store"), CASES, ids=[f"{a}-{b}" for a, b in CASES])
def test_one_order_gives_the_same_steps_every_time(strategy: str, store: str) -> None:
    workload = Workload(strategy, store, buyers=3, tickets=2)
    first, second, third = run_twice(workload, ROUND_ROBIN)
    assert first.ending == "done", first.problem
    assert len(first.steps) >= 6  # every buyer looked and tried
    assert {step.buyer for step in first.steps} == {0, 1, 2}
    assert any(step.value != -1 for step in first.steps)  # the values are compared too
    assert second.steps == first.steps
    assert third.steps == first.steps
    assert second.decisions == first.decisions
    for trace in (first, second, third):
        assert trace.result is not None
    assert first.result is not None and second.result is not None and third.result is not None
    for field in ("verdict", "sold", "remaining", "oversold", "lost_updates", "refused"):
        assert getattr(second.result, field) == getattr(first.result, field), field
        assert getattr(third.result, field) == getattr(first.result, field), field


def test_round_robin_without_a_strategy_oversells_and_says_so() -> None:
    with Executor(Workload("none", buyers=2, tickets=1)) as execute:
        trace = execute(follow([0, 1] * 5))
    assert [(s.buyer, s.point, s.value) for s in trace.steps] == [
        (0, "look", 1),
        (1, "look", 1),
        (0, "read", 1),
        (1, "read", 1),
        (0, "write", 0),
        (1, "write", 0),
    ]
    assert trace.result is not None
    assert (trace.result.verdict, trace.result.sold, trace.result.oversold) == ("OVERSOLD", 2, 1)
    assert trace.anomalous is True
    assert trace.buyers == 2
    assert trace.order == [0, 1, 0, 1, 0, 1]


def test_one_buyer_after_the_other_is_safe() -> None:
    with Executor(Workload("none", buyers=2, tickets=1)) as execute:
        trace = execute(follow([0, 0, 0, 1, 1, 1]))
    assert trace.steps[:3] == [Step(0, "look", 0, 1), Step(0, "read", 0, 1), Step(0, "write", 0, 0)]
    # Buyer 1 sees none left, and its attempt ends at its read: sold out.
    assert trace.steps[3:] == [Step(1, "look", 0, 0), Step(1, "read", 0, 0)]
    assert trace.result is not None
    assert (trace.result.verdict, trace.result.sold, trace.result.remaining) == ("SAFE", 1, 0)
    assert trace.anomalous is False


def test_every_schedule_starts_from_a_fresh_store() -> None:
    with Executor(Workload("none", store="sqlite", buyers=2, tickets=3)) as execute:
        traces = [execute(follow([0, 0, 0, 1, 1, 1])) for _ in range(3)]
        assert execute.runs == 3
    for trace in traces:
        assert trace.steps[0] == Step(0, "look", 0, 3)  # never what the last one left
        assert trace.result is not None and trace.result.remaining == 1


def test_more_attempts_are_numbered() -> None:
    with Executor(Workload("lock", buyers=1, tickets=3, attempts=2)) as execute:
        trace = execute(follow([0] * 20))
    assert [s.attempt for s in trace.steps if s.point == "read"] == [0, 1]
    assert trace.result is not None
    assert (trace.result.sold, trace.result.remaining) == (2, 1)


def test_the_executor_removes_its_store_and_leaves_no_child(private_tmp: Path) -> None:
    executor = Executor(Workload("transaction", "sqlite"))
    assert executor.path.parent.parent == private_tmp
    executor(follow([0, 1] * 10))
    assert executor.path.exists()
    assert no_children_left()
    executor.close()
    assert not executor.path.parent.exists()
