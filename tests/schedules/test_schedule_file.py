"""Schedule files: what `explore --save-schedule` writes and `replay` reads, refused whole
(before any run) when they come from another booking, name buyers or steps the workload
does not have, or are not a schedule file at all."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from booking import __version__
from booking.errors import ScenarioError
from booking.schedules.counterexample import Counterexample
from booking.schedules.exploration import explore
from booking.schedules.model import POINTS, Step
from booking.schedules.schedule_file import FORMAT, KIND, MAX_STEPS, dumps, load_schedule, loads
from booking.schedules.workload import Workload


@pytest.fixture(scope="module")
def counterexample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counterexample]:
    """The shrunk oversell of `none`, 2 buyers x 1 ticket, found once for the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("explore")))
        found = explore("none", seed=5).counterexample
    assert found is not None
    yield found


@pytest.fixture
def document(counterexample: Counterexample) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(dumps(counterexample, __version__))
    return data


def text_of(document: dict[str, Any]) -> str:
    return json.dumps(document)


def refusal(text: str, origin: str = "saved.json") -> str:
    with pytest.raises(ScenarioError) as raised:
        loads(text, __version__, origin)
    message = str(raised.value)
    assert message.startswith(f"{origin}: "), message
    assert "\n" not in message
    return message


# --- what is written ---------------------------------------------------------------------


def test_the_file_says_what_it_is_and_who_wrote_it(
    counterexample: Counterexample, document: dict[str, Any]
) -> None:
    assert (document["kind"], document["format"], document["booking"]) == (
        KIND,
        FORMAT,
        __version__,
    )
    assert document["workload"] == counterexample.workload.to_dict()
    assert document["story"] == counterexample.story()
    assert document["record"]["verdict"] == "OVERSOLD"
    assert document["schedule"][0] == {"buyer": 0, "step": "look", "attempt": 0, "value": 1}
    for entry in document["schedule"]:
        assert entry["step"] in POINTS
        assert set(entry) <= {"buyer", "step", "attempt", "value", "blocked"}


def test_the_file_is_readable_text(counterexample: Counterexample) -> None:
    text = dumps(counterexample, __version__)
    assert text.endswith("}\n")
    assert "\u00b7" in text  # the story's middle dots, not \u escapes
    assert text.count("\n") > len(counterexample.steps)  # indented, one key a line


def test_what_is_written_is_read_back(counterexample: Counterexample, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(dumps(counterexample, __version__), encoding="utf-8")
    workload, steps = load_schedule(path)
    assert workload == counterexample.workload
    assert steps == counterexample.steps


def test_a_blocked_step_is_written_and_read_back(counterexample: Counterexample) -> None:
    workload = Workload("lock", seed=1)
    steps = [Step(0, "look", 0, 1), Step(0, "acquire"), Step(1, "acquire", 0, -1, True)]
    example = Counterexample(workload, steps, counterexample.record, 1)
    text = dumps(example, __version__)
    assert json.loads(text)["schedule"][2] == {
        "buyer": 1,
        "step": "acquire",
        "attempt": 0,
        "blocked": True,
    }
    assert loads(text, __version__, "x") == (workload, steps)


def test_missing_optional_keys_take_their_defaults(document: dict[str, Any]) -> None:
    document["schedule"] = [{"buyer": 1, "step": "look"}]
    _, steps = loads(text_of(document), __version__, "x")
    assert steps == [Step(1, "look", 0, -1, False)]


# --- another booking ---------------------------------------------------------------------


def test_a_file_from_another_booking_is_refused_naming_both_versions(
    document: dict[str, Any],
) -> None:
    document["booking"] = "0.0.9"
    message = refusal(text_of(document))
    assert "saved by booking 0.0.9" in message
    assert f"this is booking {__version__}" in message
    assert "explore again" in message


def test_a_file_of_another_format_is_refused(document: dict[str, Any]) -> None:
    document["format"] = FORMAT + 1
    assert f"(format {FORMAT + 1})" in refusal(text_of(document))


def test_a_file_that_names_no_version_is_refused(document: dict[str, Any]) -> None:
    del document["booking"]
    assert "saved by booking None" in refusal(text_of(document))


def test_the_version_is_checked_before_the_rest(document: dict[str, Any]) -> None:
    document["booking"] = "9.9.9"
    document["schedule"] = [{"buyer": 5, "step": "sleep"}]
    assert "saved by booking 9.9.9" in refusal(text_of(document))


# --- not a schedule file -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not a schedule file (not JSON: "),
        ("", "not a schedule file (not JSON: "),
        ("[1, 2]", "not a schedule file (booking explore --save-schedule)"),
        ('{"kind": "booking-run"}', "not a schedule file (booking explore --save-schedule)"),
        ('"booking-schedule"', "not a schedule file"),
    ],
)
def test_what_is_not_a_schedule_file_is_refused(text: str, message: str) -> None:
    assert message in refusal(text)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(ScenarioError, match=r"absent\.json: No such file or directory"):
        load_schedule(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(b'{"kind": "\xff\xfe"}')
    with pytest.raises(ScenarioError, match=r"binary\.json: not a schedule file \(not UTF-8"):
        load_schedule(path)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="Is a directory"):
        load_schedule(tmp_path)


