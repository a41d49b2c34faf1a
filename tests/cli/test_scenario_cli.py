"""`booking scenario run|validate|list` end to end, every bundled scenario run for real
(scaled down where a file is slow), arrival patterns, and the README's Python script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from booking import Scenario, simulate
from booking.cli.app import app
from booking.scenarios.arrival import Arrival
from tests.cli.test_bad_input import assert_usage_error
from tests.helpers import no_children_left, run_json

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "booking" / "scenarios" / "bundled").glob("*.toml"))
#: Overrides that keep a bundled scenario's point but make it quick.
SCALE_DOWN: dict[str, list[str]] = {
    "001-ticket-grabbing": ["--think", "20:30"],
    "004-manager-think": ["--think", "30"],
    "flash-sale": ["--buyers", "60"],
}


def scenario_cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["scenario", *args], prog_name="booking")


def cells_of(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    cells: list[dict[str, Any]] = json.loads(result.stdout)
    return cells


def test_a_two_axis_sweep_gives_four_cells(tmp_path: Path) -> None:
    path = tmp_path / "grid.toml"
    path.write_text('buyers = [10, 40]\nstrategy = ["none", "lock"]\nrepeat = 2\nthink = "0:1"\n')
    cells = cells_of(scenario_cli("run", str(path), "--format", "json"))
    found = sorted((c["strategy"], c["buyers"]) for c in cells)
    assert found == [("lock", 10), ("lock", 40), ("none", 10), ("none", 40)]
    assert all(c["runs"] == 2 and c["axes"] == {"buyers": str(c["buyers"])} for c in cells)
    assert all(c["anomaly_runs"] == 0 for c in cells if c["strategy"] == "lock")
    assert no_children_left()


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_scenario_runs(path: Path) -> None:
    extra = SCALE_DOWN.get(path.stem, [])
    result = scenario_cli("run", path.stem, "--repeat", "1", "--format", "json", *extra)
    cells = cells_of(result)
    assert cells
    for cell in cells:
        assert cell["runs"] == 1
        if cell["claims_safe"]:
            assert cell["anomaly_runs"] == 0, cell
    unguarded = [c for c in cells if not c["claims_safe"]]
    if path.stem in ("001-ticket-grabbing", "004-manager-think", "arrival", "sweep-buyers"):
        # Their think window is far wider than the time the gate takes to release everyone.
        assert any(c["anomaly_runs"] for c in unguarded)


def test_arrival_spread_changes_how_many_buyers_overlap() -> None:
    flash = simulate(Scenario(buyers=20, strategy="none", think_ms=(5, 5), seed=3))
    steady = simulate(
        Scenario(buyers=20, strategy="none", think_ms=(5, 5), seed=3, arrival=Arrival(rate=10))
    )
    # At 10 buyers/s a buyer arrives every 100 ms, twenty times the 5 ms window: they take
    # turns even when a loaded machine delays one of them by tens of milliseconds.
    assert flash.max_inside > 1
    assert flash.verdict != "SAFE"
    assert steady.max_inside == 1
    assert (steady.sold, steady.refused, steady.verdict) == (10, 10, "SAFE")
    assert steady.wall_s >= 19 / 10  # the last buyer arrived 1.9 s after the gate
    assert steady.arrival == "10/s" and flash.arrival == "gate"


def test_a_numeric_sweep_draws_a_chart(tmp_path: Path) -> None:
    path = tmp_path / "crowd.toml"
    path.write_text('buyers = [2, 6]\nstrategy = ["none", "lock"]\nrepeat = 1\nthink = 0\n')
    result = scenario_cli("run", str(path))
    assert result.exit_code == 0, result.stderr
    assert "oversold, mean of the runs, by buyers" in result.stdout
    assert re.search(r"lock/json\s+0 ▁\s+0 ▁", result.stdout)


def test_validate_says_what_the_sweep_makes() -> None:
    result = scenario_cli("validate", "flash-sale")
    assert result.exit_code == 0, result.stderr
    assert "ok: flash-sale: 15 points (strategy, store) × 3 runs = 45 runs" in result.stdout


def test_validate_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "flash.toml"
    path.write_text('strategy = ["none", "lock", "lok"]\n')
    line = assert_usage_error(scenario_cli("validate", str(path)))
    assert 'flash.toml: strategy[2]: unknown strategy "lok"' in line


def test_run_of_a_bad_file_runs_nothing(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("buyers = 5\nbuyer = 6\n")
    line = assert_usage_error(scenario_cli("run", str(path)))
    assert "typo.toml: buyer: unknown key" in line
    assert no_children_left()


def test_missing_file_is_exit_2() -> None:
    line = assert_usage_error(scenario_cli("run", "no-such-scenario.toml"))
    assert "no such scenario file" in line


def test_list_names_every_bundled_scenario_with_its_description() -> None:
    result = scenario_cli("list")
    assert result.exit_code == 0
    for path in BUNDLED:
        assert path.stem in result.stdout
    assert "flash sale" in result.stdout.lower()


def test_scenario_out_writes_markdown(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('strategy = "lock"\nbuyers = 3\nrepeat = 1\n')
    target = tmp_path / "report.md"
    result = scenario_cli("run", str(path), "--format", "markdown", "--out", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text().startswith("| cell |")
    assert "| lock/json |" in target.read_text()


# --- the Python API ---------------------------------------------------------------------------


def test_simulate_gives_the_same_record_as_run_json() -> None:
    args = {"buyers": 8, "strategy": "lock", "seed": 11, "think_ms": (0.0, 1.0)}
    from_api = simulate(Scenario(**args)).to_dict()  # type: ignore[arg-type]
    from_cli = run_json("--buyers", "8", "--strategy", "lock", "--seed", "11", "--think", "0:1")
    assert list(from_api) == list(from_cli)
    measured = {"wall_s", "throughput", "latency_ms", "lock_wait_ms", "startup_s", "explanation"}
    measured |= {"max_inside", "handoff_ms"}
    for key in from_api.keys() - measured:
        assert from_api[key] == from_cli[key] or (key == "think_ms"), key
    assert from_cli["think_ms"] == [0.0, 1.0] == list(from_api["think_ms"])


def _readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_readme_scripts_run() -> None:
    blocks = _readme_python_blocks()
    assert blocks
    for block in blocks:
        done = subprocess.run(
            [sys.executable, "-c", block],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()


def test_the_readme_scenario_example_is_valid() -> None:
    import tomllib

    from booking.scenarios.files import parse

    [block] = re.findall(r"```toml\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    parsed = parse(tomllib.loads(block), "README.md")
    assert (len(parsed.points), parsed.repeat) == (4, 2)
