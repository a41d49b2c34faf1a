"""A seat run shown to a person (issue 15): the terminal grid after the summary (plain on a
pipe, coloured on a terminal, ASCII on a terminal that is not UTF-8, a line a row when the
map is wider than the console) and the heat map of the HTML report. A count run shows
neither. Every result is built by hand: no buyer is started."""

from __future__ import annotations

import io
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from booking.judge.result import Result
from booking.render import run as render_run
from booking.render import seats
from booking.render.report import render_run as report_page
from tests.comparison.fakes import make_result

ROOT = Path(__file__).resolve().parents[2]  # for the subprocess that imports this module

#: One seat in each state, row-major: A1 sold, A2 double-booked, A3 lost, B1 held without a
#: receipt, B2 held before the run or by another run, B3 free.
EACH = ["S", "D", "L", "U", "O", "."]
FIGHTS = [1, 3, 2, 1, 0, 0]


def seat_result(shape: str = "2x3", seat_map: list[str] | None = None, **more: Any) -> Result:
    """A double-booked seat run of `shape`; by default one seat in each state."""
    fields: dict[str, Any] = {
        "seats": shape, "order": 1, "pick": "best", "verdict": "DOUBLE_BOOKED",
        "double_booked": 1, "lost_seats": 1,
        "seat_map": EACH if seat_map is None else seat_map,
        "seat_fights": FIGHTS if seat_map is None else [0] * len(seat_map),
        "explanation": ["1 seat double-booked.", "Buyer 3 and buyer 5 both hold A2."],
    }  # fmt: skip
    # The store's free seats agree with the map's, as a run's record does when no
    # double-booked or lost seat stands free.
    fields["remaining"] = fields["seat_map"].count(".")
    return make_result(**{**fields, **more})


def summary_of(result: Result) -> str:
    out = io.StringIO()  # not a terminal: the pipe's plain text
    render_run.summary(result, file=out)
    return out.getvalue()


GRID_2X3 = """\
  123
A #X!
B uo.
# sold  X double-booked  ! lost  u held, no receipt  o other/earlier run  . free
6 seats: 1 sold, 1 double-booked, 1 lost, 1 no receipt, 1 held by others, 1 free
"""


def test_the_grid_follows_the_summary_one_cell_a_seat_in_plain_ascii() -> None:
    text = summary_of(seat_result())
    before, grid = text.split("Buyer 3 and buyer 5 both hold A2.\n")
    assert grid == GRID_2X3
    assert before.startswith("lock on a fresh json store")
    assert "\x1b" not in text  # a pipe gets no colour codes
    grid.encode("ascii")  # nothing a terminal that is not UTF-8 needs a stand-in for


def test_the_legend_names_only_the_states_there_are_sold_and_free_always() -> None:
    grid = summary_of(seat_result(seat_map=["S", "S", ".", "D", "S", "."])).splitlines()
    assert grid[-4:] == [
        "A ##.",
        "B X#.",
        "# sold  X double-booked  . free",
        "6 seats: 3 sold, 1 double-booked, 2 free",
    ]


def test_on_a_colour_terminal_a_double_booked_seat_is_red_and_a_lost_one_yellow() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="standard", width=80)
    seats.print_seats(console, seat_result())
    coloured = screen.getvalue()
    assert "\x1b[1;37;41mX\x1b[0m" in coloured  # bold white on red
    assert "\x1b[1;30;43m!\x1b[0m" in coloured  # bold black on yellow
    assert "\x1b[1mA\x1b[0m \x1b[32m#" in coloured  # the row letter's bold stops at the letter


