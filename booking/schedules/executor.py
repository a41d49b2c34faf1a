"""Runs one schedule of a workload on real buyer processes and a real store, from scratch.

For every schedule the store is reset, the strategy built afresh (a new mp.Lock, Manager
or seller) and the buyers forked: nothing one schedule did can leak into the next. The
buyers are controlled (engine/controlled.py); this side keeps, for each of them, the step
it waits at, whether its last try for the guard failed, and whether it has ended, and
asks the chooser which enabled buyer moves next. A blocked buyer is enabled again once a
guard is released. The records the buyers send are judged by the run's own checker.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import tempfile
import time
from functools import partial
from pathlib import Path

from booking.engine import controlled
from booking.engine.forking import signals_held
from booking.engine.frames import Kind, Record, decode_stream
from booking.engine.runner import RawRun
from booking.errors import BookingError
from booking.judge.checker import judge, receipts
from booking.schedules.model import Chooser, Decision, Ending, Step, Trace
from booking.schedules.workload import Workload
from booking.simulation import record_of, run_facts
from booking.stores import StoreFile, StoreOptions, load_store
from booking.stores.sighting import Sighting
from booking.strategies import STRATEGIES, Strategy, StrategyOptions, load_strategy
from booking.waits import Backoff

#: How long a granted step may take before the schedule is called hung.
STEP_TIMEOUT_S = 10.0
#: How long abandoned buyers get to let go and exit before SIGKILL.
REAP_GRACE_S = 2.0
TICK_S = 0.05


class Executor:
    """Runs schedules of one workload; a context manager that removes its store."""

    def __init__(self, workload: Workload, step_timeout_s: float = STEP_TIMEOUT_S) -> None:
        self.workload = workload
        self.scenario = workload.scenario()
        self.step_timeout_s = step_timeout_s
        self.runs = 0
        self._store_kind = load_store(workload.store)
        self._strategy_kind = load_strategy(workload.strategy)
        # Every guard is tried once, never awaited; the seller still answers within a
        # bound, since its answer is one granted step.
        seller = STRATEGIES[workload.strategy].design == "seller"
        self._timeout_s = step_timeout_s if seller else 0.0
        self._options = StrategyOptions(
            timeout_s=self._timeout_s,
            poll=Backoff.fixed(0.001),
            manager_lock=workload.manager_lock,
            buyers=workload.buyers,
            retries=workload.retries,
        )
        self._suffix = ".db" if workload.store == "sqlite" else ".json"
        self._directory: Path | None = None  # made by the first schedule, inside `with`

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    @property
    def path(self) -> Path:
        """The store every schedule resets (in a temporary folder of its own)."""
        if self._directory is None:
            with signals_held():  # made and remembered, or neither
                self._directory = Path(tempfile.mkdtemp(prefix="booking-explore-"))
        return self._directory / f"tickets{self._suffix}"

    def __call__(self, choose: Chooser) -> Trace:
        """One schedule, from a fresh store to its judged record."""
        self.runs += 1
        workload = self.workload
        options = StoreOptions(
            json_write=workload.json_write,
            timeout_s=self._timeout_s,
            run_id=f"explore-{os.getpid()}-{self.runs}",
            strategy=workload.strategy,
            shared=False,
        )
        store: StoreFile = self._store_kind(
            self.path, workload.tickets, create=True, reset=True, options=options
        )
        strategy: Strategy | None = None
        try:
            tickets = store.mark()
            # A Manager or a seller is a process: an interrupt half-way through making it
            # would leave it running, and Python's exit waiting for it.
            with signals_held():
                strategy = self._strategy_kind(store, self._options)
            try:
                schedule = _Schedule(strategy, workload, self.step_timeout_s)
                schedule.drive(choose)
                problem = ""
                remaining: int | None
                try:
                    remaining = strategy.finish(receipts(schedule.raw.records))
                except BookingError as exc:
                    remaining, problem = None, str(exc)
            finally:
                with signals_held():  # a Manager told half-way to shut down stays up
                    strategy.close()
                strategy = None
            sighting: Sighting | None
            try:
                sighting = store.sighting()
            except BookingError:
                sighting = None
        finally:
            if strategy is not None:  # interrupted as its making ended
                with signals_held():
                    strategy.close()
            store.close()
        raw = schedule.raw
        facts = run_facts(self.scenario, tickets, raw, remaining, problem, None, sighting)
        result = record_of(self.scenario, tickets, workload.seed, raw, remaining, judge(facts))
        return Trace(
            steps=schedule.steps,
            decisions=schedule.decisions,
            ending=schedule.ending,
            anomalous=result.anomalous or schedule.ending != "done",
            result=result,
            problem=schedule.problem,
            raw=raw,
            buyers=workload.buyers,
        )


class _Schedule:
    """The processes and pipes of one schedule, and what the parent knows of each buyer."""

    def __init__(self, strategy: Strategy, workload: Workload, step_timeout_s: float) -> None:
        self.strategy = strategy
        self.workload = workload
        self.step_timeout_s = step_timeout_s
        self.raw = RawRun(started_ns=time.monotonic_ns(), controlled=True)
        self.steps: list[Step] = []
        self.decisions: list[Decision] = []
        self.ending: Ending = "done"
        self.problem = ""
        self.at: dict[int, tuple[str, int]] = {}  # buyer -> (next point, its attempt)
        self.blocked: set[int] = set()
        self.holders: set[int] = set()
        self.ended: set[int] = set()
        self.pids: dict[int, int] = {}  # pid -> buyer
        self._buffer = bytearray()
        self._latest: dict[int, Record] = {}  # buyer -> its last POINT/BLOCKED frame
        self._fresh: set[int] = set()  # buyers whose last frame came since their grant
        self._closed: set[int] = set()  # the children's pipe ends, once closed here

    def drive(self, choose: Chooser) -> None:
        buyers = self.workload.buyers
        events_r, events_w = os.pipe()
        grants = [os.pipe() for _ in range(buyers)]
        self._events = events_r
        self._grants = [w for _, w in grants]
        plan = controlled.ControlPlan(self.workload.attempts, events_w, tuple(r for r, _ in grants))
        parent_ends = (events_r, *self._grants)
        try:
            # On sqlite one at a time: each opens the database and reaches its first step
            # before the next is forked, so no two set-ups race (two first connections to
            # a WAL database do, and one finds it busy). A JSON store opens nothing.
            one_by_one = self.workload.store == "sqlite"
            for buyer in range(buyers):
                with signals_held():  # an interrupt cannot come between fork and record
                    body = partial(controlled.main, buyer, self.strategy, plan)
                    self.pids[controlled.spawn(body, parent_ends)] = buyer
                if one_by_one and not self._await(buyer):
                    self._hung(buyer, "start")
                    return
            for buyer in range(buyers):
                if not one_by_one and not self._await(buyer):
                    self._hung(buyer, "start")
                    return
            self.raw.gate_ns = time.monotonic_ns()
            self._close(events_w, *(r for r, _ in grants))  # the events pipe can now end
            self._grant_all(choose)
        finally:
            # The children's ends first: the pipe must end once every buyer has gone.
            self._close(events_w, *(r for r, _ in grants))
            self._finish()

    def _close(self, *fds: int) -> None:
        for fd in fds:
            if fd not in self._closed:
                self._closed.add(fd)
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _grant_all(self, choose: Chooser) -> None:
        last: int | None = None
        while len(self.ended) < self.workload.buyers:
            enabled = tuple(b for b in sorted(self.at) if b not in self.blocked)
            if not enabled:
                self.ending = "deadlock"
                self.problem = self._deadlock()
                return
            decision = Decision(len(self.steps), enabled, {b: self.at[b][0] for b in enabled}, last)
            chosen = choose(decision)
            if chosen not in enabled:
                raise ValueError(f"the scheduler chose buyer {chosen}, not one of {enabled}")
            point, attempt = self.at.pop(chosen)
            self.decisions.append(decision)
            self._fresh.discard(chosen)
            os.write(self._grants[chosen], controlled.GO)
            if not self._await(chosen):
                self._hung(chosen, point)
                return
            frame = self._latest[chosen]
            blocked = frame.kind is Kind.BLOCKED
            self.steps.append(Step(chosen, point, attempt, frame.read_value, blocked))
            if blocked:
                self.blocked.add(chosen)
            elif point == "acquire":
                self.holders.add(chosen)
            elif point == "release":
                self.holders.discard(chosen)
                self.blocked.clear()  # each may try again
            last = chosen
        self.raw.last_progress_ns = time.monotonic_ns()

    def _await(self, buyer: int) -> bool:
        """Read frames until `buyer` reports where it waits (or that it ended); False when
        it did not within the step timeout."""
        deadline = time.monotonic() + self.step_timeout_s
        while buyer not in self._fresh:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self._events], [], [], min(TICK_S, left))
            if not ready:
                if self._died(buyer):
                    self.ended.add(buyer)
                    self._latest[buyer] = self._death(buyer)
                    self._fresh.add(buyer)
                continue
            chunk = os.read(self._events, 1 << 16)
            if not chunk:  # every buyer has gone: this one too, without a word
                if self._died(buyer, block=True):
                    self.ended.add(buyer)
                    self._latest[buyer] = self._death(buyer)
                    return True
                return False
            self._buffer.extend(chunk)
            for record in decode_stream(self._buffer):
                if record.kind in (Kind.POINT, Kind.BLOCKED):
                    self._latest[record.buyer] = record
                    self._fresh.add(record.buyer)
                    if record.message == controlled.END:
                        self.ended.add(record.buyer)
                    else:
                        self.at[record.buyer] = (record.message, record.attempt)
                else:
                    self.raw.records.append(record)
        return True

    def _death(self, buyer: int) -> Record:
        """What a buyer that died without a word is taken to have said: that it ended,
        its step failed (STEP_FAILED: told as "failed to write", never as a result)."""
        return Record(Kind.POINT, buyer, read_value=controlled.STEP_FAILED, message=controlled.END)

    def _died(self, buyer: int, block: bool = False) -> bool:
        """Whether `buyer` exited without saying so (a crash)."""
        for pid, who in self.pids.items():
            if who == buyer and who not in self.raw.exit_codes:
                done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
                if done:
                    self.raw.exit_codes[buyer] = os.waitstatus_to_exitcode(status)
                    return True
        return False

    def _hung(self, buyer: int, point: str) -> None:
        self.ending = "hung"
        self.problem = (
            f"buyer {buyer} did not come back from its {point} within "
            f"{self.step_timeout_s:g} s: it waits for something the schedule does not grant"
        )

    def _deadlock(self) -> str:
        waiting = ", ".join(str(b) for b in sorted(self.blocked))
        holders = ", ".join(str(b) for b in sorted(self.holders)) or "no live buyer"
        return f"deadlock: buyers {waiting} wait for the guard, held by {holders}"

    def _finish(self) -> None:
        """Abandon the buyers still waiting, reap every child, close the pipes."""
        for buyer, fd in enumerate(self._grants):
            if buyer not in self.ended:
                with contextlib.suppress(OSError):
                    os.write(fd, controlled.ABANDON)
        if self.ending != "done":
            self.raw.timed_out = True
            self.raw.stopped_ns = time.monotonic_ns()
        deadline = time.monotonic() + REAP_GRACE_S
        for pid, buyer in self.pids.items():
            if buyer in self.raw.exit_codes:
                continue
            while True:
                # An ended buyer only exits: wait for it. An abandoned one gets a grace.
                done, status = os.waitpid(pid, 0 if buyer in self.ended else os.WNOHANG)
                if done:
                    break
                if time.monotonic() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    done, status = os.waitpid(pid, 0)
                    break
                time.sleep(0.001)
            self.raw.exit_codes[buyer] = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            while chunk := os.read(self._events, 1 << 16):
                self._buffer.extend(chunk)
        self.raw.records.extend(
            r for r in decode_stream(self._buffer) if r.kind not in (Kind.POINT, Kind.BLOCKED)
        )
        self._close(self._events, *self._grants)
        self.raw.finished_ns = time.monotonic_ns()
        self.raw.last_progress_ns = self.raw.last_progress_ns or self.raw.finished_ns
        self.raw.pids = list(self.pids)
