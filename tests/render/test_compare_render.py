"""Unit tests of the compare renderers: table, JSON, CSV, Markdown, findings and notes.

Every CellSummary and Comparison here is built by hand: no buyer process is started.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from typing import Any

import pytest

from booking.comparison.cellstats import CellSummary, summarize, with_relative_speed
from booking.comparison.driver import Comparison
from booking.judge.result import VERDICTS
from booking.render import compare as compare_render
from booking.scenarios.plan import (
    Cell,
)
from booking.scenarios.scenario import Scenario
from tests.comparison.fakes import make_comparison, make_result, oversold_cell, safe_cell

# --- compare_render --------------------------------------------------------------------------


def render_cells() -> tuple[list[CellSummary], CellSummary]:
    """lock/json (the reference), lock/sqlite (slower, oversold although safe), none/json
    (oversold, as expected), none/sqlite (never raced)."""
    cells = [
        safe_cell("lock", "json", [270.0, 300.0, 330.0]),
        summarize(
            Cell("lock", "sqlite"),
            [
                make_result(store="sqlite", throughput=90.0, seed=42),
                make_result(
                    store="sqlite",
                    throughput=100.0,
                    seed=43,
                    verdict="OVERSOLD",
                    oversold=1,
                    max_inside=2,
                    explanation=["buyers 5 and 6 both read 1, then both wrote 0"],
                ),
                make_result(store="sqlite", throughput=110.0, seed=44),
            ],
            claims_safe=True,
        ),
        oversold_cell("none", "json", 1000.0, claims_safe=False, seed=44),
        safe_cell("none", "sqlite", [50.0, 50.0, 50.0], claims_safe=False),
    ]
    updated, reference = with_relative_speed(cells)
    assert reference is not None
    return updated, reference


def rendered_comparison(**overrides: Any) -> Comparison:
    cells, reference = render_cells()
    return make_comparison(cells, reference=reference.label, **overrides)


def test_render_fixture_is_what_the_tests_assume() -> None:
    cells, reference = render_cells()
    assert reference.label == "lock/json"
    assert [(c.label, c.anomalous, c.never_raced) for c in cells] == [
        ("lock/json", False, False),
        ("lock/sqlite", True, False),
        ("none/json", True, False),
        ("none/sqlite", False, True),
    ]


def test_to_json_has_one_object_per_cell() -> None:
    comparison = rendered_comparison()
    records = json.loads(compare_render.to_json(comparison))
    assert isinstance(records, list)
    assert len(records) == 4
    for record, cell in zip(records, comparison.cells, strict=True):
        assert record["store"] == cell.store
        assert record["strategy"] == cell.strategy
        assert record["runs"] == cell.runs
        assert record["anomaly_rate"] == cell.anomaly_rate
        assert record["anomaly_rate_ci95"] == list(cell.anomaly_rate_ci95)
        assert record["oversold_mean"] == cell.oversold_mean
        assert record["oversold_max"] == cell.oversold_max
        assert record["lost_updates_mean"] == cell.lost_updates_mean
        assert record["errors"] == cell.errors
        assert record["max_inside_median"] == cell.max_inside_median
        assert record["throughput_median"] == cell.throughput_median
        assert record["latency_ms"] == {"p50": 1.0, "p95": 2.0, "p99": 3.0}
        assert set(record["verdicts"]) == set(VERDICTS)
        assert record["verdicts"] == cell.verdicts
        # The workload every cell shared.
        assert record["buyers"] == 10
        assert record["tickets"] == 5
        assert record["think_ms"] == [1.0, 5.0]
        assert record["attempts"] == 1
        assert record["repeat"] == 3
        assert record["seed"] == 42
    lock_sqlite = records[1]
    assert lock_sqlite["anomaly_runs"] == 1
    assert lock_sqlite["oversold_mean"] == pytest.approx(1 / 3)
    assert lock_sqlite["verdicts"]["OVERSOLD"] == 1
    assert lock_sqlite["worst"] == "buyers 5 and 6 both read 1, then both wrote 0"
    assert lock_sqlite["worst_seed"] == 43
    assert lock_sqlite["times_slower"] == 3.0
    assert records[0]["reference"] is True
    assert records[0]["worst_seed"] is None
    assert records[3]["never_raced"] is True


def test_to_json_of_no_cells_is_an_empty_list() -> None:
    assert json.loads(compare_render.to_json(make_comparison([]))) == []


def test_to_csv_has_a_header_and_one_row_per_cell() -> None:
    comparison = rendered_comparison()
    text = compare_render.to_csv(comparison)
    raw = list(csv.reader(io.StringIO(text)))
    assert len(raw) == 1 + 4
    assert {len(fields) for fields in raw} == {len(raw[0])}
    assert raw[0][:5] == ["store", "strategy", "runs", "anomaly_runs", "anomaly_rate"]
    assert len(set(raw[0])) == len(raw[0])
    assert "worst" not in raw[0]
    assert "seeds" not in raw[0]

    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    for row, cell in zip(rows, comparison.cells, strict=True):
        assert None not in row  # no field without a header
        assert row["store"] == cell.store
        assert row["strategy"] == cell.strategy
        assert row["runs"] == str(cell.runs)
        assert float(row["anomaly_rate"]) == cell.anomaly_rate
        assert float(row["anomaly_rate_ci95_low"]) == cell.anomaly_rate_ci95[0]
        assert float(row["anomaly_rate_ci95_high"]) == cell.anomaly_rate_ci95[1]
        assert float(row["latency_p95_ms"]) == cell.latency_ms["p95"]
        assert float(row["throughput_median"]) == cell.throughput_median
        for name in VERDICTS:
            assert row[f"verdict_{name.lower()}"] == str(cell.verdicts[name])
        assert row["think_ms"] == "1:5"
        assert row["seed"] == "42"
    assert rows[1]["anomaly_runs"] == "1"
    assert rows[1]["verdict_oversold"] == "1"
    assert rows[1]["verdict_safe"] == "2"
    assert rows[1]["worst_seed"] == "43"
    assert rows[0]["worst_seed"] == ""


def test_to_csv_of_no_cells_is_empty() -> None:
    assert compare_render.to_csv(make_comparison([])) == ""


def markdown_cells(line: str) -> list[str]:
    assert line.startswith("| ")
    assert line.endswith(" |")
    return [part.strip() for part in line[2:-2].split(" | ")]


def test_to_markdown_is_a_github_table() -> None:
    comparison = rendered_comparison()
    lines = compare_render.to_markdown(comparison).split("\n")
    table = [line for line in lines if line.startswith("|")]
    assert lines[: len(table)] == table  # the table comes first
    header, align, *data = table
    width = len(compare_render.HEADERS)
    assert width == 9
    assert len(markdown_cells(header)) == width
    assert markdown_cells(header)[0] == "cell"
    assert markdown_cells(header)[1] == "anomalies (95% CI)"
    assert all(re.fullmatch(r":?-{3,}:?", part) for part in markdown_cells(align))
    assert len(markdown_cells(align)) == width
    assert len(data) == len(comparison.cells) == 4
    for line, cell in zip(data, comparison.cells, strict=True):
        columns = markdown_cells(line)
        assert len(columns) == width
        assert columns[0] in (cell.label, cell.label + " †")
    assert markdown_cells(data[0]) == [
        "lock/json",
        "0/3 0–56%",
        "0/0",
        "0/0",
        "0",
        "1",
        "300±30",
        "1.0/2.0/3.0",
        "ref",
    ]
    assert markdown_cells(data[1])[1] == "1/3 6–79%"
    assert markdown_cells(data[1])[2] == "0.3/1"
    assert markdown_cells(data[1])[-1] == "3.00±0.42"
    assert markdown_cells(data[3])[0] == "none/sqlite †"
    # The notes follow as a list.
    notes = [line for line in lines if line.startswith("- ")]
    assert notes == [f"- {note}" for note in compare_render.notes(comparison)]


def test_times_slower_formatting() -> None:
    cell = safe_cell("lock", "json", [100.0, 110.0])
    assert compare_render.times_slower(cell) == ""
    assert compare_render.times_slower(replace(cell, reference=True, times_slower=1.0)) == "ref"
    assert (
        compare_render.times_slower(replace(cell, times_slower=3.1, times_slower_error=0.2))
        == "3.10±0.20"
    )
    assert (
        compare_render.times_slower(replace(cell, times_slower=0.29, times_slower_error=0.031))
        == "0.29±0.03"
    )
    # No spread measured, or one run: no '±0.00' (issue 10, defect 6).
    assert compare_render.times_slower(replace(cell, times_slower=2.0)) == "2.00"
    one_run = safe_cell("lock", "json", [100.0])
    assert compare_render.times_slower(replace(one_run, times_slower=2.0)) == "2.00"
    assert (
        compare_render.times_slower(replace(one_run, times_slower=2.0, times_slower_error=0.0))
        == "2.00"
    )


def test_findings_name_each_anomalous_cell_and_its_worst_run() -> None:
    comparison = rendered_comparison()
    found = compare_render.findings(comparison)
    assert len(found) == 3
    safe_claim, unsafe, never = found
    assert safe_claim == (
        "lock/sqlite: 1 of 3 runs not SAFE although it claims to be safe (OVERSOLD 1). "
        "Worst, seed 43: buyers 5 and 6 both read 1, then both wrote 0"
    )
    assert unsafe == (
        "none/json: 1 of 1 run not SAFE (OVERSOLD 1). "
        "Worst, seed 44: buyers 1 and 2 both read 3, then both wrote 2"
    )
    assert "although it claims to be safe" not in unsafe
    assert never.startswith("none/sqlite †: never raced")
    assert not any(line.startswith("lock/json") for line in found)


def test_findings_of_a_clean_comparison_are_empty() -> None:
    comparison = make_comparison([safe_cell("lock", "json", [100.0])])
    assert compare_render.findings(comparison) == []


def test_findings_start_with_an_interruption() -> None:
    comparison = rendered_comparison(interrupted=True, finished_runs=7, planned_runs=12)
    found = compare_render.findings(comparison)
    assert found[0] == ("interrupted after 7 of 12 runs: the cells hold the runs finished so far.")
    assert len(found) == 4


def test_findings_start_with_the_error_that_stopped_it() -> None:
    comparison = rendered_comparison(stopped_by="cannot fork", finished_runs=2, planned_runs=12)
    assert compare_render.findings(comparison)[0].startswith(
        "stopped (cannot fork) after 2 of 12 runs"
    )


def test_notes_explain_the_reference_or_its_absence() -> None:
    notes = compare_render.notes(rendered_comparison())
    assert "(ref: lock/json, the fastest safe cell)" in notes[-1]
    given = compare_render.notes(rendered_comparison(reference_given=True))
    assert "(ref: lock/json)" in given[-1]
    none = compare_render.notes(
        make_comparison([safe_cell("none", "json", [5.0], claims_safe=False)])
    )
    assert none[-1] == "No cell is safe and fast enough to be the reference for relative speed."


def test_heading_pluralises_runs() -> None:
    cells, _ = render_cells()
    many = make_comparison(cells, repeat=5)
    assert compare_render.heading(many) == (
        "compare · 4 cells × 5 runs · 10 buyers · 5 tickets · think 1:5 ms · seed 42"
    )
    one = make_comparison(cells, repeat=1)
    assert "× 1 run ·" in compare_render.heading(one)
    attempts = make_comparison(
        cells, workload=Scenario(buyers=3, tickets=2, think_ms=(2.0, 2.0), attempts=4)
    )
    assert compare_render.heading(attempts) == (
        "compare · 4 cells × 3 runs · 3 buyers · 2 tickets · think 2 ms · 4 attempts each · seed 42"
    )


def test_heading_pluralises_cells() -> None:
    comparison = make_comparison([safe_cell("lock", "json", [100.0])], repeat=1)
    assert compare_render.heading(comparison).startswith("compare · 1 cell × 1 run ·")


@pytest.mark.parametrize(("repeat", "runs"), [(1, "1 run"), (5, "5 runs")])
def test_table_shows_the_heading_and_every_cell(repeat: int, runs: str) -> None:
    comparison = rendered_comparison(repeat=repeat)
    out = io.StringIO()
    compare_render.table(comparison, file=out, width=120)
    text = out.getvalue()
    assert compare_render.heading(comparison) in text
    assert f"compare · 4 cells × {runs} · 10 buyers" in text
    for cell in comparison.cells:
        assert cell.label in text
    assert "none/sqlite †" in text
    assert "3.00±0.42" in text
    assert "ref" in text
    assert "although it claims to be safe" in text
    assert "\x1b[" not in text  # a StringIO gets no colour codes


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0.554, "0.55"), (0.996, "1.0"), (1.23, "1.2"), (9.96, "10"), (21.4, "21"), (340.2, "340")],
)
def test_latency_cells_show_two_significant_digits(ms: float, shown: str) -> None:
    cell = replace(safe_cell("lock", "json", [100.0]), latency_ms={"p50": ms, "p95": ms, "p99": ms})
    assert compare_render.row(cell)[7] == "/".join([shown] * 3)
