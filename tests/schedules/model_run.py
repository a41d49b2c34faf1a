"""A fake executor: buyers modelled in memory, stepped by a chooser exactly as the real
executor steps processes, so the searches and the shrinker can be tested in milliseconds.

"none": each attempt is look, read, write (read - 1 when the read saw a ticket, else
nothing, and the buyer is sold out). "lock": look, acquire, read, write, release. A granted
acquire that finds the lock held is a blocked step, and that buyer is not enabled again
until some buyer's release is granted; then it tries acquire again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from booking.schedules.model import Chooser, Decision, Step, Trace

#: The strategies the model knows.
Strategy = Literal["none", "lock"]

PROGRAMS = {
    "none": ("look", "read", "write"),
    "lock": ("look", "acquire", "read", "write", "release"),
}


@dataclass
class _Buyer:
    program: tuple[str, ...]
    position: int = 0
    attempt: int = 0
    seen: int = -1  # the count its read saw
    waiting: bool = False  # blocked on the lock until a release
    sold_out: bool = False  # its read saw none: no attempt after this one
    done: bool = False


@dataclass
class Model:
    """One workload; calling it runs one schedule from scratch (an `Execute`).

    `keeps_lock`: buyers that never release (a deadlock for whoever wants the lock next).
    Every run's final (count, receipts) is appended to `finals`."""

    buyers: int
    tickets: int
    strategy: Strategy = "none"
    attempts: int = 1
    keeps_lock: frozenset[int] = frozenset()
    finals: list[tuple[int, int]] = field(default_factory=list)
    runs: int = 0

    def __call__(self, chooser: Chooser) -> Trace:
        self.runs += 1
        buyers = [_Buyer(self._program(b)) for b in range(self.buyers)]
        count, receipts, holder = self.tickets, 0, None
        steps: list[Step] = []
        decisions: list[Decision] = []
        last: int | None = None
        while True:
            enabled = tuple(b for b, s in enumerate(buyers) if not s.done and not s.waiting)
            if not enabled:
                break
            at = {b: buyers[b].program[buyers[b].position] for b in enabled}
            decision = Decision(len(steps), enabled, at, last)
            chosen = chooser(decision)
            assert chosen in enabled, f"the chooser granted {chosen}, not one of {enabled}"
            decisions.append(decision)
            buyer = buyers[chosen]
            point, value, blocked = at[chosen], -1, False
            if point in ("look", "read"):
                value = count
                if point == "read":
                    buyer.seen = count
            elif point == "acquire":
                if holder is None:
                    holder = chosen
                else:
                    blocked = buyer.waiting = True
            elif point == "write" and buyer.seen > 0:
                count = value = buyer.seen - 1
                receipts += 1
            elif point == "release":
                holder = None
                for other in buyers:
                    other.waiting = False
            steps.append(Step(chosen, point, buyer.attempt, value, blocked))
            if not blocked:
                self._advance(buyer, sold_out=point == "write" and value == -1)
            last = chosen
        self.finals.append((count, receipts))
        all_done = all(b.done for b in buyers)
        return Trace(
            steps=steps,
            decisions=decisions,
            ending="done" if all_done else "deadlock",
            anomalous=receipts > self.tickets or receipts != self.tickets - count,
            problem="" if all_done else "no buyer can move: the lock is held for good",
            buyers=self.buyers,
        )

    def _program(self, buyer: int) -> tuple[str, ...]:
        program = PROGRAMS[self.strategy]
        if buyer in self.keeps_lock:
            return tuple(p for p in program if p != "release")
        return program

    def _advance(self, buyer: _Buyer, *, sold_out: bool) -> None:
        """Past the step; at the end of an attempt, on to the next unless sold out."""
        buyer.sold_out = buyer.sold_out or sold_out
        buyer.position += 1
        if buyer.position == len(buyer.program):
            buyer.position = 0
            buyer.attempt += 1
            buyer.done = buyer.sold_out or buyer.attempt == self.attempts


def runner(tickets: int, strategy: Strategy = "none") -> RunCounter:
    """A `run(buyers, attempts, chooser)` for the shrinker, counting its runs."""
    return RunCounter(tickets, strategy)


@dataclass
class RunCounter:
    tickets: int
    strategy: Strategy
    runs: int = 0

    def __call__(self, buyers: int, attempts: int, chooser: Chooser) -> Trace:
        self.runs += 1
        return Model(buyers, self.tickets, self.strategy, attempts)(chooser)
