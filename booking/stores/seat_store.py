"""Seat stores: a seat map instead of a ticket count. The two faces (the parent's
`SeatStoreFile`, a buyer's `SeatStock`), the registry of kinds, and what the count and
seat stores share to recognise each other and to check a map, so a store of one kind is
never taken for, or silently turned into, the other.

A map is a list of holders in row-major seat order: "<run id>/<buyer>", or None (free).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from booking.errors import StoreError
from booking.seating import MAX_COLS, MAX_ROWS, Shape
from booking.words import printable

if TYPE_CHECKING:
    from booking.stores import StoreOptions
    from booking.stores.sighting import Sighting

#: name -> "module:class", like STORES: imported only when chosen.
SEAT_STORES: dict[str, str] = {
    "json": "booking.stores.seat_json:JsonSeatStore",
    "sqlite": "booking.stores.seat_sqlite:SqliteSeatStore",
    "postgres": "booking.stores.pg_seats:PgSeatStore",
}

SEATS_KEY = "seats"  # the JSON document's map
SEATS_TABLE = "seats"  # the SQLite table of the map
_LARGEST = Shape(MAX_ROWS, MAX_COLS)  # names every seat any map can have


class SeatStock(Protocol):
    """What a buyer reads and writes of a seat map."""

    shape: Shape

    def read_map(self) -> list[str | None]: ...

    def claim(self, seats: Sequence[int], fresh: bool = False) -> None: ...

    def die_claiming(self, seats: Sequence[int]) -> None: ...


class SeatStoreFile(Protocol):
    """The parent's handle on one seat store, valid for one run."""

    path: Path
    lock_path: Path
    shape: Shape

    def mark(self) -> int:
        """The free seats now; remembers the holders for `marked()`."""
        ...

    def marked(self) -> list[str | None]: ...

    def count(self) -> int:
        """The free seats now."""
        ...

    def holders(self) -> list[str | None]: ...

    def sighting(self) -> Sighting: ...

    def connect(self, buyer: int) -> SeatStock:
        """Open the store inside a buyer process (never across a fork)."""
        ...

    def close(self) -> None: ...


class SeatStoreKind(Protocol):
    def __call__(
        self, path: Path, shape: Shape, *, create: bool, reset: bool, options: StoreOptions
    ) -> SeatStoreFile: ...


def load_seat_store(name: str) -> SeatStoreKind:
    if name not in SEAT_STORES:
        raise StoreError(
            f"the {name} store cannot hold a seat map yet: --seats works on the "
            f"{' and '.join(SEAT_STORES)} stores"
        )
    module, _, attr = SEAT_STORES[name].partition(":")
    kind: SeatStoreKind = getattr(importlib.import_module(module), attr)
    return kind


def rebuild(shape: Shape) -> str:
    """What a refusal tells the user to do."""
    return f"add --reset to rebuild it as a {shape} seat map"


def holds_count(path: Path | str, shape: Shape) -> StoreError:
    """A seat store asked to open a store that holds a ticket count."""
    return StoreError(f"{path}: holds a ticket count, not a seat map; {rebuild(shape)}")


def holds_seat_map(path: Path | str) -> StoreError:
    """A count store asked to open a store that holds a seat map."""
    return StoreError(
        f"{path}: holds a seat map, not a ticket count; add --seats ROWSxCOLS to use it, "
        "or --reset to replace it with a store of --tickets tickets"
    )


