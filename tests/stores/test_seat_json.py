"""The JSON seat store: a map written whole, other keys kept, refusals that leave the file
as it was, the stale whole-file write of the seeds' race, and a writer killed half-way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from booking.errors import StoreError
from booking.files import temp_path
from booking.seating import Shape, holder_of
from booking.stores import StoreOptions, TornRead
from booking.stores.json_store import JsonStore
from booking.stores.seat_json import JsonSeatStock, JsonSeatStore
from booking.stores.seat_sqlite import SqliteSeatStore
from booking.stores.seat_store import SEAT_STORES, SeatStoreFile, SeatStoreKind, load_seat_store
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

MODES = ["atomic", "inplace"]
A1, A2, A3, B1 = 0, 1, 2, 4
ME = holder_of("t1", 1)
OTHER = holder_of("t1", 2)


def seats_of(shape: Shape, **held: str) -> dict[str, str | None]:
    return {name: held.get(name) for name in shape.names()}


def write_doc(path: Path, doc: Any) -> bytes:
    data = json.dumps(doc).encode()
    path.write_bytes(data)
    return data


def stock(store: SeatStoreFile, buyer: int) -> JsonSeatStock:
    made = store.connect(buyer)
    assert isinstance(made, JsonSeatStock)
    return made


def refused(path: Path, shape: Shape = SHAPE, **kwargs: Any) -> str:
    return refusal("json", path, shape, **kwargs)


def test_the_registry_names_both_kinds_and_both_fit_the_protocols() -> None:
    # The file stores' kinds here; postgres's in tests/stores/test_pg_store.py.
    assert set(SEAT_STORES) == {"json", "sqlite", "postgres"}
    assert load_seat_store("json") is JsonSeatStore
    kinds: list[SeatStoreKind] = [JsonSeatStore, SqliteSeatStore]  # mypy checks the fit
    assert kinds == [load_seat_store(name) for name in ("json", "sqlite")]


@pytest.mark.parametrize("mode", MODES)
def test_round_trip_create_claim_read(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    options = StoreOptions(run_id="t1", json_write=mode)
    store = make("json", path, options=options)
    assert (store.path, store.lock_path, store.shape) == (path, tmp_path / "s.json.lock", SHAPE)
    doc = json.loads(path.read_bytes())
    assert list(doc) == ["seats"] and list(doc["seats"]) == SHAPE.names()  # row-major
    assert store.mark() == 12 and store.marked() == [None] * 12
    buyer = stock(store, 1)
    assert buyer.shape == SHAPE and buyer.read_map() == [None] * 12
    buyer.claim([A2, B1])
    expected: list[str | None] = [None] * 12
    expected[A2] = expected[B1] = ME
    assert store.holders() == expected and store.count() == 10
    assert stock(store, 2).read_map() == expected
    assert store.marked() == [None] * 12  # the mark is the start, not now
    assert json.loads(path.read_bytes())["seats"]["B1"] == ME
    store.close()


def test_an_existing_store_of_the_same_shape_is_used_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    before = write_doc(path, {"seats": seats_of(SHAPE, C4="old/7")})
    store = make("json", path)
    assert path.read_bytes() == before
    assert store.holders()[11] == "old/7" and store.count() == 11


def test_unknown_keys_are_kept_across_claims_and_reset(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    write_doc(path, {"venue": "Hall", "seats": seats_of(SHAPE), "notes": [1, {"a": None}]})
    buyer = stock(make("json", path), 1)
    buyer.read_map()
    buyer.claim([A1])
    doc = json.loads(path.read_bytes())
    assert doc["venue"] == "Hall" and doc["notes"] == [1, {"a": None}]
    assert doc["seats"]["A1"] == ME
    store = make("json", path, reset=True)
    doc = json.loads(path.read_bytes())
    assert doc == {"venue": "Hall", "seats": seats_of(SHAPE), "notes": [1, {"a": None}]}
    assert store.count() == 12


def test_a_map_of_another_shape_is_refused_untouched_and_reset_rebuilds_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.json"
    write_doc(path, {"seats": seats_of(Shape(2, 3), A1="x/1"), "keep": True})
    message = refused(path)
    assert "a 2x3 seat map, not 3x4; add --reset to rebuild it as a 3x4 seat map" in message
    store = make("json", path, reset=True)
    assert store.holders() == [None] * 12
    assert json.loads(path.read_bytes())["keep"] is True


def test_a_count_store_is_refused_and_reset_turns_it_into_a_map(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    write_doc(path, {"count": 5, "version": 3, "owner": "me"})
    message = refused(path)
    assert "holds a ticket count, not a seat map; add --reset to rebuild it as a 3x4" in message
    make("json", path, reset=True)
    assert json.loads(path.read_bytes()) == {"version": 3, "owner": "me", "seats": seats_of(SHAPE)}


def test_the_count_store_refuses_a_map_and_reset_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    make("json", path)
    doc = json.loads(path.read_bytes())
    before = write_doc(path, {"owner": "me", **doc})
    for options in (OPTIONS, StoreOptions(run_id="t1", json_write="inplace")):
        with pytest.raises(StoreError) as caught:
            JsonStore(path, 5, create=True, reset=False, options=options)
        assert str(caught.value) == (
            f"{path}: holds a seat map, not a ticket count; add --seats ROWSxCOLS to use it, "
            "or --reset to replace it with a store of --tickets tickets"
        )
        assert path.read_bytes() == before
    counted = JsonStore(path, 5, create=True, reset=True, options=OPTIONS)
    assert json.loads(path.read_bytes()) == {"owner": "me", "count": 5}
    assert counted.count() == 5
    with pytest.raises(StoreError, match="holds a ticket count"):
        make("json", path)


def test_a_document_with_a_count_and_seats_is_a_map(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    write_doc(path, {"count": 4, "seats": seats_of(SHAPE)})
    assert make("json", path).count() == 12
    with pytest.raises(StoreError, match="holds a seat map"):
        JsonStore(path, 5, create=True, reset=False, options=OPTIONS)


MALFORMED: dict[str, tuple[bytes, str]] = {
    "missing seat": (
        json.dumps({"seats": {n: None for n in SHAPE.names() if n != "B2"}}).encode(),
        "the seat map has no seat B2 (1 missing)",
    ),
    "extra seat key": (
        json.dumps({"seats": {**seats_of(SHAPE), "Z9": None}}).encode(),
        "'Z9' is not a seat of a 3x4 map (1 such)",
    ),
    "not a seat name": (
        json.dumps({"seats": {**seats_of(SHAPE), "front\nrow": None}}).encode(),
        "'front\\nrow' is not a seat of a 3x4 map",
    ),
    "number holder": (
        json.dumps({"seats": seats_of(SHAPE) | {"A3": 7}}).encode(),
        "seat A3's holder must be a string or null, found 7",
    ),
    "list holder": (
        json.dumps({"seats": seats_of(SHAPE) | {"C1": ["x"]}}).encode(),
        'seat C1\'s holder must be a string or null, found ["x"]',
    ),
    "seats not an object": (b'{"seats": [null, null]}', '"seats" must be an object'),
    "no seats key": (b'{"tickets": 3}', 'expected a JSON object with a "seats" key'),
    "not an object": (b"[1, 2]", 'expected a JSON object with a "seats" key'),
    "not JSON": (b'{"seats": {"A1": nu', "not valid JSON"),
    "not UTF-8": (b'{"seats": "\xff"}', "the bytes are not UTF-8 text"),
    "empty": (b"", "not valid JSON"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_map_is_refused_untouched_and_reset_rebuilds_it(
    case: str, tmp_path: Path
) -> None:
    path = tmp_path / "s.json"
    data, what = MALFORMED[case]
    path.write_bytes(data)
    message = refused(path)
    assert what in message, message
    if case != "not UTF-8":
        assert message.endswith("add --reset to rebuild it as a 3x4 seat map")
    store = make("json", path, reset=True)
    assert store.holders() == [None] * 12


def test_a_database_is_never_reset_into_a_json_map(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    sqlite_script(path, "CREATE TABLE t (x)")
    for reset in (False, True):
        assert "a SQLite database, not a JSON seat store; add --store sqlite" in refused(
            path, reset=reset
        )


def test_missing_store_directory_and_size_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store"):
        make("json", tmp_path / "none.json", create=False)
    with pytest.raises(StoreError, match="does not exist"):
        make("json", tmp_path / "no" / "s.json")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (1 << 20) + b"{}")
    assert "too big for a JSON seat store" in refused(big, reset=True)


@pytest.mark.parametrize("mode", MODES)
def test_a_stale_claim_frees_the_seats_another_buyer_took_after_the_read(
    mode: str, tmp_path: Path
) -> None:
    store = make("json", tmp_path / "s.json", options=StoreOptions(run_id="t1", json_write=mode))
    mine = stock(store, 1)
    mine.read_map()

    def other_buyer() -> None:  # another process reads and claims after our read
        theirs = store.connect(2)
        theirs.read_map()
        theirs.claim([A3])

    assert exited_cleanly(in_child(other_buyer))
    assert store.holders()[A3] == OTHER
    mine.claim([A1])  # the document of our read, written back whole
    holders = store.holders()
    assert holders[A1] == ME
    assert holders[A3] is None  # the other buyer's seat is lost: the seeds' race


@pytest.mark.parametrize("mode", MODES)
def test_a_fresh_claim_keeps_the_seats_another_buyer_took(mode: str, tmp_path: Path) -> None:
    store = make("json", tmp_path / "s.json", options=StoreOptions(run_id="t1", json_write=mode))
    mine = stock(store, 1)
    mine.read_map()
    assert exited_cleanly(in_child(lambda: store.connect(2).claim([A3])))
    mine.claim([A1], fresh=True)
    holders = store.holders()
    assert (holders[A1], holders[A3]) == (ME, OTHER)


def test_a_claim_without_a_read_reads_first(tmp_path: Path) -> None:
    store = make("json", tmp_path / "s.json")
    stock(store, 2).claim([A3])
    stock(store, 1).claim([A1])
    assert store.holders()[:3] == [ME, None, OTHER]


def test_a_torn_document_is_a_torn_read_for_a_buyer_and_an_error_for_the_parent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.json"
    store = make("json", path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(TornRead):
        stock(store, 1).read_map()
    with pytest.raises(StoreError, match="not valid JSON"):
        store.holders()
    path.write_bytes(b'{"seats": {"A1": null}}')
    with pytest.raises(ValueError, match="not a 3x4 seat map"):
        stock(store, 1).read_map()


def test_a_writer_killed_in_place_leaves_the_store_torn(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make("json", path, options=StoreOptions(run_id="t1", json_write="inplace"))
    whole = path.read_bytes()
    assert was_killed(in_child(lambda: store.connect(1).die_claiming([A1, A2])))
    torn = path.read_bytes()
    assert 0 < len(torn) < len(whole)
    assert torn == json.dumps({"seats": seats_of(SHAPE, A1=ME, A2=ME)}).encode()[: len(torn)]
    with pytest.raises(TornRead):
        stock(store, 2).read_map()
    with pytest.raises(StoreError):
        store.holders()


def test_a_writer_killed_atomically_leaves_the_store_whole(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make("json", path)
    before = path.read_bytes()
    assert was_killed(in_child(lambda: store.connect(1).die_claiming([A1, A2])))
    assert path.read_bytes() == before and store.holders() == [None] * 12
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1
    pid = int(leftovers[0].name.split(".")[-2])
    assert leftovers[0] == temp_path(path, pid)
    half = json.dumps({"seats": seats_of(SHAPE, A1=ME, A2=ME)}).encode()
    assert leftovers[0].read_bytes() == half[: len(half) // 2]
    store.close()  # its writer is dead: the temp file goes
    assert not leftovers[0].exists()


def test_runs_creating_one_new_map_at_once_all_see_one_map(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"race{attempt}.json"

        def create(path: Path = path) -> object:
            return make("json", path).holders()

        statuses = race(4, create)
        assert all(exited_cleanly(status) for status in statuses), statuses
        assert make("json", path).holders() == [None] * 12


def test_sighting_is_empty_and_close_is_idempotent(tmp_path: Path) -> None:
    store = make("json", tmp_path / "s.json")
    assert store.sighting() == type(store.sighting())()
    store.close()
    store.close()


def test_a_write_back_keeps_what_other_writers_did_meanwhile(tmp_path: Path) -> None:
    from booking.seating import Shape
    from booking.stores import StoreOptions
    from booking.stores.seat_json import JsonSeatStore

    store = JsonSeatStore(tmp_path / "s.json", Shape(1, 4), create=True, reset=False,
                          options=StoreOptions(run_id="mine"))  # fmt: skip
    base = store.holders()
    other = JsonSeatStore(tmp_path / "s.json", Shape(1, 4), create=False, reset=False,
                          options=StoreOptions(run_id="other"))  # fmt: skip
    other.connect(1).claim([0, 1], fresh=True)  # another run sells A1 and A2 meanwhile
    store.write_back_map([None, "mine/5", "mine/6", None], [5, 6], base)
    assert store.holders() == ["other/1", "mine/5", "mine/6", None]
    assert store.overwritten == (1,)
