"""The searches against the in-memory model of buyers (model_run.py): how many schedules
each runs, what it finds, and that it never lets a non-replaying run pass."""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import pytest

from booking.schedules.model import Chooser, Decision, Step, Trace, preemptions
from booking.schedules.search import (
    default_choice,
    exhaustive,
    follow,
    independent,
    pct,
    random_walk,
    schedule_preemptions,
)
from tests.schedules.model_run import Model, Strategy

# --- the two small choosers ------------------------------------------------------------------


def decision(enabled: tuple[int, ...], last: int | None, index: int = 0) -> Decision:
    return Decision(index, enabled, dict.fromkeys(enabled, "read"), last)


def test_default_choice_keeps_the_last_buyer_else_takes_the_lowest() -> None:
    assert default_choice(decision((0, 1, 2), 2)) == 2
    assert default_choice(decision((1, 2), 0)) == 1  # the last one is done or blocked
    assert default_choice(decision((1, 2), None)) == 1


def test_follow_skips_a_disabled_entry_and_tries_the_next_at_the_same_decision() -> None:
    choose = follow([1, 0, 1, 2])
    assert choose(decision((0,), None)) == 0  # 1 is skipped, 0 granted here
    assert choose(decision((0, 1), 0, 1)) == 1
    # 2 is skipped, then the order is used up: default_choice, the last one goes on.
    assert choose(decision((0, 1), 1, 2)) == 1
    assert choose(decision((0, 2), 1, 3)) == 0


def test_a_skipped_entry_is_not_tried_again_later() -> None:
    choose = follow([1, 0])
    assert choose(decision((0,), None)) == 0
    assert choose(decision((0, 1), 0, 1)) == 0  # not the skipped 1: the default keeps 0


def test_only_two_reads_commute() -> None:
    assert independent("look", "read")
    assert independent("read", "read")
    for point in ("write", "acquire", "release", "update", "ask"):
        assert not independent("read", point)
        assert not independent(point, "look")


# --- exhaustive ------------------------------------------------------------------------------


def run_all(model: Model, preemptions: int | None = None, reduce: bool = False) -> list[Trace]:
    traces: list[Trace] = []
    exhaustive(
        model,
        preemptions=preemptions,
        limit=None,
        stop_at_first=False,
        on_schedule=lambda _, trace: traces.append(trace),
        reduce=reduce,
    )
    return traces


def test_every_interleaving_of_two_unguarded_buyers_is_run_once() -> None:
    outcome = exhaustive(
        Model(2, 1), preemptions=None, limit=None, stop_at_first=False, reduce=False
    )
    assert outcome.schedules == comb(6, 3) == 20  # look, read, write each
    # Safe only when one buyer's write comes before the other's read: 4 places for the
    # other's look, times 2 for who goes first.
    assert outcome.anomalies == 20 - 2 * 4
    assert outcome.exhaustive
    assert len(outcome.found) == outcome.anomalies
    assert outcome.first is outcome.found[0]
    orders = {tuple(trace.order) for trace in run_all(Model(2, 1))}
    assert len(orders) == 20


def test_the_first_anomaly_stops_the_search() -> None:
    outcome = exhaustive(Model(2, 1), preemptions=None, limit=None, stop_at_first=True)
    assert outcome.first is not None and outcome.first.anomalous
    assert outcome.found == [outcome.first]
    assert outcome.anomalies == 1
    assert not outcome.exhaustive
    assert outcome.schedules < 20


def test_the_lock_is_safe_in_every_schedule_and_the_bound_orders_the_counts() -> None:
    counts = []
    for bound in (0, 1, None):
        outcome = exhaustive(
            Model(2, 1, "lock"), preemptions=bound, limit=None, stop_at_first=False
        )
        assert outcome.anomalies == 0
        assert outcome.first is None
        assert outcome.exhaustive
        counts.append(outcome.schedules)
    assert counts[0] < counts[1] < counts[2]


