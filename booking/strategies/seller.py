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
import select
import signal
import time
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any, NoReturn

from booking import faults
from booking.errors import ResourceError
from booking.stores import StoreBusy, StoreFile, TornRead
from booking.stores.json_store import JsonStock
from booking.stores.sqlite_store import SqliteStock
from booking.strategies import StrategyOptions
from booking.strategies.descriptors import make_room
from booking.strategies.protocols import Ending, GuardTimeout, SellerGone, Served, Steps
from booking.waits import bounded

#: How often an idle seller checks that the process that made it is still alive.
IDLE_CHECK_S = 0.5
#: How long past its request's expiry a buyer waits for the answer: a sale the seller began
#: before the expiry is answered well within it.
ANSWER_GRACE_S = 1.0
#: How long the seller gets to finish the request it is serving when asked to stop.
STOP_GRACE_S = 2.0
#: An error message in an answer is cut to this many characters, so that every answer is
#: one write below PIPE_BUF (4,096 bytes): atomic, and never blocking the seller.
MESSAGE_CHARS = 400

now = time.monotonic_ns

#: What a buyer is told once the seller is gone (after "the seller is gone: ").
GONE = "it no longer takes requests (its process has ended)"
#: What the victim of a fault is told just before the seller dies: no answer will come.
KILLED = {
    faults.HOLDER: "it was killed between its read and its write for this buyer (--kill-holder)",
    faults.WRITER: "it was killed half-way through writing this buyer's sale (--kill-writer)",
}


class SellerError(Exception):
    """The seller's read or write failed, other than a torn read or a busy database."""


class Request:
    """A buyer's side: each look and each purchase is one request on the shared pipe and
    one answer on this buyer's own pipe. Only the seller touches the store."""

    holding = "waiting for the seller's answer"

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
        self, store: StoreFile, requests: Connection, answers: list[Connection], parent: int
    ) -> None:
        self._store = store
        self._requests = requests
        self._answers = answers
        self._parent = parent
        self._stock: JsonStock | SqliteStock | None = None
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

    def _connect(self) -> JsonStock | SqliteStock:
        if self._stock is None:
            stock = self._store.connect(0)
            assert isinstance(stock, JsonStock | SqliteStock)
            self._stock = stock
        return self._stock

    def _look(self) -> tuple[int, str, str]:
        try:
            return self._connect().read(), "", ""
        except Exception as exc:
            return (-1, *_failure(exc, "read"))

    def _sell(self, buyer: int, serial: int, fault: tuple[str, float] | None) -> tuple[Any, ...]:
        """Read, and write the count less one with the sale recorded for `buyer`: the
        fields of `Served`, with this process's stamps (one clock for all on Linux)."""
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
            if isinstance(stock, SqliteStock):
                stock.sell_to(buyer)
            stock.write(count - 1)
        except Exception as exc:
            return ("error", count, -1, t_read, t_write, now(), *_failure(exc, "write"))
        return ("bought", count, count - 1, t_read, t_write, now(), "", "")

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
            _seller_main(store, parent, requests_in, writers, [self._requests, *self._answers])
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
            _Seller(store, requests, answers, parent).run()
        code = 0
    finally:
        os._exit(code)
