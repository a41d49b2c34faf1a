"""SQLite's write lock, awaited with a short back-off of our own.

SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between
retries, so a writer that meets the lock once may sleep 20 ms for a lock held 100 us. The
designs that serialise only the write (`atomic`, `optimistic`) would be measured by that
sleep, not by their write; they take the lock with BEGIN IMMEDIATE and no busy timeout,
retrying after 50 us, doubling to 2 ms, with jitter, until the run's timeout. (`transaction`
keeps SQLite's own handler: holding the lock across the think, its waiters wait long anyway.)
"""

from __future__ import annotations

import random
import sqlite3
import time

FIRST_PAUSE_S = 50e-6
MAX_PAUSE_S = 2e-3


def begin_immediate(conn: sqlite3.Connection, timeout_s: float, rng: random.Random) -> None:
    """BEGIN IMMEDIATE on `conn` (whose busy timeout is 0), retried until `timeout_s`;
    the last SQLITE_BUSY is raised when it runs out."""
    deadline = time.monotonic() + timeout_s
    pause = FIRST_PAUSE_S
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "") != "SQLITE_BUSY":
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(left, pause * rng.uniform(0.5, 1.5)))
            pause = min(pause * 2, MAX_PAUSE_S)
