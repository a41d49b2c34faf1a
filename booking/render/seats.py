"""A seat run's map, drawn: a grid for the terminal after `booking run --seats`, and the
heat map of the HTML report. One vocabulary (a glyph, a word, a colour per state of
`Result.seat_map`) serves both, so the page and the terminal name a seat alike.

The terminal grid is plain ASCII on purpose: it reads the same on a UTF-8 terminal, a
latin-1 one and a pipe, and needs no stand-ins; colour comes from rich styles, which rich
drops where the console has none. A map wider than the console is never wrapped: it is
summed up one line a row instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from booking.judge.result import Result
from booking.seating import Shape, parse_seats
from booking.words import plural

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


@dataclass(frozen=True)
class SeatState:
    """How one state of `Result.seat_map` is shown."""

    glyph: str  # the terminal's cell (ASCII)
    word: str  # the legend's word
    counted: str  # the count line's word ("38 sold, 2 double-booked")
    meaning: str  # the tooltip's words ("C7: sold · 5 buyers tried")
    style: str  # rich style; dropped where the console has no colour
    css: str  # the report's class for the cell


#: In the order the count line and the legends list them; free last.
STATES: dict[str, SeatState] = {
    "S": SeatState("#", "sold", "sold", "sold", "green", "st-sold"),
    "D": SeatState(
        "X", "double-booked", "double-booked", "double-booked", "bold white on red", "st-double"
    ),
    "L": SeatState(
        "!",
        "lost",
        "lost",
        "lost (a receipt names it, the store does not)",
        "bold black on yellow",
        "st-lost",
    ),
    "U": SeatState(
        "u",
        "held, no receipt",
        "no receipt",
        "held by a buyer of this run without a receipt",
        "magenta",
        "st-unpaid",
    ),
    "O": SeatState(
        "o",
        "other/earlier run",
        "held by others",
        "held before the run or by another run",
        "cyan",
        "st-other",
    ),
    ".": SeatState(".", "free", "free", "free", "dim", "st-free"),
}
#: Shown in every legend: the two states any seat run has words for.
ALWAYS = ("S", ".")
#: Unknown characters (a record from a newer booking) are shown, never dropped.
UNKNOWN = SeatState(
    "?", "unknown", "unknown", "in a state this booking does not know", "bold", "st-unknown"
)
#: The report's heat levels: h0 (no buyer tried) to h5 (the most fought-for seats).
HEAT_LEVELS = 5
LABEL = 2  # the row letter and a space before the cells


def state(char: str) -> SeatState:
    return STATES.get(char, UNKNOWN)


def seat_shape(result: Result) -> Shape | None:
    """The shape of a seat run whose map was recorded whole; None for a count run, or a
    map that does not fit its shape (nothing is drawn that would misplace a seat)."""
    if result.seats is None or result.seat_map is None:
        return None
    try:
        shape = parse_seats(result.seats)
    except ValueError:
        return None
    return shape if len(result.seat_map) == shape.size else None


def count_line(seat_map: Sequence[str], free_now: int | None = None) -> str:
    """ "50 seats: 38 sold, 2 double-booked, 10 free": the states there are, in legend order.
    A double-booked or lost seat may stand free in the store: `free_now` (the store's own
    count) is then said too, so the line never contradicts the run's "remaining"."""
    counts = Counter(seat_map)
    held = [(counts[c], STATES[c].counted) for c in STATES if c != "."]
    held.append((sum(n for c, n in counts.items() if c not in STATES), UNKNOWN.counted))
    said = [f"{n:,} {word}" for n, word in [*held, (counts["."], "free")] if n]
    line = f"{plural(len(seat_map), 'seat')}: {', '.join(said)}"
    if free_now is not None and free_now != counts["."]:
        line += f" ({free_now:,} free in the store, counting double-booked and lost seats)"
    return line


