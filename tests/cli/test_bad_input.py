"""Bad input: one clear line on stderr, exit 2, no traceback, the user's store untouched.

Every case runs through typer's CliRunner. The program name is given as "booking", the
name of the installed console script (`booking = "booking.cli:app"`) and of
`python -m booking`; without it CliRunner calls the program "root".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from booking.cli.app import app
from tests.helpers import sqlite_script

#: Added to every run unless the case sets them itself, so a run that wrongly starts
#: stays fast: two buyers, no think time.
FAST = {"--buyers": "2", "--think": "0"}


def invoke(args: list[str]) -> Result:
    """`booking run ARGS`, with FAST defaults for options the case does not set."""
    full = ["run", *args]
    for option, value in FAST.items():
        if option not in args:
            full += [option, value]
    return CliRunner().invoke(app, full, prog_name="booking")


def assert_usage_error(result: Result) -> str:
    """Exit 2, exactly one 'booking...error:' line on stderr, nothing on stdout, no traceback.
    Returns the stderr line for further checks."""
    out, err = result.stdout, result.stderr
    context = f"exit={result.exit_code} stdout={out!r} stderr={err!r} exc={result.exception!r}"
    assert result.exit_code == 2, context
    assert "Traceback" not in err + out, context
    assert out == "", context
    line = err.strip()
    assert line, context
    assert "\n" not in line, context
    assert line.startswith("booking"), context
    assert "error:" in line, context
    return line


def listing(directory: Path) -> list[str]:
    """Every name under a directory (hidden files included), relative and sorted."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def assert_store_untouched(store: Path, before: bytes, names: list[str]) -> None:
    assert store.read_bytes() == before, "the store file's bytes changed"
    assert listing(store.parent) == names, "files appeared or vanished next to the store"


# --- bad options ------------------------------------------------------------------------

OPTION_CASES = [
    pytest.param(["--buyers", "0"], "buyers", id="buyers-0"),
    pytest.param(["--buyers", "-3"], "buyers", id="buyers-negative"),
    pytest.param(["--buyers", "abc"], "--buyers", id="buyers-abc"),
    pytest.param(["--tickets", "-1"], "tickets", id="tickets-negative"),
    pytest.param(["--attempts", "0"], "attempts", id="attempts-0"),
    pytest.param(["--timeout", "0"], "timeout", id="timeout-0"),
    pytest.param(["--timeout", "-1"], "timeout", id="timeout-negative"),
    pytest.param(["--strategy", "lok"], "lok", id="strategy-typo"),
    pytest.param(["--store", "mongo"], "mongo", id="store-unknown"),
    pytest.param(["--think", "5:1"], "think", id="think-min-over-max"),
    pytest.param(["--think", "abc"], "think", id="think-abc"),
    pytest.param(["--think", "1:2:3"], "think", id="think-three-parts"),
    pytest.param(["--think", "-1"], "think", id="think-negative"),
    pytest.param(["--json-write", "sideways"], "sideways", id="json-write-unknown"),
    pytest.param(
        ["--json-write", "inplace", "--store", "sqlite"], "json-write", id="json-write-with-sqlite"
    ),
    pytest.param(
        ["--no-manager-lock", "--strategy", "lock"], "manager-lock", id="no-manager-lock-with-lock"
    ),
    pytest.param(
        ["--strategy", "transaction", "--store", "json"],
        "does not work on the json store",
        id="transaction-on-json",
    ),
    pytest.param(["--poll-ms", "0", "--strategy", "filelock"], "poll", id="poll-0"),
    pytest.param(["--poll-ms", "nan", "--strategy", "filelock"], "poll", id="poll-nan"),
    pytest.param(["--poll-ms", "7"], "filelock", id="poll-without-filelock"),
    pytest.param(["--frobnicate"], "--frobnicate", id="unknown-option"),
    pytest.param(["--max-memory", "800X"], "'800X' is not a size", id="max-memory-unit"),
    pytest.param(["--max-memory", "4000"], "a number and a unit", id="max-memory-bare"),
    # Refused for memory: the same contract, the store untouched.
    pytest.param(["--max-memory", "1M"], "more than the 1.0 MiB", id="max-memory-too-small"),
    pytest.param(["--max-memory", "100T"], "more than this machine", id="max-memory-too-large"),
]


@pytest.mark.parametrize(("args", "mentions"), OPTION_CASES)
def test_bad_option_without_path(args: list[str], mentions: str) -> None:
    line = assert_usage_error(invoke(args))
    assert mentions in line


@pytest.mark.parametrize(("args", "mentions"), OPTION_CASES)
def test_bad_option_leaves_existing_store_alone(
    tmp_path: Path, args: list[str], mentions: str
) -> None:
    store = tmp_path / "db.json"
    store.write_bytes(b'{"count": 4}')
    names = listing(tmp_path)
    result = invoke([*args, "--path", str(store)])
    line = assert_usage_error(result)
    assert mentions in line
    assert_store_untouched(store, b'{"count": 4}', names)


def test_bad_option_creates_no_store(tmp_path: Path) -> None:
    store = tmp_path / "db.json"
    assert_usage_error(invoke(["--buyers", "0", "--path", str(store)]))
    assert not store.exists()
    assert listing(tmp_path) == []


def test_unknown_strategy_names_the_choices() -> None:
    line = assert_usage_error(invoke(["--strategy", "lok"]))
    for choice in ("none", "lock", "filelock", "manager"):
        assert choice in line


# --- --path in a missing directory ------------------------------------------------------


@pytest.mark.parametrize("name", ["db.json", "db.db"])
def test_path_in_missing_directory(tmp_path: Path, name: str) -> None:
    store = tmp_path / "nope" / name
    line = assert_usage_error(invoke(["--path", str(store)]))
    assert "nope" in line
    assert not (tmp_path / "nope").exists()
    assert listing(tmp_path) == []


