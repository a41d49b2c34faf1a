"""The SQLite seat store: a seats table and the sales ledger, other tables and columns
kept, refusals that leave the file as it was, claims in their own or a guard's
transaction, the all-or-nothing claim_if_free, and a writer killed before COMMIT."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from booking import faults
from booking.errors import StoreError
from booking.seating import Shape, holder_of
from booking.stores import StoreBusy, StoreOptions
from booking.stores.seat_sqlite import SqliteSeatStock, SqliteSeatStore
from booking.stores.seat_store import SeatStoreFile, load_seat_store
from booking.stores.sqlite_store import SqliteStore
from tests.helpers import sqlite_script
from tests.stores.seat_helpers import (
    OPTIONS,
    SHAPE,
    exited_cleanly,
    in_child,
    make,
    race,
    refusal,
    was_killed,
)

A1, A2, A3, B1 = 0, 1, 2, 4
ME = holder_of("t1", 1)
OTHER = holder_of("t1", 2)
FREE: list[str | None] = [None] * 12


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def sales(path: Path) -> list[tuple[Any, ...]]:
    return query(path, "SELECT run, buyer FROM sales ORDER BY rowid")


def stock(store: SeatStoreFile, buyer: int) -> SqliteSeatStock:
    made = store.connect(buyer)
    assert isinstance(made, SqliteSeatStock)
    return made


def refused(path: Path, shape: Shape = SHAPE, **kwargs: Any) -> str:
    return refusal("sqlite", path, shape, **kwargs)


def new_store(path: Path) -> SeatStoreFile:
    """A new map, closed again so that its file no longer changes underneath a test."""
    store = make("sqlite", path)
    store.close()
    return store


def test_the_registry_loads_the_sqlite_kind() -> None:
    assert load_seat_store("sqlite") is SqliteSeatStore


def test_round_trip_create_claim_read(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path)
    assert (store.path, store.lock_path, store.shape) == (path, tmp_path / "s.db.lock", SHAPE)
    assert query(path, "PRAGMA journal_mode") == [("wal",)]
    columns = {row[1]: (row[2], row[3], row[5]) for row in query(path, "PRAGMA table_info(seats)")}
    assert columns == {
        "seat": ("TEXT", 0, 1),
        "row": ("INTEGER", 1, 0),
        "col": ("INTEGER", 1, 0),
        "holder": ("TEXT", 0, 0),
        "sold_at": ("REAL", 0, 0),
    }
    assert query(path, "SELECT seat, row, col FROM seats WHERE seat = 'C2'") == [("C2", 2, 1)]
    assert store.mark() == 12 and store.marked() == FREE
    buyer = stock(store, 1)
    assert buyer.shape == SHAPE and buyer.read_map() == FREE
    buyer.claim([A2, B1])
    expected = list(FREE)
    expected[A2] = expected[B1] = ME
    assert store.holders() == expected and store.count() == 10
    assert stock(store, 2).read_map() == expected
    assert store.marked() == FREE
    assert sales(path) == [("t1", 1)]  # one ledger row for the order, not one a seat
    assert query(path, "SELECT count(*) FROM seats WHERE sold_at IS NOT NULL") == [(2,)]
    store.close()


def test_an_existing_store_of_the_same_shape_is_used_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    stock(new_store(path), 1).claim([A1])
    store = make("sqlite", path)
    assert store.holders()[A1] == ME and store.count() == 11


def test_other_tables_and_columns_are_kept_across_claims_and_reset(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    new_store(path)
    sqlite_script(
        path,
        "CREATE TABLE notes (text TEXT)",
        "INSERT INTO notes VALUES ('hello')",
        "ALTER TABLE seats ADD COLUMN price INTEGER",
        "UPDATE seats SET price = 40 WHERE seat = 'A1'",
    )
    stock(make("sqlite", path), 1).claim([A1, A2])
    store = make("sqlite", path, reset=True)
    assert store.holders() == FREE
    assert query(path, "SELECT text FROM notes") == [("hello",)]
    assert query(path, "SELECT price FROM seats WHERE seat = 'A1'") == [(40,)]
    assert sales(path) == [("t1", 1)]  # the ledger is history: a reset keeps it


def test_a_map_of_another_shape_is_refused_untouched_and_reset_rebuilds_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    stock(new_store(path), 1).claim([A1])
    message = refused(path, Shape(2, 3))
    assert "a 3x4 seat map, not 2x3; add --reset to rebuild it as a 2x3 seat map" in message
    store = make("sqlite", path, Shape(2, 3), reset=True)
    assert store.holders() == [None] * 6
    assert query(path, "SELECT count(*) FROM seats") == [(6,)]
    assert stock(store, 1).read_map() == [None] * 6


def test_a_count_store_is_refused_and_reset_turns_it_into_a_map(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    counted = SqliteStore(path, 5, create=True, reset=False, options=OPTIONS)
    counted.connect(1).write(4)
    sqlite_script(path, "CREATE TABLE notes (text TEXT)")
    message = refused(path)
    assert "holds a ticket count, not a seat map; add --reset to rebuild it as a 3x4" in message
    store = make("sqlite", path, reset=True)
    assert store.holders() == FREE
    tables = {name for (name,) in query(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"seats", "sales", "resets", "notes"}  # the count is gone, the rest kept
    assert sales(path) == [("t1", 1)]


def test_the_count_store_refuses_a_map_and_reset_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    stock(new_store(path), 1).claim([A1])
    sqlite_script(path, "CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        SqliteStore(path, 5, create=True, reset=False, options=OPTIONS)
    assert str(caught.value) == (
        f"{path}: holds a seat map, not a ticket count; add --seats ROWSxCOLS to use it, "
        "or --reset to replace it with a store of --tickets tickets"
    )
    assert path.read_bytes() == before
    counted = SqliteStore(path, 5, create=True, reset=True, options=OPTIONS)
    assert counted.count() == 5
    tables = {name for (name,) in query(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "seats" not in tables and {"stock", "sales", "notes"} <= tables
    assert sales(path) == [("t1", 1)]
    with pytest.raises(StoreError, match="holds a ticket count"):
        make("sqlite", path)


MALFORMED: dict[str, tuple[str, str]] = {
    "missing seat": ("DELETE FROM seats WHERE seat = 'B2'", "the seat map has no seat B2"),
    "extra seat": (
        "INSERT INTO seats (seat, row, col) VALUES ('Z9', 25, 8)",
        "'Z9' is not a seat of a 3x4 map",
    ),
    # TEXT affinity stores a number as text: a blob is what a holder can be instead.
    "blob holder": (
        "UPDATE seats SET holder = x'00ff' WHERE seat = 'A3'",
        "seat A3's holder must be a string or null",
    ),
    "seat at the wrong place": (
        "UPDATE seats SET row = 0, col = 0 WHERE seat = 'C4'",
        "seat C4 is stored at row 0, col 0, not 2, 3",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_map_is_refused_untouched_and_reset_rebuilds_it(
    case: str, tmp_path: Path
) -> None:
    path = tmp_path / "s.db"
    new_store(path)
    statement, what = MALFORMED[case]
    sqlite_script(path, statement)
    message = refused(path)
    assert what in message, message
    assert message.endswith("add --reset to rebuild it as a 3x4 seat map")
    store = make("sqlite", path, reset=True)
    assert store.holders() == FREE
    assert stock(store, 1).read_map() == FREE


def test_a_seats_table_without_our_columns_is_refused_and_reset_remakes_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    sqlite_script(path, "CREATE TABLE seats (seat TEXT PRIMARY KEY, row INTEGER, col INTEGER)")
    assert "the seats table needs columns seat (its primary key), row, col, holder" in refused(path)
    assert make("sqlite", path, reset=True).holders() == FREE


def test_a_reset_that_fails_half_way_leaves_the_store_untouched(tmp_path: Path) -> None:
    # A hand-made map whose extra column wants a value booking cannot give: the reset to a
    # larger map cannot insert its new seats, and all of it rolls back, the drop of the
    # count and the removal of old seats included.
    path = tmp_path / "s.db"
    rows = ", ".join(f"('{name}', {i // 4}, {i % 4}, 40)" for i, name in enumerate(SHAPE.names()))
    sqlite_script(
        path,
        "CREATE TABLE seats (seat TEXT PRIMARY KEY, row INTEGER NOT NULL, "
        "col INTEGER NOT NULL, holder TEXT, sold_at REAL, price INTEGER NOT NULL)",
        f"INSERT INTO seats (seat, row, col, price) VALUES {rows}",
        "CREATE TABLE stock (id INTEGER PRIMARY KEY, count INTEGER)",
    )
    assert make("sqlite", path).holders() == FREE  # a map of our shape: used as it is
    assert "NOT NULL constraint failed: seats.price" in refused(path, Shape(2, 7), reset=True)
    assert make("sqlite", path).holders() == FREE
    assert query(path, "SELECT count(*) FROM stock") == [(0,)]


def test_foreign_databases_and_bad_ledgers_are_refused_even_with_reset(tmp_path: Path) -> None:
    foreign = tmp_path / "f.db"
    sqlite_script(foreign, "CREATE TABLE people (name TEXT)")
    assert "no seats table (found people); not a booking store" in refused(foreign, reset=True)
    ledger = tmp_path / "l.db"
    new_store(ledger)
    sqlite_script(ledger, "DROP TABLE sales", "CREATE TABLE sales (run TEXT)")
    assert "the sales table needs columns buyer, run, sold_at" in refused(ledger, reset=True)
    text = tmp_path / "t.db"
    text.write_bytes(b'{"seats": {}}')
    assert refused(text, reset=True).endswith("not a SQLite database")
    with pytest.raises(StoreError, match="no such store"):
        make("sqlite", tmp_path / "none.db", create=False)


def test_claim_if_free_takes_all_the_seats_or_none(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path)
    assert stock(store, 2).claim_if_free([A3]) is True
    before = path.read_bytes(), store.holders(), sales(path)
    mine = stock(store, 1)
    assert mine.claim_if_free([A1, A2, A3]) is False  # A3 is taken: nothing is written
    assert (store.holders(), sales(path)) == before[1:]
    assert mine.claim_if_free([A1, A2]) is True
    holders = store.holders()
    assert holders[:3] == [ME, ME, OTHER]
    assert sales(path) == [("t1", 2), ("t1", 1)]  # one ledger row per order
    assert not mine._conn.in_transaction  # committed or rolled back, never left open


def test_a_claim_inside_an_open_transaction_guard_commits_with_it(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path)
    buyer = stock(store, 1)
    guard = buyer.transaction()
    assert guard.acquire()
    assert buyer.read_map() == FREE
    buyer.claim([A1])
    assert store.holders() == FREE and sales(path) == []  # not committed yet
    guard.release()
    assert store.holders()[A1] == ME and sales(path) == [("t1", 1)]


def test_a_claim_waits_for_the_lock_then_says_busy(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path, options=StoreOptions(run_id="t1", timeout_s=0.05))
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        buyer = stock(store, 1)
        with pytest.raises(StoreBusy):
            buyer.claim([A1])
        with pytest.raises(StoreBusy):
            buyer.claim_if_free([A1])
        assert not buyer._conn.in_transaction
    finally:
        holder.close()
    assert store.holders() == FREE


def test_a_stale_claim_overwrites_without_looking(tmp_path: Path) -> None:
    # No check in claim(): the guard is the strategy's business.
    store = make("sqlite", tmp_path / "s.db")
    mine = stock(store, 1)
    mine.read_map()
    assert exited_cleanly(in_child(lambda: store.connect(2).claim([A1, A3])))
    mine.claim([A1], fresh=False)
    assert store.holders()[:3] == [ME, None, OTHER]


def test_the_seller_claims_for_the_buyer_it_serves(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path)
    seller = stock(store, 0)
    seller.sell_to(5)
    seller.claim([B1])
    assert store.holders()[B1] == holder_of("t1", 5) and sales(path) == [("t1", 5)]


def test_a_writer_killed_before_commit_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path)
    assert was_killed(in_child(lambda: store.connect(1).die_claiming([A1, A2, A3])))
    assert store.holders() == FREE and sales(path) == []
    assert stock(store, 2).claim_if_free([A1]) is True  # its write lock died with it


def test_the_killed_writer_had_updated_half_its_seats_inside_the_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same death watched from inside (death replaced by an exception): the first half
    # of the seats updated, in the guard's open transaction, nothing committed.
    store = make("sqlite", tmp_path / "s.db")
    buyer = stock(store, 1)
    seen: list[list[str | None]] = []

    def watch_instead_of_dying() -> None:
        seen.append(buyer.read_map())
        raise SystemExit

    monkeypatch.setattr(faults, "die", watch_instead_of_dying)
    guard = buyer.transaction()
    assert guard.acquire()
    with pytest.raises(SystemExit):
        buyer.die_claiming([A1, A2, A3])
    assert seen == [[ME, ME, *FREE[2:]]]
    assert store.holders() == FREE  # another connection sees nothing of it


def test_runs_creating_one_new_map_at_once_all_see_one_map(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"race{attempt}.db"

        def create(path: Path = path) -> object:
            return make("sqlite", path).holders()

        statuses = race(4, create)
        assert all(exited_cleanly(status) for status in statuses), statuses
        assert make("sqlite", path).holders() == FREE


def test_a_write_back_keeps_what_other_writers_did_meanwhile(tmp_path: Path) -> None:
    from booking.seating import Shape
    from booking.stores import StoreOptions
    from booking.stores.seat_sqlite import SqliteSeatStore

    store = SqliteSeatStore(tmp_path / "s.db", Shape(1, 4), create=True, reset=False,
                            options=StoreOptions(run_id="mine"))  # fmt: skip
    base = store.holders()
    other = SqliteSeatStore(tmp_path / "s.db", Shape(1, 4), create=False, reset=False,
                            options=StoreOptions(run_id="other"))  # fmt: skip
    other.connect(1).claim([0, 1])  # another run sells A1 and A2 meanwhile
    # The Manager's map: this run sold A2 (over the other's sale) and A3.
    store.write_back_map([None, "mine/5", "mine/6", None], [5, 6], base)
    assert store.holders() == ["other/1", "mine/5", "mine/6", None]
    assert store.overwritten == (1,)
