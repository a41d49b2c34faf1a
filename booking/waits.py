"""One bound for every wait: a week. Beyond it the primitives misbehave (measured by the
property tests): SQLite's busy timeout overflows at 2**31 ms and stops waiting at all,
a Manager lock's acquire raises past threading.TIMEOUT_MAX, sem_timedwait returns EINVAL.

Also how a polling waiter (filelock) spaces its tries: `Backoff`, a plain value chosen
in the parent and used in each buyer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import random

MAX_WAIT_S = 7 * 24 * 3600.0

#: The longest pause between two polls, fixed or adaptive (--poll-ms's upper bound).
MAX_POLL_S = 1.0
#: Adaptive polling. Every failed filelock poll costs ~55-65 us of CPU plus a wake-up
#: (~75 us in all, measured here), so N waiters polling every p seconds take N*75us/p of
#: the 2 cores the holder needs: 200 waiters at 5 ms is 3 cores' worth. The hand-off
#: (release -> next holder) is about 1 / (all waiters' polls per second), whatever N is.
#: So the crowd shares one budget of polls per second: ~0.3 of one core, a hand-off of
#: ~0.25 ms while the crowd is large (4,000 beat 8,000 and 16,000 at 200 buyers).
POLL_BUDGET_PER_S = 4000.0
POLL_START_S = 0.001  # a waiter behind a short hold gets the lock within about 1 ms
POLL_FLOOR_S = 0.005  # small crowds keep the 5 ms measured best at 8-50 buyers
POLL_JITTER = 0.5  # each pause is drawn from [w/2, w]: the gate's crowd must not poll in step


def bounded(seconds: float) -> float:
    return min(seconds, MAX_WAIT_S)


class Backoff(NamedTuple):
    """How a waiter spaces its polls: the pause after the k-th failed poll is at most
    w = min(cap_s, start_s * 2**(k-1)), drawn uniformly from [(1 - jitter) * w, w].
    start_s == cap_s with jitter 0 is a fixed poll (an explicit --poll-ms)."""

    start_s: float
    cap_s: float
    jitter: float = 0.0

    @classmethod
    def fixed(cls, poll_s: float) -> Backoff:
        """Every pause exactly `poll_s`: what the user asked for, no adaptation."""
        return cls(poll_s, poll_s, 0.0)

    @property
    def is_fixed(self) -> bool:
        return self.start_s == self.cap_s and self.jitter == 0.0

    def window(self, tries: int) -> float:
        """The longest pause after `tries` (>= 1) failed polls."""
        # The exponent is bounded so that a long wait never overflows a float.
        return min(self.cap_s, self.start_s * 2.0 ** min(max(tries, 1) - 1, 64))

    def pause(self, tries: int, rng: random.Random) -> float:
        """The pause after `tries` failed polls, with this waiter's own jitter."""
        window = self.window(tries)
        return window - self.jitter * window * rng.random()


def crowd_backoff(buyers: int) -> Backoff:
    """The default poll, chosen from the crowd: start short (a quick hand-off when few
    wait), double per failed poll, and cap each waiter's rate so that all the other buyers
    polling at the cap stay within POLL_BUDGET_PER_S; the holder keeps its CPU."""
    mean_share = 1.0 - POLL_JITTER / 2  # the mean pause at the cap, as a share of the cap
    cap = max(buyers - 1, 0) / (POLL_BUDGET_PER_S * mean_share)
    cap = min(max(cap, POLL_FLOOR_S), MAX_POLL_S)
    return Backoff(min(POLL_START_S, cap), cap, POLL_JITTER)


def poll_until(
    attempt: Callable[[], bool],
    timeout_s: float,
    backoff: Backoff,
    rng: random.Random,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Try `attempt` until it succeeds or `timeout_s` has passed, pausing between tries as
    `backoff` says (the last pause ends at the deadline, where one more try is made): the
    loop of every guard that polls (a lock file, a Redis key)."""
    deadline = clock() + timeout_s
    tries = 0
    while True:
        if attempt():
            return True
        left = deadline - clock()
        if left <= 0:
            return False
        tries += 1
        sleep(min(backoff.pause(tries, rng), left))