# --- corrupt or wrong-typed JSON stores -------------------------------------------------

BAD_JSON_STORES = [
    pytest.param(b'{"count": "ten"}', id="count-string"),
    pytest.param(b'{"count": -1}', id="count-negative"),
    pytest.param(b'{"count": 1.5}', id="count-float"),
    pytest.param(b'{"count": true}', id="count-bool"),
    pytest.param(b'{"count": null}', id="count-null"),
    pytest.param(b"[]", id="list"),
    pytest.param(b"{}", id="empty-object"),
    pytest.param(b'{"tickets": 5}', id="no-count-key"),
    pytest.param(b"", id="empty-file"),
    pytest.param(b'{"count": 1', id="truncated"),
    pytest.param(bytes(range(256)), id="random-bytes"),
    pytest.param(b"\xff\xfe{", id="not-utf8"),
    pytest.param(b'{"count": ' + str(10**30).encode() + b"}", id="count-huge"),
    pytest.param(b'{"count": 1, "pad": "' + b"x" * (1 << 20) + b'"}', id="over-1MiB"),
]


@pytest.mark.parametrize("content", BAD_JSON_STORES)
def test_bad_json_store(tmp_path: Path, content: bytes) -> None:
    store = tmp_path / "db.json"
    store.write_bytes(content)
    names = listing(tmp_path)
    result = invoke(["--path", str(store)])
    line = assert_usage_error(result)
    assert str(store) in line
    assert_store_untouched(store, content, names)


@pytest.mark.parametrize("content", BAD_JSON_STORES)
def test_bad_json_store_with_explicit_store_and_tickets(tmp_path: Path, content: bytes) -> None:
    """--store json and --tickets (without --reset) must not repair or overwrite it either."""
    store = tmp_path / "tickets.data"
    store.write_bytes(content)
    names = listing(tmp_path)
    result = invoke(["--store", "json", "--tickets", "7", "--path", str(store)])
    assert_usage_error(result)
    assert_store_untouched(store, content, names)


# --- unusable SQLite stores -------------------------------------------------------------


def sqlite_other_table(path: Path) -> bytes:
    return sqlite_script(path, "CREATE TABLE other (x)", "INSERT INTO other VALUES (1)")


def sqlite_text_file(path: Path) -> bytes:
    path.write_bytes(b"this is not a database, just some text\n")
    return path.read_bytes()


def sqlite_count_text(path: Path) -> bytes:
    return sqlite_script(
        path,
        "CREATE TABLE stock (id INTEGER PRIMARY KEY, count TEXT NOT NULL)",
        "INSERT INTO stock VALUES (1, 'ten')",
    )


def sqlite_count_negative(path: Path) -> bytes:
    return sqlite_script(
        path,
        "CREATE TABLE stock (id INTEGER PRIMARY KEY, count INTEGER NOT NULL)",
        "INSERT INTO stock VALUES (1, -5)",
    )


SQLITE_MAKERS = {
    "other-table": sqlite_other_table,
    "text-file": sqlite_text_file,
    "count-text": sqlite_count_text,
    "count-negative": sqlite_count_negative,
}


@pytest.mark.parametrize("kind", list(SQLITE_MAKERS))
@pytest.mark.parametrize(
    ("name", "extra"),
    [
        pytest.param("x.db", [], id="db-suffix"),
        pytest.param("x.store", ["--store", "sqlite"], id="store-sqlite"),
    ],
)
def test_bad_sqlite_store(tmp_path: Path, kind: str, name: str, extra: list[str]) -> None:
    store = tmp_path / name
    before = SQLITE_MAKERS[kind](store)
    names = listing(tmp_path)
    result = invoke([*extra, "--path", str(store)])
    line = assert_usage_error(result)
    assert str(store) in line
    assert_store_untouched(store, before, names)


# --- found while writing these tests (beyond the original list) --------------------------


def test_empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--path ""` is bad input like any other, not a crash (it reaches the store as '.')."""
    monkeypatch.chdir(tmp_path)
    assert_usage_error(invoke(["--path", ""]))
    assert listing(tmp_path) == []


def test_sqlite_store_with_foreign_sales_table(tmp_path: Path) -> None:
    """A stock table that passes, beside a `sales` table of another shape: the store is not
    ours to write to, so it is refused up front and left as it was."""
    store = tmp_path / "x.db"
    before = sqlite_script(
        store,
        "CREATE TABLE stock (id INTEGER PRIMARY KEY, count INTEGER NOT NULL)",
        "INSERT INTO stock VALUES (1, 3)",
        "CREATE TABLE sales (x)",
    )
    names = listing(tmp_path)
    result = invoke(["--path", str(store)])
    assert_usage_error(result)
    assert_store_untouched(store, before, names)


# --- positive control -------------------------------------------------------------------


def test_valid_store_runs_and_keeps_other_keys(tmp_path: Path) -> None:
    store = tmp_path / "db.json"
    store.write_text(json.dumps({"count": 3, "note": "keep"}))
    result = CliRunner().invoke(
        app,
        ["run", "--path", str(store), "--buyers", "5", "--think", "0", "--json"],
        prog_name="booking",
    )
    context = f"exit={result.exit_code} stdout={result.stdout!r} stderr={result.stderr!r}"
    assert result.exit_code == 0, context
    assert "Traceback" not in result.stdout + result.stderr, context
    record = json.loads(result.stdout)
    assert record["sold"] == 3, context
    assert record["remaining"] == 0, context
    doc = json.loads(store.read_text())
    assert doc["count"] == 0
    assert doc["note"] == "keep"
    assert listing(tmp_path) == ["db.json"], "temp files were left next to the store"
