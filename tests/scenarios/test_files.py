"""Scenario files: every error names the file and the key path, lists sweep, and the bundled
files load. Pure parsing only: no buyer process is ever started here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import booking
from booking.errors import ScenarioError
from booking.scenarios import files as scenario_file
from booking.scenarios.arrival import GATE, Arrival
from booking.scenarios.files import DEFAULT_REPEAT, MAX_FILE_BYTES, MAX_POINTS, load, parse
from booking.scenarios.plan import Cell
from booking.scenarios.scenario import Scenario
from booking.stores import NETWORK_STORES, STORES
from booking.strategies import STRATEGIES

BUNDLED = Path(booking.__file__).parent / "scenarios" / "bundled"
BUNDLED_FILES = sorted(BUNDLED.glob("*.toml"))
DATA_SCENARIOS = Path(__file__).resolve().parents[2] / "data" / "scenarios"
ARRIVAL_CHOICES = '"gate", { rate = N } or { stagger_ms = [LOW, HIGH] }'


def error_of(document: dict[str, Any], overrides: dict[str, Any] | None = None) -> str:
    """The message parse() raises for `document`, read as the file x.toml."""
    with pytest.raises(ScenarioError) as caught:
        parse(document, "x.toml", overrides)
    return str(caught.value)


def labels(parsed: scenario_file.ScenarioFile) -> list[str]:
    return [cell.label for cell, _ in parsed.points]


def by_key_path(*cases: tuple[Any, str]) -> list[Any]:
    """Parametrize cases (given, message), each named after the key path in its message."""
    return [pytest.param(given, message, id=message.split(": ")[1]) for given, message in cases]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- errors: the file, the key path, what was expected ------------------------------------


def test_an_unknown_strategy_in_a_list_names_its_index() -> None:
    assert error_of({"strategy": ["none", "lock", "lok"]}) == (
        'x.toml: strategy[2]: unknown strategy "lok"; '
        "expected one of none, lock, filelock, manager, transaction, deferred, atomic, "
        "optimistic, queue, seatlock, seatlock-unordered, naive-tx, for-update, "
        "for-update-unordered, skip-locked, serializable, advisory, ttl-lock, fenced"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    by_key_path(
        ({"buyers": "ten"}, 'x.toml: buyers: expected a whole number, found "ten"'),
        ({"buyers": True}, "x.toml: buyers: expected a whole number, found true"),
        ({"buyers": [10, "x"]}, 'x.toml: buyers[1]: expected a whole number, found "x"'),
        ({"buyers": [[10]]}, "x.toml: buyers[0]: expected a whole number, found a list"),
        ({"tickets": 1.5}, "x.toml: tickets: expected a whole number, found 1.5"),
        ({"attempts": "1"}, 'x.toml: attempts: expected a whole number, found "1"'),
        ({"seed": 1.0}, "x.toml: seed: expected a whole number, found 1.0"),
        ({"timeout": "x"}, 'x.toml: timeout: expected a number, found "x"'),
        ({"manager_lock": 1}, "x.toml: manager_lock: expected true or false, found 1"),
        (
            {"think": True},
            'x.toml: think: expected "MIN:MAX" or a number of milliseconds, found true',
        ),
        (
            {"think": {"min": 1}},
            'x.toml: think: expected "MIN:MAX" or a number of milliseconds, found a table',
        ),
        ({"name": 3}, "x.toml: name: expected a string, found 3"),
        ({"description": ["a", "b"]}, "x.toml: description: expected a string, found a list"),
        ({"repeat": "3"}, 'x.toml: repeat: expected a whole number, found "3"'),
        ({"repeat": True}, "x.toml: repeat: expected a whole number, found true"),
        ({"strategy": ["none", 1]}, "x.toml: strategy[1]: expected a string, found 1"),
        ({"store": 1}, "x.toml: store: expected a string, found 1"),
        ({"json_write": 2}, "x.toml: json_write: expected a string, found 2"),
        ({"arrival": 5}, f"x.toml: arrival: expected {ARRIVAL_CHOICES}, found 5"),
        (
            {"arrival": ["gate", "gat"]},
            f'x.toml: arrival[1]: expected {ARRIVAL_CHOICES}, found "gat"',
        ),
        ({"arrival": {"rate": "fast"}}, 'x.toml: arrival.rate: expected a number, found "fast"'),
        (
            {"arrival": {"stagger_ms": [0, "x"]}},
            'x.toml: arrival.stagger_ms[1]: expected a number, found "x"',
        ),
    ),
)
def test_a_value_of_the_wrong_type_is_named_with_its_key_path(
    document: dict[str, Any], message: str
) -> None:
    assert error_of(document) == message


@pytest.mark.parametrize(
    ("document", "message"),
    by_key_path(
        ({"buyers": 0}, "x.toml: buyers: buyers must be between 1 and 100,000, not 0"),
        ({"buyers": [10, 0]}, "x.toml: buyers[1]: buyers must be between 1 and 100,000, not 0"),
        (
            {"buyers": 100_001},
            "x.toml: buyers: buyers must be between 1 and 100,000, not 100001",
        ),
        ({"tickets": [1, -1]}, "x.toml: tickets[1]: tickets must be between 0 and 2**53, not -1"),
        ({"repeat": 0}, "x.toml: repeat: must be at least 1, not 0"),
        ({"attempts": 0}, "x.toml: attempts: attempts must be at least 1, not 0"),
        ({"think": "5:1"}, 'x.toml: think: think "5:1": MIN 5 is greater than MAX 1'),
        ({"think": [0, "5:1"]}, 'x.toml: think[1]: think "5:1": MIN 5 is greater than MAX 1'),
        (
            {"think": -1},
            'x.toml: think: think "-1": milliseconds must be finite, >= 0 and at most 3,600,000',
        ),
        (
            {"timeout": 0},
            "x.toml: timeout: timeout must be a positive number of seconds up to 604,800 "
            "(a week), not 0.0",
        ),
        ({"seed": -1}, "x.toml: seed: seed must be between 0 and 2**63-1, not -1"),
        ({"seed": 2**63}, f"x.toml: seed: seed must be between 0 and 2**63-1, not {2**63}"),
        (
            {"store": "mysql"},
            'x.toml: store: unknown store "mysql"; expected one of json, sqlite, postgres, redis',
        ),
    ),
)
def test_a_value_out_of_range_is_named_with_its_key_path(
    document: dict[str, Any], message: str
) -> None:
    assert error_of(document) == message


def test_an_unknown_top_level_key_is_an_error_listing_the_keys() -> None:
    assert error_of({"buyers": 10, "frobnicate": 1}) == (
        "x.toml: frobnicate: unknown key; expected one of name, description, repeat, "
        "max_memory, strategy, store, buyers, tickets, seats, order, pick, think, attempts, "
        "arrival, seed, "
        "timeout, json_write, manager_lock, poll_ms, retries, lock_ttl"
    )


def test_max_memory_is_a_size_given_to_every_point() -> None:
    parsed = parse({"max_memory": "800M", "buyers": [10, 40]}, "x.toml")
    assert [point.max_memory for _, point in parsed.points] == [800 << 20, 800 << 20]
    assert [point.max_memory for _, point in parse({}, "x.toml").points] == [None]
    wider = scenario_file.with_max_memory(parsed, 4 << 30)
    assert [point.max_memory for _, point in wider.points] == [4 << 30, 4 << 30]
    assert labels(wider) == labels(parsed)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("800X", "x.toml: max_memory: '800X' is not a size: write a number and a unit"),
        ("0M", "x.toml: max_memory: '0M' is not a size: it must be more than 0"),
        (800, 'x.toml: max_memory: expected a size such as "800M" or "4G", found 800'),
        (["1G", "2G"], 'x.toml: max_memory: expected a size such as "800M" or "4G", found a list'),
    ],
)
def test_a_bad_max_memory_names_the_file_and_the_key(value: Any, message: str) -> None:
    assert error_of({"max_memory": value}).startswith(message)


@pytest.mark.parametrize(
    ("arrival", "message"),
    by_key_path(
        ({"rat": 5}, "x.toml: arrival.rat: unknown key; expected rate or stagger_ms"),
        (["gate", {"rat": 5}], "x.toml: arrival[1].rat: unknown key; expected rate or stagger_ms"),
        (
            {"rate": 5, "stagger_ms": [0, 1]},
            "x.toml: arrival: expected exactly one of rate or stagger_ms",
        ),
        ({}, "x.toml: arrival: expected exactly one of rate or stagger_ms"),
        (
            {"rate": 0},
            "x.toml: arrival: arrival rate must be a positive number of buyers per second, not 0.0",
        ),
        (
            ["gate", {"rate": -1}],
            "x.toml: arrival[1]: arrival rate must be a positive number of buyers per second, "
            "not -1.0",
        ),
        ({"stagger_ms": [1]}, "x.toml: arrival.stagger_ms: expected [LOW, HIGH] in milliseconds"),
        ({"stagger_ms": 5}, "x.toml: arrival.stagger_ms: expected [LOW, HIGH] in milliseconds"),
        (
            {"stagger_ms": [0, 1, 2]},
            "x.toml: arrival.stagger_ms: expected [LOW, HIGH] in milliseconds",
        ),
        (
            {"stagger_ms": [5, 1]},
            "x.toml: arrival: arrival stagger_ms must satisfy 0 <= low <= high, not [5, 1]",
        ),
        (
            {"stagger_ms": [-1, 5]},
            "x.toml: arrival: arrival stagger_ms must satisfy 0 <= low <= high, not [-1, 5]",
        ),
        (
            [{"stagger_ms": [0, 5]}, {"stagger_ms": [9, 2]}],
            "x.toml: arrival[1]: arrival stagger_ms must satisfy 0 <= low <= high, not [9, 2]",
        ),
        (
            {"stagger_ms": [0, 3_600_001]},
            "x.toml: arrival: arrival stagger_ms is capped at 3.6e+06",
        ),
    ),
)
def test_a_bad_arrival_is_named_with_its_key_path(arrival: Any, message: str) -> None:
    assert error_of({"arrival": arrival}) == message


@pytest.mark.parametrize(
    ("document", "message"),
    by_key_path(
        ({"buyers": []}, "x.toml: buyers: an empty list sweeps nothing"),
        ({"arrival": []}, "x.toml: arrival: an empty list sweeps nothing"),
        ({"buyers": [10, 40, 10]}, "x.toml: buyers: 10 is listed twice"),
        ({"strategy": ["lock", "none", "lock"]}, "x.toml: strategy: lock is listed twice"),
        ({"think": [0, "0:0"]}, "x.toml: think: 0 is listed twice"),
        ({"timeout": [1, 1.0]}, "x.toml: timeout: 1 is listed twice"),
        ({"arrival": ["gate", "gate"]}, "x.toml: arrival: gate is listed twice"),
        ({"arrival": [{"rate": 200}, {"rate": 200.0}]}, "x.toml: arrival: 200/s is listed twice"),
    ),
)
def test_an_empty_list_or_a_value_listed_twice_is_an_error(
    document: dict[str, Any], message: str
) -> None:
    assert error_of(document) == message


def test_a_sweep_over_max_points_is_refused() -> None:
    document = {"buyers": list(range(1, 101)), "tickets": list(range(0, 101))}
    assert error_of(document) == (
        f"x.toml: the sweep has 10,100 points; the limit is {MAX_POINTS:,}"
    )


def test_a_sweep_of_exactly_max_points_is_accepted() -> None:
    assert MAX_POINTS == 100 * 100
    parsed = parse({"buyers": list(range(1, 101)), "tickets": list(range(1, 101))}, "x.toml")
    assert len(parsed.points) == MAX_POINTS
    assert parsed.points[-1][1].buyers == 100
    assert parsed.points[-1][1].tickets == 100


class CountingInt(int):
    """An int that counts how often it is compared for equality."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingInt.comparisons += 1
        return int(self) == other

    __hash__ = int.__hash__