def seat_document(data: bytes) -> dict[str, Any] | None:
    """The JSON document, when it is an object whose "seats" key holds an object (a seat
    map, whole or not); None for anything else, which the count store judges itself (a
    count store may keep a "seats" key of its own, such as a note)."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and isinstance(doc.get(SEATS_KEY), dict):
        return doc
    return None


def shape_of(names: Sequence[object]) -> Shape | None:
    """The shape these seat names fill exactly, or None when they are no full map."""
    indexes = [_LARGEST.index(name) if isinstance(name, str) else None for name in names]
    if not indexes or None in indexes:
        return None
    places = {divmod(i, MAX_COLS) for i in indexes if i is not None}
    shape = Shape(max(r for r, _ in places) + 1, max(c for _, c in places) + 1)
    full = len(places) == len(names) == shape.size
    return shape if full else None


def seat_list(found: Mapping[Any, object], shape: Shape, where: str) -> list[str | None]:
    """The holders of a map read as {seat name: holder}, in seat order; a StoreError that
    says what is wrong and to reset when it is not a full map of `shape` with a string or
    null for each holder."""
    names = shape.names()
    if set(found) != set(names):
        other = shape_of(list(found))
        if other is not None:
            raise StoreError(f"{where}: a {other} seat map, not {shape}; {rebuild(shape)}")
        extra = sorted(printable(repr(key))[:40] for key in found if key not in set(names))
        if extra:
            raise StoreError(
                f"{where}: {extra[0]} is not a seat of a {shape} map "
                f"({len(extra)} such); {rebuild(shape)}"
            )
        missing = [name for name in names if name not in found]
        raise StoreError(
            f"{where}: the seat map has no seat {missing[0]} ({len(missing)} missing); "
            f"{rebuild(shape)}"
        )
    holders: list[str | None] = []
    for name in names:
        holder = found[name]
        if holder is not None and type(holder) is not str:
            shown = printable(json.dumps(holder, default=repr))[:40]
            raise StoreError(
                f"{where}: seat {name}'s holder must be a string or null, found {shown}; "
                f"{rebuild(shape)}"
            )
        holders.append(holder)
    return holders


class MarkedMap:
    """What both seat stores derive from `holders()`: the free seats now, and the map at
    the run's start mark, which the seat judge sets against the map after it."""

    _marked: list[str | None]
    run_id: str

    #: Seats a manager's write-back wrote over although another writer had changed them
    #: since the Manager took its copy: sold twice, the judge says.
    overwritten: tuple[int, ...] = ()

    def merged(
        self,
        base: Sequence[str | None],
        holders: Sequence[str | None],
        found: Sequence[str | None],
    ) -> list[tuple[int, str | None]]:
        """The write-back of a map the Manager took as `base` and holds as `holders`, onto
        the store's `found`: only the seats this run changed (whatever other writers did
        to the rest stays), and those of them others changed too are kept as
        `overwritten`."""
        changed = [(i, holder) for i, holder in enumerate(holders) if holder != base[i]]
        self.overwritten = tuple(i for i, _ in changed if found[i] != base[i])
        return changed

    def holder_for(self, buyer: int) -> str:
        """How this run's `buyer` is written as a seat's holder."""
        from booking.seating import holder_of

        return holder_of(self.run_id, buyer)

    def holders(self) -> list[str | None]:
        raise NotImplementedError

    def count(self) -> int:
        return self.holders().count(None)

    def mark(self) -> int:
        self._marked = self.holders()
        return self._marked.count(None)

    def marked(self) -> list[str | None]:
        return list(self._marked)

    def sighting(self) -> Sighting:
        """Nothing of its own: the seat judge reads other runs' holders from the map."""
        from booking.stores.sighting import Sighting

        return Sighting()


def table_holders(rows: Sequence[tuple[Any, ...]], shape: Shape, where: str) -> list[str | None]:
    """A seats table's rows (seat, row, col, holder) as holders in seat order; StoreError
    when they are no map of this shape or a seat sits at another row and col than its name
    says. Both tables of seats (sqlite, postgres) are read through it."""
    holders = seat_list({seat: holder for seat, _, _, holder in rows}, shape, where)
    for seat, row, col, _ in rows:
        index = shape.index(seat)
        if index is not None and (row, col) != divmod(index, shape.cols):
            raise StoreError(
                f"{where}: seat {seat} is stored at row {row!r}, col {col!r}, not "
                f"{index // shape.cols}, {index % shape.cols}; {rebuild(shape)}"
            )
    return holders
