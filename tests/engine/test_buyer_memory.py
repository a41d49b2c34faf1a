"""A buyer copies as little of the parent as it can: it imports nothing after the fork
(an import there is paid once per buyer) and never runs the cyclic collector (which would
write to every object it walks, copying the parent's pages)."""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

import pytest

from booking import Scenario, simulate
from booking.engine import buyer
from booking.engine.buyer import BuyerPlan
from booking.strategies import Strategy


@pytest.fixture
def probed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each buyer writes, at its end, what it imported and whether its collector ran."""
    real_main = buyer.main

    def main(index: int, strategy: Strategy, plan: BuyerPlan) -> int:
        before = set(sys.modules)
        try:
            return real_main(index, strategy, plan)
        finally:
            seen = {"imported": sorted(set(sys.modules) - before), "gc": gc.isenabled()}
            (tmp_path / f"buyer-{os.getpid()}.json").write_text(json.dumps(seen))

    monkeypatch.setattr(buyer, "main", main)
    return tmp_path


@pytest.mark.parametrize(
    ("strategy", "store"),
    [
        ("none", "json"),
        ("lock", "json"),
        ("filelock", "json"),
        ("manager", "json"),
        ("lock", "sqlite"),
        ("transaction", "sqlite"),
    ],
)
def test_a_buyer_imports_nothing_and_never_collects(
    probed: Path, strategy: str, store: str
) -> None:
    simulate(Scenario(buyers=3, tickets=2, strategy=strategy, store=store, seed=1))
    reports = [json.loads(p.read_text()) for p in probed.glob("buyer-*.json")]
    assert len(reports) == 3
    assert all(r["imported"] == [] for r in reports), reports
    assert not any(r["gc"] for r in reports)


def test_the_parent_is_thawed_after_the_forks(probed: Path) -> None:
    simulate(Scenario(buyers=2, strategy="lock", seed=1))
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_a_failed_fork_thaws_the_parent_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    with pytest.raises(Exception, match="could not start buyer 1"):
        simulate(Scenario(buyers=2, strategy="lock", seed=1))
    assert gc.get_freeze_count() == 0
