"""What a saved session reads back as, beyond its rows: the record `history show --json`
prints, with the params as the object they were saved as."""

from __future__ import annotations

import json
from typing import Any


def params_of(row: dict[str, Any]) -> dict[str, Any]:
    """A session's params as a dict; {} when the row holds none or not a JSON object."""
    try:
        params = json.loads(row.get("params") or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def session_record(row: dict[str, Any]) -> dict[str, Any]:
    """A sessions row for --json: params as the object they were saved as, not as JSON
    text inside JSON. Text that is not a JSON object is kept as it is, never dropped."""
    text = row.get("params")
    try:
        params = json.loads(text) if text else {}
    except ValueError:
        params = text
    return {**row, "params": params if isinstance(params, dict) else text}
