"""Fault injection: the seeds' `terminate()`, aimed. A chosen buyer SIGKILLs itself inside
the critical section (--kill-holder: after reading, during the think) or half-way through
writing the store (--kill-writer), so no cleanup runs: a lock it holds stays held, a file
it is writing stays half-written.

The seed fixes who dies and when in the victim's own life: which buyers, that a holder
dies on its first purchase attempt once it holds the guard (a writer on its first write),
and how far into its think a holder dies. It cannot fix when that moment comes relative to
the other buyers: which of the buyers released together at the gate gets the guard first
is the OS scheduler's choice, so how many tickets were sold before the death, and who was
left waiting, differ from run to run of one seed. The result says both.
"""

from __future__ import annotations

import os
import random
import signal
from dataclasses import dataclass
from typing import NoReturn

HOLDER = "holder"
WRITER = "writer"


@dataclass(frozen=True)
class Fault:
    kind: str  # HOLDER or WRITER
    at: float  # for a holder: how far into its think it dies, 0..1


def plan(buyers: int, kill_holder: int, kill_writer: int, seed: int) -> dict[int, Fault]:
    """Which buyers die, and when: the same for the same seed."""
    rng = random.Random(f"{seed}/faults")
    victims = rng.sample(range(buyers), kill_holder + kill_writer)
    return {
        buyer: Fault(HOLDER if index < kill_holder else WRITER, rng.random())
        for index, buyer in enumerate(victims)
    }


def die() -> NoReturn:
    """SIGKILL this process: no finally, no atexit, no flush, exactly like terminate()."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: SIGKILL cannot be caught")  # pragma: no cover
