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
from typing import Protocol

#: name -> "module:class"; the keys are the choices shown in --help.
STORES: dict[str, str] = {
    "json": "booking.stores.json_store:JsonStore",
    "sqlite": "booking.stores.sqlite_store:SqliteStore",
}

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


@dataclass(frozen=True)
class Writer:
    """Another writer a store saw during a run: a run id from the sqlite ledger, or the
    writer tag of a JSON file a buyer read ("" for a file written outside booking)."""

    run: str
    strategy: str = ""  # as its JSON tag says; "" when unknown (ledger rows, untagged files)
    same_lock: bool = False  # it held this store's <store>.lock (filelock on the same file)
    sales: int | None = None  # its ledger rows since the mark; None: the store has no ledger
    reads: int = 0  # this run's reads that found a file it wrote (JSON)


@dataclass(frozen=True)
class Sighting:
    """What a store can tell about other writers between the start mark and now.

    The sqlite store keeps a ledger, so it counts every sale of every run exactly. A JSON
    file only carries a tag naming the run that wrote it last (an extended attribute), so
    it sees the writers whose files this run's buyers happened to read."""

    ledger: bool = False  # `sales` and each writer's `sales` are exact ledger counts
    sales: int = 0  # ledger rows since the mark, every run's
    count: int | None = None  # the count read together with `sales` (one snapshot)
    others: tuple[Writer, ...] = ()
    resets: tuple[str, ...] = ()  # runs that reset the store's count since the mark
    overwritten: int | None = None  # the changed count a write-back replaced (manager)
    identity: bool = True  # False: the store cannot tell writers apart (JSON inplace, no xattrs)


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


def infer_store(path: Path | None) -> str:
    """sqlite for .db/.sqlite/.sqlite3 paths, json otherwise."""
    if path is not None and path.suffix.lower() in SQLITE_SUFFIXES:
        return "sqlite"
    return "json"


def load_store(name: str) -> StoreKind:
    module, _, attr = STORES[name].partition(":")
    kind: StoreKind = getattr(importlib.import_module(module), attr)
    return kind
