"""One bound for every wait: a week. Beyond it the primitives misbehave (measured by the
property tests): SQLite's busy timeout overflows at 2**31 ms and stops waiting at all,
a Manager lock's acquire raises past threading.TIMEOUT_MAX, sem_timedwait returns EINVAL."""

from __future__ import annotations

MAX_WAIT_S = 7 * 24 * 3600.0


def bounded(seconds: float) -> float:
    return min(seconds, MAX_WAIT_S)
