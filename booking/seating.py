"""Seat maps: a shape of ROWS x COLS named seats (A1 ... J20), who holds each, and how a
buyer picks the seats of an order. Plain values shared by stores, strategies, the judge
and the renderers, so none of them owns the naming.

A seat is named by its row letter and its 1-based column ("C7"); inside booking a seat
is its index in row-major order (row * cols + col). A holder is the text
"<run id>/<buyer>", so a store shared by several runs still says whose each seat is.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_ROWS = 26  # one letter a row
MAX_COLS = 100
PICKS = ("best", "random", "together")
#: The most seats one order takes: their names fit one report frame (engine/frames.py).
MAX_ORDER = 100
_SHAPE = re.compile(r"\s*(\d{1,4})\s*[xX×]\s*(\d{1,4})\s*")
_NAME = re.compile(r"([A-Z])([1-9][0-9]{0,2})")


@dataclass(frozen=True)
class Shape:
    """A seat map of `rows` rows of `cols` seats."""

    rows: int
    cols: int

    @property
    def size(self) -> int:
        return self.rows * self.cols

    def __str__(self) -> str:
        return f"{self.rows}x{self.cols}"

    def name(self, index: int) -> str:
        row, col = divmod(index, self.cols)
        return f"{chr(ord('A') + row)}{col + 1}"

    def names(self, seats: Sequence[int] | None = None) -> list[str]:
        return [self.name(i) for i in (range(self.size) if seats is None else seats)]

    def index(self, name: str) -> int | None:
        """The index of seat `name`, or None when this map has no such seat."""
        found = _NAME.fullmatch(name)
        if found is None:
            return None
        row, col = ord(found.group(1)) - ord("A"), int(found.group(2)) - 1
        if row >= self.rows or col >= self.cols:
            return None
        return row * self.cols + col


def parse_seats(text: str) -> Shape:
    """`ROWSxCOLS` ("10x20") as a Shape; ValueError says what is wrong."""
    found = _SHAPE.fullmatch(text)
    if found is None:
        raise ValueError(f"seats {text!r}: expected ROWSxCOLS, such as 10x20")
    rows, cols = int(found.group(1)), int(found.group(2))
    if not (1 <= rows <= MAX_ROWS and 1 <= cols <= MAX_COLS):
        raise ValueError(
            f"seats {text!r}: rows must be 1 to {MAX_ROWS} (one letter each) and seats a row "
            f"1 to {MAX_COLS}"
        )
    return Shape(rows, cols)


def holder_of(run_id: str, buyer: int) -> str:
    return f"{run_id}/{buyer}"


def buyer_of(holder: str, run_id: str) -> int | None:
    """The buyer of this run a holder names; None: another run's, or not ours at all."""
    run, _, buyer = holder.rpartition("/")
    if run != run_id or not buyer.isdigit():
        return None
    return int(buyer)


def pick(
    free: Sequence[bool], shape: Shape, order: int, how: str, rng: random.Random
) -> tuple[int, ...]:
    """The seats of one order of `order` seats, in the order the buyer wants them; () when
    the free seats cannot make such an order.

    best: the front-most free seats (row A first): every buyer wants the same ones.
    random: free seats anywhere, in a random order.
    together: `order` adjacent free seats in one row, the front-most such block."""
    if how == "together":
        for row in range(shape.rows):
            run = 0
            for col in range(shape.cols):
                run = run + 1 if free[row * shape.cols + col] else 0
                if run == order:
                    first = row * shape.cols + col - order + 1
                    return tuple(range(first, first + order))
        return ()
    available = [i for i, is_free in enumerate(free) if is_free]
    if len(available) < order:
        return ()
    if how == "best":
        return tuple(available[:order])
    return tuple(rng.sample(available, order))


@dataclass(frozen=True)
class SeatPlan:
    """How a run's buyers order seats: how many per order, how they pick them, and the
    seed their picks are drawn from (each buyer its own stream of it)."""

    shape: Shape
    order: int = 1
    how: str = "best"
    seed: int = 0

    def rng(self, buyer: int) -> random.Random:
        return random.Random(f"{self.seed}/seats/{buyer}")