def test_an_oversized_list_is_refused_without_pairwise_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scenario_file, "MAX_POINTS", 100)
    monkeypatch.setattr(CountingInt, "comparisons", 0)
    seeds = [CountingInt(i) for i in range(1_000)]
    with pytest.raises(ScenarioError) as caught:
        parse({"seed": seeds}, "x.toml")
    assert str(caught.value) == "x.toml: seed: 1,000 values; a sweep has at most 100 points"
    # Linear work at most; the pairwise check makes about 500,000 comparisons here.
    assert CountingInt.comparisons <= 10 * len(seeds)


def test_json_write_inplace_on_sqlite_is_refused() -> None:
    message = error_of({"json_write": "inplace", "store": "sqlite"})
    assert message.startswith("x.toml: ")
    assert message.endswith("only applies to the json store")


def test_json_write_inplace_with_sqlite_anywhere_in_a_sweep_is_refused() -> None:
    # The sqlite cells cannot exist, so the store the file names makes no cell at all.
    message = error_of({"json_write": "inplace", "store": ["json", "sqlite"]})
    assert message == (
        "x.toml: store sqlite: no cell of the sweep can run it "
        "(no chosen strategy works on it; check strategy)"
    )


def test_a_sweep_skips_the_combinations_that_cannot_exist() -> None:
    parsed = parse({"strategy": ["manager", "lock"], "manager_lock": [False, True]}, "x.toml")
    assert [(s.strategy, s.manager_lock) for _, s in parsed.points] == [
        ("manager", False),
        ("manager", True),
        ("lock", True),
    ]


