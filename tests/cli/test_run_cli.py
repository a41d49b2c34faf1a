"""The command line: the result record contract, the summary, exit codes, store handling."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from tests.helpers import run_cli, run_json

CONTRACT = [
    "store",
    "strategy",
    "buyers",
    "tickets",
    "seed",
    "sold",
    "remaining",
    "oversold",
    "lost_updates",
    "refused",
    "errors",
    "max_inside",
    "wall_s",
    "throughput",
    "latency_ms",
    "verdict",
]
DATA = Path(__file__).resolve().parents[2] / "data"


def test_json_prints_exactly_the_result_record() -> None:
    record = run_json("--buyers", "5", "--seed", "42", "--think", "0:1")
    assert list(record)[: len(CONTRACT)] == CONTRACT
    assert set(record["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert record["seed"] == 42
    assert (record["store"], record["strategy"], record["buyers"]) == ("json", "lock", 5)
    assert (record["tickets"], record["sold"], record["remaining"]) == (10, 5, 5)
    assert record["verdict"] == "SAFE"
    assert record["throughput"] > 0
    assert record["latency_ms"]["p50"] <= record["latency_ms"]["max"]


def test_summary_names_the_verdict_and_says_what_happened() -> None:
    result = run_cli("--buyers", "12", "--tickets", "4", "--think", "0:1")
    assert result.exit_code == 0
    assert "SAFE" in result.stdout
    assert "4 buyers bought 4 of 4 tickets; 8 attempts told sold out; 0 left." in result.stdout
    assert result.stderr == ""


def test_fail_on_anomaly_turns_an_oversell_into_exit_1() -> None:
    forced = ("--strategy", "none", "--buyers", "8", "--tickets", "2", "--think", "50")
    assert run_cli(*forced).exit_code == 0  # an anomaly is a result, not a failure
    result = run_cli(*forced, "--fail-on-anomaly")
    assert result.exit_code == 1
    assert "OVERSOLD" in result.stdout


def test_an_existing_store_keeps_its_count_and_says_so(tmp_path: Path) -> None:
    store = tmp_path / "db.json"
    store.write_text('{"count": 3}')
    result = run_cli("--path", str(store), "--tickets", "7", "--buyers", "5", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tickets"] == 3
    assert "holds 3 tickets; --tickets 7 is ignored" in result.stderr
    reset = run_json("--path", str(store), "--tickets", "7", "--reset", "--buyers", "5")
    assert (reset["tickets"], reset["sold"], reset["remaining"]) == (7, 5, 2)


def test_a_missing_store_is_created_with_the_tickets(tmp_path: Path) -> None:
    store = tmp_path / "new.db"
    record = run_json("--path", str(store), "--tickets", "4", "--buyers", "6", "--think", "0")
    assert (record["store"], record["sold"], record["remaining"]) == ("sqlite", 4, 0)
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count FROM stock").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM sales").fetchone() == (4,)


def test_manager_writes_the_count_and_the_sales_back_to_the_store(tmp_path: Path) -> None:
    store = tmp_path / "m.db"
    record = run_json(
        "--path",
        str(store),
        "--tickets",
        "5",
        "--strategy",
        "manager",
        "--buyers",
        "8",
        "--think",
        "0",
    )
    assert (record["sold"], record["remaining"], record["verdict"]) == (5, 0, "SAFE")
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count FROM stock").fetchone() == (0,)
        buyers = [row[0] for row in conn.execute("SELECT buyer FROM sales")]
    assert len(buyers) == 5 and len(set(buyers)) == 5


def test_the_bundled_seed_store_works_as_is(tmp_path: Path) -> None:
    store = tmp_path / "tickets.json"
    shutil.copy(DATA / "tickets.json", store)
    record = run_json("--path", str(store), "--buyers", "12", "--think", "0")
    assert (record["tickets"], record["sold"], record["remaining"]) == (10, 10, 0)


def test_python_api_gives_the_same_record_shape_as_the_cli() -> None:
    from booking import Scenario, simulate

    record = simulate(Scenario(buyers=3, tickets=2, think_ms=(0, 0), seed=5)).to_dict()
    assert list(record)[: len(CONTRACT)] == CONTRACT
    assert (record["sold"], record["refused"], record["seed"]) == (2, 1, 5)


def test_summary_counts_buyers_and_tickets_apart_with_many_attempts() -> None:
    # 6 tickets, at most 5 purchases per buyer: both buyers must have bought.
    result = run_cli("--buyers", "2", "--tickets", "6", "--attempts", "5", "--think", "0")
    assert result.exit_code == 0
    assert "2 buyers bought 6 of 6 tickets" in result.stdout
