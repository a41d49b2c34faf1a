"""`optimistic`: read a count and its version, think, write only if the version is unchanged.

A compare-and-set with retry (protocols.CompareAndSet): nothing is held across the think,
so buyers think in parallel; a write that finds the store changed writes nothing (a
conflict), and the buyer re-reads and tries again, up to --retries times, then gives up.
- sqlite: a `version` column that a trigger bumps on every change of the count, and
  `UPDATE stock SET count = ? WHERE id = 1 AND version = ?` in one transaction with the sale.
- postgres: the same version column and trigger; the UPDATE and the sale in one statement.
- json: a "version" key; the compare and the replace are done under a short filelock on
  <store>.lock, held only for the re-read and the write, never across the think.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from booking.errors import StoreError
from booking.stores import StoreFile
from booking.stores.json_store import JsonStock
from booking.stores.sqlite_store import SqliteStock, SqliteStore
from booking.strategies.on_store import OnTheStore
from booking.strategies.protocols import CompareAndSet, GuardTimeout, Purchase
from booking.strategies.seat_orders import SeatCompareAndSet

if TYPE_CHECKING:
    from booking.strategies.file_lock import FileGuard


class _VersionColumn(Protocol):
    """A database stock that keeps a version with its count (sqlite, postgres)."""

    def read_versioned(self) -> int: ...

    def swap(self, count: int) -> bool: ...

    def die_writing(self, count: int) -> None: ...


class SqliteVersioned:
    """The version column read with the count, and the conditional UPDATE (sqlite, and a
    store on a server whose stock has read_versioned)."""

    def __init__(self, stock: _VersionColumn) -> None:
        self._stock = stock

    def read(self) -> int:
        return self._stock.read_versioned()

    def swap(self, count: int) -> bool:
        return self._stock.swap(count)

    def die_writing(self, count: int) -> None:
        self._stock.die_writing(count)


class JsonVersioned:
    """The "version" key read with the count; the compare and the replace under a short
    filelock (a JSON file has no conditional write of its own)."""

    def __init__(self, stock: JsonStock, lock: FileGuard) -> None:
        self._stock = stock
        self._lock = lock
        self._seen = (-1, -1)

    def read(self) -> int:
        count = self._stock.read()
        self._seen = (count, self._stock.version())
        return count

    def swap(self, count: int) -> bool:
        if not self._lock.acquire():
            raise GuardTimeout("the compare-and-set lock wait timed out")
        try:
            # The file now, under the lock: unchanged since read() means same count and
            # version (a version bumped by every write of ours; the count for the rest).
            now = self._stock.read()
            version = self._stock.version()
            if (now, version) != self._seen:
                return False
            self._stock.write(count, version + 1)
            return True
        finally:
            self._lock.release()

    def die_writing(self, count: int) -> None:
        # Under the lock, as a real write would be: the kernel frees it at the death.
        self._lock.acquire()
        self._stock.die_writing(count)


class Optimistic(OnTheStore):
    def _prepare(self) -> None:
        if getattr(self._store, "server", False):
            return  # the server's own compare-and-set: no lock of ours
        if not isinstance(self._store, SqliteStore) and not _seat_sqlite(self._store):
            _check_json_version(self._store)
            # Imported here, in the parent, and only for json: filelock registers fork
            # hooks that every buyer would pay for (FACTS.md), and an import in each buyer
            # would cost each of them the import.
            from booking.strategies import file_lock

            self._file_lock = file_lock

    def buyer_parts(self, buyer: int) -> Purchase:
        stock = self._store.connect(buyer)
        if self._seats is not None:
            lock = None if hasattr(stock, "claim_if_free") else self._swap_lock()
            return SeatCompareAndSet(stock, self._seats, buyer, self._retries, lock)
        if isinstance(stock, SqliteStock) or hasattr(stock, "read_versioned"):
            return CompareAndSet(SqliteVersioned(stock), self._retries)  # type: ignore[arg-type]
        assert isinstance(stock, JsonStock)
        return CompareAndSet(JsonVersioned(stock, self._swap_lock()), self._retries)

    def _swap_lock(self) -> FileGuard:
        """The short filelock on <store>.lock a JSON compare-and-set is made under."""
        file_lock = self._file_lock
        lock: FileGuard = file_lock.FileGuard(
            file_lock.filelock.FileLock(self._store.lock_path), self._poll, self._timeout_s
        )
        return lock


def _seat_sqlite(store: StoreFile) -> bool:
    from booking.stores.seat_sqlite import SqliteSeatStore

    return isinstance(store, SqliteSeatStore)


def _check_json_version(store: StoreFile) -> None:
    """A "version" key that is not ours (not a whole number) is the user's: refused, never
    overwritten."""
    import json

    try:
        version = json.loads(store.path.read_bytes()).get("version", 0)
    except (OSError, ValueError, AttributeError):
        return  # the store's own checks have passed: nothing more to say here
    if type(version) is not int or version < 0:
        raise StoreError(
            f'{store.path}: "version" must be a whole number for the optimistic strategy '
            f"(it counts the changes of the count), found {json.dumps(version)}"
        )