def test_manager_lock_false_without_the_manager_strategy_is_refused() -> None:
    message = error_of({"manager_lock": False, "strategy": "lock"})
    assert message.startswith("x.toml: ")
    assert "only applies to" in message
    assert "manager" in message


def test_an_unknown_json_write_mode_is_refused() -> None:
    message = error_of({"json_write": "bogus"})
    assert message.startswith("x.toml: ")
    assert message.endswith('unknown json-write mode "bogus"; expected one of atomic, inplace')


def test_an_unknown_json_write_mode_in_a_list_names_its_index() -> None:
    assert error_of({"json_write": ["atomic", "bogus"]}).startswith("x.toml: json_write[1]: ")


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"json_write": "inplace", "store": "sqlite"}, "json_write"),
        ({"manager_lock": False, "strategy": "lock"}, "manager_lock"),
    ],
    ids=["json_write", "manager_lock"],
)
def test_a_cross_key_error_names_the_files_key_not_a_cli_flag(
    document: dict[str, Any], key: str
) -> None:
    message = error_of(document)
    assert key in message
    assert "--" not in message


def test_a_scalar_strategy_and_store_that_make_no_cell_is_an_error() -> None:
    assert error_of({"strategy": "transaction", "store": "json"}) == (
        "x.toml: strategy transaction: no cell of the sweep can run it "
        "(it needs the sqlite store; check store)"
    )


