"""The results history: every saved run as one row of a SQLite database.

A race is noisy and its outcome depends on the machine, so one run proves little; a history
lets you compare today's run with last week's, or this laptop with that server. Each
`--save` opens a *session* (one `booking run`, `compare` or `scenario` invocation, with the
options and the machine it ran on) and adds one *run* row per Result, committed at once, so
a crash or Ctrl-C half-way keeps everything measured so far. A run saved with its raw run
also gets a *timelines* row (timeline.py) in the same transaction: its step events, which a
report draws; a history from before timelines has no such table until its first one.

The file is plain SQLite written through sqlite-utils, in WAL mode with a 30 s busy timeout,
so two booking processes can save at once and `sqlite-utils`, `datasette` or `sqlite3` can
read it without booking. Nested values are stored as JSON text, never pickled.
"""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import booking
from booking.errors import BookingError
from booking.history import timeline
from booking.history.columns import RUN_COLUMNS, RUN_KEY_COLUMNS, flatten, json_text
from booking.history.timeline import TIMELINE_COLUMNS
from booking.judge.result import Result
from booking.sqlite_files import enable_wal, looks_like_sqlite

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.db import Table

    from booking.engine.runner import RawRun

ENV_VAR = "BOOKING_DB"
KINDS = ("run", "compare", "scenario")
STATUSES = ("running", "complete", "interrupted", "error", "aborted")
BUSY_TIMEOUT_S = 30.0

SESSION_COLUMNS: dict[str, type] = {
    "id": int,
    "kind": str,
    "name": str,
    "started_at": str,
    "finished_at": str,
    "status": str,
    "version": str,
    "python": str,
    "platform": str,
    "cores": int,
    "params": str,  # JSON object
}


def default_path() -> Path:
    """$XDG_DATA_HOME/booking/history.db, else ~/.local/share/booking/history.db.

    As the XDG spec says, an empty or relative XDG_DATA_HOME is ignored."""
    data = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data) if data and Path(data).is_absolute() else Path.home() / ".local" / "share"
    return base / "booking" / "history.db"


def resolve_path(db: Path | None) -> Path:
    """--db if given, else $BOOKING_DB if set and non-empty, else default_path()."""
    if db is not None:
        return db
    env = os.environ.get(ENV_VAR, "")
    return Path(env).expanduser() if env else default_path()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class NoHistory(BookingError):
    """Nothing saved at the path yet: a list shows it as empty, a lookup is still an error."""


def _check_header(path: Path) -> None:
    if not path.is_file():
        raise BookingError(f"{path}: not a regular file")
    if not looks_like_sqlite(path):
        raise BookingError(f"{path}: not a SQLite database, so not a booking history")


