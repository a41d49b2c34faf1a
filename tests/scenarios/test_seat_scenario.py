"""A seat scenario is checked before anything runs: one clear reason per bad value."""

from __future__ import annotations

import pytest

from booking.errors import ScenarioError
from booking.scenarios.scenario import Scenario
from booking.seating import Shape


def test_a_seat_map_holds_its_own_tickets() -> None:
    scenario = Scenario(seats="5x10", order=2, pick="random").validate()
    assert scenario.shape == Shape(5, 10)
    assert scenario.initial_tickets == 50
    assert scenario.seat_plan(7) is not None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"seats": "0x5"}, "rows must be 1 to 26"),
        ({"seats": "abc"}, "expected ROWSxCOLS"),
        (
            {"seats": "5x10", "order": 0},
            "order must be between 1 and 50 seats (the seats of the map), not 0",
        ),
        (
            {"seats": "2x2", "order": 5},
            "order must be between 1 and 4 seats (the seats of the map), not 5",
        ),
        ({"seats": "5x10", "tickets": 3}, "--tickets and --seats do not go together"),
        ({"seats": "5x10", "order": 11, "pick": "together"}, "does not fit in a row of 10"),
        ({"seats": "5x10", "pick": "front"}, 'unknown pick "front"'),
        ({"order": 2}, "--order only applies to a seat map"),
        ({"pick": "random"}, "--pick only applies to a seat map"),
        ({"strategy": "seatlock"}, 'strategy "seatlock" sells seats: add --seats'),
    ],
)
def test_bad_seat_values_are_refused_with_a_reason(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(ScenarioError, match=None) as caught:
        Scenario(**changes).validate()  # type: ignore[arg-type]
    assert reason in str(caught.value)


def test_a_scenario_file_sweeps_order_sizes_on_a_seat_map() -> None:
    from booking.scenarios.files import parse

    sweep = parse(
        {"strategy": ["lock", "seatlock"], "seats": "4x5", "order": [1, 2], "pick": "random"},
        "seats.toml",
    )
    assert [(cell.strategy, scenario.order) for cell, scenario in sweep.points] == [
        ("lock", 1), ("lock", 2), ("seatlock", 1), ("seatlock", 2),
    ]  # fmt: skip
    assert all(scenario.shape == Shape(4, 5) for _, scenario in sweep.points)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            {"strategy": ["lock", "seatlock"]},
            "strategy seatlock: no cell of the sweep can run it (it sells seats; add seats)",
        ),
        (
            {"seats": "2x2", "order": [1, 9]},
            "seats.toml: order must be between 1 and 4 seats (the seats of the map), not 9",
        ),
        ({"order": 2}, "--order only applies to a seat map"),
        ({"seats": "2x2", "tickets": 4}, "--tickets and --seats do not go together"),
        ({"seats": 22}, "seats: expected a string"),
        ({"seats": "2x2", "pick": "aisle"}, 'pick: unknown pick "aisle"'),
    ],
)
def test_a_scenario_file_refuses_what_cannot_run(document: dict[str, object], reason: str) -> None:
    from booking.scenarios.files import parse

    with pytest.raises(ScenarioError) as caught:
        parse(document, "seats.toml")
    assert reason in str(caught.value)


def test_a_strategy_that_sells_no_seats_is_refused_on_a_seat_map(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every strategy booking has sells seats; one registered later may not.
    from booking.strategies import STRATEGIES

    monkeypatch.setitem(STRATEGIES, "lock", STRATEGIES["lock"]._replace(sells=("count",)))
    with pytest.raises(ScenarioError) as caught:
        Scenario(seats="5x10", strategy="lock").validate()
    assert 'strategy "lock" does not sell seats; with --seats use one of none, filelock' in str(
        caught.value
    )
    from booking.scenarios.files import parse

    with pytest.raises(ScenarioError) as caught:
        parse({"strategy": ["none", "lock"], "seats": "2x2"}, "seats.toml")
    assert "strategy lock: no cell of the sweep can run it (it does not sell seats" in str(
        caught.value
    )
