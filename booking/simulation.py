"""simulate(): one scenario, start to finish — store, strategy, buyers, judgement."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from booking import faults
from booking.engine import admission, runner
from booking.errors import BookingError, ServerUnreachable
from booking.faults import Fault
from booking.judge.checker import Judgement, RunFacts, judge, receipts
from booking.judge.result import Result
from booking.judge.seats import SeatFacts
from booking.memory import meminfo
from booking.scenarios.scenario import TTL_STRATEGIES, Scenario
from booking.servers import Server, killer, server_for
from booking.stores import NETWORK_STORES, StoreFile, StoreOptions, load_store
from booking.stores.presence import Presence
from booking.stores.sighting import Sighting
from booking.strategies import STRATEGIES, StrategyOptions, load_strategy
from booking.words import plural


@contextmanager
def _presence(scenario: Scenario, path: Path) -> Iterator[Presence | None]:
    """This run's presence on a --path store, from before its start mark to its end (a
    store in a temporary folder of its own is nobody else's)."""
    if scenario.path is None:
        yield None
        return
    presence = Presence(path)
    presence.enter()
    try:
        yield presence
    finally:
        presence.leave()


@contextmanager
def _store_path(scenario: Scenario) -> Iterator[Path]:
    """The user's --path, or a fresh store in a temporary directory removed afterwards."""
    if scenario.path is not None:
        yield scenario.path
        return
    directory = tempfile.mkdtemp(prefix="booking-")
    try:
        suffix = ".db" if scenario.store_name == "sqlite" else ".json"
        yield Path(directory) / f"tickets{suffix}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def admit(scenarios: Iterable[Scenario], name: str = "max_memory") -> None:
    """Raise ResourceError when the machine cannot hold one of these runs (the dearest
    first), before any of them starts: a comparison must not fail half-way. Each run is
    admitted again when it starts, against the memory available then. `name` is how the
    user gave the limit (the option, or the key of a scenario file and of Scenario)."""
    info = meminfo()
    runs = [
        (admission.per_buyer(scenario.strategy, scenario.store_name, scenario.attempts), scenario)
        for scenario in scenarios
    ]
    runs.sort(key=lambda run: admission.estimate(run[1].buyers, run[0]), reverse=True)
    for each, scenario in runs:
        what = f"{scenario.strategy}/{scenario.store_name}"
        admission.admit(scenario.buyers, scenario.memory_limit, info, each, what=what, name=name)


def simulate(
    scenario: Scenario, notes: list[str] | None = None, runs: list[runner.RawRun] | None = None
) -> Result:
    """Run one scenario and judge it. Raises BookingError for bad input or an unusable
    store, before any buyer starts and with the store untouched; ResourceError (one) for
    a run this machine cannot hold, before the store is even opened. `notes` collects
    remarks for the user (such as a --tickets that the existing store overrides); `runs`
    the raw run, its step records and clocks (for a --trace)."""
    scenario.validate()
    admit([scenario])
    seed = scenario.seed if scenario.seed is not None else random.SystemRandom().randrange(2**32)
    wanted = scenario.store_name in NETWORK_STORES and scenario.dsn is None
    with server_for(scenario.store_name if wanted else None, scenario.buyers) as server:
        return _run(scenario, seed, server, notes, runs)


