"""The bundled sweeps show the trend their descriptions claim, run after run.

Each redesigned scenario is run for real, as bundled, from a fixed seed (so the think times
and staggered arrivals are the same every time; only the machine's timing varies), and the
claim is checked as a monotone trend along the swept axis, on the median of five runs per
point. On an idle machine the neighbouring points are far apart (sweep-think: about 0, 6,
15, 30 oversold; arrival: 35, 5 to 20, 0 to 2), and they stay in order at a load average
of 450 on two cores; what can flatten them is a moment when the machine stalls every
buyer for tens of milliseconds, so that even buyers 5 ms apart read the count together. A
sweep that misses its trend is therefore measured once more before the test fails: no
such stall lasted through two sweeps here, while the old, saturated files (20 oversold at
every think; the stagger as oversold as the gate) miss it every time. No test looks at a
time.
"""

from __future__ import annotations

import io
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from booking.cli.app import app
from booking.comparison.driver import Comparison, run_scenario
from booking.judge.result import Result
from booking.render import chart
from booking.scenarios.files import load
from booking.scenarios.plan import Cell
from booking.scenarios.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "booking" / "scenarios" / "bundled"
SEED = 1
REPEAT = 5
MEASUREMENTS = 2  # the second only when the first misses the trend (see above)


@dataclass
class Sweep:
    """One run of a bundled scenario: per point of its axis, in the file's order, the
    axis value and the median oversold and max inside of the point's runs."""

    comparison: Comparison
    points: list[str] = field(default_factory=list)
    oversold: list[float] = field(default_factory=list)
    inside: list[float] = field(default_factory=list)


def run_bundled(name: str, axis: str, **overrides: object) -> Sweep:
    runs: dict[Cell, list[Result]] = {}

    def keep(cell: Cell, scenario: Scenario, result: Result) -> None:
        runs.setdefault(cell, []).append(result)

    scenario_file = load(SCENARIOS / f"{name}.toml", overrides)
    comparison = run_scenario(scenario_file, SEED, on_result=keep)
    assert comparison.complete, comparison.stopped_by
    sweep = Sweep(comparison)
    for cell, _ in scenario_file.points:
        sweep.points.append(dict(cell.axes)[axis])
        sweep.oversold.append(statistics.median(r.oversold for r in runs[cell]))
        sweep.inside.append(statistics.median(r.max_inside for r in runs[cell]))
    return sweep


def measure(check: Callable[[Sweep], bool], name: str, axis: str, **overrides: object) -> Sweep:
    """Run the scenario; run it once more if the first sweep misses `check`."""
    for _ in range(MEASUREMENTS):
        sweep = run_bundled(name, axis, **overrides)
        if check(sweep):
            break
    return sweep


def strictly_increasing(values: list[float]) -> bool:
    return all(a < b for a, b in pairwise(values))


def non_decreasing(values: list[float]) -> bool:
    return all(a <= b for a, b in pairwise(values))


def wider_window_more_overlap(sweep: Sweep) -> bool:
    return (
        strictly_increasing(sweep.oversold)
        and non_decreasing(sweep.inside)
        and sweep.inside[-1] > sweep.inside[0]
    )


def spreading_less_overlap(sweep: Sweep) -> bool:
    return strictly_increasing(sweep.oversold[::-1]) and strictly_increasing(sweep.inside[::-1])


# The unguarded lines carry the trend, so they get the repeats; the lock's line only has to
# show that it never lets two in, which one run per point does.
@pytest.fixture(scope="module")
def think_unguarded() -> Sweep:
    return measure(
        wider_window_more_overlap, "sweep-think", "think", strategy="none", repeat=REPEAT
    )


def test_sweep_think_a_wider_window_oversells_more(think_unguarded: Sweep) -> None:
    sweep = think_unguarded
    assert strictly_increasing(sweep.oversold), sweep.oversold
    assert non_decreasing(sweep.inside), sweep.inside
    assert sweep.inside[-1] > sweep.inside[0], sweep.inside
    assert sweep.points == ["0", "10", "25", "50"]


def test_sweep_think_the_lock_keeps_one_inside_at_every_window() -> None:
    locked = run_bundled("sweep-think", "think", strategy="lock", repeat=1).comparison.cells
    assert len(locked) == 4
    for cell in locked:
        assert (cell.anomaly_runs, cell.oversold_max, cell.max_inside_median) == (0, 0, 1), cell


def test_arrival_spreading_the_crowd_shrinks_oversell_and_overlap() -> None:
    sweep = measure(spreading_less_overlap, "arrival", "arrival", strategy="none", repeat=REPEAT)
    oversold, inside = sweep.oversold, sweep.inside
    assert oversold[0] > oversold[1] > oversold[2], oversold
    assert inside[0] > inside[1] > inside[2], inside
    assert sweep.points == ["gate", "stagger 0:100ms", "100/s"]


def test_arrival_only_the_lock_oversells_nothing_in_every_run() -> None:
    locked = run_bundled("arrival", "arrival", strategy="lock", repeat=1).comparison.cells
    assert len(locked) == 3
    assert all(cell.anomaly_runs == 0 and cell.max_inside_median == 1 for cell in locked)


def test_a_think_sweep_draws_a_chart(think_unguarded: Sweep) -> None:
    out = io.StringIO()
    assert chart.render(think_unguarded.comparison, file=out, width=120)
    text = out.getvalue()
    for title in ("oversold, mean", "lost updates, mean", "max inside, median", "attempts/s"):
        assert re.search(re.escape(title) + r".* by think ms\s+0\s+10\s+25\s+50\s*\n", text), text


def test_think_windows_are_charted_in_order_of_their_midpoint(tmp_path: Path) -> None:
    path = tmp_path / "windows.toml"
    path.write_text('strategy = "lock"\nbuyers = 2\nrepeat = 1\nthink = ["4:6", 1, "0:10"]\n')
    result = CliRunner().invoke(app, ["scenario", "run", str(path)], prog_name="booking")
    assert result.exit_code == 0, result.stderr
    title = "oversold, mean of the runs, by think window MIN:MAX ms, in order of its midpoint"
    # Midpoints 1, 5 and 5: of two windows with one midpoint, the lower MIN comes first.
    assert re.search(re.escape(title) + r"\s+1\s+0:10\s+4:6\s*\n", result.stdout), result.stdout
