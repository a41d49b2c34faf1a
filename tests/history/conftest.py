"""A history file saved by the previous booking, for the tests that it still reads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

OLD_HISTORY = Path(__file__).with_name("old_history.sql")


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    """The previous version's file: session 1 a run, 2 a compare named just "compare",
    whose params carry the workload's default strategy and store beside its strategies and
    stores, 3 a scenario; every session's params are JSON text; no timelines table."""
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    try:
        conn.executescript(OLD_HISTORY.read_text())
    finally:
        conn.close()
    return db