class History:
    """One open history database. Use as a context manager, or call close()."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        import sqlite_utils

        self.path = path
        if path.exists():
            _check_header(path)
        elif not create:
            raise NoHistory(f"no history at {path}; save runs with --save")
        elif not path.parent.is_dir():
            if path != default_path():
                raise BookingError(f"{path}: directory {path.parent} does not exist")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BookingError(f"{path}: cannot create {path.parent} ({exc})") from None
        try:
            # isolation_level=None: no implicit transactions; writes say BEGIN IMMEDIATE.
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise BookingError(f"{path}: cannot open the history ({exc})") from None
        try:
            self._db: Database = sqlite_utils.Database(conn, execute_plugins=False)
            self._prepare(create)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise BookingError(f"{path}: not a usable booking history ({exc})") from None
        except BaseException:
            conn.close()
            raise

    # --- shape -------------------------------------------------------------------------------

    def _prepare(self, create: bool) -> None:
        """Check the tables before writing anything, then add what is missing."""
        db = self._db
        tables = set(db.table_names())
        if not tables and not create:
            raise NoHistory(f"no history at {self.path}; save runs with --save")
        if tables and "sessions" not in tables:
            raise BookingError(
                f"{self.path}: not a booking history (it holds {', '.join(sorted(tables))})"
            )
        self._check_columns("sessions", SESSION_COLUMNS, tables)
        self._check_columns("runs", RUN_KEY_COLUMNS, tables)
        self._check_columns("timelines", TIMELINE_COLUMNS, tables)
        if db.journal_mode != "wal":
            self._enable_wal()
        if {"sessions", "runs"} <= tables:
            return
        with self._write():
            # Another process may have made them while we waited for the lock.
            db.table("sessions").create(
                SESSION_COLUMNS,
                pk="id",
                not_null={"kind", "name", "started_at", "status"},
                if_not_exists=True,
            )
            db.table("runs").create(
                RUN_COLUMNS,
                pk="id",
                not_null={"session_id", "saved_at"},
                foreign_keys=[("session_id", "sessions", "id")],
                if_not_exists=True,
            )
            db.table("runs").create_index(["session_id"], if_not_exists=True)

    def _enable_wal(self) -> None:
        try:
            enable_wal(self._db.conn, BUSY_TIMEOUT_S)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            raise BookingError(
                f"{self.path}: another process held the history for {BUSY_TIMEOUT_S:g} s; try again"
            ) from None

    def _check_columns(self, table: str, needed: dict[str, type], tables: set[str]) -> None:
        if table not in tables:
            return
        missing = set(needed) - set(self._db.table(table).columns_dict)
        if missing:
            raise BookingError(
                f"{self.path}: the {table} table lacks columns {', '.join(sorted(missing))}; "
                "not a booking history"
            )

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction, holding the write lock from the start (waits up to 30 s)."""
        conn = self._db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise BookingError(f"{self.path}: cannot save to the history ({exc})") from None

    # --- writing -----------------------------------------------------------------------------

    def begin(self, kind: str, name: str, params: dict[str, Any]) -> int:
        """Open a session (status "running") and return its id; committed at once."""
        if kind not in KINDS:
            raise ValueError(f"session kind must be one of {', '.join(KINDS)}, not {kind!r}")
        row = {
            "kind": kind,
            "name": name,
            "started_at": _now(),
            "finished_at": None,
            "status": "running",
            "version": booking.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cores": os.cpu_count(),
            "params": json_text(params),
        }
        with self._write():
            table = self._db.table("sessions").insert(row)
        session_id = table.last_pk
        assert isinstance(session_id, int)
        return session_id

    def add(
        self,
        session_id: int,
        result: Result,
        point: dict[str, Any] | None = None,
        raw: RawRun | None = None,
    ) -> int:
        """Save one Result (and its sweep point) to a session, and with `raw` its timeline
        (see timeline.py), in one transaction committed at once: a run is never saved
        without the timeline it was given."""
        row = {
            "session_id": session_id,
            "saved_at": _now(),
            "point": None if point is None else json_text(point),
            **flatten(result),
        }
        packed = None if raw is None else timeline.pack(raw)  # compressed before the lock
        with self._write():
            self._session_row(session_id)
            runs = self._db.table("runs")
            # A history saved by an older booking lacks the fields added since: add them.
            have = set(runs.columns_dict)
            for column in row:
                if column not in have:
                    runs.add_column(column, RUN_COLUMNS.get(column, float))
            runs.insert(row)
            run_id = runs.last_pk
            assert isinstance(run_id, int)
            if packed is not None:
                self._timelines().insert({"run_id": run_id, **packed})
        return run_id

    def _timelines(self) -> Table:
        """The timelines table, made on the first saved timeline: a history written before
        timelines were kept has none, and reading it must not write."""
        table = self._db.table("timelines")
        table.create(
            TIMELINE_COLUMNS,
            pk="run_id",
            not_null={"format"},
            foreign_keys=[("run_id", "runs", "id")],
            if_not_exists=True,
        )
        return table

    def finish(self, session_id: int, status: str) -> None:
        """Close a session: status "complete", "interrupted", "error" or "aborted" (the
        memory guard stopped a run)."""
        if status not in STATUSES[1:]:
            raise ValueError(f"status must be one of {', '.join(STATUSES[1:])}, not {status!r}")
        with self._write():
            self._session_row(session_id)
            self._db.execute(
                "UPDATE sessions SET status = ?, finished_at = ? WHERE id = ?",
                [status, _now(), session_id],
            )

    # --- reading -----------------------------------------------------------------------------

    def _session_row(self, session_id: int) -> dict[str, Any]:
        rows = list(self._db.query("SELECT * FROM sessions WHERE id = ?", [session_id]))
        if not rows:
            raise BookingError(f"no saved session {session_id} in {self.path}")
        row: dict[str, Any] = rows[0]
        return row

    def sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest `limit` sessions first (all when limit < 0), each with its number of
        runs and of anomalies (runs whose verdict is not SAFE)."""
        sql = """
            SELECT sessions.*,
                (SELECT count(*) FROM runs WHERE runs.session_id = sessions.id) AS runs,
                (SELECT count(*) FROM runs WHERE runs.session_id = sessions.id
                    AND runs.verdict IS NOT 'SAFE') AS anomalies
            FROM sessions ORDER BY sessions.id DESC LIMIT ?
        """
        return list(self._db.query(sql, [limit]))

    def session(self, session_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A session row and its runs rows, in the order they were saved."""
        row = self._session_row(session_id)
        runs = list(
            self._db.query("SELECT * FROM runs WHERE session_id = ? ORDER BY id", [session_id])
        )
        return row, runs

    def timeline(self, run_id: int) -> RawRun | None:
        """A saved run's step records and clocks, or None when it was saved without them
        (by an older booking, or a --save that kept none). Raises BookingError when the
        timeline is there but unreadable."""
        if not self._db.table("timelines").exists():
            return None
        rows = list(self._db.query("SELECT * FROM timelines WHERE run_id = ?", [run_id]))
        return timeline.unpack(rows[0]) if rows else None

    # --- closing -----------------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