def present(seat_map: Sequence[str]) -> list[SeatState]:
    """The legend's states: sold and free always, the others where the map has them."""
    there = set(seat_map)
    shown = [s for c, s in STATES.items() if c in ALWAYS or c in there]
    return shown + ([UNKNOWN] if there - STATES.keys() else [])


def legend(seat_map: Sequence[str]) -> Text:
    """One line: each glyph in its colour and its word."""
    from rich.text import Text

    line = Text()
    for i, shown in enumerate(present(seat_map)):
        line.append("  " if i else "")
        line.append(shown.glyph, style=shown.style)
        line.append(f" {shown.word}")
    return line


def header(cols: int) -> str:
    """The column numbers, compact: every one up to 9 seats a row; beyond, 1 and every
    fifth, each ending above its own seat."""
    if cols < 10:
        return " " * LABEL + "".join(str(c) for c in range(1, cols + 1))
    cells = [" "] * cols
    for c in [1, *range(5, cols + 1, 5)]:
        number = str(c)
        cells[c - len(number) : c] = number
    return " " * LABEL + "".join(cells).rstrip()


def grid_lines(shape: Shape, seat_map: Sequence[str]) -> list[Text]:
    """The header and one line a row ("A ##X.."), each cell styled by its state."""
    from rich.text import Text

    lines = [Text(header(shape.cols), style="dim")]
    for row in range(shape.rows):
        line = Text.assemble((chr(ord("A") + row), "bold"), " ")
        for seat in seat_map[row * shape.cols : (row + 1) * shape.cols]:
            shown = state(seat)
            line.append(shown.glyph, style=shown.style)
        lines.append(line)
    return lines


def grid_width(shape: Shape) -> int:
    return LABEL + shape.cols


def row_lines(shape: Shape, seat_map: Sequence[str], width: int) -> list[Text]:
    """One line a row, for a map wider than the console: each state's count, then as many
    double-booked or lost seats (where the trouble is) as fit in `width`, and how many more."""
    from rich.text import Text

    chars = [c for c in STATES if c in ALWAYS or c in seat_map]
    words = [STATES[c].counted for c in chars]
    counts = [Counter(seat_map[r * shape.cols : (r + 1) * shape.cols]) for r in range(shape.rows)]
    widths = [
        max(len(w), *(len(str(n[c])) for n in counts)) for c, w in zip(chars, words, strict=True)
    ]
    trouble = [c for c in "DL" if c in seat_map]
    head = Text("row", style="dim")
    for word, wide in zip(words, widths, strict=True):
        head.append(f" {word:>{wide}}", style="dim")
    if trouble:
        head.append(" " + "/".join(STATES[c].word for c in trouble) + " seats", style="dim")
    lines = [head]
    for row in range(shape.rows):
        line = Text.assemble((chr(ord("A") + row), "bold"), "  ")
        for c, wide in zip(chars, widths, strict=True):
            n = counts[row][c]
            line.append(f" {n:>{wide}}", style=STATES[c].style if n and c != "." else "")
        first = row * shape.cols
        names = [shape.name(first + i) for i in range(shape.cols) if seat_map[first + i] in "DL"]
        line.append(_fitting(names, width - len(line)))
        lines.append(line)
    return lines


def _fitting(names: list[str], room: int) -> str:
    """ " A7 A12 +3": the names that fit in `room` characters, and how many did not."""
    shown = ""
    for i, name in enumerate(names):
        rest = f" +{len(names) - i - 1}" if i < len(names) - 1 else ""
        if len(shown) + 1 + len(name) + len(rest) > room:
            cut = f" +{len(names) - i}"
            return shown + cut if len(shown) + len(cut) <= room else shown
        shown += " " + name
    return shown


