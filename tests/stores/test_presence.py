"""Another booking run on the same store at the same time is seen, whatever the store can
record: a manager run that ends before the other writes back, and two lock runs on a
JSON store written in place (no writer tags), both said SAFE before (issue 10)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from booking import Scenario, simulate
from booking.stores.presence import Presence


def test_presence_sees_another_holder_at_start_and_at_end(tmp_path: Path) -> None:
    store = tmp_path / "tickets.json"
    first, second = Presence(store), Presence(store)
    first.enter()
    assert first.known and not first.others_at_start
    second.enter()
    assert second.others_at_start
    assert first.others_now()  # the second is still there at the first's end
    second.leave()
    first.leave()
    alone = Presence(store)
    alone.enter()
    assert not alone.others_at_start and not alone.others_now()
    alone.leave()


def test_the_last_run_to_leave_removes_its_presence_file(tmp_path: Path) -> None:
    from booking.stores.presence import presence_path

    store = tmp_path / "tickets.json"
    first, second = Presence(store), Presence(store)
    first.enter()
    second.enter()
    first.leave()
    assert presence_path(store).exists()  # the second is still there
    second.leave()
    assert not presence_path(store).exists()


def test_a_run_that_opened_the_file_as_the_last_one_removed_it_opens_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.stores import presence

    store = tmp_path / "tickets.json"
    first = Presence(store)
    first.enter()
    real_open = os.open
    opened: list[int] = []

    def open_then_first_leaves(*args: object) -> int:
        fd = real_open(*args)  # type: ignore[arg-type]
        if not opened:  # the first leaves (and removes the file) before our hold
            first.leave()
        opened.append(fd)
        return fd

    monkeypatch.setattr(os, "open", open_then_first_leaves)
    second = Presence(store)
    second.enter()
    monkeypatch.undo()
    assert len(opened) == 2  # it found its file removed, and opened the name again
    third = Presence(store)
    third.enter()
    assert third.others_at_start  # the two meet on the one file the name leads to
    second.leave()
    third.leave()
    assert not presence.presence_path(store).exists()


@pytest.mark.parametrize(
    ("strategy", "json_write"), [("lock", "inplace"), ("manager", "atomic"), ("none", "atomic")]
)
def test_a_run_sharing_its_store_with_another_run_is_not_safe(
    tmp_path: Path, strategy: str, json_write: str
) -> None:
    store = tmp_path / "shared.json"
    store.write_text('{"count": 40}')
    other = Presence(store)  # another booking run, alive through this whole run
    other.enter()
    try:
        result = simulate(
            Scenario(
                buyers=3,
                strategy=strategy,
                path=store,
                json_write=json_write,
                seed=1,
                think_ms=(0, 1),
            )
        )
    finally:
        other.leave()
    assert result.verdict == "INTERFERED"
    assert any("another booking run was using this store" in s for s in result.explanation)


@pytest.mark.parametrize("strategy", ["filelock", "transaction"])
def test_a_strategy_that_coordinates_runs_is_not_accused_for_company(
    tmp_path: Path, strategy: str
) -> None:
    store = tmp_path / "shared.db"
    simulate(Scenario(buyers=1, path=store, tickets=40, seed=1))
    other = Presence(store)
    other.enter()
    try:
        result = simulate(Scenario(buyers=3, strategy=strategy, path=store, seed=2))
    finally:
        other.leave()
    assert result.verdict == "SAFE"


def test_runs_one_after_another_are_alone(tmp_path: Path) -> None:
    store = tmp_path / "shared.json"
    store.write_text('{"count": 40}')
    for seed in (1, 2):
        assert simulate(Scenario(buyers=3, path=store, seed=seed)).verdict == "SAFE"
