"""The networked stores' options on the command line: each one where it means something,
refused in one line (exit 2) where it does not, before any server is started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli, run_json


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dsn", "postgresql://u@h/db", "--store", "json"], "--dsn only applies"),
        (["--kill-server", "5"], "--kill-server only applies"),
        (["--store", "postgres", "--dsn", "redis://h/0"], "needs a postgresql://... URL"),
        (["--store", "redis", "--dsn", "redis://"], "no host"),
        (["--store", "redis", "--dsn", "redis://h:99999/0"], "the port must be a number"),
        (["--store", "postgres", "--path", "x.db"], "--path names a store file"),
        (
            ["--store", "postgres", "--dsn", "postgresql://u@h/db", "--kill-server", "5"],
            "never kills a server you run",
        ),
        (["--store", "redis", "--kill-server", "-1"], "kill server must be"),
        (["--lock-ttl", "5"], "--lock-ttl only applies to --strategy ttl-lock or fenced"),
        (["--store", "redis", "--strategy", "ttl-lock", "--lock-ttl", "0"], "lock ttl must"),
        (
            ["--store", "redis", "--strategy", "ttl-lock", "--lock-ttl", "1.5"],
            "a whole number of milliseconds",
        ),
        (["--store", "redis", "--strategy", "filelock"], "a lock file guards a file"),
        (["--store", "postgres", "--strategy", "transaction"], "BEGIN IMMEDIATE is SQLite's"),
        (["--store", "json", "--strategy", "for-update"], "needs postgres"),
        (["--store", "sqlite", "--strategy", "fenced"], "needs redis"),
        (["--strategy", "lock", "--retries", "2"], "--retries only applies to --strategy"),
    ],
)
def test_a_server_option_out_of_place_is_refused_in_one_line(args: list[str], message: str) -> None:
    result = run_cli(*args, "--buyers", "2")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_password_in_a_refused_dsn_is_never_shown() -> None:
    result = run_cli("--store", "postgres", "--dsn", "redis://user:hunter2@h/0")
    assert result.exit_code == 2
    assert "hunter2" not in result.stderr and "***" in result.stderr


def test_booking_dsn_never_gets_in_the_way_of_a_file_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOOKING_DSN", "postgresql://nobody@127.0.0.1:1/none")
    record = run_json("--buyers", "3", "--think", "0")
    assert (record["store"], record["verdict"]) == ("json", "SAFE")


def test_the_retries_message_names_every_strategy_that_retries() -> None:
    result = run_cli("--strategy", "lock", "--retries", "2")
    for name in ("optimistic", "serializable", "fenced", "for-update-unordered"):
        assert name in result.stderr


@pytest.mark.parametrize(
    "args", [["--store", "postgres", "--strategy", "none"], ["--strategy", "fenced"]]
)
def test_explore_refuses_a_networked_store_in_one_line(args: list[str]) -> None:
    from typer.testing import CliRunner

    from booking.cli.app import app

    result = CliRunner().invoke(app, ["explore", *args])
    assert result.exit_code == 2
    assert "explore replays its schedules on a file store" in result.stderr


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://u:hunter2@h:5/db", "postgresql://u:***@h:5/db"),
        (
            "postgresql://h/db?password=hunter2&sslmode=disable",
            "postgresql://h/db?password=***&sslmode=disable",
        ),
        ("redis://:hunter2@h/0", "redis://:***@h/0"),
        ("redis://h/0?password=hunter2", "redis://h/0?password=***"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        # libpq reads the password up to the "@": a "#" or "?" in it is still the password.
        ("postgresql://u:s3c#ret@localhost:5432/db", "postgresql://u:***@localhost:5432/db"),
        ("postgresql://u:s3c?ret@localhost/db", "postgresql://u:***@localhost/db"),
        # libpq's key=value form, and a query left as written apart from the secret.
        ("host=h user=u password=s3cret dbname=d", "host=h user=u password=*** dbname=d"),
        ("postgresql:///db?host=/tmp&password=x", "postgresql:///db?host=/tmp&password=***"),
    ],
)
def test_a_password_anywhere_in_a_dsn_is_masked(dsn: str, shown: str) -> None:
    from booking.words import mask_dsn

    assert mask_dsn(dsn) == shown


def test_a_query_password_never_reaches_the_record_or_the_history(
    tmp_path: Path, pg_dsn: str
) -> None:
    # Trust authentication on the throwaway server: the password is accepted, and unused.
    db = tmp_path / "h.db"
    result = run_cli(
        "--dsn", pg_dsn + "?password=hunter2", "--buyers", "2", "--think", "0", "--reset",
        "--save", "--db", str(db), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["path"].endswith("?password=***")
    assert "hunter2" not in result.stdout + result.stderr
    assert b"hunter2" not in db.read_bytes()


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u:hunter2 x@127.0.0.1:1/db",
        "postgresql://u@127.0.0.1:1/db?password=hunter2 x",
        "redis://:hunter2 x@127.0.0.1:1/0",
        "postgresql://u:hunter2#x@127.0.0.1:1/db",
        "host=127.0.0.1 port=1 password=hunter2",
    ],
)
def test_a_driver_quoting_the_password_never_shows_it(dsn: str) -> None:
    # The drivers' own messages may quote the DSN's password (libpq: 'unexpected spaces
    # found in "..."'): booking masks it there too.
    result = run_cli("--dsn", dsn, "--buyers", "1")
    assert result.exit_code == 2, result.stdout
    assert "hunter2" not in result.stderr + result.stdout
    assert "***" in result.stderr


def test_booking_dsn_serves_the_store_a_strategy_needs(
    monkeypatch: pytest.MonkeyPatch, pg_dsn: str
) -> None:
    # No --store: for-update needs postgres, and $BOOKING_DSN names one.
    monkeypatch.setenv("BOOKING_DSN", pg_dsn)
    record = run_json("--strategy", "for-update", "--buyers", "2", "--think", "0", "--reset")
    assert (record["store"], record["path"], record["verdict"]) == ("postgres", pg_dsn, "SAFE")
