"""`booking run --seats`: bad seat options are one clear line and exit 2, a store of the
other shape is refused untouched, and the record and the grid say what was sold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from booking.cli.app import app
from tests.cli.test_bad_input import assert_usage_error, invoke


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--seats", "0x5"], "rows must be 1 to 26"),
        (["--seats", "abc"], "expected ROWSxCOLS"),
        (
            ["--seats", "5x10", "--order", "0"],
            "order must be between 1 and 50 seats (the seats of the map), not 0",
        ),
        (["--seats", "5x10", "--order", "11", "--pick", "together"], "does not fit in a row of 10"),
        (["--seats", "5x10", "--tickets", "4"], "--tickets and --seats do not go together"),
        (["--seats", "5x10", "--pick", "aisle"], 'unknown pick "aisle"'),
        (["--order", "2"], "--order only applies to a seat map"),
        (["--seats", "26x100", "--order", "101"], "order must be between 1 and 100 seats, not 101"),
        (["--strategy", "seatlock"], "sells seats: add --seats"),
    ],
)
def test_bad_seat_options_exit_2_with_one_line(args: list[str], says: str) -> None:
    line = assert_usage_error(invoke(args))
    assert says in line


@pytest.mark.parametrize("suffix", [".json", ".db"])
def test_a_store_of_the_other_shape_is_refused_untouched(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"tickets{suffix}"
    assert invoke(["--path", str(path), "--tickets", "5"]).exit_code == 0
    before = path.read_bytes()
    line = assert_usage_error(invoke(["--path", str(path), "--seats", "2x3"]))
    assert "--reset" in line
    assert path.read_bytes() == before
    # And a seat map refuses a count run, until --reset rebuilds it.
    seats = tmp_path / f"seats{suffix}"
    assert invoke(["--path", str(seats), "--seats", "2x3"]).exit_code == 0
    before = seats.read_bytes()
    line = assert_usage_error(invoke(["--path", str(seats)]))
    assert "seat map" in line and seats.read_bytes() == before
    assert invoke(["--path", str(seats), "--reset", "--tickets", "3"]).exit_code == 0


def test_a_seat_map_of_another_size_is_refused_until_reset(tmp_path: Path) -> None:
    path = tmp_path / "seats.json"
    assert invoke(["--path", str(path), "--seats", "2x3"]).exit_code == 0
    before = path.read_bytes()
    line = assert_usage_error(invoke(["--path", str(path), "--seats", "3x3"]))
    assert "2x3" in line and path.read_bytes() == before
    assert invoke(["--path", str(path), "--seats", "3x3", "--reset"]).exit_code == 0
    assert len(json.loads(path.read_text())["seats"]) == 9


def test_the_json_record_carries_the_seat_keys() -> None:
    result = invoke(["--seats", "2x3", "--order", "2", "--strategy", "lock", "--json",
                     "--buyers", "4"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["seats"], record["order"], record["pick"]) == ("2x3", 2, "best")
    assert (record["double_booked"], record["partial_orders"], record["lost_seats"]) == (0, 0, 0)
    assert record["seat_map"].count("S") == record["sold"] == 6
    assert len(record["seat_fights"]) == 6
    assert record["verdict"] == "SAFE"


def test_the_summary_ends_with_the_seat_grid() -> None:
    result = CliRunner().invoke(
        app, ["run", "--seats", "2x3", "--buyers", "3", "--think", "0", "--strategy", "lock"],
        prog_name="booking",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "2x3 seats (6 free) · orders of 1, best picks" in lines[0]
    assert "A ###" in lines and "B ..." in lines
    assert lines[-1] == "6 seats: 3 sold, 3 free"


def test_explore_says_it_races_a_count_not_seats() -> None:
    result = CliRunner().invoke(app, ["explore", "--strategy", "seatlock"], prog_name="booking")
    line = assert_usage_error(result)
    assert 'explore races a ticket count; strategy "seatlock" sells seats' in line


def test_compare_on_seats_counts_double_bookings_per_cell() -> None:
    result = CliRunner().invoke(
        app,
        ["compare", "--seats", "2x3", "--order", "2", "--strategies", "none,seatlock",
         "--stores", "sqlite", "--repeat", "1", "--buyers", "6", "--think", "60:80",
         "--format", "json"],
        prog_name="booking",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    cells = {cell["strategy"]: cell for cell in json.loads(result.stdout)}
    assert cells["none"]["double_booked_max"] >= 1  # the wide think: all read, then all write
    assert cells["seatlock"]["double_booked_max"] == 0
    assert cells["none"]["seats"] == "2x3" and cells["none"]["order"] == 2
    table = CliRunner().invoke(
        app,
        ["compare", "--seats", "2x3", "--strategies", "lock", "--stores", "json",
         "--repeat", "1", "--buyers", "2", "--think", "0"],
        prog_name="booking",
    )  # fmt: skip
    assert "double-booked" in table.stdout and "oversold" not in table.stdout.split("\n")[1]
