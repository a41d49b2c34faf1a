"""`queue`: one seller process owns the store; buyers think, then ask it.

The actor / single-writer design: only the seller reads and writes the store, one request
at a time, so no two purchases can overlap; buyers think in parallel and wait only for the
seller's read and write. Requests go on one shared pipe, answers on each buyer's own.

The shared pipe is a plain `multiprocessing.Pipe(duplex=False)`, not a `SimpleQueue`: on
POSIX `SimpleQueue.put` takes a multiprocessing.Lock around its write, and a buyer killed
holding it would block every later put with no timeout. A request is one pickled tuple
well below PIPE_BUF, which the kernel writes atomically without any lock.

Only the seller holds the write ends of the answer pipes and the read end of the request
pipe, so its death is EOF for every waiting buyer and EPIPE for every later request.
"""

from __future__ import annotations

import contextlib
import ctypes  # in the parent: a library loaded in a forked child is slow, and unsafe
import errno
import gc
import os
import random
import select
import signal
import time
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any, NoReturn

from booking import faults
from booking.errors import ResourceError
from booking.seating import SeatPlan, pick
from booking.stores import StoreBusy, StoreFile, TornRead
from booking.strategies import StrategyOptions
from booking.strategies.descriptors import make_room
from booking.strategies.seller_requests import Request

#: How often an idle seller checks that the process that made it is still alive.
IDLE_CHECK_S = 0.5
#: How long the seller gets to finish the request it is serving when asked to stop.
STOP_GRACE_S = 2.0
#: An error message in an answer is cut to this many characters, so that every answer is
#: one write below PIPE_BUF (4,096 bytes): atomic, and never blocking the seller.
MESSAGE_CHARS = 400

now = time.monotonic_ns

#: What the victim of a fault is told just before the seller dies: no answer will come.
KILLED = {
    faults.HOLDER: "it was killed between its read and its write for this buyer (--kill-holder)",
    faults.WRITER: "it was killed half-way through writing this buyer's sale (--kill-writer)",
}


def _failure(exc: Exception, step: str) -> tuple[str, str]:
    """(message, failure kind) of a store exception, for an error answer."""
    if isinstance(exc, TornRead):
        return str(exc)[:MESSAGE_CHARS], "torn_read"
    if isinstance(exc, StoreBusy):
        return str(exc)[:MESSAGE_CHARS], "busy"
    text = f"the seller's {step} failed: {type(exc).__name__}: {exc}"
    return text[:MESSAGE_CHARS], "other"


class _Stop(BaseException):
    """SIGTERM reached an idle seller: leave at once."""


