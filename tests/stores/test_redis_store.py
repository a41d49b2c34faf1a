"""The Redis store: made once and kept, reset on record, refused when the keyspace is not
ours or the server cannot be reached (one line, nothing changed), its ledger list read as
the sighting, and the scripts and transactions its strategies build on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from booking.errors import StoreError
from booking.stores import StoreOptions, load_store
from booking.stores.redis_store import FENCED, LOCK, SALES, SEATS, STOCK, RedisStock, RedisStore

PATH = Path("unused.json")


def open_store(dsn: str, tickets: int = 10, *, reset: bool = False, run: str = "r1") -> RedisStore:
    options = StoreOptions(run_id=run, dsn=dsn, timeout_s=5.0)
    store = load_store("redis")(PATH, tickets, create=True, reset=reset, options=options)
    assert isinstance(store, RedisStore)
    return store


def keys(dsn: str) -> dict[object, object]:
    client = redis.Redis.from_url(dsn)
    try:
        return {key: client.dump(key) for key in sorted(client.keys("*"))}
    finally:
        client.close()


def text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_a_new_store_holds_the_tickets_and_a_second_run_keeps_its_count(redis_dsn: str) -> None:
    first = open_store(redis_dsn, 10)
    assert (first.mark(), first.count()) == (10, 10)
    first.connect(0).write(7)
    second = open_store(redis_dsn, 50)  # an existing store keeps its count
    assert second.count() == 7
    for store in (first, second):
        store.close()


def test_a_reset_sets_the_count_and_is_on_record(redis_dsn: str) -> None:
    store = open_store(redis_dsn, 10)
    store.mark()
    store.connect(0).write(3)
    again = open_store(redis_dsn, 20, reset=True, run="r2")
    assert again.count() == 20
    seen = store.sighting()
    assert seen.resets == ("r2",)
    assert (seen.sales, seen.ledger_count) == (1, 20)
    store.close()
    again.close()


def test_the_sighting_counts_every_runs_ledger_entries_since_the_mark(redis_dsn: str) -> None:
    store = open_store(redis_dsn, 10, run="mine")
    open_store(redis_dsn, run="before").connect(1).write(9)  # before the mark: not counted
    assert store.mark() == 9
    RedisStock(redis_dsn, 1, StoreOptions(run_id="other", dsn=redis_dsn)).write(8)
    store.connect(2).write(7)
    seen = store.sighting()
    assert seen.ledger and (seen.sales, seen.ledger_count) == (2, 7)
    assert [(w.run, w.sales) for w in seen.others] == [("other", 1)]
    store.close()


@pytest.mark.parametrize(
    ("key", "make", "says"),
    [
        (SALES, lambda c: c.hset(SALES, "a", "b"), "key booking:sales is a hash, not a list"),
        (STOCK, lambda c: c.rpush(STOCK, "1"), "key booking:stock is a list, not a string"),
        (LOCK, lambda c: c.sadd(LOCK, "x"), "key booking:lock is a set, not a string"),
        (STOCK, lambda c: c.set(STOCK, "lots"), "booking:stock must hold a whole number"),
        (STOCK, lambda c: c.set(STOCK, str(2**60)), "booking:stock must hold a whole number"),
        (SEATS, lambda c: c.hset(SEATS, "A1", ""), "holds a seat map"),
    ],
)
def test_a_keyspace_that_is_not_ours_is_refused_and_left_alone(
    redis_dsn: str, key: str, make: object, says: str
) -> None:
    client = redis.Redis.from_url(redis_dsn)
    make(client)  # type: ignore[operator]
    before = keys(redis_dsn)
    with pytest.raises(StoreError) as caught:
        open_store(redis_dsn, reset=False)
    message = str(caught.value)
    assert says in message and "\n" not in message
    assert keys(redis_dsn) == before
    client.close()


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("redis://:s3cret@127.0.0.1:1/0")
    message = str(caught.value)
    assert message.startswith("cannot reach the redis server at redis://:***@127.0.0.1:1/0: ")
    assert "s3cret" not in message and "\n" not in message


def test_take_decrements_only_above_zero_and_records_each_sale(redis_dsn: str) -> None:
    store = open_store(redis_dsn, 2)
    stock = store.connect(4)
    assert [stock.take(), stock.take(), stock.take()] == [1, 0, None]
    client = redis.Redis.from_url(redis_dsn)
    sales = [text(entry).split("\t")[:2] for entry in client.lrange(SALES, 0, -1)]
    assert sales == [["r1", "4"]] * 2
    client.close()
    store.close()


def test_a_swap_writes_nothing_once_another_write_came_first(redis_dsn: str) -> None:
    store = open_store(redis_dsn, 10)
    mine, theirs = store.connect(1), store.connect(2)
    assert mine.read_versioned() == 10
    theirs.write(9)
    assert mine.swap(9) is False  # WATCH saw the write: EXEC aborted
    assert mine.read_versioned() == 9 and mine.swap(8) is True
    assert store.count() == 8
    store.close()


def test_a_fenced_write_is_refused_once_a_later_token_has_used_the_store(redis_dsn: str) -> None:
    store = open_store(redis_dsn, 10)
    old, new = store.connect(1), store.connect(2)
    assert old.lock_fenced("a", 60_000) == 1
    assert old.read_fenced(1) == 10
    assert new.lock_fenced("b", 60_000) is None  # held
    assert new.unlock("b") is False and old.unlock("a") is True  # compare-and-delete
    assert new.lock_fenced("b", 60_000) == 2
    assert new.read_fenced(2) == 10
    assert old.write_fenced(9, 1) is False  # stale: token 2 has read since
    assert new.write_fenced(9, 2) is True
    client = redis.Redis.from_url(redis_dsn)
    assert (client.get(STOCK), client.get(FENCED), client.llen(SALES)) == (b"9", b"2", 1)
    client.close()
    store.close()


def test_a_lock_with_a_ttl_is_free_again_once_the_ttl_runs_out(redis_dsn: str) -> None:
    store = open_store(redis_dsn)
    holder, other = store.connect(1), store.connect(2)
    assert holder.lock("a", 50) and not other.lock("b", 50)
    client = redis.Redis.from_url(redis_dsn)
    while client.exists(LOCK):  # Redis deletes the key itself: nobody released it
        pass
    assert other.lock("b", 50)
    client.close()
    store.close()


@pytest.mark.parametrize("how", ["die_taking", "die_writing"])
def test_a_writer_killed_inside_its_multi_writes_nothing(redis_dsn: str, how: str) -> None:
    store = open_store(redis_dsn, 10)
    pid = os.fork()
    if pid == 0:  # the buyer: dies with its MULTI queued, never executed
        stock = store.connect(1)
        getattr(stock, how)(*([] if how == "die_taking" else [9]))
        os._exit(1)  # unreachable
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert store.count() == 10
    assert store.sighting().sales == 0
    store.close()


def test_the_manager_write_back_sets_the_count_and_every_sale(redis_dsn: str) -> None:
    store = open_store(redis_dsn, 10)
    store.mark()
    store.write_back(7, [0, 1, 2])
    seen = store.sighting()
    assert (store.count(), seen.sales, seen.overwritten) == (7, 3, None)
    store.close()
