"""A store that cannot be used says what to do next (issue 10, defect 6): a broken JSON
store names --reset; a SQLite database at a .json path names --store sqlite and is never
reset into a JSON file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from booking.cli.app import app
from tests.cli.test_bad_input import assert_usage_error, invoke


def run(*args: str) -> str:
    return assert_usage_error(invoke(list(args)))


def test_a_broken_json_store_names_reset(tmp_path: Path) -> None:
    store = tmp_path / "tickets.json"
    store.write_bytes(b'{"count": 5')
    assert "--reset replaces it with a new store" in run("--path", str(store))
    assert store.read_bytes() == b'{"count": 5'
    reset = CliRunner().invoke(app, ["run", "--buyers", "2", "--path", str(store), "--reset"])
    assert reset.exit_code == 0, reset.stderr


def test_a_sqlite_database_at_a_json_path_names_store_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "tickets.db"
    made = CliRunner().invoke(app, ["run", "--buyers", "2", "--path", str(database)])
    assert made.exit_code == 0, made.stderr
    store = tmp_path / "tickets.json"
    store.write_bytes(database.read_bytes())
    before = store.read_bytes()
    for extra in ([], ["--reset"]):
        line = run("--path", str(store), *extra)
        assert "a SQLite database, not a JSON ticket store; add --store sqlite" in line
    assert store.read_bytes() == before  # --reset never turned the database into JSON
    used = CliRunner().invoke(
        app, ["run", "--buyers", "2", "--path", str(store), "--store", "sqlite", "--json"]
    )
    assert used.exit_code == 0, used.stderr


def test_a_hand_made_sales_table_without_an_id_column_works(tmp_path: Path) -> None:
    # The ledger is read by rowid: a store whose sales table has only the columns booking
    # asks for (no id) is used, not a traceback after the store was changed.
    import sqlite3

    store = tmp_path / "hand.db"
    conn = sqlite3.connect(store)
    conn.executescript(
        "CREATE TABLE stock (id INTEGER PRIMARY KEY, count INTEGER);"
        "INSERT INTO stock VALUES (1, 5);"
        "CREATE TABLE sales (run TEXT, buyer INTEGER, sold_at REAL);"
    )
    conn.close()
    result = CliRunner().invoke(app, ["run", "--buyers", "2", "--path", str(store), "--json"])
    assert result.exit_code == 0, result.stderr
    assert '"verdict": "SAFE"' in result.stdout