class _Seller:
    """The seller process: serves requests one at a time until SIGTERM or its parent dies.
    It never prints, and a store exception becomes an error answer, never its death."""

    def __init__(
        self,
        store: StoreFile,
        requests: Connection,
        answers: list[Connection],
        parent: int,
        seats: SeatPlan | None = None,
    ) -> None:
        self._store = store
        self._seats = seats  # a seat run: the seller picks each order's seats itself
        self._rngs: dict[int, random.Random] = {}
        self._requests = requests
        self._answers = answers
        self._parent = parent
        self._stock: Any = None
        self._busy = False
        self._stopping = False

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        # Never between a request's read and its answer: a sale made is always answered.
        self._stopping = True
        if not self._busy:
            raise _Stop

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        for conn in self._answers:
            os.set_blocking(conn.fileno(), False)  # a full pipe is a buyer gone: skip it
        try:
            with contextlib.suppress(Exception):  # now, while buyers are forked; else later
                self._connect()
            while not self._stopping:
                self._busy = False
                if not self._requests.poll(IDLE_CHECK_S):
                    if os.getppid() != self._parent:
                        return
                    continue
                self._busy = True
                try:
                    message = self._requests.recv()
                except EOFError:
                    return  # nobody can send a request any more
                except Exception:
                    continue  # not a request of ours: nobody to answer
                self._serve(message)
        except _Stop:
            return

    def _serve(self, message: tuple[Any, ...]) -> None:
        kind, buyer, serial, pid, fault, expires = message
        if kind != "look" and (now() > expires or not _listening(pid)):
            return  # given up on, or killed while it waited: a sale would have no receipt
        body = self._look() if kind == "look" else self._sell(buyer, serial, fault)
        self._send(buyer, (serial, *body))

    def _connect(self) -> Any:
        if self._stock is None:
            self._stock = self._store.connect(0)
        return self._stock

    def _look(self) -> tuple[int, str, str]:
        try:
            stock = self._connect()
            count = stock.read() if self._seats is None else stock.read_map().count(None)
            return count, "", ""
        except Exception as exc:
            return (-1, *_failure(exc, "read"))

    def _sell(self, buyer: int, serial: int, fault: tuple[str, float] | None) -> tuple[Any, ...]:
        """Read, and write the count less one with the sale recorded for `buyer`: the
        fields of `Served`, with this process's stamps (one clock for all on Linux)."""
        if self._seats is not None:
            return self._sell_seats(self._seats, buyer, serial, fault)
        t_read = now()
        try:
            stock = self._connect()
            count = stock.read()
        except Exception as exc:
            return ("error", -1, -1, t_read, 0, now(), *_failure(exc, "read"))
        victim = fault[0] if fault is not None else ""
        if victim == faults.HOLDER:
            self._send(buyer, (serial, "error", count, -1, t_read, 0, 0, KILLED[victim], ""))
            faults.die()
        if count <= 0:
            return ("sold_out", count, -1, t_read, 0, now(), "", "")
        t_write = now()
        if victim == faults.WRITER:
            self._send(buyer, (serial, "error", count, -1, t_read, t_write, 0, KILLED[victim], ""))
            stock.die_writing(count - 1)
            faults.die()
        try:
            if hasattr(stock, "sell_to"):  # a database stock records the buyer's sale
                stock.sell_to(buyer)
            stock.write(count - 1)
        except Exception as exc:
            return ("error", count, -1, t_read, t_write, now(), *_failure(exc, "write"))
        return ("bought", count, count - 1, t_read, t_write, now(), "", "")

    def _sell_seats(
        self, plan: SeatPlan, buyer: int, serial: int, fault: tuple[str, float] | None
    ) -> tuple[Any, ...]:
        """Read the map, pick the buyer's order from it, and hold those seats for `buyer`:
        as a box office clerk does, the seller chooses, so no two orders can meet."""
        t_read = now()
        try:
            stock = self._connect()
            free = [holder is None for holder in stock.read_map()]
        except Exception as exc:
            return ("error", -1, -1, t_read, 0, now(), *_failure(exc, "read"))
        count = sum(free)
        victim = fault[0] if fault is not None else ""
        if victim == faults.HOLDER:
            self._send(buyer, (serial, "error", count, -1, t_read, 0, 0, KILLED[victim], ""))
            faults.die()
        rng = self._rngs.setdefault(buyer, plan.rng(buyer))
        choice = pick(free, plan.shape, plan.order, plan.how, rng)
        if not choice:
            return ("sold_out", count, -1, t_read, 0, now(), "", "")
        t_write = now()
        stock.sell_to(buyer)
        if victim == faults.WRITER:
            self._send(buyer, (serial, "error", count, -1, t_read, t_write, 0, KILLED[victim], ""))
            stock.die_claiming(choice)
            faults.die()
        try:
            stock.claim(choice)  # the only writer: the map it read is the map there is
        except Exception as exc:
            return ("error", count, -1, t_read, t_write, now(), *_failure(exc, "write"))
        names = ",".join(plan.shape.names(choice))
        return ("bought", count, count - plan.order, t_read, t_write, now(), "", "", names)

    def _send(self, buyer: int, answer: tuple[Any, ...]) -> None:
        """Answer `buyer`; one that is gone (its pipe closed, or full) is skipped."""
        with contextlib.suppress(OSError, IndexError):
            self._answers[buyer].send(answer)


