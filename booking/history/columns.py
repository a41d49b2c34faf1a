"""The runs table's columns and the conversion between a Result and a runs row.

A Result is one row: latency_ms and think_ms are spread over columns so SQL can sort and
average them, any other non-scalar field is JSON text, and the columns are typed from the
Result's own annotations, so a field added to Result becomes a column without a change here.
Kept apart from the database code (store.py): this is pure data, and `history show --json`
reads rows back through it.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from booking.judge.result import Result

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


def json_text(value: Any) -> str:
    """A value as the JSON text a column holds (params, point, lists of a Result)."""
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
            row[name] = json_text(value)
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
