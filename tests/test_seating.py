"""Seat names, shapes and picks: the naming every layer shares."""

from __future__ import annotations

import random

import pytest

from booking.seating import Shape, buyer_of, holder_of, parse_seats, pick


def test_names_run_row_major_with_a_letter_a_row() -> None:
    shape = Shape(2, 3)
    assert shape.names() == ["A1", "A2", "A3", "B1", "B2", "B3"]
    assert [shape.index(name) for name in ("A1", "B3", "C1", "A4", "a1", "A0", "")] == [
        0, 5, None, None, None, None, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "shape"),
    [("10x20", Shape(10, 20)), (" 5 X 10 ", Shape(5, 10)), ("26x100", Shape(26, 100))],
)
def test_parse_seats_reads_rows_by_cols(text: str, shape: Shape) -> None:
    assert parse_seats(text) == shape


@pytest.mark.parametrize("text", ["0x5", "5x0", "abc", "5", "5x", "27x2", "2x101", "-1x3", "1.5x2"])
def test_parse_seats_refuses_what_is_not_a_map(text: str) -> None:
    with pytest.raises(ValueError, match="seats"):
        parse_seats(text)


def test_a_holder_names_its_run_and_buyer() -> None:
    holder = holder_of("20261130T010203-42-abc", 7)
    assert buyer_of(holder, "20261130T010203-42-abc") == 7
    assert buyer_of(holder, "another-run") is None
    assert buyer_of("someone by hand", "20261130T010203-42-abc") is None


def test_best_picks_the_front_most_free_seats() -> None:
    free = [False, True, True, True, True, True]
    assert pick(free, Shape(2, 3), 2, "best", random.Random(1)) == (1, 2)
    assert pick(free, Shape(2, 3), 6, "best", random.Random(1)) == ()


def test_together_needs_adjacent_seats_in_one_row() -> None:
    # A2 and B1 are free but not side by side; B2 and B3 are.
    free = [False, True, False, True, True, True]
    assert pick(free, Shape(2, 3), 2, "together", random.Random(1)) == (3, 4)
    free = [False, True, False, True, False, True]
    assert pick(free, Shape(2, 3), 2, "together", random.Random(1)) == ()
    assert pick([False, True, True, False], Shape(2, 2), 2, "together", random.Random(1)) == ()


def test_together_takes_the_first_block_that_fits() -> None:
    free = [False, True, False, True, True, True]
    assert pick(free, Shape(2, 3), 2, "together", random.Random(1)) == (3, 4)


def test_random_picks_free_seats_only_and_follows_the_seed() -> None:
    free = [i % 2 == 0 for i in range(20)]
    first = pick(free, Shape(2, 10), 3, "random", random.Random(5))
    assert len(set(first)) == 3 and all(free[i] for i in first)
    assert pick(free, Shape(2, 10), 3, "random", random.Random(5)) == first
    assert pick(free, Shape(2, 10), 11, "random", random.Random(5)) == ()
