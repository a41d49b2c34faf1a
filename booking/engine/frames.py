"""The wire between buyers and the parent: one fixed binary frame per step record.

Every buyer writes to one shared pipe. A write of at most PIPE_BUF bytes is atomic, so
frames from different buyers never interleave, and the parent holds two descriptors
whatever the number of buyers. Frames are plain numbers and UTF-8 text: nothing a buyer
sends is ever unpickled.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

#: Exit codes of a buyer process besides 0 (done) and 1 (failed, with a FAILED frame).
EXIT_STOPPED = 3  # stopped by the parent's SIGTERM (Ctrl-C or the watchdog)
EXIT_CRASHED = 70  # died of something it could not even report (EX_SOFTWARE)


class Kind(IntEnum):
    READY = 1  # the buyer opened its store and waits at the gate
    QUERY = 2  # the unguarded look at the count (the seeds' search())
    ATTEMPT = 3  # one read -> think -> write purchase try
    FAILED = 4  # the buyer could not start, or crashed outside an attempt
    CUT = 5  # an attempt cut short (outcome STOPPED or KILLED): the steps it had reached
    CONFLICT = 6  # one try of a compare-and-set attempt that found the store changed
    # Controlled mode (engine/controlled.py) only, never in a run's records: the buyer
    # waits before its step `message` (or has ended: "end"), or tried the guard and found
    # it taken. read_value carries what its previous step read or wrote.
    POINT = 7
    BLOCKED = 8


class Outcome(IntEnum):
    NONE = 0
    BOUGHT = 1
    SOLD_OUT = 2
    ERROR = 3
    STOPPED = 4  # a CUT attempt: the parent's stop (Ctrl-C, the watchdog) ended it
    KILLED = 5  # a CUT attempt: its buyer is about to SIGKILL itself (--kill-holder/-writer)
    GAVE_UP = 6  # every try of a compare-and-set attempt found the store changed


class Failure(IntEnum):
    NONE = 0
    TORN_READ = 1
    BUSY = 2
    LOCK_TIMEOUT = 3
    OTHER = 4
    SELLER_GONE = 5  # the queue's seller died: no one to answer


# length, kind, buyer, attempt number, outcome, failure, read value, written value, then the
# time.monotonic_ns() stamps of the steps: begin, acquired, read, write, left (the end of the
# read -> write window), end; then the message length; then (seat runs) how many of the
# attempt's seats it held and the length of their names.
_HEAD = struct.Struct("<HBIIBBqqqqqqqqHHH")
MAX_MESSAGE = 400
MAX_SEATS_TEXT = 600  # an order of up to 100 seats, "Z100," each
NOT_REACHED = 0
NO_VALUE = -1


class Record(NamedTuple):
    """One step record. Stamps that were not reached are 0; values not seen are -1."""

    kind: Kind
    buyer: int
    attempt: int = 0
    outcome: Outcome = Outcome.NONE
    failure: Failure = Failure.NONE
    read_value: int = NO_VALUE
    written_value: int = NO_VALUE
    t_begin: int = NOT_REACHED
    t_acquired: int = NOT_REACHED
    t_read: int = NOT_REACHED
    t_write: int = NOT_REACHED
    t_left: int = NOT_REACHED
    t_end: int = NOT_REACHED
    message: str = ""
    # Seat runs: the seats of the attempt's order ("A1,A2", in the order it takes them) and
    # how many of them it held (per-seat locks) when the record was made.
    seats: str = ""
    held: int = 0


def encode(record: Record) -> bytes:
    message = record.message.encode("utf-8", "replace")[:MAX_MESSAGE]
    seats = record.seats.encode("ascii", "replace")[:MAX_SEATS_TEXT]
    size = _HEAD.size - 2 + len(message) + len(seats)
    head = _HEAD.pack(size, *record[:13], len(message), record.held, len(seats))
    return head + message + seats


def decode_stream(buffer: bytearray) -> list[Record]:
    """Take every whole frame off the front of `buffer`; a partial frame stays there."""
    records = []
    offset = 0
    size = len(buffer)
    while size - offset >= 2:
        (length,) = struct.unpack_from("<H", buffer, offset)
        if size - offset - 2 < length:
            break
        fields = _HEAD.unpack_from(buffer, offset)
        start = offset + _HEAD.size
        end = start + fields[14]
        message = bytes(buffer[start:end]).decode("utf-8", "replace")
        seats = bytes(buffer[end : end + fields[16]]).decode("ascii", "replace")
        records.append(
            Record._make(
                (
                    Kind(fields[1]),
                    fields[2],
                    fields[3],
                    Outcome(fields[4]),
                    Failure(fields[5]),
                    *fields[6:14],
                    message,
                    seats,
                    fields[15],
                )
            )
        )
        offset += 2 + length
    del buffer[:offset]
    return records