def test_transaction_without_a_store_key_runs_on_sqlite() -> None:
    # json is only the default store: a strategy that needs sqlite gets it (issue 10).
    [(cell, scenario)] = parse({"strategy": "transaction"}, "x.toml").points
    assert (cell.store, scenario.store_name) == ("sqlite", "sqlite")


def test_transaction_on_an_explicit_json_store_is_still_an_error() -> None:
    assert error_of({"strategy": "transaction", "store": "json"}).startswith("x.toml: ")


def test_a_listed_store_that_no_strategy_can_use_is_an_error() -> None:
    assert error_of({"strategy": "transaction", "store": ["json", "sqlite"]}) == (
        "x.toml: store json: no cell of the sweep can run it "
        "(no chosen strategy works on it; check strategy)"
    )


def test_a_sweep_drops_only_the_cells_that_cannot_exist() -> None:
    parsed = parse({"strategy": ["lock", "transaction"], "store": ["json", "sqlite"]}, "x.toml")
    assert labels(parsed) == ["lock/json", "lock/sqlite", "transaction/sqlite"]
    assert parsed.axes == ("strategy", "store")
    assert [(s.strategy, s.store) for _, s in parsed.points] == [
        ("lock", "json"),
        ("lock", "sqlite"),
        ("transaction", "sqlite"),
    ]


def test_parse_does_not_change_the_document() -> None:
    document: dict[str, Any] = {"buyers": [10, 40], "repeat": 2}
    parse(document, "x.toml", {"buyers": 5})
    assert document == {"buyers": [10, 40], "repeat": 2}


# --- load(): the file itself --------------------------------------------------------------


def test_load_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: no such scenario file"


def test_load_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "folder.toml"
    path.mkdir()
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: is a directory, not a scenario file"


def test_load_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value) == "latin.toml: not UTF-8 text"


@pytest.mark.parametrize(
    "text",
    ["buyers = [10,\n", "buyers = 1\nbuyers = 2\n", "strategy = none\n", "= 3\n"],
    ids=["unclosed-list", "duplicate-key", "bare-word", "no-key"],
)
def test_load_invalid_toml(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "broken.toml", text)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value).startswith("broken.toml: not valid TOML (")


def test_load_a_file_over_one_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(b"#" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value) == "huge.toml: larger than 1 MiB; not a scenario file"