def _listening(pid: int) -> bool:
    """Whether buyer `pid` is still alive to take an answer. A stopped run SIGKILLs the
    buyers still waiting after its grace; the seller must not sell to them afterwards. A
    pidfd becomes readable when its process has ended, reaped or not."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as exc:
        return exc.errno != errno.ESRCH  # gone; any other failure: cannot tell, serve it
    try:
        watch = select.poll()
        watch.register(pidfd, select.POLLIN)
        return not watch.poll(0)
    finally:
        os.close(pidfd)


def _close_all(conns: list[Connection]) -> None:
    for conn in conns:
        conn.close()


class SingleSeller:
    """The strategy: made in the parent before the buyers, it forks the seller, which the
    runner does not know, so finish() and close() stop and reap it."""

    def __init__(self, store: StoreFile, options: StrategyOptions) -> None:
        self._store = store
        self._timeout_s = options.timeout_s
        self._seats = options.seats
        buyers = options.buyers
        self._pid = 0
        make_room(buyers)
        parent = os.getpid()
        made: list[Connection] = []
        try:
            requests_in, self._requests = Pipe(duplex=False)
            made += [requests_in, self._requests]
            pairs = []
            for _ in range(buyers):
                pairs.append(Pipe(duplex=False))
                made += pairs[-1]
            self._pid = os.fork()
        except OSError as exc:
            _close_all(made)
            raise ResourceError(
                f"could not start the queue strategy's seller for {buyers:,} buyers: "
                f"{os.strerror(exc.errno) if exc.errno else exc}; try fewer --buyers"
            ) from None
        self._answers = [reader for reader, _ in pairs]
        writers = [writer for _, writer in pairs]
        if self._pid == 0:
            theirs = [self._requests, *self._answers]
            _seller_main(store, parent, requests_in, writers, theirs, self._seats)
        # Only the seller keeps these: its death is then EOF and EPIPE for every buyer.
        _close_all([requests_in, *writers])

    @property
    def pid(self) -> int:
        """The seller's process id; 0 once it has been reaped."""
        return self._pid

    def buyer_parts(self, buyer: int) -> Request:
        return Request(self._requests, self._answers[buyer], buyer, os.getpid(), self._timeout_s)

    def stopping(self) -> None:
        """The run is being stopped: the seller finishes the request it is serving and
        sells nothing more (a buyer still waiting then hears EOF and stops)."""
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGTERM)

    def finish(self, sold_by: list[int]) -> int:
        # Stopped first: a request still queued belongs to a buyer that is dead by now.
        self._stop_seller()
        return self._store.count()

    def close(self) -> None:
        self._stop_seller()
        _close_all([self._requests, *self._answers])

    def _stop_seller(self) -> None:
        """SIGTERM (it finishes the request it is serving), wait up to STOP_GRACE_S, then
        SIGKILL; reaped in every case, a seller already dead too. Idempotent."""
        pid, self._pid = self._pid, 0
        if not pid:
            return
        reaped = False
        try:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_S
            while not reaped and time.monotonic() < deadline:
                time.sleep(0.002)
                reaped = os.waitpid(pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            reaped = True
        finally:
            if not reaped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)


def _seller_main(
    store: StoreFile,
    parent: int,
    requests: Connection,
    answers: list[Connection],
    theirs: list[Connection],
    seats: SeatPlan | None = None,
) -> NoReturn:
    """The seller process, from the fork to its exit; never returns into the parent's code."""
    code = 1
    try:
        gc.disable()  # long-lived but makes no cycles; a collection would copy the heap
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # Made while the parent held the stop signals (booking explore): its own now.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # it never prints, and holds no terminal or pipe of the caller
            os.dup2(devnull, fd)
        os.close(devnull)
        _close_all(theirs)
        # SIGTERM when the parent dies, so the seller leaves with it (the idle getppid()
        # check stays for a kernel that refuses).
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        if os.getppid() == parent:  # else it died before the request was made
            _Seller(store, requests, answers, parent, seats).run()
        code = 0
    finally:
        os._exit(code)
