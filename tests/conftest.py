"""Fixtures shared by the tests of `booking explore` and `booking replay` (engine, cli,
schedules)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from booking.schedules.executor import Executor
from booking.schedules.workload import Workload


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Executors make their store's directory with tempfile: keep it under tmp_path, and
    check that every executor removed its own when it closed."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    assert sorted(p.name for p in scratch.glob("booking-explore-*")) == []


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> list[Workload]:
    """Make any executor fail: what is refused must be refused before any run."""
    made: list[Workload] = []

    def refuse(self: Executor, workload: Workload, *args: Any) -> None:
        made.append(workload)
        raise AssertionError("an executor was made: the command ran")

    monkeypatch.setattr(Executor, "__init__", refuse)
    return made