def test_load_a_file_of_exactly_one_mebibyte(tmp_path: Path) -> None:
    head = b'name = "edge"\n#'
    path = tmp_path / "edge.toml"
    path.write_bytes(head + b"x" * (MAX_FILE_BYTES - len(head) - 1) + b"\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load(path).name == "edge"


def test_load_sets_the_path_and_names_the_file_after_its_stem(tmp_path: Path) -> None:
    path = write(tmp_path / "my-sweep.toml", "buyers = [10, 40]\n")
    parsed = load(path)
    assert parsed.path == path
    assert parsed.name == "my-sweep"
    assert parsed.description == ""
    assert labels(parsed) == ["lock/json buyers=10", "lock/json buyers=40"]


def test_load_keeps_a_name_given_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "file.toml", 'name = "given"\ndescription = "why"\n')
    parsed = load(path)
    assert (parsed.name, parsed.description) == ("given", "why")


def test_load_prefixes_errors_with_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "typo.toml", 'strategy = "lok"\n')
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value) == (
        'typo.toml: strategy: unknown strategy "lok"; '
        "expected one of none, lock, filelock, manager, transaction, deferred, atomic, "
        "optimistic, queue, seatlock, seatlock-unordered, naive-tx, for-update, "
        "for-update-unordered, skip-locked, serializable, advisory, ttl-lock, fenced"
    )


def test_load_applies_overrides(tmp_path: Path) -> None:
    path = write(tmp_path / "o.toml", "buyers = [10, 40]\nrepeat = 5\n")
    parsed = load(path, {"repeat": 1, "buyers": 7})
    assert (parsed.repeat, parsed.axes, parsed.runs) == (1, (), 1)
    assert parsed.points == ((Cell("lock", "json"), Scenario(buyers=7)),)


# --- sweeps --------------------------------------------------------------------------------


def test_two_list_axes_make_every_combination() -> None:
    parsed = parse({"buyers": [10, 40], "strategy": ["none", "lock"], "repeat": 2}, "x.toml")
    assert len(parsed.points) == 4
    assert (parsed.repeat, parsed.runs) == (2, 8)
    assert parsed.axes == ("buyers", "strategy")  # the file's order
    assert labels(parsed) == [
        "none/json buyers=10",
        "none/json buyers=40",
        "lock/json buyers=10",
        "lock/json buyers=40",
    ]
    assert [(s.strategy, s.store_name, s.buyers) for _, s in parsed.points] == [
        ("none", "json", 10),
        ("none", "json", 40),
        ("lock", "json", 10),
        ("lock", "json", 40),
    ]
    assert [cell.axes for cell, _ in parsed.points] == [
        (("buyers", "10"),),
        (("buyers", "40"),),
        (("buyers", "10"),),
        (("buyers", "40"),),
    ]
    for cell, scenario in parsed.points:
        assert (cell.strategy, cell.store) == (scenario.strategy, scenario.store_name)


def test_strategy_and_store_axes_never_appear_in_a_label() -> None:
    parsed = parse(
        {"store": ["json", "sqlite"], "strategy": ["none", "lock"], "tickets": [1, 2]},
        "x.toml",
    )
    assert parsed.axes == ("store", "strategy", "tickets")
    assert labels(parsed) == [
        "none/json tickets=1",
        "none/json tickets=2",
        "none/sqlite tickets=1",
        "none/sqlite tickets=2",
        "lock/json tickets=1",
        "lock/json tickets=2",
        "lock/sqlite tickets=1",
        "lock/sqlite tickets=2",
    ]


def test_label_axes_follow_the_order_the_points_vary_in() -> None:
    parsed = parse({"think": [0, 5], "buyers": [10, 40]}, "x.toml")
    assert parsed.axes == ("think", "buyers")  # as the file gives them
    # Points vary in a fixed key order (buyers before think), the last axis fastest, and
    # each label names its axes in that same order.
    assert [cell.label for cell, _ in parsed.points] == [
        "lock/json buyers=10 think=0",
        "lock/json buyers=10 think=5",
        "lock/json buyers=40 think=0",
        "lock/json buyers=40 think=5",
    ]


def test_a_scalar_only_file_is_one_point() -> None:
    parsed = parse(
        {
            "name": "one",
            "strategy": "none",
            "store": "sqlite",
            "buyers": 10,
            "tickets": 1,
            "think": "100:300",
            "attempts": 2,
            "seed": 7,
            "timeout": 2.5,
            "arrival": {"rate": 50},
            "repeat": 4,
        },
        "x.toml",
    )
    assert parsed.axes == ()
    assert (parsed.name, parsed.repeat, parsed.runs) == ("one", 4, 4)
    assert parsed.points == (
        (
            Cell("none", "sqlite"),
            Scenario(
                strategy="none",
                store="sqlite",
                buyers=10,
                tickets=1,
                think_ms=(100.0, 300.0),
                attempts=2,
                seed=7,
                timeout_s=2.5,
                arrival=Arrival(rate=50.0),
            ),
        ),
    )