@pytest.mark.parametrize("bound", [0, 1, 2])
@pytest.mark.parametrize(("strategy", "attempts"), [("none", 2), ("lock", 1)])
def test_no_schedule_has_more_preemptions_than_the_bound(
    bound: int, strategy: Strategy, attempts: int
) -> None:
    model = Model(2, 1, strategy, attempts)
    traces = run_all(model, preemptions=bound)
    assert max(schedule_preemptions(trace) for trace in traces) == bound
    # ... and every schedule within the bound is run, each once.
    unbounded = run_all(Model(2, 1, model.strategy, attempts))
    within = {tuple(t.order) for t in unbounded if schedule_preemptions(t) <= bound}
    assert sorted(tuple(t.order) for t in traces) == sorted(within)


def test_a_limit_cuts_the_search_and_says_it_was_not_exhaustive() -> None:
    whole = exhaustive(Model(2, 1, "lock"), preemptions=None, limit=None, stop_at_first=False)
    cut = exhaustive(Model(2, 1, "lock"), preemptions=None, limit=5, stop_at_first=False)
    assert cut.schedules == 5
    assert not cut.exhaustive
    exact = exhaustive(
        Model(2, 1, "lock"), preemptions=None, limit=whole.schedules, stop_at_first=False
    )
    assert exact.exhaustive  # the limit was not what ended it
    short = exhaustive(
        Model(2, 1, "lock"), preemptions=None, limit=whole.schedules - 1, stop_at_first=False
    )
    assert not short.exhaustive


def test_a_lock_never_released_is_counted_as_a_deadlock() -> None:
    outcome = exhaustive(
        Model(2, 1, "lock", keeps_lock=frozenset({0})),
        preemptions=None,
        limit=None,
        stop_at_first=False,
    )
    assert outcome.deadlocks > 0
    assert outcome.anomalies == 0  # the model sold no ticket twice: only the count says so
    assert outcome.exhaustive


def test_on_schedule_is_told_every_schedule_in_turn() -> None:
    seen: list[int] = []
    outcome = exhaustive(
        Model(2, 1),
        preemptions=1,
        limit=None,
        stop_at_first=False,
        on_schedule=lambda count, _: seen.append(count),
    )
    assert seen == list(range(1, outcome.schedules + 1))


# --- sleep sets ------------------------------------------------------------------------------


def canonical(trace: Trace) -> tuple[tuple[int, str, int, int], ...]:
    """The run up to reordering commuting steps: the dependency order's lexicographically
    least linearisation (Mazurkiewicz trace), lowest buyer first."""
    steps = trace.steps

    def depends(a: Step, b: Step) -> bool:
        return a.buyer == b.buyer or not independent(a.point, b.point)

    placed: list[int] = []
    left = list(range(len(steps)))
    while left:
        ready = [j for j in left if not any(depends(steps[i], steps[j]) for i in left if i < j)]
        pick = min(ready, key=lambda j: (steps[j].buyer, j))
        placed.append(pick)
        left.remove(pick)
    return tuple((s.buyer, s.point, s.attempt, s.value) for s in (steps[i] for i in placed))


@pytest.mark.parametrize(
    ("buyers", "tickets", "strategy", "attempts"),
    [(2, 1, "none", 1), (2, 1, "none", 2), (3, 1, "none", 1), (3, 2, "none", 1), (2, 1, "lock", 1)],
)
def test_sleep_sets_reach_every_final_state_in_fewer_schedules(
    buyers: int, tickets: int, strategy: Strategy, attempts: int
) -> None:
    full_model = Model(buyers, tickets, strategy, attempts)
    reduced_model = Model(buyers, tickets, strategy, attempts)
    full = run_all(full_model)
    reduced = run_all(reduced_model, reduce=True)
    assert len(reduced) < len(full)
    assert set(reduced_model.finals) == set(full_model.finals)
    assert {t.anomalous for t in reduced} == {t.anomalous for t in full}
    # Stronger: every run is reached up to the order of commuting reads.
    assert {canonical(t) for t in reduced} == {canonical(t) for t in full}


def test_sleep_sets_are_not_used_under_a_preemption_bound() -> None:
    bounded = exhaustive(Model(2, 1), preemptions=2, limit=None, stop_at_first=False)
    plain = exhaustive(Model(2, 1), preemptions=2, limit=None, stop_at_first=False, reduce=False)
    assert bounded.schedules == plain.schedules


# --- a run that does not replay its prefix ---------------------------------------------------


