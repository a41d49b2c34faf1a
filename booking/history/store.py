"""The results history: every saved run as one row of a SQLite database.

A race is noisy and its outcome depends on the machine, so one run proves little; a history
lets you compare today's run with last week's, or this laptop with that server. Each
`--save` opens a *session* (one `booking run`, `compare` or `scenario` invocation, with the
options and the machine it ran on) and adds one *run* row per Result, committed at once, so
a crash or Ctrl-C half-way keeps everything measured so far.

The file is plain SQLite written through sqlite-utils, in WAL mode with a 30 s busy timeout,
so two booking processes can save at once and `sqlite-utils`, `datasette` or `sqlite3` can
read it without booking. Nested values are stored as JSON text, never pickled.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from types import NoneType, TracebackType, UnionType
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

import booking
from booking.errors import BookingError
from booking.judge.result import Result
from booking.sqlite_files import enable_wal, looks_like_sqlite

if TYPE_CHECKING:
    from sqlite_utils import Database

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
#: The runs columns that are not Result fields; the Result's columns follow them.
RUN_KEY_COLUMNS: dict[str, type] = {
    "id": int,
    "session_id": int,
    "saved_at": str,
    "point": str,  # JSON object or NULL
}
LATENCY_KEYS = ("p50", "p95", "p99", "max")
THINK_ENDS = ("min", "max")
_LATENCY_COLUMN = re.compile(r"latency_(\w+?)_ms")


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


def _scalar(hint: Any) -> type | None:
    """int, float, str or bool for a (possibly optional) scalar annotation, else None."""
    if get_origin(hint) in (Union, UnionType):
        args = [arg for arg in get_args(hint) if arg is not NoneType]
        hint = args[0] if len(args) == 1 else None
    return hint if hint in (int, float, str, bool) else None


_HINTS = get_type_hints(Result)
_SPREAD = ("latency_ms", "think_ms")
#: Result fields saved as JSON text: the non-scalar ones that are not spread over columns.
_JSON_FIELDS = {
    f.name for f in fields(Result) if f.name not in _SPREAD and _scalar(_HINTS[f.name]) is None
}


def _result_columns() -> dict[str, type]:
    """The runs columns holding a Result, in field order, typed from its annotations.

    latency_ms and think_ms are spread over columns so SQL can sort and average them;
    any other non-scalar field (explanation) is JSON text."""
    columns: dict[str, type] = {}
    for f in fields(Result):
        if f.name == "latency_ms":
            columns.update({f"latency_{key}_ms": float for key in LATENCY_KEYS})
        elif f.name == "think_ms":
            columns.update({f"think_{end}_ms": float for end in THINK_ENDS})
        else:
            columns[f.name] = _scalar(_HINTS[f.name]) or str
    return columns


RESULT_COLUMNS = _result_columns()
RUN_COLUMNS = RUN_KEY_COLUMNS | RESULT_COLUMNS
_BOOLS = {name for name, kind in RESULT_COLUMNS.items() if kind is bool}


def _json(value: Any) -> str:
    # default=str: a Path among the options is saved as its text rather than losing the run.
    return json.dumps(value, ensure_ascii=False, default=str)


def flatten(result: Result) -> dict[str, Any]:
    """A Result as runs columns: latency_ms and think_ms spread out, lists as JSON text."""
    row: dict[str, Any] = {}
    for name, value in result.to_dict().items():
        if name == "latency_ms":
            row.update({f"latency_{key}_ms": v for key, v in value.items()})
        elif name == "think_ms":
            row.update({f"think_{end}_ms": v for end, v in zip(THINK_ENDS, value, strict=True)})
        elif name in _JSON_FIELDS:
            row[name] = _json(value)
        else:
            row[name] = value
    clash = set(row) & set(RUN_KEY_COLUMNS)
    if clash:
        raise ValueError(f"Result fields {sorted(clash)} clash with the runs table's own columns")
    return row


def run_record(run: dict[str, Any]) -> dict[str, Any]:
    """A runs row back in the shape of Result.to_dict() (the `booking run --json` record).

    Fields an older history lacks are left out; booleans come back as bools."""
    record: dict[str, Any] = {}
    for f in fields(Result):
        name = f.name
        if name == "latency_ms":
            latency = {}
            for column, value in run.items():
                match = _LATENCY_COLUMN.fullmatch(column)
                if match and value is not None:
                    latency[match.group(1)] = value
            record[name] = latency
        elif name == "think_ms":
            record[name] = [run.get(f"think_{end}_ms") for end in THINK_ENDS]
        elif name not in run:
            continue
        elif name in _JSON_FIELDS:
            record[name] = None if run[name] is None else json.loads(run[name])
        elif name in _BOOLS:
            record[name] = None if run[name] is None else bool(run[name])
        else:
            record[name] = run[name]
    return record


def run_result(run: dict[str, Any]) -> Result:
    """A runs row back as a Result, e.g. to render it again."""
    record = run_record(run)
    record["think_ms"] = tuple(record["think_ms"])
    return Result(**record)


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
            "params": _json(params),
        }
        with self._write():
            table = self._db.table("sessions").insert(row)
        session_id = table.last_pk
        assert isinstance(session_id, int)
        return session_id

    def add(self, session_id: int, result: Result, point: dict[str, Any] | None = None) -> int:
        """Save one Result (and its sweep point) to a session; committed at once."""
        row = {
            "session_id": session_id,
            "saved_at": _now(),
            "point": None if point is None else _json(point),
            **flatten(result),
        }
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
        return run_id

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