def test_an_empty_file_takes_every_default() -> None:
    parsed = parse({}, "x.toml")
    assert parsed.path is None
    assert (parsed.name, parsed.description) == ("x", "")
    assert parsed.repeat == DEFAULT_REPEAT == 3
    assert parsed.axes == ()
    assert parsed.points == ((Cell("lock", "json"), Scenario()),)
    scenario = parsed.points[0][1]
    assert (scenario.strategy, scenario.store_name) == ("lock", "json")
    assert parsed.runs == 3


def test_a_think_sweep() -> None:
    parsed = parse({"think": [0, 5]}, "x.toml")
    assert [s.think_ms for _, s in parsed.points] == [(0.0, 0.0), (5.0, 5.0)]
    assert [cell.axes for cell, _ in parsed.points] == [(("think", "0"),), (("think", "5"),)]
    assert labels(parsed) == ["lock/json think=0", "lock/json think=5"]


def test_a_think_range_in_a_label() -> None:
    parsed = parse({"think": ["1:5", 2.5]}, "x.toml")
    assert [s.think_ms for _, s in parsed.points] == [(1.0, 5.0), (2.5, 2.5)]
    assert labels(parsed) == ["lock/json think=1:5", "lock/json think=2.5"]


def test_an_arrival_sweep() -> None:
    parsed = parse(
        {"arrival": ["gate", {"rate": 200}, {"stagger_ms": [0, 50]}], "buyers": 40}, "x.toml"
    )
    assert [s.arrival for _, s in parsed.points] == [
        GATE,
        Arrival(rate=200.0),
        Arrival(stagger_ms=(0.0, 50.0)),
    ]
    assert [cell.axes for cell, _ in parsed.points] == [
        (("arrival", "gate"),),
        (("arrival", "200/s"),),
        (("arrival", "stagger 0:50ms"),),
    ]
    # An arrival names itself in a label; every other axis shows "key=value".
    assert labels(parsed) == [
        "lock/json gate",
        "lock/json 200/s",
        "lock/json stagger 0:50ms",
    ]
    assert all(s.buyers == 40 for _, s in parsed.points)


def test_an_arrival_axis_beside_a_number_axis() -> None:
    parsed = parse({"buyers": [10, 40], "arrival": ["gate", {"rate": 100}]}, "x.toml")
    assert parsed.axes == ("buyers", "arrival")
    assert labels(parsed) == [
        "lock/json buyers=10 gate",
        "lock/json buyers=10 100/s",
        "lock/json buyers=40 gate",
        "lock/json buyers=40 100/s",
    ]


def test_a_manager_lock_sweep() -> None:
    parsed = parse({"strategy": "manager", "manager_lock": [False, True]}, "x.toml")
    assert labels(parsed) == [
        "manager/json manager_lock=false",
        "manager/json manager_lock=true",
    ]
    assert [s.manager_lock for _, s in parsed.points] == [False, True]


def test_seed_and_timeout_sweeps_show_plain_numbers() -> None:
    parsed = parse({"seed": [1, 2], "timeout": [1.5, 10]}, "x.toml")
    assert labels(parsed) == [
        "lock/json seed=1 timeout=1.5",
        "lock/json seed=1 timeout=10",
        "lock/json seed=2 timeout=1.5",
        "lock/json seed=2 timeout=10",
    ]
    assert [(s.seed, s.timeout_s) for _, s in parsed.points] == [
        (1, 1.5),
        (1, 10.0),
        (2, 1.5),
        (2, 10.0),
    ]


# --- overrides (the command line) ----------------------------------------------------------


def test_an_override_replaces_a_list_axis_with_a_scalar() -> None:
    document = {"buyers": [10, 40], "strategy": ["none", "lock"], "repeat": 3}
    parsed = parse(document, "x.toml", {"repeat": 1, "buyers": 5})
    assert parsed.repeat == 1
    assert parsed.axes == ("strategy",)
    assert labels(parsed) == ["none/json", "lock/json"]
    assert [s.buyers for _, s in parsed.points] == [5, 5]
    assert parsed.runs == 2