# --- the workload and the steps, key by key ----------------------------------------------


def set_in(*keys: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        target: Any = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def delete(*keys: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        target: Any = document
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit


EDITS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("no workload", delete("workload"), "the workload must be an object"),
    (
        "workload key",
        set_in("workload", "colour", value="red"),
        "unknown workload key 'colour'",
    ),
    ("too many buyers", set_in("workload", "buyers", value=9), "buyers must be between 1 and 8"),
    ("unknown strategy", set_in("workload", "strategy", value="nope"), 'unknown strategy "nope"'),
    ("no schedule", delete("schedule"), "the schedule must be a list of 1 to 100,000 steps"),
    ("empty schedule", set_in("schedule", value=[]), "the schedule must be a list of 1"),
    ("schedule object", set_in("schedule", value={"0": {}}), "the schedule must be a list"),
    ("step not object", set_in("schedule", 0, value=[0, "look"]), "step 1 is not an object"),
    (
        "unknown buyer",
        set_in("schedule", 2, "buyer", value=5),
        "step 3 grants buyer 5, but the workload has buyers 0 to 1",
    ),
    ("negative buyer", set_in("schedule", 0, "buyer", value=-1), "grants buyer -1"),
    ("buyer bool", set_in("schedule", 0, "buyer", value=True), "buyer must be a whole number"),
    ("buyer text", set_in("schedule", 0, "buyer", value="0"), "buyer must be a whole number"),
    ("no buyer", delete("schedule", 0, "buyer"), "buyer must be a whole number, not None"),
    (
        "unknown step",
        set_in("schedule", 1, "step", value="sleep"),
        "step 2: unknown step 'sleep'; expected one of look, acquire, read, write",
    ),
    ("no step", delete("schedule", 1, "step"), "unknown step None"),
    ("unknown key", set_in("schedule", 0, "colour", value=1), "has an unknown key 'colour'"),
    (
        "attempt beyond",
        set_in("schedule", 0, "attempt", value=1),
        "attempt 1 is beyond the workload's attempts",
    ),
    ("value float", set_in("schedule", 0, "value", value=1.0), "value must be a whole number"),
    ("blocked text", set_in("schedule", 0, "blocked", value="yes"), "blocked must be true or"),
]


@pytest.mark.parametrize(("edit", "message"), [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_a_bad_workload_or_step_is_refused(
    document: dict[str, Any], edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    edit(document)
    assert message in refusal(text_of(document))


def test_a_schedule_too_long_is_refused_before_its_steps_are_read(
    document: dict[str, Any],
) -> None:
    document["schedule"] = [None] * (MAX_STEPS + 1)
    assert "a list of 1 to 100,000 steps" in refusal(text_of(document))
