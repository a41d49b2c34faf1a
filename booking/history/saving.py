"""--save: open the history before the first run, add each run as it finishes, close the
session with how it ended. The history is opened first so a bad --db fails before any run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from booking.judge.result import Result
from booking.scenarios.plan import Cell
from booking.scenarios.scenario import Scenario

if TYPE_CHECKING:
    from booking.engine.runner import RawRun
    from booking.history.store import History


class Recorder:
    """Saves the runs of one session; its `on_run` is compare's and scenario's hook (and
    `on_result` is there for a caller with no raw runs: those are saved without a timeline)."""

    def __init__(self, history: History, session_id: int) -> None:
        self.history = history
        self.session_id = session_id
        self.saved = 0
        self.status = "complete"

    def on_result(self, cell: Cell, scenario: Scenario, result: Result) -> None:
        self.add(result, dict(cell.axes) or None)

    def on_run(self, cell: Cell, scenario: Scenario, result: Result, raw: RawRun) -> None:
        self.add(result, dict(cell.axes) or None, raw)

    def add(
        self, result: Result, point: dict[str, Any] | None = None, raw: RawRun | None = None
    ) -> None:
        """Save one run, with its timeline when `raw` is given (a report draws from it)."""
        self.history.add(self.session_id, result, point, raw)
        self.saved += 1


@contextmanager
def recording(
    save: bool, db: Path | None, kind: str, name: str, params: dict[str, Any]
) -> Iterator[Recorder | None]:
    """A Recorder when --save was given, else None. The session's status is what the
    caller sets on the recorder ("complete" by default), or "error"/"interrupted" when the
    block ends with an exception."""
    if not save:
        yield None
        return
    from booking.history.store import History, resolve_path

    with History(resolve_path(db)) as history:
        recorder = Recorder(history, history.begin(kind, name, params))
        try:
            yield recorder
        except KeyboardInterrupt:
            history.finish(recorder.session_id, "interrupted")
            raise
        except BaseException:
            history.finish(recorder.session_id, "error")
            raise
        history.finish(recorder.session_id, recorder.status)