def test_an_override_of_a_key_the_file_lacks() -> None:
    parsed = parse({"buyers": 10}, "x.toml", {"think": "0:0", "timeout": 2.5, "seed": 9})
    assert parsed.points == (
        (Cell("lock", "json"), Scenario(buyers=10, think_ms=(0.0, 0.0), timeout_s=2.5, seed=9)),
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    by_key_path(
        ({"repeat": 0}, "x.toml: repeat: must be at least 1, not 0"),
        ({"buyers": 0}, "--buyers: buyers must be between 1 and 100,000, not 0"),
        ({"think": "5:1"}, '--think: think "5:1": MIN 5 is greater than MAX 1'),
        (
            {"timeout": -1.0},
            "--timeout: timeout must be a positive number of seconds up to 604,800 (a week), "
            "not -1.0",
        ),
        ({"seed": -1}, "--seed: seed must be between 0 and 2**63-1, not -1"),
        ({"tickets": "5"}, '--tickets: expected a whole number, found "5"'),
        (
            {"frobnicate": 1},
            "x.toml: frobnicate: unknown key; expected one of name, description, repeat, "
            "max_memory, strategy, store, buyers, tickets, seats, order, pick, think, attempts, "
            "arrival, seed, "
            "timeout, json_write, manager_lock, poll_ms, retries, lock_ttl",
        ),
    ),
)
def test_an_override_is_checked_like_the_file(overrides: dict[str, Any], message: str) -> None:
    assert error_of({"buyers": [10, 40], "repeat": 2}, overrides) == message


# --- Arrival.offsets_s ---------------------------------------------------------------------


def test_a_steady_rate_spaces_buyers_evenly() -> None:
    assert Arrival(rate=200).offsets_s(4, seed=1) == (0.0, 0.005, 0.01, 0.015)
    assert Arrival(rate=200).offsets_s(0, seed=1) == ()


def test_a_stagger_is_reproducible_and_within_its_bounds() -> None:
    stagger = Arrival(stagger_ms=(10.0, 50.0))
    first = stagger.offsets_s(200, seed=1)
    assert len(first) == 200
    assert stagger.offsets_s(200, seed=1) == first
    assert stagger.offsets_s(200, seed=2) != first
    assert all(0.010 <= offset <= 0.050 for offset in first)
    assert len(set(first)) == 200  # random, not one value repeated


def test_a_zero_width_stagger_is_a_fixed_delay() -> None:
    assert Arrival(stagger_ms=(20.0, 20.0)).offsets_s(3, seed=5) == (0.02, 0.02, 0.02)


def test_the_gate_has_no_offsets() -> None:
    assert GATE.offsets_s(5, seed=1) == ()
    assert Arrival() == GATE
    assert GATE.describe() == "gate"


# --- the bundled scenarios -----------------------------------------------------------------


def test_the_bundled_scenarios_are_found() -> None:
    stems = {path.stem for path in BUNDLED_FILES}
    assert {"001-ticket-grabbing", "003-manager-dict", "004-manager-think", "flash-sale"} <= stems


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda path: path.stem)
def test_a_bundled_scenario_loads(path: Path) -> None:
    parsed = load(path)
    assert parsed.path == path
    assert parsed.name == path.stem
    assert parsed.description.strip()
    assert parsed.points
    assert parsed.repeat >= 1


def test_data_scenarios_is_the_bundled_folder() -> None:
    assert DATA_SCENARIOS.is_symlink()
    assert DATA_SCENARIOS.resolve() == BUNDLED.resolve()
    assert sorted(p.name for p in DATA_SCENARIOS.glob("*.toml")) == [p.name for p in BUNDLED_FILES]


def test_the_ticket_grabbing_seed_scenario() -> None:
    parsed = load(BUNDLED / "001-ticket-grabbing.toml")
    assert labels(parsed) == ["none/json", "lock/json"]
    for _, scenario in parsed.points:
        assert (scenario.buyers, scenario.tickets, scenario.think_ms) == (10, 1, (100.0, 300.0))


@pytest.mark.parametrize(
    ("stem", "buyers", "think_ms"),
    [("003-manager-dict", 70, (0.0, 0.0)), ("004-manager-think", 10, (100.0, 100.0))],
)
def test_the_manager_seed_scenarios(stem: str, buyers: int, think_ms: tuple[float, float]) -> None:
    parsed = load(BUNDLED / f"{stem}.toml")
    assert labels(parsed) == ["manager/json manager_lock=false", "manager/json manager_lock=true"]
    for _, scenario in parsed.points:
        assert (scenario.buyers, scenario.tickets, scenario.think_ms) == (buyers, 100, think_ms)


