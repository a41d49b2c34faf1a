"""SQLite's contention errors as StoreBusy, saying why when SQLite can tell: a stale read
snapshot that cannot be upgraded, or a write lock a reading transaction may not wait for
(`deferred` shows both)."""

from __future__ import annotations

import sqlite3

from booking.stores import StoreBusy

STALE_SNAPSHOT = "SQLITE_BUSY_SNAPSHOT"


def busy_or(exc: sqlite3.OperationalError, upgrading: bool = False) -> Exception:
    """SQLITE_BUSY and SQLITE_LOCKED are contention; anything else is a plain error.
    `upgrading`: the write was made inside a transaction that so far only read."""
    message = str(exc)
    name = getattr(exc, "sqlite_errorname", "")
    if name == STALE_SNAPSHOT:
        return StoreBusy(
            f"{message} ({STALE_SNAPSHOT}: another buyer committed after this "
            "transaction's read, so its snapshot could not be upgraded to write)"
        )
    if upgrading and name == "SQLITE_BUSY":
        return StoreBusy(
            f"{message} (SQLITE_BUSY at once: another buyer held the write lock, and a "
            "transaction that has read cannot wait for it without risking a deadlock)"
        )
    if "locked" in message or "busy" in message:
        return StoreBusy(message)
    return exc
