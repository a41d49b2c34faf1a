"""The workload an exploration runs: checked whole before anything starts, and read back
from a schedule file only when every key and type is one it knows."""

from __future__ import annotations

from typing import Any

import pytest

from booking.errors import ScenarioError
from booking.schedules.workload import MAX_ATTEMPTS, MAX_BUYERS, MAX_TICKETS, Workload


def test_the_defaults_are_two_buyers_one_ticket_one_attempt() -> None:
    workload = Workload("none").validate()
    assert (workload.store, workload.buyers, workload.tickets, workload.attempts) == (
        "json",
        2,
        1,
        1,
    )


def test_validate_returns_the_workload_itself() -> None:
    workload = Workload("lock", buyers=3, tickets=2)
    assert workload.validate() is workload


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("buyers", 1, MAX_BUYERS), ("tickets", 0, MAX_TICKETS), ("attempts", 1, MAX_ATTEMPTS)],
)
def test_each_size_has_a_range(name: str, low: int, high: int) -> None:
    Workload.from_dict({"strategy": "none", name: low})
    Workload.from_dict({"strategy": "none", name: high})
    for bad in (low - 1, high + 1):
        with pytest.raises(ScenarioError, match=f"{name} must be between {low} and {high}"):
            Workload.from_dict({"strategy": "none", name: bad})


def test_the_limits_are_small() -> None:
    assert (MAX_BUYERS, MAX_TICKETS, MAX_ATTEMPTS) == (8, 20, 5)


@pytest.mark.parametrize("bad", [True, 2.0, "2", None])
def test_a_size_must_be_a_whole_number(bad: Any) -> None:
    with pytest.raises(ScenarioError, match="buyers must be a whole number"):
        Workload("none", buyers=bad).validate()


def test_an_unknown_strategy_is_named() -> None:
    with pytest.raises(ScenarioError, match='unknown strategy "nope"; expected one of none, '):
        Workload("nope").validate()


def test_the_scenario_checks_apply() -> None:
    with pytest.raises(ScenarioError, match=r"transaction.*sqlite"):
        Workload("transaction", "json").validate()
    with pytest.raises(ScenarioError, match="store"):
        Workload("none", "nope").validate()


def test_the_scenario_has_no_time_in_it() -> None:
    scenario = Workload("filelock", buyers=3, tickets=4, attempts=2, seed=9).scenario()
    assert scenario.think_ms == (0.0, 0.0)
    assert (scenario.buyers, scenario.tickets, scenario.attempts, scenario.seed) == (3, 4, 2, 9)
    assert scenario.strategy == "filelock"
    assert scenario.poll_ms == 1.0
    assert Workload("lock").scenario().poll_ms is None


def test_a_workload_survives_to_dict_and_from_dict() -> None:
    workload = Workload("manager", "json", 3, 2, 2, False, 3, "atomic", 123)
    data = workload.to_dict()
    assert data == {
        "strategy": "manager",
        "store": "json",
        "buyers": 3,
        "tickets": 2,
        "attempts": 2,
        "manager_lock": False,
        "retries": 3,
        "json_write": "atomic",
        "seed": 123,
    }
    assert Workload.from_dict(data) == workload


def test_from_dict_fills_in_the_defaults() -> None:
    assert Workload.from_dict({"strategy": "lock"}) == Workload("lock")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "the workload must be an object"),
        (None, "the workload must be an object"),
        ({"strategy": "none", "colour": "red"}, "unknown workload key 'colour'"),
        ({"buyers": 2}, "the workload names no strategy"),
        ({"strategy": 3}, "workload strategy must be a str"),
        ({"strategy": "none", "buyers": "2"}, "workload buyers must be a whole number"),
        ({"strategy": "none", "buyers": True}, "workload buyers must be a whole number"),
        ({"strategy": "none", "tickets": 1.0}, "workload tickets must be a whole number"),
        ({"strategy": "manager", "manager_lock": 1}, "workload manager_lock must be a bool"),
        ({"strategy": "none", "store": None}, "workload store must be a str"),
        ({"strategy": "none", "buyers": 9}, "buyers must be between 1 and 8"),
        ({"strategy": "nope"}, 'unknown strategy "nope"'),
        ({"strategy": "atomic", "store": "json"}, "atomic"),
    ],
)
def test_from_dict_refuses_anything_it_did_not_write(data: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        Workload.from_dict(data)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
