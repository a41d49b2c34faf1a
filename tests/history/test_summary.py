"""What a saved session reads back as: its params as an object."""

from __future__ import annotations

from typing import Any

import pytest

from booking.history.summary import params_of, session_record


@pytest.mark.parametrize(
    ("text", "params", "record"),
    [
        ('{"buyers": 50}', {"buyers": 50}, {"buyers": 50}),
        (None, {}, {}),
        ("", {}, {}),
        ("[1, 2]", {}, "[1, 2]"),  # not an object: kept as the text it is
        ("{not json", {}, "{not json"),
    ],
)
def test_params_read_back_as_an_object(text: str | None, params: Any, record: Any) -> None:
    row = {"id": 1, "params": text}
    assert params_of(row) == params
    assert session_record(row) == {"id": 1, "params": record}
