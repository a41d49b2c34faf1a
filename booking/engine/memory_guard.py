"""The live memory guard: while buyers start and run, the parent watches MemAvailable and
stops the run, as Ctrl-C would, before the machine runs out.

The machine this tool runs on has no swap: when memory runs out the kernel's OOM killer
picks victims, and one such run left the machine unusable for forty minutes (FACTS.md).
The admission before the first fork estimates what the buyers will need; this guard
watches what they actually take, and anything else on the machine besides.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from booking import memory

#: The run is stopped when MemAvailable falls below this share of MemTotal: what is left
#: for the kernel, this process's clean-up (reaping, reading the store) and everything else.
MEMORY_FLOOR_FRACTION = 0.10
#: Read /proc/meminfo at most this often. One read costs ~10-40 µs; the fork loop asks
#: before every fork (~3 ms each), so most checks only look at the clock.
CHECK_EVERY_S = 0.05


def below_floor(info: memory.Meminfo) -> str:
    """The reason to stop when available memory is under the floor, else ''."""
    floor = int(info.total * MEMORY_FLOOR_FRACTION)
    if info.available >= floor:
        return ""
    return (
        f"memory: {memory.format_size(info.available)} available of "
        f"{memory.format_size(info.total)}, below the {memory.format_size(floor)} floor"
    )


class MemoryGuard:
    """Cheap to ask often: reads the memory at most every CHECK_EVERY_S, and once it has
    found memory short it keeps saying so (a run stopped for memory stays stopped).
    Where the kernel gives no reading (`meminfo()` is None) it never stops a run."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._next = float("-inf")
        self.reason = ""

    def check(self) -> str:
        """'' while memory is fine; the reason (see `below_floor`) once it is not."""
        if self.reason:
            return self.reason
        now = self._clock()
        if now < self._next:
            return ""
        self._next = now + CHECK_EVERY_S
        info = memory.meminfo()  # looked up at each call: the seam tests replace
        if info is not None:
            self.reason = below_floor(info)
        return self.reason
