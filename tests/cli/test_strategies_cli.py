"""`booking strategies`: the catalogue is the registry, as a table and as JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner, Result

from booking.cli.app import app
from booking.stores import STORES
from booking.strategies import STRATEGIES


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), prog_name="booking")


def test_the_json_catalogue_is_the_registry() -> None:
    result = cli("strategies", "--json")
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert [r["name"] for r in records] == list(STRATEGIES)
    for record in records:
        info = STRATEGIES[record["name"]]
        assert record["stores"] == [s for s in STORES if info.supports(s)]
        assert record["claims_safe"] is info.claims_safe
        assert record["across_runs"] is info.across_runs
        assert record["summary"] == info.summary
        # Every entry says how it works, what it costs and where it comes from.
        assert record["protocol"] and record["cost"] and record["origin"]
        assert record["design"] == info.design
        assert record["steps"] == list(info.steps) and record["steps"]
        # Every fault it takes, and only those, with what it kills.
        assert record["faults"] == dict(info.faults)
        assert set(record["faults"]) <= {"holder", "writer"}


def test_only_the_strategies_that_show_a_failure_claim_no_safety() -> None:
    records = json.loads(cli("strategies", "--json").stdout)
    assert [r["name"] for r in records if not r["claims_safe"]] == [
        "none",
        "deferred",
        "seatlock-unordered",
        "naive-tx",
        "for-update-unordered",
        "ttl-lock",
    ]
    claims = {r["name"]: r["claim"] for r in records}
    assert claims["none"] == "unsafe by design"
    assert claims["deferred"] == "never oversells; fails purchases by design"
    assert claims["atomic"] == "safe"
    assert claims["seatlock-unordered"] == "never double-books; deadlocks by design"
    assert claims["naive-tx"] == "unsafe by design"
    assert claims["ttl-lock"] == "safe only while every think is shorter than --lock-ttl"
    sells = {r["name"]: r["sells"] for r in records}
    assert sells["seatlock"] == ["seats"] and sells["queue"] == ["count", "seats"]
    assert sells["lock"] == ["count", "seats"]
    # Seats only where a seat map can live: redis holds none.
    seat_stores = {r["name"]: r["seat_stores"] for r in records}
    assert seat_stores["lock"] == ["json", "sqlite", "postgres"]
    assert seat_stores["skip-locked"] == ["postgres"] and seat_stores["fenced"] == []
    assert next(r for r in records if r["name"] == "transaction")["stores"] == ["sqlite"]


def test_the_table_has_a_row_for_every_strategy() -> None:
    result = cli("strategies")
    assert result.exit_code == 0
    # Not a terminal: no line carries the padding of the grid.
    assert all(line == line.rstrip() for line in result.stdout.splitlines())
    names = [line.split()[0] for line in result.stdout.splitlines() if line[:1].strip()]
    assert names == list(STRATEGIES)
    assert "BEGIN IMMEDIATE" in result.stdout
    assert result.stdout.count("unsafe by design") == 2  # none, naive-tx
