"""A history file saved by the previous booking (tests/history/old_history.sql) still opens,
lists with the new columns, shows in words, and takes new sessions. Only the command line
and the store are used, so these tests run against the previous code too."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from booking.cli.app import app
from booking.history.store import History


def cli(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args), prog_name="booking")
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def test_an_old_history_lists_with_workloads_and_outcomes(old_db: Path) -> None:
    listing = cli("history", "--db", str(old_db)).stdout.splitlines()
    assert [" ".join(line.split()[3:]) for line in listing[3:]] == [
        "scenario grid 2–4 5 1:5 4 cells, 2 not SAFE",
        "compare compare 3 10 1:5 2 cells, all SAFE",
        "run none/json 3 10 1:5 LOST_UPDATES",
    ]


def test_an_old_compare_shows_its_options_in_words(old_db: Path) -> None:
    shown = cli("history", "show", "2", "--db", str(old_db)).stdout
    options = next(line for line in shown.splitlines() if line.startswith("options"))
    # Not "strategy lock": the old params' unused default is not taken for the choice.
    assert options == (
        "options seed 1 · timeout 30 s · arrival gate · strategies lock · stores json, sqlite · "
        "1 run per cell"
    )
    record = json.loads(cli("history", "show", "3", "--db", str(old_db), "--json").stdout)
    assert record["session"]["params"] == {
        "file": "/tmp/grid.toml",
        "overrides": {"tickets": 5, "seed": 1},
        "description": "",
    }


def test_an_old_history_takes_new_sessions_beside_the_old(old_db: Path) -> None:
    with History(old_db) as history:
        new = history.begin("compare", "lock × json", {"strategies": ["lock"], "stores": ["json"]})
        history.finish(new, "complete")
    listing = cli("history", "--db", str(old_db)).stdout.splitlines()
    assert [line.split()[4] for line in listing[3:]] == ["lock", "grid", "compare", "none/json"]
