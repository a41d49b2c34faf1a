"""A saved run's step events: the timelines table row that a report draws its pictures from.

A Result says what happened; a timeline says when, buyer by buyer. The row holds the run's
clocks and its step records as the wire frames the buyers sent (engine/frames.py: fixed
binary numbers and UTF-8 text), concatenated and zlib-compressed. The frames are data: they
are decoded, never unpickled, and a row this booking cannot read is a BookingError, never a
traceback. `format` names the encoding, so a later one can sit beside it.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING, Any

from booking.engine import frames
from booking.engine.frames import Kind
from booking.errors import BookingError

if TYPE_CHECKING:  # the runner's imports are the engine's: only unpack() needs them
    from booking.engine.runner import RawRun

#: The encoding this booking writes and reads: frames.encode() records, concatenated, zlib.
FORMAT = "frames-1"
CLOCKS = ("started_ns", "gate_ns", "stopped_ns", "finished_ns")
TIMELINE_COLUMNS: dict[str, type] = {
    "run_id": int,  # runs.id: one timeline per run
    "format": str,
    **dict.fromkeys(CLOCKS, int),
    "frames": bytes,
}
#: READY only says a buyer opened its store before the gate: no step of its purchase.
_LEFT_OUT = frozenset({Kind.READY})
#: zlib's default: on a 1,000-buyer run 44 B a buyer in 5 ms; level 9 took 65 ms for no less.
_LEVEL = 6


def pack(raw: RawRun) -> dict[str, Any]:
    """The timelines row of a run (without run_id): its clocks and its step frames."""
    stream = b"".join(frames.encode(r) for r in raw.records if r.kind not in _LEFT_OUT)
    return {
        "format": FORMAT,
        **{clock: getattr(raw, clock) for clock in CLOCKS},
        "frames": zlib.compress(stream, _LEVEL),
    }


def unpack(row: dict[str, Any]) -> RawRun:
    """A timelines row back as a RawRun with its records and clocks (the rest is left at
    its defaults). Raises BookingError when the row is of an unknown format or its frames
    do not decompress or decode."""
    from booking.engine.runner import RawRun

    run_id = row.get("run_id", "?")

    def unreadable(why: str) -> BookingError:
        return BookingError(f"run {run_id}: its timeline is unreadable ({why})")

    if row.get("format") != FORMAT:
        raise unreadable(f"format {row.get('format')!r}; this booking reads {FORMAT!r}")
    clocks: list[int] = []
    for clock in CLOCKS:
        value = row.get(clock)
        if not isinstance(value, int):
            raise unreadable(f"{clock} is {value!r}, not whole nanoseconds")
        clocks.append(value)
    try:
        buffer = bytearray(zlib.decompress(row["frames"]))
    except (zlib.error, TypeError, KeyError) as exc:
        raise unreadable(f"the frames do not decompress: {exc}") from None
    try:
        records = frames.decode_stream(buffer)
    except (struct.error, ValueError) as exc:
        raise unreadable(f"a frame does not decode: {exc}") from None
    if buffer:
        raise unreadable(f"{len(buffer)} bytes after the last whole frame")
    started_ns, gate_ns, stopped_ns, finished_ns = clocks
    return RawRun(
        records=records,
        started_ns=started_ns,
        gate_ns=gate_ns,
        stopped_ns=stopped_ns,
        finished_ns=finished_ns,
    )
