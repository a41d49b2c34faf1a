"""Starts the buyers, opens the gate, watches the clock, collects frames, reaps every child.

Buyers are started with a bare `os.fork()`: `multiprocessing.Process.start()` polls every
child started before it, so N gated children cost O(N^2) (FACTS.md: 1,000 children took
5.6-6.6 s that way, 1.1 s by fork). Every child is reaped with `waitpid` whatever happens:
normal end, watchdog, Ctrl-C, or an error in the parent.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from booking.engine import admission, buyer, stopping
from booking.engine.forking import after_fork_in_child
from booking.engine.frames import EXIT_CRASHED, EXIT_STOPPED, Kind, Record, decode_stream
from booking.engine.memory_guard import MemoryGuard
from booking.errors import ResourceError
from booking.faults import Fault
from booking.strategies import Strategy

#: After SIGTERM, how long buyers get to finish a write they began before SIGKILL.
STOP_GRACE_S = 2.0
#: How often the parent wakes to check the watchdog when no frame arrives.
TICK_S = 0.05
#: After frames arrive, how long the parent waits before reading again. At 20,000 frames/s
#: that is ~40 frames (3 KB) in the pipe, far below its 64 KB.
BATCH_S = 0.002


@dataclass
class RawRun:
    """What the runner saw: frames, clocks and exit statuses. No arithmetic on results."""

    records: list[Record] = field(default_factory=list)
    started_ns: int = 0
    gate_ns: int = 0
    finished_ns: int = 0
    last_progress_ns: int = 0
    stopped_ns: int = 0  # when the watchdog or a stop request ended the run (0: it ended)
    timed_out: bool = False
    interrupted: bool = False
    aborted: str = ""  # why the memory guard stopped the run ("": it did not)
    exit_codes: dict[int, int] = field(default_factory=dict)  # buyer -> exit code (<0: signal)
    pids: list[int] = field(default_factory=list)
    # A controlled run (explore, replay): each step waited for a grant, in an order the
    # scheduler chose, and no think was slept; its clocks show the scheduler's pace.
    controlled: bool = False


class _Buyers:
    """The live children and the parent's ends of the two pipes."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.alive: dict[int, int] = {}  # pid -> buyer
        self.exit_codes: dict[int, int] = {}
        self.events_r, self.events_w = os.pipe()
        self.gate_r, self.gate_w = os.pipe()

    def fork(self, index: int, strategy: Strategy, plan: buyer.BuyerPlan) -> None:
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code
            # A short-lived buyer needs no cyclic collection, and one would write to the
            # header of every object it walks, copying the parent's pages (FACTS.md).
            gc.disable()
            # Not the parent's stop-request handlers: until the buyer installs its own, a
            # SIGTERM simply ends it (it has bought nothing yet) and Ctrl-C is the parent's.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            code = EXIT_CRASHED
            try:
                os.close(self.events_r)
                os.close(self.gate_w)
                after_fork_in_child()
                code = buyer.main(index, strategy, plan)
            except buyer.Stopped:
                # A second SIGTERM must not land in a finaliser (a FileLock's __del__
                # as this frame unwinds) and print "Exception ignored" on the terminal.
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                code = EXIT_STOPPED
            except BaseException:
                code = EXIT_CRASHED
            finally:
                os._exit(code)
        self.pids.append(pid)
        self.alive[pid] = index

    def close_child_ends(self) -> None:
        """Keep only the parent's ends, so the events pipe reads EOF once all buyers exit."""
        os.close(self.events_w)
        os.close(self.gate_r)
        self.events_w = self.gate_r = -1

    def open_gate(self) -> None:
        fd, self.gate_w = self.gate_w, -1  # forget it first: closing twice is EBADF
        if fd >= 0:
            os.close(fd)

    def reap(self, block: bool) -> None:
        for pid in list(self.alive):
            try:
                done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                self.exit_codes[self.alive.pop(pid)] = os.waitstatus_to_exitcode(status)

    def signal_all(self, sig: int) -> None:
        for pid in self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def close(self) -> None:
        for fd in (self.events_r, self.events_w, self.gate_r, self.gate_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


class _StopRequests:
    """While buyers run, SIGINT and SIGTERM only raise a flag that the parent's loops check.
    An exception at an arbitrary point of the parent (between reading a frame and keeping
    it, between forking a buyer and recording its pid, half-way through the clean-up) could
    lose a receipt or a child; a flag cannot. Outside the main thread, where handlers
    cannot be set, Ctrl-C stays a KeyboardInterrupt, which run() also handles."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if signum == signal.SIGTERM:
            stopping.note_terminated()

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._on_signal)
        self.requested = stopping.late()  # asked after the last run: this one starts stopped
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous and stopping.defer_late():
            return  # booking's own process: a later signal waits until the output is out
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """While buyers are forked, keep the parent's objects out of every collector's reach
    (`gc.freeze()`, the remedy the CPython docs give for forking servers): a collection,
    in a buyer or in the parent between two forks, would write to their headers and copy
    their pages into every buyer. Thawed after, so what a long compare's runs leave can
    still be collected. (No gc.collect() first: it costs ~4 ms a run, and the garbage it
    would free is only frozen until the thaw.)"""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run(
    strategy: Strategy,
    buyers: int,
    attempts: int,
    think_ms: tuple[float, float],
    seed: int,
    timeout_s: float,
    arrival_s: tuple[float, ...] = (),
    faults: Mapping[int, Fault] | None = None,
    stall_timeout_s: float | None = None,
    on_gate: Callable[[], None] | None = None,
) -> RawRun:
    """Race `buyers` processes under `strategy`; always returns with every child reaped.
    `arrival_s` delays each buyer after the gate (empty: all at once); `faults` names the
    buyers that kill themselves; `stall_timeout_s` ends a run in which no buyer has reported
    anything for that long (a dead lock holder), before the whole-run timeout. `on_gate`
    is called once the gate is open (a fault timed from the start: --kill-server)."""
    timeout_ns = int(timeout_s * 1e9)
    # The memory admission is simulate()'s, before the store is touched; the process
    # limit is checked here too, for every caller.
    admission.check_processes(buyers)
    with _StopRequests() as stop:
        return _race(strategy, buyers, attempts, think_ms, seed, timeout_ns, arrival_s,
                     faults, stall_timeout_s, stop, on_gate)  # fmt: skip


def _race(
    strategy: Strategy,
    buyers: int,
    attempts: int,
    think_ms: tuple[float, float],
    seed: int,
    timeout_ns: int,
    arrival_s: tuple[float, ...],
    faults: Mapping[int, Fault] | None,
    stall_timeout_s: float | None,
    stop: _StopRequests,
    on_gate: Callable[[], None] | None = None,
) -> RawRun:
    raw = RawRun(started_ns=time.monotonic_ns())
    procs = _Buyers()
    guard = MemoryGuard()
    buffer = bytearray()
    finished = False
    try:
        plan = buyer.BuyerPlan(
            attempts,
            think_ms,
            seed,
            procs.events_w,
            procs.gate_r,
            os.getpid(),
            arrival_s,
            dict(faults or {}),
        )
        with _frozen_heap():
            for index in range(buyers):
                if _stopping(stop, guard, raw):
                    break
                try:
                    procs.fork(index, strategy, plan)
                except OSError as exc:
                    raise ResourceError(_fork_failure(index, buyers, exc)) from None
        procs.close_child_ends()
        # Start-up has no fixed length (forking 10,000 buyers takes ~40 s here); it only has
        # to keep moving: the watchdog restarts at every buyer that reports.
        deadline = time.monotonic_ns() + timeout_ns
        # Wait until every buyer is at the gate (or failed to get there), then open it.
        settled: set[int] = set()
        while len(settled) < len(procs.pids) and not _stopping(stop, guard, raw):
            records = _read_frames(procs, buffer, raw, deadline)
            if records is None or raw.timed_out:
                break
            if not records:
                procs.reap(block=False)
                settled.update(procs.exit_codes)
            settled.update(r.buyer for r in records if r.kind in (Kind.READY, Kind.FAILED))
            if records:
                deadline = time.monotonic_ns() + timeout_ns
        raw.gate_ns = raw.last_progress_ns = time.monotonic_ns()
        deadline = raw.gate_ns + timeout_ns  # the run itself: from the gate
        if stop.requested or raw.aborted:
            # Stopped before the gate: it stays shut, so no buyer buys before it is dead.
            raw.stopped_ns = raw.gate_ns
        else:
            procs.open_gate()
            if on_gate is not None:
                on_gate()
        stall_ns = int(stall_timeout_s * 1e9) if stall_timeout_s else None
        while not raw.timed_out and not _stopping(stop, guard, raw):
            until = deadline
            if stall_ns is not None:
                until = min(deadline, raw.last_progress_ns + stall_ns)
            records = _read_frames(procs, buffer, raw, until)
            if records is None:
                break
            if records:
                # Let frames pile up: one read per batch instead of a wake-up per frame
                # leaves the cores to the buyers (+9-12 % purchases/s on sqlite, 2 cores).
                time.sleep(BATCH_S)
        if stop.requested or raw.aborted:
            raw.interrupted = not raw.aborted  # the first cause is the run's: one verdict
            raw.timed_out = False
            _stop(procs, buffer, raw, strategy)
        elif raw.timed_out:
            _stop(procs, buffer, raw, strategy)
        finished = True
    except KeyboardInterrupt:
        raw.interrupted = not raw.aborted
        _stop(procs, buffer, raw, strategy)
    finally:
        if not finished:
            procs.signal_all(signal.SIGKILL)
        procs.reap(block=True)
        procs.close()  # the gate too, if it never opened: nobody is left to pass it
        raw.finished_ns = time.monotonic_ns()
        raw.exit_codes = procs.exit_codes
        raw.pids = procs.pids
    return raw


def _read_frames(
    procs: _Buyers, buffer: bytearray, raw: RawRun, until_ns: int
) -> list[Record] | None:
    """Frames that arrive within one tick (appended to raw.records); None once every buyer
    has closed its end of the pipe. Sets raw.timed_out when `until_ns` has passed."""
    left_s = (until_ns - time.monotonic_ns()) / 1e9
    if left_s <= 0:
        raw.timed_out = True
        return []
    ready, _, _ = select.select([procs.events_r], [], [], min(TICK_S, left_s))
    if not ready:
        return []
    chunk = os.read(procs.events_r, 1 << 16)
    if not chunk:
        return None
    buffer.extend(chunk)
    records = decode_stream(buffer)
    if records:
        raw.records.extend(records)
        raw.last_progress_ns = time.monotonic_ns()
    return records


def _stopping(stop: _StopRequests, guard: MemoryGuard, raw: RawRun) -> bool:
    """Whether to stop now: a stop request, or memory below the floor (noted in raw)."""
    if not stop.requested:  # a run the user stopped is not then aborted as well
        raw.aborted = raw.aborted or guard.check()
    return stop.requested or bool(raw.aborted)


def _stop(procs: _Buyers, buffer: bytearray, raw: RawRun, strategy: Strategy) -> None:
    """SIGTERM the buyers, keep what they report while they finish a write (and the steps
    they had reached), then SIGKILL. A gate still shut stays shut: a buyer waiting at it
    dies there (SIGTERM interrupts its read) rather than buy while the run is stopping.
    A strategy with a process of its own (the queue's seller) is told to stop selling
    after the buyers are, so that no sale is made that no buyer lives to report."""
    raw.stopped_ns = raw.stopped_ns or time.monotonic_ns()
    procs.signal_all(signal.SIGTERM)
    stopping = getattr(strategy, "stopping", None)
    if stopping is not None:
        stopping()
    grace = RawRun(records=raw.records)  # its own clock flags: the run's stay as they are
    grace_end = time.monotonic_ns() + int(STOP_GRACE_S * 1e9)
    with contextlib.suppress(KeyboardInterrupt):
        while not grace.timed_out and _read_frames(procs, buffer, grace, grace_end) is not None:
            pass
    procs.signal_all(signal.SIGKILL)


def _fork_failure(index: int, buyers: int, exc: OSError) -> str:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    if exc.errno == errno.EAGAIN:
        hint = "the process limit was reached (see `ulimit -u`)"
    elif exc.errno == errno.ENOMEM:
        hint = "the machine is out of memory"
    else:
        hint = reason
    return f"could not start buyer {index + 1} of {buyers}: {hint}; try fewer --buyers"
