"""Stores: where the tickets live. A registry of kinds, and the two faces of a store.

`StoreFile` is the parent's view (validate, create, reset, read the final count, write
back); `Stock` is what one buyer reads and writes during a purchase. Store modules are
imported only when chosen, so `--help` never pays for sqlite_utils. Stores may import
the ground floor only (errors, files, sqlite_files, waits, faults).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from booking.stores.sighting import Sighting

#: name -> "module:class"; the keys are the choices shown in --help.
STORES: dict[str, str] = {
    "json": "booking.stores.json_store:JsonStore",
    "sqlite": "booking.stores.sqlite_store:SqliteStore",
    "postgres": "booking.stores.pg_store:PgStore",
    "redis": "booking.stores.redis_store:RedisStore",
}

#: The stores on a server, reached by a DSN (--dsn, BOOKING_DSN) or started for the run.
NETWORK_STORES = ("postgres", "redis")
#: The scheme a DSN of each networked store starts with.
DSN_SCHEMES = {"postgres": ("postgresql://", "postgres://"), "redis": ("redis://",)}

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


class TornRead(Exception):
    """The buyer found the store half-written (another buyer truncated it)."""


class StoreBusy(Exception):
    """The database stayed locked past the busy timeout."""


class Stock(Protocol):
    """What a buyer reads and writes: the store itself, or a shared dict standing in."""

    def read(self) -> int: ...

    def write(self, count: int) -> None: ...


class StoreFile(Protocol):
    """The parent's handle on one store file, valid for one run."""

    path: Path
    lock_path: Path

    def count(self) -> int:
        """The count the store holds now."""
        ...

    def connect(self, buyer: int) -> Stock:
        """Open the store inside a buyer process (never across a fork)."""
        ...

    def write_back(self, count: int, buyers: list[int]) -> None:
        """Set the count and record the sales in one atomic step (manager strategy)."""
        ...

    def mark(self) -> int:
        """Note the store as it is now, the start of a run, and return its count: what
        `sighting()` later compares with."""
        ...

    def sighting(self) -> Sighting:
        """What the store itself can tell of writers other than this run since `mark()`."""
        ...

    def close(self) -> None: ...


class StoreKind(Protocol):
    def __call__(
        self, path: Path, tickets: int, *, create: bool, reset: bool, options: StoreOptions
    ) -> StoreFile: ...


@dataclass(frozen=True)
class StoreOptions:
    """How buyers use the store: the JSON write mode, the busy timeout, the run id (of the
    ledger and of a JSON writer tag) and the strategy."""

    json_write: str = "atomic"
    timeout_s: float = 30.0
    run_id: str = ""
    strategy: str = ""  # named in a JSON file's writer tag, so another run can judge it
    # Other processes may write this store (a --path): watch for them. A fresh store in a
    # temporary folder of its own has no one else, so a buyer's purchase skips the work.
    shared: bool = True
    # A networked store: the server's URL (postgresql://..., redis://...), the user's or
    # the throwaway server's the run started.
    dsn: str = ""


def store_exists(path: Path, create: bool) -> bool:
    """Whether the store file is there to open (every kind asks first): a StoreError when
    its folder is missing, it is no regular file, or it is missing and may not be made."""
    from booking.errors import StoreError

    if not path.parent.is_dir():
        raise StoreError(f"{path}: directory {path.parent} does not exist")
    if path.exists():
        if not path.is_file():
            raise StoreError(f"{path}: not a regular file")
        return True
    if not create:
        raise StoreError(f"{path}: no such store")
    return False


def infer_store(path: Path | None, dsn: str | None = None) -> str:
    """The store a DSN's scheme names; else sqlite for .db/.sqlite/.sqlite3 paths, json
    otherwise."""
    for name, schemes in DSN_SCHEMES.items():
        if dsn and dsn.lower().startswith(schemes):
            return name
    if path is not None and path.suffix.lower() in SQLITE_SUFFIXES:
        return "sqlite"
    return "json"


def load_store(name: str) -> StoreKind:
    module, _, attr = STORES[name].partition(":")
    kind: StoreKind = getattr(importlib.import_module(module), attr)
    return kind
