"""A run's steps as a Chrome Trace Event Format file, for ui.perfetto.dev and
chrome://tracing: one process per buyer, a complete event ("X") for each step that has a
duration, an instant event ("i") for each read and write with the count as its argument.

Times are microseconds from the first buyer's fork; the gate is an instant on the
`booking` process (pid 0). Only stamps a step really took are drawn: a step the protocol
does not have (an atomic attempt's read) is simply absent.
"""

from __future__ import annotations

import json
from typing import Any

from booking.engine.frames import NO_VALUE, Kind, Outcome, Record
from booking.engine.runner import RawRun
from booking.judge.result import Result

_TITLE = {
    Kind.QUERY: "look (search)",
    Kind.ATTEMPT: "attempt",
    Kind.CUT: "attempt",
    Kind.CONFLICT: "compare-and-set try",
}


def trace(raw: RawRun, result: Result) -> dict[str, Any]:
    """The trace as plain JSON values."""
    zero = raw.started_ns or min((r.t_begin for r in raw.records if r.t_begin), default=0)

    def us(ns: int) -> float:
        return round((ns - zero) / 1000, 3)

    events: list[dict[str, Any]] = [
        _meta("process_name", 0, "booking"),
        {"ph": "i", "name": "gate opens", "ts": us(raw.gate_ns), "pid": 0, "tid": 0, "s": "g"},
    ]
    if raw.stopped_ns:
        events.append(
            {"ph": "i", "name": "stop", "ts": us(raw.stopped_ns), "pid": 0, "tid": 0, "s": "g"}
        )
    for buyer in range(result.buyers):
        events.append(_meta("process_name", buyer + 1, f"buyer {buyer}"))
        events.append({**_meta("process_sort_index", buyer + 1, ""), "args": {"sort_index": buyer}})
    for record in raw.records:
        if record.kind in _TITLE and record.t_begin:
            events += _steps(record, us)
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "strategy": result.strategy,
            "store": result.store,
            "verdict": result.verdict,
            "seed": str(result.seed),
        },
    }


def to_json(raw: RawRun, result: Result) -> str:
    return json.dumps(trace(raw, result))


def _meta(name: str, pid: int, label: str) -> dict[str, Any]:
    return {"ph": "M", "name": name, "ts": 0, "pid": pid, "tid": 0, "args": {"name": label}}


def _steps(record: Record, us: Any) -> list[dict[str, Any]]:
    """The events of one step record, on its buyer's process."""
    pid = record.buyer + 1
    end = record.t_end or record.t_left or record.t_begin
    outcome = record.outcome.name.lower().replace("_", " ")
    title = _TITLE[record.kind]
    if record.kind is not Kind.QUERY:
        ended = f" ({outcome})" if record.outcome is not Outcome.NONE else ""
        title += f" {record.attempt}{ended}"
    args = {"outcome": outcome} if record.outcome is not Outcome.NONE else {}
    if record.read_value != NO_VALUE:
        args["read"] = str(record.read_value)
    if record.written_value != NO_VALUE:
        args["wrote"] = str(record.written_value)
    if record.message:
        args["message"] = record.message
    events = [_span(title, pid, us(record.t_begin), us(end), args)]
    if record.t_acquired:
        events.append(_span("wait for the guard", pid, us(record.t_begin), us(record.t_acquired)))
    opened = record.t_read or record.t_write
    if opened and record.t_left:
        events.append(_span("read -> write window", pid, us(opened), us(record.t_left)))
    if record.t_write and record.t_left:
        events.append(_span("write", pid, us(record.t_write), us(record.t_left)))
    if record.t_read and record.read_value != NO_VALUE:
        events.append(_instant("read", pid, us(record.t_read), {"count": record.read_value}))
    if record.written_value != NO_VALUE and record.t_left:
        events.append(_instant("wrote", pid, us(record.t_left), {"count": record.written_value}))
    return events


def _span(name: str, pid: int, start: float, end: float, args: Any = None) -> dict[str, Any]:
    event = {"ph": "X", "name": name, "ts": start, "dur": round(max(0.0, end - start), 3)}
    event["pid"] = pid
    event["tid"] = 0
    if args:
        event["args"] = args
    return event


def _instant(name: str, pid: int, ts: float, args: dict[str, int]) -> dict[str, Any]:
    return {"ph": "i", "name": name, "ts": ts, "pid": pid, "tid": 0, "s": "t", "args": args}
