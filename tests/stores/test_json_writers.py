"""A JSON store sees the other writers its buyers overwrite, not only those they read:
two `lock` runs whose writes interleave without either reading the other's file lose a
sale each time, and the run that overwrote it must not call itself SAFE (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking.stores import StoreOptions
from booking.stores.json_store import JsonStore
from booking.stores.writer_tags import tagged_write, tags_work


def watched_store(tmp_path: Path, tickets: int) -> tuple[Path, JsonStore]:
    """Run B's store, watched for other writers; skipped where files keep no xattrs."""
    if not tags_work(tmp_path):
        pytest.skip("this filesystem keeps no extended attributes")
    path = tmp_path / "tickets.json"
    options = StoreOptions(run_id="B")
    return path, JsonStore(path, tickets, create=True, reset=False, options=options)


def test_a_buyer_that_overwrites_another_runs_file_unseen_reports_it(tmp_path: Path) -> None:
    path, store = watched_store(tmp_path, 40)
    try:
        assert store.mark() == 40
        stock = store.connect(0)
        assert stock.read() == 40
        # Meanwhile run A, which this buyer never reads, sells one.
        tagged_write(path, b'{"count": 39}', 0o644, b"A\tlock\t")
        stock.write(39)  # stale: A's sale is lost, and no read of ours saw A
        seen = store.sighting()
    finally:
        store.close()
    assert [writer.run for writer in seen.others] == ["A"]


def test_a_buyer_that_overwrites_its_own_runs_file_reports_nothing(tmp_path: Path) -> None:
    _, store = watched_store(tmp_path, 40)
    try:
        store.mark()
        first, second = store.connect(0), store.connect(1)
        assert first.read() == second.read() == 40
        first.write(39)
        second.write(39)  # a lost update inside the run: the checker's, not another writer
        seen = store.sighting()
    finally:
        store.close()
    assert seen.others == ()


def test_two_foreign_writes_between_a_read_and_a_write_are_seen(tmp_path: Path) -> None:
    # ext4 gives a freed inode to the next new file: after two atomic writes elsewhere the
    # store can carry the very inode number this buyer read. Only the tag tells them apart.
    path, store = watched_store(tmp_path, 10)
    try:
        store.mark()
        stock = store.connect(0)
        assert stock.read() == 10
        tagged_write(path, b'{"count": 9}', 0o644, b"A\tlock\t")
        tagged_write(path, b'{"count": 8}', 0o644, b"A\tlock\t")
        stock.write(9)
        seen = store.sighting()
    finally:
        store.close()
    [writer] = seen.others
    assert (writer.run, writer.reads, writer.overwrites) == ("A", 0, 1)


def test_control_characters_in_a_writer_tag_never_reach_the_terminal(tmp_path: Path) -> None:
    path, store = watched_store(tmp_path, 10)
    try:
        store.mark()
        stock = store.connect(0)
        stock.read()
        tagged_write(path, b'{"count": 9}', 0o644, b"\x1b[31mA\x07\tlock\t")
        stock.write(9)
        [writer] = store.sighting().others
    finally:
        store.close()
    assert writer.run == "?[31mA?"


def test_a_store_nobody_else_can_write_is_not_watched(tmp_path: Path) -> None:
    # A fresh store in a temporary folder of its own (no --path): no tag, no journal, no
    # check before each write: the purchase loop skips work that could find nothing.
    from booking.stores.writer_tags import writer_tag

    path = tmp_path / "tickets.json"
    options = StoreOptions(run_id="B", shared=False)
    store = JsonStore(path, 10, create=True, reset=False, options=options)
    try:
        store.mark()
        stock = store.connect(0)
        stock.read()
        stock.write(9)
        seen = store.sighting()
    finally:
        store.close()
    assert writer_tag(path) == b""
    assert not seen.identity
