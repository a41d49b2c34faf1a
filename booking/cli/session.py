"""A command's history session: the workload as plain values, the runs saved under a
progress bar, and the line that says where they went."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run_recorded(
    save: bool,
    db: Path | None,
    kind: str,
    name: str,
    params: dict[str, Any],
    repeat: int,
    start: Callable[[Any, Any], Any],
    worst: Any = None,
) -> Any:
    """Run a comparison under the progress bar, saving each run and its timeline when
    --save asks, and close the history session with how the comparison ended. `start`
    takes the progress hook and the run hook (None when nothing is saved and no report's
    WorstRuns, `worst`, keeps the steps of each cell's worst run)."""
    from booking.history.saving import recording
    from booking.render.progress import compare_bar

    with recording(save, db, kind, name, params) as recorder, compare_bar(repeat) as hook:
        hooks = [each.on_run for each in (recorder, worst) if each is not None]

        def on_run(*run: Any) -> None:
            for told in hooks:
                told(*run)

        comparison = start(hook, on_run if hooks else None)
        if recorder is not None:
            recorder.status = comparison.status
    say_saved(recorder)
    return comparison


def history_file(save: bool, db: Path | None) -> Path | None:
    """The history the runs will be saved to, or None without --save."""
    if not save:
        return None
    from booking.history.store import resolve_path

    return resolve_path(db)


def params_of(scenario: Any) -> dict[str, Any]:
    """A workload as plain JSON values, for the history's session row."""
    params = {
        "buyers": scenario.buyers,
        "tickets": scenario.tickets,
        "strategy": scenario.strategy,
        "store": scenario.store,
        "think_ms": list(scenario.think_ms),
        "attempts": scenario.attempts,
        "seed": scenario.seed,
        "timeout_s": scenario.timeout_s,
        "path": None if scenario.path is None else str(scenario.path),
        "arrival": scenario.arrival.describe(),
        "max_memory": scenario.memory_limit,  # bytes; None: half of what was available
    }
    from booking.strategies import STRATEGIES

    info = STRATEGIES.get(scenario.strategy)
    if info is not None and info.retries:  # the strategies it applies to
        params["retries"] = scenario.retries
    if getattr(scenario, "dsn", None) is not None:  # never its password
        from booking.scenarios.dsn import mask_dsn

        params["dsn"] = mask_dsn(scenario.dsn)
    if getattr(scenario, "lock_ttl_ms", None) is not None:
        params["lock_ttl_ms"] = scenario.lock_ttl_ms
    if getattr(scenario, "kill_server_ms", None) is not None:
        params["kill_server_ms"] = scenario.kill_server_ms
    if getattr(scenario, "seats", None) is not None:  # a seat map instead of a count
        params.update(seats=scenario.seats, order=scenario.order, pick=scenario.pick)
    return params


def compare_name(strategies: list[str] | None, stores: list[str] | None) -> str:
    """'lock,filelock × json,sqlite': what a comparison covered, so two of them tell apart
    in the history list ('all strategies', 'the file stores' for an axis left to its
    default)."""
    return (
        f"{','.join(strategies) if strategies else 'all strategies'} × "
        f"{','.join(stores) if stores else 'the file stores'}"
    )


def compare_params(workload: Any, cells: list[Any]) -> dict[str, Any]:
    """A comparison's workload and the strategies and stores its cells cover, by name even
    when left to the default, so the session says what ran whatever later versions add.
    The workload's own strategy and store are left out: each cell chooses its own."""
    shared = {k: v for k, v in params_of(workload).items() if k not in ("strategy", "store")}
    from booking.strategies import STRATEGIES

    if any(STRATEGIES[cell.strategy].retries for cell in cells if cell.strategy in STRATEGIES):
        shared["retries"] = workload.retries
    return {
        **shared,
        "strategies": list(dict.fromkeys(cell.strategy for cell in cells)),
        "stores": list(dict.fromkeys(cell.store for cell in cells)),
    }


def say_saved(recorder: Any) -> None:
    if recorder is not None:
        print(
            f"booking: saved {recorder.saved} run{'s' if recorder.saved != 1 else ''} to "
            f"{recorder.history.path} (session {recorder.session_id})",
            file=sys.stderr,
        )
