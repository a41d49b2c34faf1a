"""A JSON seat map: `{"seats": {"A1": null, "A2": "<run>/<buyer>", ...}}`, other keys kept.

The seeds' db.json with seats instead of a count. A buyer rewrites the whole document it
read, so an unguarded claim can put back seats another buyer took meanwhile: the race
this store exists to show. Writes go through the count store's helpers (atomic temp +
rename, or the seeds' in-place truncate and write).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from booking import faults
from booking.errors import StoreError
from booking.files import atomic_write, temp_path
from booking.seating import Shape, holder_of
from booking.stores import StoreOptions, TornRead, store_exists
from booking.stores.json_store import (
    MAX_STORE_BYTES,
    create_store,
    encode,
    inplace_write,
    read_store,
    sweep_temps,
)
from booking.stores.seat_store import SEATS_KEY, MarkedMap, holds_count, rebuild, seat_list


def free_map(shape: Shape) -> dict[str, str | None]:
    """Every seat of `shape`, free, in row-major order."""
    return dict.fromkeys(shape.names())


def parse_seat_document(
    data: bytes, shape: Shape, where: str
) -> tuple[dict[str, Any], list[str | None]]:
    """Parse store bytes as data (never eval): the document and its holders in seat order;
    a StoreError that says what is wrong and what to do when it is no map of `shape`."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise StoreError(
            f"{where}: not a JSON seat store (the bytes are not UTF-8 text); {rebuild(shape)}"
        ) from None
    except RecursionError:
        raise StoreError(f"{where}: not a JSON seat store (nested too deeply)") from None
    except ValueError as exc:
        raise StoreError(
            f"{where}: not valid JSON ({exc}); it holds {len(data)} bytes: {data[:48]!r}; "
            f"{rebuild(shape)}"
        ) from None
    if isinstance(doc, dict) and SEATS_KEY not in doc and "count" in doc:
        raise holds_count(where, shape)
    if not isinstance(doc, dict) or SEATS_KEY not in doc:
        raise StoreError(
            f'{where}: expected a JSON object with a "seats" key, like '
            f'{{"seats": {{"A1": null}}}}; {rebuild(shape)}'
        )
    seats = doc[SEATS_KEY]
    if not isinstance(seats, dict):
        raise StoreError(
            f'{where}: "seats" must be an object of seat names and holders, found '
            f"{json.dumps(seats)[:40]}; {rebuild(shape)}"
        )
    return doc, seat_list(seats, shape, where)


def _object(data: bytes) -> dict[str, Any]:
    """The document's keys to keep across a reset: none when it is no JSON object."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


class JsonSeatStock:
    """One buyer's reader and writer of the seat map."""

    def __init__(
        self, path: Path, shape: Shape, run_id: str, buyer: int, inplace: bool, mode: int
    ) -> None:
        self.shape = shape
        self._path = path
        self._names = shape.names()
        self._run_id = run_id
        self._holder = holder_of(run_id, buyer)
        self._inplace = inplace
        self._mode = mode
        self._doc: dict[str, Any] = {}

    def read_map(self) -> list[str | None]:
        """One read of the file; a document that does not parse was caught half-written."""
        fd = os.open(self._path, os.O_RDONLY)
        try:
            data = os.read(fd, MAX_STORE_BYTES)
        finally:
            os.close(fd)
        try:
            doc = json.loads(data)
        except ValueError:
            raise TornRead(f"read {len(data)} bytes that are not a whole JSON document") from None
        seats = doc.get(SEATS_KEY) if isinstance(doc, dict) else None
        found = [seats.get(name, 0) for name in self._names] if isinstance(seats, dict) else [0]
        holders = [holder for holder in found if holder is None or type(holder) is str]
        if len(holders) != len(found) or not isinstance(seats, dict):
            raise ValueError(f"the store holds {data[:80]!r}, not a {self.shape} seat map")
        self._doc = doc
        return holders

    def sell_to(self, buyer: int) -> None:
        """The `queue` seller claims for every buyer on one stock: name the next holder."""
        self._holder = holder_of(self._run_id, buyer)

    def _claimed(self, seats: Sequence[int], fresh: bool) -> bytes:
        """The document of the last read (or of a new one) with `seats` held by us."""
        if fresh or not self._doc:
            self.read_map()
        held = self._doc[SEATS_KEY]
        for seat in seats:
            held[self._names[seat]] = self._holder
        return encode(self._doc)

    def claim(self, seats: Sequence[int], fresh: bool = False) -> None:
        """Hold `seats`, unchecked. Stale (fresh=False): rewrite the document of the last
        read_map(), so seats others took since are freed again. fresh=True: read the file
        again first (the caller holds a short write lock)."""
        data = self._claimed(seats, fresh)
        if self._inplace:
            inplace_write(self._path, data)
        else:
            atomic_write(self._path, data, self._mode)

    def die_claiming(self, seats: Sequence[int]) -> None:
        """--kill-writer: write half of the new document, then die. In place, that leaves
        the store truncated and half-written; atomic, only a stale temp file."""
        data = self._claimed(seats, fresh=False)
        if self._inplace:
            fd = os.open(self._path, os.O_WRONLY | os.O_TRUNC)
        else:
            fd = os.open(temp_path(self._path, os.getpid()), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, data[: len(data) // 2])
        faults.die()


class JsonSeatStore(MarkedMap):
    """The parent's handle: validates, creates or resets the map before any buyer starts."""

    def __init__(
        self, path: Path, shape: Shape, *, create: bool, reset: bool, options: StoreOptions
    ) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.shape = shape
        self.run_id = options.run_id
        self._inplace = options.json_write == "inplace"
        self._marked: list[str | None] = []
        if store_exists(path, create):
            doc = self._load(reset)
            if doc is not None:
                atomic_write(path, encode(doc), self._mode())
        else:
            create_store(path, encode({SEATS_KEY: free_map(shape)}))

    def _mode(self) -> int:
        return self.path.stat().st_mode & 0o7777

    def _load(self, reset: bool) -> dict[str, Any] | None:
        """Check the store; with `reset`, the document to write instead: every seat free,
        the count (if it held one) gone, other keys kept."""
        data = read_store(self.path, "seat")
        try:
            parse_seat_document(data, self.shape, str(self.path))
        except StoreError:
            if not reset:
                raise
        if not reset:
            return None
        doc = _object(data)
        doc.pop("count", None)
        doc[SEATS_KEY] = free_map(self.shape)
        return doc

    def holders(self) -> list[str | None]:
        try:
            with open(self.path, "rb") as f:
                data = f.read(MAX_STORE_BYTES + 1)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read the seat map ({exc})") from None
        return parse_seat_document(data, self.shape, str(self.path))[1]

    def write_back_map(
        self, holders: Sequence[str | None], buyers: list[int], base: Sequence[str | None]
    ) -> None:
        """The manager's write-back: the seats the Manager's map changed since it took
        `base`, onto the file as it is now, other seats and keys kept (the stock lived in
        the manager; no buyer wrote the file)."""
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot write the seat map back ({exc})") from None
        doc, found = parse_seat_document(data, self.shape, str(self.path))
        names = self.shape.names()
        for seat, holder in self.merged(base, holders, found):
            doc[SEATS_KEY][names[seat]] = holder
        atomic_write(self.path, encode(doc), self._mode())

    def connect(self, buyer: int) -> JsonSeatStock:
        return JsonSeatStock(self.path, self.shape, self.run_id, buyer, self._inplace, self._mode())

    def close(self) -> None:
        """Remove temp files that killed buyers left behind."""
        sweep_temps(self.path)
