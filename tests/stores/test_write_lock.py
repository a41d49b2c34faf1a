"""The write lock awaited with our own short back-off (atomic, optimistic)."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import pytest

from booking.stores.write_lock import begin_immediate


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


def test_it_waits_for_a_held_lock_and_takes_it_once_freed(tmp_path: Path) -> None:
    holder, waiter = connect(tmp_path / "t.db"), connect(tmp_path / "t.db")
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.05, lambda: holder.execute("COMMIT")).start()
    begin_immediate(waiter, 5.0, random.Random(1))  # would raise at once without the wait
    assert waiter.in_transaction
    waiter.execute("COMMIT")


def test_a_lock_held_past_the_timeout_is_busy(tmp_path: Path) -> None:
    holder, waiter = connect(tmp_path / "t.db"), connect(tmp_path / "t.db")
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin_immediate(waiter, 0.05, random.Random(1))
    assert not waiter.in_transaction


def test_an_error_that_is_not_contention_is_not_retried(tmp_path: Path) -> None:
    conn = connect(tmp_path / "t.db")
    conn.execute("BEGIN")
    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        begin_immediate(conn, 5.0, random.Random(1))