def test_a_terminal_that_is_not_utf8_prints_the_grid_as_it_is() -> None:
    """A real ASCII stdout, as `booking run` sets it up (the summary's own `·` stands in)."""
    program = (
        "import sys; from booking.cli.encoding import degrade_gracefully; degrade_gracefully()\n"
        "from booking.render.run import summary; from tests.render.test_seats import seat_result\n"
        "summary(seat_result())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, timeout=60, check=False,
        env={"PYTHONIOENCODING": "ascii", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")
    text = done.stdout.decode("ascii")
    assert "lock on a fresh json store - 10 buyers" in text
    assert text.endswith(GRID_2X3)


def test_the_column_numbers_stay_compact_and_end_above_their_seats() -> None:
    assert seats.header(3) == "  123"
    assert seats.header(12) == "  1   5   10"
    wide = seats.header(100)
    assert wide.index("100") + 2 == seats.LABEL + 99  # "100" ends above seat 100
    assert wide.index(" 95 ") + 2 == seats.LABEL + 94


def test_a_map_wider_than_the_console_is_summed_up_a_line_a_row_never_wrapped() -> None:
    row = ["S"] * 50 + ["D"] * 40 + ["L"] * 5 + ["."] * 5
    seat_map = row + ["S"] * 100 + ["."] * 100
    screen = io.StringIO()
    seats.print_seats(Console(file=screen, width=80), seat_result("3x100", seat_map))
    lines = screen.getvalue().splitlines()
    assert lines[0] == "100 seats a row do not fit 80 columns: one line a row instead."
    assert lines[1] == "row sold double-booked lost free double-booked/lost seats"
    counts, _, trouble = lines[2].partition(" A51 ")
    assert counts == "A     50            40    5    5"
    *named, more = f"A51 {trouble}".split()
    assert named == [f"A{n}" for n in range(51, 51 + len(named))]  # in seat order
    assert more == f"+{45 - len(named)}"  # as many as fit, and how many did not
    assert lines[3] == "B    100             0    0    0"
    assert lines[4] == "C      0             0    0  100"
    assert lines[-1] == "300 seats: 150 sold, 40 double-booked, 5 lost, 105 free"
    assert max(len(line) for line in lines) <= 80
    assert len(lines[2]) >= 76  # the room was used
    assert not any("#" * 50 in line for line in lines)  # no grid line, wrapped or whole


def test_the_same_wide_map_on_a_pipe_of_120_columns_is_a_grid() -> None:
    seat_map = ["S"] * 100 + ["."] * 99 + ["D"]
    grid = summary_of(seat_result("2x100", seat_map)).splitlines()
    assert grid[-4] == "A " + "#" * 100
    assert grid[-3] == "B " + "." * 99 + "X"


def test_a_seat_run_whose_map_is_missing_says_so_in_one_line() -> None:
    text = summary_of(make_result(seats="2x3", seat_map=None, explanation=["x"]))
    assert text.endswith("seats 2x3: the map after the run was not recorded.\n")


def test_a_count_run_prints_nothing_new(monkeypatch: pytest.MonkeyPatch) -> None:
    count_run = make_result(explanation=["fine", "last words"])
    before = summary_of(count_run)
    assert before.endswith("\nlast words\n")

    def drawn(*_: object) -> None:
        raise AssertionError("a count run drew a seat map")

    monkeypatch.setattr(seats, "print_seats", drawn)
    assert summary_of(count_run) == before
    page = report_page(count_run, None)
    assert 'class="seatmap"' not in page and "<h3>Seats</h3>" not in page


# --- the report's heat map -----------------------------------------------------------------


class Cells(HTMLParser):
    """Each seat cell's attributes, in page order, and the text inside each."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str | None]] = []
        self.glyphs: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self._in_cell = tag == "td" and "seat" in (found.get("class") or "").split()
        if self._in_cell:
            self.cells.append(found)
            self.glyphs.append("")

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.glyphs[-1] += data

    def handle_endtag(self, tag: str) -> None:
        self._in_cell = False


def cells_of(page: str) -> Cells:
    parsed = Cells()
    parsed.feed(page)
    return parsed


def test_the_report_draws_one_cell_a_seat_with_its_state_heat_and_tip() -> None:
    page = report_page(seat_result(), None)
    assert "<h3>Seats</h3>" in page
    parsed = cells_of(page)
    assert [c["data-seat"] for c in parsed.cells] == ["A1", "A2", "A3", "B1", "B2", "B3"]
    assert [c["data-tip"] for c in parsed.cells] == [
        "A1: sold · 1 buyer tried",
        "A2: double-booked · 3 buyers tried",
        "A3: lost (a receipt names it, the store does not) · 2 buyers tried",
        "B1: held by a buyer of this run without a receipt · 1 buyer tried",
        "B2: held before the run or by another run · no buyer tried",
        "B3: free · no buyer tried",
    ]
    assert [c["class"] for c in parsed.cells] == [
        "seat st-sold h1",
        "seat st-double h3",
        "seat st-lost h2",
        "seat st-unpaid h1",
        "seat st-other h0",
        "seat st-free h0",
    ]
    assert parsed.glyphs == ["", "X", "!", "u", "o", ""]  # marked beyond the colour
    assert (
        "6 seats: 1 sold, 1 double-booked, 1 lost, 1 no receipt, 1 held by others, 1 free" in page
    )
    assert 'data-seats="2x3"' in page


def test_the_heat_is_the_count_up_to_five_buyers_beyond_it_a_share_of_the_most() -> None:
    assert [seats.heat_level(n, 5) for n in range(6)] == [0, 1, 2, 3, 4, 5]
    assert [seats.heat_level(n, 10) for n in (0, 1, 2, 3, 5, 6, 9, 10)] == [0, 1, 1, 2, 3, 3, 5, 5]
    assert seats.heat_legend(3) == [
        ("h0", "no buyer"),
        ("h1", "1 buyer"),
        ("h2", "2 buyers"),
        ("h3", "3 buyers"),
    ]
    assert seats.heat_legend(10)[1:] == [
        ("h1", "1-2 buyers"),
        ("h2", "3-4 buyers"),
        ("h3", "5-6 buyers"),
        ("h4", "7-8 buyers"),
        ("h5", "9-10 buyers"),
    ]


def test_the_report_shades_a_large_map_by_its_most_fought_for_seat() -> None:
    seat_map = ["S"] * 20
    fights = list(range(20))  # the most: 19 buyers, for B10
    page = report_page(seat_result("2x10", seat_map, seat_fights=fights), None)
    classes = [c["class"] for c in cells_of(page).cells]
    assert len(classes) == 20
    assert classes[0] == "seat st-sold h0" and classes[-1] == "seat st-sold h5"
    assert classes[4] == "seat st-sold h2"  # 4 of 19: the second fifth
    assert '<li><span class="seat st-sold h5" aria-hidden="true"></span>16-19 buyers</li>' in page


def test_the_count_says_the_store_s_free_seats_when_they_differ_from_the_map_s() -> None:
    # A3 was double-booked and A4 lost, and both stand free in the store.
    result = seat_result("1x5", ["S", "S", "D", "L", "."], remaining=3)
    assert summary_of(result).splitlines()[-1] == (
        "5 seats: 2 sold, 1 double-booked, 1 lost, 1 free "
        "(3 free in the store, counting double-booked and lost seats)"
    )
