"""`booking run --trace FILE.json`: the steps as Chrome Trace Event Format, checked against
the format (every event has ph, ts, pid, tid; durations non-negative; one process per
buyer) and against the race it records."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli


def traced(tmp_path: Path, *args: str) -> dict[str, Any]:
    path = tmp_path / "trace.json"
    result = run_cli(*args, "--trace", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert f"wrote the trace to {path}" in result.stderr
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def windows(document: dict[str, Any]) -> list[tuple[int, float, float]]:
    return [
        (e["pid"], e["ts"], e["ts"] + e["dur"])
        for e in document["traceEvents"]
        if e["ph"] == "X" and e["name"] == "read -> write window"
    ]


def overlapping(spans: list[tuple[int, float, float]]) -> bool:
    return any(
        a[0] != b[0] and a[1] < b[2] and b[1] < a[2] for a, b in itertools.combinations(spans, 2)
    )


def test_the_trace_follows_the_trace_event_format(tmp_path: Path) -> None:
    document = traced(tmp_path, "--buyers", "6", "--strategy", "lock", "--seed", "1")
    events = document["traceEvents"]
    assert document["displayTimeUnit"] == "ms"
    for event in events:
        assert {"ph", "ts", "pid", "tid"} <= set(event), event
        assert event["ph"] in ("X", "i", "M")
        if event["ph"] == "X":
            assert event["dur"] >= 0
    names = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert names == {0: "booking", **{b + 1: f"buyer {b}" for b in range(6)}}
    assert {e["pid"] for e in events if e["ph"] == "X"} == set(range(1, 7))
    reads = [e for e in events if e["ph"] == "i" and e["name"] == "read"]
    assert reads and all(isinstance(e["args"]["count"], int) for e in reads)
    assert any(e["name"] == "gate opens" for e in events)


@pytest.mark.parametrize(("strategy", "overlap"), [("none", True), ("lock", False)])
def test_the_windows_overlap_in_a_race_and_not_under_a_lock(
    tmp_path: Path, strategy: str, overlap: bool
) -> None:
    # A 60 ms think: every unguarded buyer reads before any writes.
    document = traced(
        tmp_path, "--buyers", "5", "--strategy", strategy, "--think", "60", "--seed", "2"
    )
    assert len(windows(document)) >= 5
    assert overlapping(windows(document)) is overlap


def test_an_atomic_attempt_has_no_read_step_of_its_own(tmp_path: Path) -> None:
    document = traced(tmp_path, "--buyers", "3", "--strategy", "atomic", "--seed", "3")
    events = document["traceEvents"]
    attempt_reads = [
        e for e in events if e["name"] == "read" and e["ts"] > min(w[1] for w in windows(document))
    ]
    assert attempt_reads == []  # only the look before buying reads; the update reads inside
    assert any(e["name"] == "write" for e in events)


@pytest.mark.parametrize("where", ["dir", "missing"])
def test_a_bad_trace_path_is_refused_before_the_run(tmp_path: Path, where: str) -> None:
    path = tmp_path if where == "dir" else tmp_path / "no" / "t.json"
    result = run_cli("--buyers", "2", "--trace", str(path))
    assert result.exit_code == 2
    assert "error" in result.stderr and "--trace" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