def print_seats(console: Console, result: Result) -> None:
    """The seat map after a seat run's summary: the grid (or, wider than the console, a
    line a row), the legend and the count. A count run prints nothing."""
    from rich.text import Text

    if result.seats is None:
        return
    shape = seat_shape(result)
    if shape is None or result.seat_map is None:
        console.print(Text(f"seats {result.seats}: the map after the run was not recorded."))
        return
    seat_map = result.seat_map
    if grid_width(shape) <= console.width:
        for line in grid_lines(shape, seat_map):
            console.print(line, no_wrap=True, crop=False)
    else:
        console.print(
            Text(
                f"{shape.cols} seats a row do not fit {console.width} columns: "
                "one line a row instead.",
                style="dim",
            )
        )
        for line in row_lines(shape, seat_map, console.width):
            console.print(line, no_wrap=True, crop=False)
    console.print(legend(seat_map))
    console.print(Text(count_line(seat_map, result.remaining)))


# --- the report's heat map ---------------------------------------------------------------


@dataclass(frozen=True)
class SeatCell:
    name: str  # "C7"
    css: str  # "seat st-sold h3"
    glyph: str  # the state's mark, shown in the cell ("" for sold and free: the heat says it)
    tip: str  # "C7: sold · 5 buyers tried"


@dataclass(frozen=True)
class HeatMap:
    """The report's "Seats" section: the cells row by row, and its two legends."""

    shape: str
    cols: list[int]
    rows: list[tuple[str, list[SeatCell]]]
    count: str
    states: list[tuple[str, str, str]]  # (css, glyph, word)
    heat: list[tuple[str, str]]  # (css, "3-4 buyers")
    most: int  # the most buyers that tried for one seat


def heat_level(fights: int, most: int) -> int:
    """0 for a seat no buyer tried; else 1..HEAT_LEVELS, the count itself up to that many
    buyers a seat, beyond it the share of the most fought-for seat's count."""
    if fights <= 0:
        return 0
    if most <= HEAT_LEVELS:
        return fights
    return -(-fights * HEAT_LEVELS // most)


def heat_legend(most: int) -> list[tuple[str, str]]:
    """Each level's class and the buyers it stands for, the levels no count falls in left out."""
    spans: dict[int, list[int]] = {}
    for fights in range(1, most + 1):
        spans.setdefault(heat_level(fights, most), []).append(fights)
    shown = [("h0", "no buyer")]
    for level, counts in spans.items():
        low, high = counts[0], counts[-1]
        words = plural(low, "buyer") if low == high else f"{low}-{high} buyers"
        shown.append((f"h{level}", words))
    return shown


def heat_map(result: Result) -> HeatMap | None:
    """The seat map of the report; None for a count run or a map not recorded whole."""
    shape = seat_shape(result)
    if shape is None or result.seat_map is None:
        return None
    fights = list(result.seat_fights or [])
    fights = fights + [0] * (shape.size - len(fights)) if len(fights) < shape.size else fights
    most = max(fights[: shape.size], default=0)
    rows = []
    for row in range(shape.rows):
        cells = []
        for col in range(shape.cols):
            seat = row * shape.cols + col
            shown, tried = state(result.seat_map[seat]), fights[seat]
            marked = result.seat_map[seat] not in "S."
            cells.append(
                SeatCell(
                    name=shape.name(seat),
                    css=f"seat {shown.css} h{heat_level(tried, most)}",
                    glyph=shown.glyph if marked else "",
                    tip=f"{shape.name(seat)}: {shown.meaning} · {_tried(tried)}",
                )
            )
        rows.append((chr(ord("A") + row), cells))
    return HeatMap(
        shape=str(shape),
        cols=list(range(1, shape.cols + 1)),
        rows=rows,
        count=count_line(result.seat_map, result.remaining),
        states=[
            (s.css, s.glyph if s.css not in {"st-sold", "st-free"} else "", s.word)
            for s in present(result.seat_map)
        ],
        heat=heat_legend(most),
        most=most,
    )


def _tried(buyers: int) -> str:
    if buyers == 0:
        return "no buyer tried"
    return f"{plural(buyers, 'buyer')} tried"
