"""The buyer's side of `queue`: each look and each purchase is one request on the shared
pipe and one answer on the buyer's own (seller.py is the seller's side)."""

from __future__ import annotations

import time
from multiprocessing.connection import Connection
from typing import Any, NoReturn

from booking.stores import StoreBusy, TornRead
from booking.strategies.protocols import Ending, GuardTimeout, SellerGone, Served, Steps
from booking.waits import bounded

#: How long past its request's expiry a buyer waits for the answer: a sale the seller began
#: before the expiry is answered well within it.
ANSWER_GRACE_S = 1.0
#: What a buyer is told once the seller is gone (after "the seller is gone: ").
GONE = "it no longer takes requests (its process has ended)"

now = time.monotonic_ns


class SellerError(Exception):
    """The seller's read or write failed, other than a torn read or a busy database."""


class Request:
    """A buyer's side: each look and each purchase is one request on the shared pipe and
    one answer on this buyer's own pipe. Only the seller touches the store."""

    holding = "waiting for the seller's answer"
    picked = ""  # the seller picks a seat order's seats itself, when it sells

    def __init__(
        self, requests: Connection, answers: Connection, buyer: int, pid: int, timeout_s: float
    ) -> None:
        self._requests = requests
        self._answers = answers
        self._buyer = buyer
        self._pid = pid  # the seller sells nothing to a buyer that has died meanwhile
        self._timeout_s = bounded(timeout_s)
        self._serial = 0
        self._gone = False  # the seller is dead: every later request fails at once

    def look(self) -> int:
        """The seeds' search(), asked of the seller like everything else."""
        _, count, message, failure = self._ask("look", None)
        if failure:
            _raise(failure, message)
        return int(count)

    def buy(self, steps: Steps) -> Ending:
        if self._gone:  # no purchase can be made: fail now, not after a think
            raise SellerGone(GONE)
        steps.think()
        fault = steps.fault
        answer = steps.served(lambda: Served(*self._ask("buy", fault)[1:]))
        if answer.ending == "error":
            self._gone = not answer.failure  # no store failure: the seller's last words
            _raise(answer.failure, answer.message)
        return answer.ending

    def _ask(self, kind: str, fault: tuple[str, float] | None) -> tuple[Any, ...]:
        """Send one request and wait, bounded by the run's timeout, for its answer.
        Answers carry the request's serial: one to a request given up on is skipped.
        The request expires at the timeout: the seller sells nothing after it, and the
        buyer waits ANSWER_GRACE_S longer, so a sale begun in time is always answered."""
        if self._gone:
            raise SellerGone(GONE)
        self._serial += 1
        expires = now() + int(self._timeout_s * 1e9)
        try:
            self._requests.send((kind, self._buyer, self._serial, self._pid, fault, expires))
        except OSError:
            self._gone = True
            raise SellerGone(GONE) from None
        deadline = time.monotonic() + self._timeout_s + ANSWER_GRACE_S
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0 or not self._answers.poll(left):
                    raise GuardTimeout(
                        f"no answer from the seller within {self._timeout_s:g} s (--timeout)"
                    )
                answer: tuple[Any, ...] = self._answers.recv()
            except (EOFError, OSError):
                self._gone = True
                raise SellerGone("it died before answering this buyer") from None
            if answer[0] == self._serial:
                return answer


def _raise(failure: str, message: str) -> NoReturn:
    """An error answer as the exception the buyer's report counts by kind. No store failure
    at all: the seller itself is gone (it said so before it was killed)."""
    if failure == "torn_read":
        raise TornRead(message)
    if failure == "busy":
        raise StoreBusy(message)
    if failure == "other":
        raise SellerError(message)
    raise SellerGone(message)
