"""What the SQLite store and the results history share: recognising a SQLite file before
opening it, and switching a new database to WAL when several processes may race to."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when used: the json store checks the header without it
    import sqlite3

SQLITE_HEADER = b"SQLite format 3\x00"


def looks_like_sqlite(path: Path) -> bool:
    """An empty file or one that starts with SQLite's header (read before sqlite3 touches
    it, so a foreign file is never rewritten)."""
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_HEADER))
    return not head or head == SQLITE_HEADER


def enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch to WAL. The switch needs the file to itself and, unlike other statements, does
    not wait in SQLite's busy handler: two processes creating one database at once would
    fail with "database is locked". So wait here, up to `timeout_s`, then raise that error."""
    import sqlite3

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.002)