def _run(
    scenario: Scenario,
    seed: int,
    server: Server | None,
    notes: list[str] | None,
    runs: list[runner.RawRun] | None,
) -> Result:
    """simulate(), on the store's server when it has one."""
    options = StoreOptions(
        json_write=scenario.json_write,
        timeout_s=scenario.timeout_s,
        # Unique across processes and within one (two simulate() calls in a second):
        # another run's ledger rows and file tags are told apart by it.
        run_id=f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{os.urandom(3).hex()}",
        strategy=scenario.strategy,
        # Another process may write a --path store, or a server the user runs.
        shared=scenario.path is not None or scenario.dsn is not None,
        dsn=server.dsn if server is not None else scenario.dsn or "",
    )
    victims = faults.plan(scenario.buyers, scenario.kill_holder, scenario.kill_writer, seed)
    strategy_kind = load_strategy(scenario.strategy)
    seat_plan = scenario.seat_plan(seed)
    seat_facts: SeatFacts | None = None
    with _store_path(scenario) as path, _presence(scenario, path) as presence:
        store = _open_store(scenario, path, options)
        try:
            tickets = store.mark()
            if (
                notes is not None
                and scenario.tickets is not None
                and tickets != scenario.tickets
                and not scenario.reset
            ):
                notes.append(
                    f"{_where(scenario) or path} holds {plural(tickets, 'ticket')}; --tickets "
                    f"{scenario.tickets} is "
                    "ignored (add --reset to start from it)"
                )
            strategy = strategy_kind(
                store,
                StrategyOptions(
                    timeout_s=scenario.timeout_s,
                    poll=scenario.poll_backoff,
                    manager_lock=scenario.manager_lock,
                    buyers=scenario.buyers,
                    retries=scenario.retries,
                    seats=seat_plan,
                    lock_ttl_ms=scenario.lock_ttl,
                ),
            )
            kill = killer(server, scenario.kill_server_ms) if server is not None else None
            try:
                raw = runner.run(
                    strategy,
                    scenario.buyers,
                    scenario.attempts,
                    scenario.think_ms,
                    seed,
                    scenario.timeout_s,
                    scenario.arrival.offsets_s(scenario.buyers, seed),
                    victims,
                    scenario.stall_timeout_s,
                    on_gate=kill.start if kill is not None else None,
                )
                if runs is not None:
                    runs.append(raw)
                remaining: int | None
                problem, unreachable = "", False
                try:
                    remaining = strategy.finish(receipts(raw.records))
                except BookingError as exc:
                    remaining, problem = None, str(exc)
                    unreachable = isinstance(exc, ServerUnreachable)
            finally:
                if kill is not None:
                    kill.cancel()
                strategy.close()
            sighting: Sighting | None
            try:
                sighting = store.sighting()
            except BookingError:
                sighting = None  # the store is gone or unreadable: judged from counts alone
            if (
                seat_plan is None
                and remaining is not None
                and sighting is not None
                and sighting.ledger_count is not None
            ):
                # The count read with the ledger, in one snapshot: another run may have sold
                # since finish() read it, and the judge sets one against the other.
                remaining = sighting.ledger_count
            if seat_plan is not None:
                seat_facts = _seat_facts(scenario, store, options.run_id)
        finally:
            store.close()
        if presence is not None and (presence.others_at_start or presence.others_now()):
            sighting = (sighting or Sighting(identity=False))._replace(concurrent=True)
        facts = run_facts(scenario, tickets, raw, remaining, problem, victims, sighting)
        if server is not None and scenario.kill_server_ms is not None:
            when = scenario.kill_server_ms
            facts = replace(
                facts,
                server_killed_ms=when if server.killed else None,
                server_kill_missed_ms=None if server.killed else when,
            )
        facts = replace(facts, store_unreachable=unreachable)
        judgement = judge(replace(facts, seats=seat_facts))
    return record_of(scenario, tickets, seed, raw, remaining, judgement)


def _open_store(scenario: Scenario, path: Path, options: StoreOptions) -> Any:
    """The store of the run: a ticket count, or a seat map of the scenario's shape."""
    shape = scenario.shape
    if shape is None:
        store: StoreFile = load_store(scenario.store_name)(
            path, scenario.initial_tickets, create=True, reset=scenario.reset, options=options
        )
        return store
    from booking.stores.seat_store import load_seat_store

    kind = load_seat_store(scenario.store_name)
    return kind(path, shape, create=True, reset=scenario.reset, options=options)


def _seat_facts(scenario: Scenario, store: Any, run_id: str) -> SeatFacts:
    """The seat map at the start mark and now (None when it cannot be read)."""
    shape = scenario.shape
    assert shape is not None
    at_end: list[str | None] | None
    try:
        at_end = store.holders()
    except BookingError:
        at_end = None
    return SeatFacts(
        shape,
        scenario.order,
        scenario.pick,
        run_id,
        store.marked(),
        at_end,
        tuple(getattr(store, "overwritten", ())),
    )


