"""The PostgreSQL stores (issue 16): made when missing, kept or reset, refused when the
schema is not ours, one clear line when the server cannot be reached; the ledger seen by
the next run; a seat map and a count never taken for each other."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from booking import Scenario, simulate
from booking.errors import StoreError
from booking.seating import Shape
from booking.stores import StoreOptions
from booking.stores.pg_seats import PgSeatStore
from booking.stores.pg_store import PgStock, PgStore
from booking.words import mask_dsn as masked

UNUSED = Path("/tmp/unused.json")
TABLES = (
    "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = 'booking' ORDER BY 1, 2"
)


def store(dsn: str, tickets: int = 10, reset: bool = False, run_id: str = "r1") -> PgStore:
    options = StoreOptions(dsn=dsn, run_id=run_id, timeout_s=5)
    return PgStore(UNUSED, tickets, create=True, reset=reset, options=options)


def sql(dsn: str, *statements: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows: list[tuple[object, ...]] = []
        for statement in statements:
            cur = conn.execute(statement)
            rows = cur.fetchall() if cur.description else []
        return rows


def test_a_new_store_is_made_an_existing_one_kept_and_reset_on_record(pg_dsn: str) -> None:
    assert store(pg_dsn, 7).count() == 7
    assert store(pg_dsn, 99).count() == 7  # kept: --tickets does not rewrite it
    again = store(pg_dsn, 3, reset=True, run_id="resetter")
    assert again.count() == 3
    assert sql(pg_dsn, "SELECT run, tickets FROM booking.resets") == [("resetter", 3)]


def test_the_ledger_tells_this_runs_sales_from_another_runs(pg_dsn: str) -> None:
    mine = store(pg_dsn, 10, run_id="mine")
    assert mine.mark() == 10
    stock = mine.connect(1)
    stock.write(stock.read() - 1)
    other = store(pg_dsn, run_id="other").connect(2)
    other.write(other.read() - 1)
    seen = mine.sighting()
    assert seen.ledger and seen.sales == 2 and seen.ledger_count == 8
    assert [(w.run, w.sales) for w in seen.others] == [("other", 1)]


def test_the_version_goes_up_with_any_change_of_the_count(pg_dsn: str) -> None:
    stock = store(pg_dsn, 10).connect(1)
    assert stock.read_versioned() == 10
    sql(pg_dsn, "UPDATE booking.stock SET count = 10 WHERE id = 1")  # by hand, same value
    assert stock.swap(9) is False
    assert stock.read_versioned() == 10 and stock.swap(9) is True
    assert stock.take() == 8


@pytest.mark.parametrize(
    ("made", "says"),
    [
        ("CREATE TABLE booking.orders (id int)", "holds orders but no stock table"),
        ("CREATE TABLE booking.stock (id int, name text)", "needs id and count columns"),
        ("CREATE TABLE booking.stock (id int, count text)", "must hold whole numbers"),
        ("CREATE TABLE booking.stock (id int, count int)", "has no row with id 1"),
        (
            "CREATE TABLE booking.stock (id int, count int); INSERT INTO booking.stock "
            "VALUES (1, 5); CREATE TABLE booking.sales (id int, note text)",
            "needs columns buyer, run, sold_at",
        ),
    ],
)
def test_a_schema_that_is_not_ours_is_refused_and_left_alone(
    pg_dsn: str, made: str, says: str
) -> None:
    sql(pg_dsn, "CREATE SCHEMA booking", made)
    before = sql(pg_dsn, TABLES)
    with pytest.raises(StoreError, match=says) as refused:
        store(pg_dsn)
    assert "\n" not in str(refused.value)
    after = sql(pg_dsn, TABLES)
    assert after == before  # nothing made, nothing changed


def test_an_unreachable_server_is_one_line_with_no_password() -> None:
    dsn = "postgresql://booking:s3cret@127.0.0.1:1/nothing"
    with pytest.raises(StoreError) as refused:
        store(dsn)
    line = str(refused.value)
    assert line.startswith("cannot reach the postgres server at postgresql://booking:***@")
    assert "\n" not in line and "s3cret" not in line
    assert masked(dsn) == "postgresql://booking:***@127.0.0.1:1/nothing"


def test_a_seat_map_and_a_count_are_never_taken_for_each_other(pg_dsn: str) -> None:
    options = StoreOptions(dsn=pg_dsn, run_id="r", timeout_s=5)
    shape = Shape(2, 3)
    seats = PgSeatStore(UNUSED, shape, create=True, reset=False, options=options)
    assert seats.count() == 6
    with pytest.raises(StoreError, match="holds a seat map, not a ticket count"):
        store(pg_dsn)
    assert store(pg_dsn, 4, reset=True).count() == 4  # --reset: the map gives way
    with pytest.raises(StoreError, match="holds a ticket count, not a seat map"):
        PgSeatStore(UNUSED, shape, create=True, reset=False, options=options)
    again = PgSeatStore(UNUSED, shape, create=True, reset=True, options=options)
    assert again.holders() == [None] * 6
    with pytest.raises(StoreError, match="a 2x3 seat map, not 3x3"):
        PgSeatStore(UNUSED, Shape(3, 3), create=True, reset=False, options=options)


def test_a_buyer_the_server_has_no_room_for_is_told_why(pg_dsn: str) -> None:
    sql(pg_dsn, "CREATE ROLE tight LOGIN CONNECTION LIMIT 1")
    try:
        tight = StoreOptions(dsn=pg_dsn.replace("//booking@", "//tight@"), timeout_s=5)
        first = PgStock(1, tight)
        with pytest.raises(StoreError, match="has no room for another connection") as refused:
            PgStock(2, tight)
        assert "run fewer --buyers" in str(refused.value)
        first.close()
    finally:
        sql(pg_dsn, "DROP OWNED BY tight", "DROP ROLE tight")


def test_manager_and_queue_run_on_postgres_and_record_each_sale(pg_dsn: str) -> None:
    for strategy in ("manager", "queue"):
        result = simulate(
            Scenario(
                store="postgres", dsn=pg_dsn, strategy=strategy, buyers=12, tickets=6, reset=True
            )
        )
        assert result.verdict == "SAFE" and result.sold == 6 and result.remaining == 0
    (rows, buyers), *_ = sql(pg_dsn, "SELECT count(*), count(DISTINCT buyer) FROM booking.sales")
    assert rows == 12  # a ledger row for every sale of both runs
    assert isinstance(buyers, int) and buyers > 1  # each buyer's sale, not the seller's