class Drifting:
    """An executor whose workload changes after its first run (nondeterminism)."""

    def __init__(self, later: Model) -> None:
        self.first, self.later, self.runs = Model(2, 1), later, 0

    def __call__(self, chooser: Chooser) -> Trace:
        self.runs += 1
        return (self.first if self.runs == 1 else self.later)(chooser)


@pytest.mark.parametrize(
    "later",
    [Model(1, 1), Model(3, 1), Model(2, 1, "lock")],
    ids=["a buyer missing", "a buyer more", "other steps"],
)
def test_a_run_that_strays_from_its_prefix_is_an_error(later: Model) -> None:
    with pytest.raises(RuntimeError, match="the run did not replay its prefix"):
        exhaustive(Drifting(later), preemptions=None, limit=None, stop_at_first=False)


# --- PCT and the random walk -----------------------------------------------------------------

Search = Callable[[Model, int], list[list[int]]]


def pct_orders(model: Model, seed: int, depth: int = 2) -> list[list[int]]:
    orders: list[list[int]] = []
    pct(
        model,
        depth=depth,
        schedules=30,
        seed=seed,
        stop_at_first=False,
        on_schedule=lambda _, trace: orders.append(trace.order),
    )
    return orders


def walk_orders(model: Model, seed: int) -> list[list[int]]:
    orders: list[list[int]] = []
    random_walk(
        model,
        schedules=30,
        seed=seed,
        stop_at_first=False,
        on_schedule=lambda _, trace: orders.append(trace.order),
    )
    return orders


@pytest.mark.parametrize("search", [pct_orders, walk_orders], ids=["pct", "random walk"])
def test_one_seed_gives_the_same_schedules(search: Search) -> None:
    assert search(Model(3, 2, "lock"), 7) == search(Model(3, 2, "lock"), 7)
    assert search(Model(3, 2, "lock"), 7) != search(Model(3, 2, "lock"), 8)


def test_one_seed_gives_the_same_first_anomaly() -> None:
    for seed in range(3):
        a = pct(Model(3, 1, attempts=2), depth=2, schedules=200, seed=seed, stop_at_first=True)
        b = pct(Model(3, 1, attempts=2), depth=2, schedules=200, seed=seed, stop_at_first=True)
        assert a.first is not None and b.first is not None
        assert (a.schedules, a.first.order) == (b.schedules, b.first.order)
        c = random_walk(Model(3, 1, attempts=2), schedules=200, seed=seed, stop_at_first=True)
        d = random_walk(Model(3, 1, attempts=2), schedules=200, seed=seed, stop_at_first=True)
        assert c.first is not None and d.first is not None
        assert (c.schedules, c.first.order) == (d.schedules, d.first.order)


def test_pct_finds_the_unguarded_race_within_a_few_schedules() -> None:
    needed = []
    for seed in range(10):
        outcome = pct(Model(2, 1), depth=2, schedules=60, seed=seed, stop_at_first=True)
        assert outcome.first is not None, f"seed {seed}"
        assert not outcome.exhaustive
        needed.append(outcome.schedules)
    # A depth-2 bug among 6 steps: one change point in six is the right one.
    assert sorted(needed)[len(needed) // 2] <= 10


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_pct_preempts_at_most_depth_minus_one_times(depth: int) -> None:
    traces: list[Trace] = []
    pct(
        Model(3, 2, attempts=2),
        depth=depth,
        schedules=40,
        seed=1,
        stop_at_first=False,
        on_schedule=lambda _, trace: traces.append(trace),
    )
    assert len(traces) == 40
    counts = [preemptions(t.decisions, t.order) for t in traces]
    assert max(counts) <= depth - 1
    if depth > 1:
        assert max(counts) == depth - 1


def test_pct_learns_the_buyers_or_is_told_them() -> None:
    told = pct(Model(2, 1), depth=2, schedules=60, seed=3, stop_at_first=True, buyers=2)
    learnt = pct(Model(2, 1), depth=2, schedules=60, seed=3, stop_at_first=True)
    assert told.first is not None and learnt.first is not None


def test_the_random_walk_counts_what_it_ran() -> None:
    outcome = random_walk(Model(2, 1), schedules=50, seed=0, stop_at_first=False)
    assert outcome.schedules == 50
    assert 0 < outcome.anomalies < 50
    assert len(outcome.found) == outcome.anomalies
    assert not outcome.exhaustive