def record_of(
    scenario: Scenario,
    tickets: int,
    seed: int,
    raw: runner.RawRun,
    remaining: int | None,
    judgement: Judgement,
) -> Result:
    """The result record of one judged run of `scenario` (simulate's, explore's)."""
    return Result(
        store=scenario.store_name,
        strategy=scenario.strategy,
        buyers=scenario.buyers,
        tickets=tickets,
        seed=seed,
        sold=judgement.sold,
        remaining=remaining,
        oversold=judgement.oversold,
        lost_updates=judgement.lost_updates,
        refused=judgement.refused,
        errors=judgement.errors,
        max_inside=judgement.max_inside,
        wall_s=judgement.wall_s,
        throughput=judgement.throughput,
        latency_ms=judgement.latency_ms,
        verdict=judgement.verdict,
        attempts=judgement.attempts,
        attempts_per_buyer=scenario.attempts,
        think_ms=scenario.think_ms,
        json_write=scenario.json_write if scenario.store_name == "json" else None,
        manager_lock=scenario.manager_lock if scenario.strategy == "manager" else None,
        poll_ms=scenario.poll_ms if scenario.strategy == "filelock" else None,
        poll_backoff_ms=_backoff_ms(scenario),
        lock_wait_ms=judgement.lock_wait_ms,
        handoff_ms=judgement.handoff_ms,
        killed=judgement.killed,
        torn_reads=judgement.torn_reads,
        lock_timeouts=judgement.lock_timeouts,
        busy=judgement.busy,
        failed_buyers=judgement.failed_buyers,
        external_sales=judgement.external_sales,
        interfered=judgement.interfered,
        other_sales=judgement.other_sales,
        store_sales=judgement.store_sales,
        store_oversold=judgement.store_oversold,
        other_runs=judgement.other_runs,
        protocol=STRATEGIES[scenario.strategy].design,
        steps=list(STRATEGIES[scenario.strategy].steps),
        conflicts=judgement.conflicts,
        retries=judgement.retries,
        gave_up=judgement.gave_up,
        max_retries=scenario.retries if STRATEGIES[scenario.strategy].retries else None,
        lock_ttl_ms=_lock_ttl(scenario),
        startup_s=judgement.startup_s,
        timed_out=raw.timed_out,
        interrupted=raw.interrupted,
        aborted=raw.aborted,
        path=_where(scenario),
        arrival=scenario.arrival.describe(),
        explanation=judgement.explanation,
        **_seat_keys(scenario, judgement),
    )


def _where(scenario: Scenario) -> str | None:
    """The user's store: its --path, or its server's DSN with no password in it."""
    if scenario.path is not None:
        return str(scenario.path)
    if scenario.dsn is not None:
        from booking.scenarios.dsn import mask_dsn

        return mask_dsn(scenario.dsn)
    return None


def _seat_keys(scenario: Scenario, judgement: Judgement) -> dict[str, Any]:
    """The seat keys of a seat run's record (a count run keeps their defaults)."""
    seated = judgement.seats
    if scenario.seats is None or seated is None:
        return {}
    return {
        "seats": str(scenario.shape),
        "order": scenario.order,
        "pick": scenario.pick,
        "double_booked": seated.double_booked,
        "partial_orders": seated.partial_orders,
        "lost_seats": seated.lost_seats,
        "seat_map": seated.seat_map or None,
        "seat_fights": seated.fights,
    }


def _backoff_ms(scenario: Scenario) -> list[float] | None:
    """The adaptive poll's [start, cap] in ms; None when the poll was fixed or unused."""
    if scenario.strategy != "filelock" or scenario.poll_ms is not None:
        return None
    backoff = scenario.poll_backoff
    return [round(backoff.start_s * 1000, 3), round(backoff.cap_s * 1000, 3)]


def run_facts(
    scenario: Scenario,
    tickets: int,
    raw: runner.RawRun,
    remaining: int | None,
    problem: str,
    victims: Mapping[int, Fault] | None = None,
    sighting: Sighting | None = None,
) -> RunFacts:
    """What the checker needs to know of one run, as plain data."""
    return RunFacts(
        strategy=scenario.strategy,
        tickets=tickets,
        buyers=scenario.buyers,
        records=raw.records,
        remaining=remaining,
        store_problem=problem,
        gate_ns=raw.gate_ns,
        started_ns=raw.started_ns,
        finished_ns=raw.finished_ns,
        last_progress_ns=raw.last_progress_ns,
        timed_out=raw.timed_out,
        interrupted=raw.interrupted,
        timeout_s=scenario.timeout_s,
        exit_codes=raw.exit_codes,
        victims={buyer: fault.kind for buyer, fault in (victims or {}).items()},
        stall_timeout_s=scenario.stall_timeout_s,
        across_runs=STRATEGIES[scenario.strategy].across_runs,
        sighting=sighting,
        stopped_ns=raw.stopped_ns,
        manager_lock=scenario.manager_lock,
        aborted=raw.aborted,
        design=STRATEGIES[scenario.strategy].design,
        retries=scenario.retries if STRATEGIES[scenario.strategy].retries else 0,
        store=scenario.store_name,
        private_store=scenario.path is None,
        seat_locks=STRATEGIES[scenario.strategy].per_seat and scenario.seats is not None,
        lock_ttl_ms=_lock_ttl(scenario),
    )


def _lock_ttl(scenario: Scenario) -> float | None:
    """The lock's time-to-live in ms, for the strategies whose lock has one."""
    return scenario.lock_ttl if scenario.strategy in TTL_STRATEGIES else None
