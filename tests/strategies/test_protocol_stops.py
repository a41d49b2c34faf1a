"""A stop at a random moment, under each protocol beyond a guard: every sale is accounted
for, the verdict claims nothing it did not see, and no process is left behind.

A stopped purchase must never turn into a false anomaly: an optimistic try cut between its
read and its compare-and-set, an atomic update under way, a request the seller is serving.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.helpers import booking_process, children_of, exists

CELLS = [
    ("atomic", "sqlite"),
    ("optimistic", "json"),
    ("optimistic", "sqlite"),
    ("deferred", "sqlite"),
    ("queue", "json"),
    ("queue", "sqlite"),
]
TICKETS = 100_000  # never sold out: the stop lands mid-run


def count_of(path: Path) -> int:
    if path.suffix == ".db":
        with sqlite3.connect(path) as conn:
            count: int = conn.execute("SELECT count FROM stock WHERE id = 1").fetchone()[0]
        return count
    left: int = json.loads(path.read_text())["count"]
    return left


@pytest.mark.parametrize("trial", range(4))
@pytest.mark.parametrize(("strategy", "store"), CELLS)
def test_a_stop_at_a_random_moment_accounts_for_every_sale(
    strategy: str, store: str, trial: int, tmp_path: Path
) -> None:
    rng = random.Random(f"{strategy}/{store}/{trial}")
    path = tmp_path / ("t.db" if store == "sqlite" else "t.json")
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    proc = booking_process(
        "run", "--path", str(path), "--tickets", str(TICKETS), "--strategy", strategy,
        "--buyers", "8", "--attempts", "1000", "--think", "0:4", "--json",
    )  # fmt: skip
    seen: set[int] = set()
    # Long enough for the store to exist and the buyers to start buying, mostly.
    deadline = time.monotonic() + rng.uniform(0.6, 1.6)
    while time.monotonic() < deadline and proc.poll() is None:
        seen.update(children_of(proc.pid))
        time.sleep(0.005)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    if out.strip():
        assert proc.returncode in (0, 128 + sig), (proc.returncode, err)
        record = json.loads(out)
        left = count_of(path)
        assert record["remaining"] == left
        assert record["sold"] + left == TICKETS  # every ticket the store gave is a receipt
        allowed = {"SAFE", "INTERRUPTED"} | ({"ERRORS"} if strategy == "deferred" else set())
        assert record["verdict"] in allowed, record["explanation"]
    else:
        assert not path.exists() or count_of(path) == TICKETS
    assert not any(exists(pid) for pid in seen)
    assert children_of(proc.pid) == []


@pytest.mark.parametrize(
    ("strategy", "store"), [("atomic", "sqlite"), ("optimistic", "json"), ("queue", "json")]
)
def test_a_run_cut_while_its_buyers_think_is_a_timeout_not_a_deadlock(
    strategy: str, store: str
) -> None:
    # Nobody waits for a guard in these designs: a buyer stopped mid-purchase was moving.
    from booking import Scenario, simulate

    result = simulate(
        Scenario(
            buyers=4, tickets=10, strategy=strategy, store=store, think_ms=(3000, 3000),
            timeout_s=0.5, seed=1,
        )
    )  # fmt: skip
    assert result.verdict == "TIMEOUT", result.explanation
    assert any("still moving" in line for line in result.explanation)
    assert not any("waiting for the guard" in line for line in result.explanation)
