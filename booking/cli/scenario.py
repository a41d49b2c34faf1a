"""`booking scenario run|validate|list`: TOML workloads whose lists are sweep axes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from booking.cli.cells import check_output, finish, worst_runs
from booking.cli.options import (
    CellsFailOption,
    DbOption,
    FormatOption,
    MaxMemoryOption,
    OutOption,
    ReportOption,
    SaveOption,
)
from booking.cli.session import history_file, run_recorded

scenario_app = typer.Typer(
    help="Scenario files: TOML workloads where any list is a sweep axis.",
    no_args_is_help=True,
)


def _bundled() -> list[Path]:
    from importlib.resources import files

    folder = files("booking") / "scenarios" / "bundled"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def _scenario_path(name: str) -> Path:
    """A path, or the name of a bundled scenario (with or without .toml)."""
    path = Path(name)
    if path.exists() or "/" in name:
        return path
    for bundled in _bundled():
        if name in (bundled.name, bundled.stem):
            return bundled
    return path


ScenarioArgument = Annotated[
    str,
    typer.Argument(
        metavar="FILE", help="A scenario .toml file, or the name of a bundled one (see list)."
    ),
]


@scenario_app.command("run")
def scenario_run(
    file: ScenarioArgument,
    repeat: Annotated[
        int | None, typer.Option(help="Runs per point (overrides the file).", show_default=False)
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the first round (overrides the file).", show_default=False),
    ] = None,
    buyers: Annotated[
        int | None, typer.Option(help="Buyers (overrides the file).", show_default=False)
    ] = None,
    tickets: Annotated[
        int | None, typer.Option(help="Tickets (overrides the file).", show_default=False)
    ] = None,
    think: Annotated[
        str | None,
        typer.Option(metavar="MIN:MAX", help="Think (overrides the file).", show_default=False),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Watchdog per run (overrides the file).", show_default=False),
    ] = None,
    output_format: FormatOption = "table",
    out: OutOption = None,
    report: ReportOption = None,
    fail_on_anomaly: CellsFailOption = False,
    max_memory: MaxMemoryOption = None,
    save: SaveOption = False,
    db: DbOption = None,
) -> None:
    """Run a scenario file: every point of its sweep, repeated and interleaved."""
    from booking.comparison.driver import run_scenario
    from booking.scenarios.files import load, with_max_memory
    from booking.simulation import admit

    check_output(output_format, out, report, history_file(save, db))
    worst = worst_runs(report)
    overrides: dict[str, Any] = {
        key: value
        for key, value in (
            ("repeat", repeat),
            ("buyers", buyers),
            ("tickets", tickets),
            ("think", think),
            ("timeout", timeout),
            ("seed", seed),
        )
        if value is not None
    }
    path = _scenario_path(file)
    from booking.render.output import check_distinct

    check_distinct({"the scenario file": path, "--out": out, "--report": report})
    scenario_file = load(path, overrides)
    if max_memory is not None:
        scenario_file = with_max_memory(scenario_file, max_memory)
        overrides["max_memory"] = max_memory
    # Before a history session opens; the limit is the option's, or the file's.
    admit(
        (point for _, point in scenario_file.points),
        "--max-memory" if max_memory is not None else "max_memory",
    )
    params = {"file": str(path), "overrides": overrides, "description": scenario_file.description}
    comparison = run_recorded(
        save,
        db,
        "scenario",
        scenario_file.name,
        params,
        scenario_file.repeat,
        lambda hook, on_run: run_scenario(scenario_file, seed, on_progress=hook, on_run=on_run),
        worst,
    )
    finish(comparison, output_format, out, fail_on_anomaly, report, worst)


@scenario_app.command("validate")
def scenario_validate(file: ScenarioArgument) -> None:
    """Check a scenario file without running it: keys, values, and the sweep it makes."""
    from booking.scenarios.files import load
    from booking.words import plural

    path = _scenario_path(file)
    scenario_file = load(path)
    axes = ", ".join(scenario_file.axes) or "no sweep"
    print(
        f"{path}: ok: {scenario_file.name}: {plural(len(scenario_file.points), 'point')} "
        f"({axes}) × {plural(scenario_file.repeat, 'run')} = {plural(scenario_file.runs, 'run')}"
    )


@scenario_app.command("list")
def scenario_list() -> None:
    """The bundled scenarios and what each one shows."""
    from booking.scenarios.files import load

    for path in _bundled():
        scenario_file = load(path)
        print(f"{path.stem}\n    {' '.join(scenario_file.description.split())}\n")