def test_flash_sale_runs_every_strategy_on_every_store_it_supports() -> None:
    parsed = load(BUNDLED / "flash-sale.toml")
    expected = {
        (strategy, store)
        for strategy, info in STRATEGIES.items()
        for store in STORES
        if info.supports(store) and "count" in info.sells and store not in NETWORK_STORES
    }
    assert {(cell.strategy, cell.store) for cell, _ in parsed.points} == expected
    assert len(parsed.points) == len(expected)


# --- security: the file is data ------------------------------------------------------------


def test_code_in_a_string_is_only_a_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = "__import__('os').system('touch PWNED')"
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "evil.toml", f'name = "{code}"\ndescription = "{code}"\n')
    parsed = load(Path("evil.toml"))
    assert parsed.name == code
    assert parsed.description == code
    assert not (tmp_path / "PWNED").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.toml"]


def test_code_in_a_key_is_only_an_unknown_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = "__import__('os').system('touch PWNED')"
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "evil.toml", f'"{code}" = 1\n')
    with pytest.raises(ScenarioError) as caught:
        load(Path("evil.toml"))
    # A key that is not a plain name is quoted, so the message stays one unambiguous line.
    assert str(caught.value).startswith(f'evil.toml: "{code}": unknown key; expected one of ')
    assert not (tmp_path / "PWNED").exists()


def test_poll_ms_applies_to_filelock_only() -> None:
    parsed = parse({"strategy": "filelock", "poll_ms": 50}, "x.toml")
    assert parsed.points[0][1].poll_ms == 50.0
    assert error_of({"poll_ms": 50}) == "x.toml: poll_ms: only applies to strategy filelock"
    assert error_of({"strategy": "filelock", "poll_ms": 0}).startswith("x.toml: poll_ms: poll")
    swept = parse({"strategy": ["filelock"], "poll_ms": [1, 5]}, "x.toml")
    assert [c.label for c, _ in swept.points] == [
        "filelock/json poll_ms=1",
        "filelock/json poll_ms=5",
    ]
    # The default poll is adaptive, not 5 ms: lock with any poll_ms does not exist.
    message = error_of({"strategy": ["lock", "filelock"], "poll_ms": [1, 5]})
    assert message.startswith("x.toml: strategy lock: no cell of the sweep can run it")
    assert "every value of poll_ms applies only to another strategy" in message
    assert "store" not in message  # not the strategy-needs-a-store message, with no store


def test_one_retries_for_a_strategy_sweep_is_optimistic_setting() -> None:
    # As compare's --retries: the optimistic cells use it, the others ignore it.
    parsed = parse({"strategy": ["lock", "optimistic"], "retries": 2}, "x.toml")
    assert [(s.strategy, s.retries) for _, s in parsed.points] == [
        ("lock", 3),
        ("optimistic", 2),
    ]
    assert error_of({"strategy": "lock", "retries": 2}) == (
        "x.toml: retries: only applies to strategies optimistic, for-update-unordered, "
        "serializable, fenced"
    )
    swept = parse({"strategy": "optimistic", "retries": [0, 3]}, "x.toml")
    assert [c.label for c, _ in swept.points] == [
        "optimistic/json retries=0",
        "optimistic/json retries=3",
    ]


def test_one_lock_ttl_for_a_strategy_sweep_is_the_ttl_locks_setting() -> None:
    parsed = parse(
        {"store": "redis", "strategy": ["none", "ttl-lock", "fenced"], "lock_ttl": 2}, "x.toml"
    )
    assert [(s.strategy, s.lock_ttl_ms) for _, s in parsed.points] == [
        ("none", None),
        ("ttl-lock", 2),
        ("fenced", 2),
    ]
    assert error_of({"strategy": "lock", "lock_ttl": 2}) == (
        "x.toml: lock_ttl: only applies to strategy ttl-lock or fenced"
    )
    assert error_of({"store": "redis", "strategy": "ttl-lock", "lock_ttl": 0}).startswith(
        "x.toml: lock_ttl: lock ttl must be"
    )
    swept = parse({"store": "redis", "strategy": "ttl-lock", "lock_ttl": [1, 50]}, "x.toml")
    assert [c.label for c, _ in swept.points] == [
        "ttl-lock/redis lock_ttl=1",
        "ttl-lock/redis lock_ttl=50",
    ]
