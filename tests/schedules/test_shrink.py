"""Shrinking a found race to the one a reader can follow, and the words it is told in."""

from __future__ import annotations

import pytest

from booking.schedules.model import Step, Trace
from booking.schedules.search import follow, random_walk, schedule_preemptions
from booking.schedules.shrink import describe, shrink, steps_that_matter
from tests.schedules.model_run import Model, runner

#: The race at its smallest: one preemption (buyer 0 between its read and its write).
RACE = "buyer 0 read 1 · buyer 1 read 1 · buyer 1 wrote 0 · buyer 0 wrote 0"


def found_race() -> Trace:
    """3 buyers x 2 attempts for 1 ticket, buyer 2 first and preempted for nothing."""
    trace = Model(3, 1, attempts=2)(follow([2, 0, 0, 1, 1, 2, 0, 1]))
    assert trace.anomalous
    assert schedule_preemptions(trace) > 1
    return trace


def test_a_race_shrinks_to_two_buyers_one_attempt_and_one_preemption() -> None:
    run = runner(tickets=1)
    shrunk = shrink(found_race(), buyers=3, attempts=2, run=run)
    assert (shrunk.buyers, shrunk.attempts) == (2, 1)
    assert shrunk.trace.anomalous
    assert schedule_preemptions(shrunk.trace) == 1
    assert describe(steps_that_matter(shrunk.trace)) == RACE
    assert shrunk.tries == run.runs <= 300


def test_the_answer_is_a_run_that_happened_and_replays() -> None:
    shrunk = shrink(found_race(), buyers=3, attempts=2, run=runner(tickets=1))
    again = Model(shrunk.buyers, 1, attempts=shrunk.attempts)(follow(shrunk.trace.order))
    assert again.steps == shrunk.trace.steps
    assert again.decisions == shrunk.trace.decisions


@pytest.mark.parametrize("seed", range(5))
def test_any_found_race_shrinks_to_the_same_story(seed: int) -> None:
    outcome = random_walk(Model(3, 1, attempts=2), schedules=200, seed=seed, stop_at_first=True)
    assert outcome.first is not None
    shrunk = shrink(outcome.first, buyers=3, attempts=2, run=runner(tickets=1))
    assert describe(steps_that_matter(shrunk.trace)) == RACE


@pytest.mark.parametrize("budget", [0, 1, 5, 20])
def test_shrinking_never_runs_more_than_its_budget(budget: int) -> None:
    run = runner(tickets=1)
    found = found_race()
    shrunk = shrink(found, buyers=3, attempts=2, run=run, budget=budget)
    assert shrunk.tries == run.runs <= budget
    assert shrunk.trace.anomalous
    if budget == 0:
        assert shrunk == type(shrunk)(found, 3, 2, 0)


def test_a_larger_stock_keeps_the_race_but_not_the_same_counts() -> None:
    trace = Model(3, 2, attempts=1)(follow([0, 0, 1, 1, 2, 2]))
    assert trace.anomalous
    shrunk = shrink(trace, buyers=3, attempts=1, run=runner(tickets=2))
    assert shrunk.buyers == 2
    assert describe(steps_that_matter(shrunk.trace)) == (
        "buyer 0 read 2 · buyer 1 read 2 · buyer 1 wrote 1 · buyer 0 wrote 1"
    )


def test_a_safe_run_is_not_shrunk() -> None:
    safe = Model(2, 1, "lock")(follow([]))
    with pytest.raises(ValueError, match="anomalous"):
        shrink(safe, buyers=2, attempts=1, run=runner(tickets=1, strategy="lock"))


# --- the words -------------------------------------------------------------------------------


def test_only_the_steps_on_the_count_matter() -> None:
    trace = Model(2, 1, "lock")(follow([0, 1, 0, 1]))  # 1's acquire finds the lock taken
    points = [(s.point, s.blocked) for s in trace.steps]
    assert ("acquire", True) in points
    assert [(s.buyer, s.point) for s in steps_that_matter(trace)] == [
        (0, "read"),
        (0, "write"),
        (1, "read"),
        (1, "write"),
    ]


def test_each_step_is_said_in_words() -> None:
    steps = [
        Step(0, "read", value=3),
        Step(0, "write", value=2),
        Step(1, "write", value=-1),
        Step(2, "update", value=1),
        Step(3, "update", value=-1),
        Step(4, "ask", value=0),
        Step(5, "ask", value=-1),
    ]
    assert describe(steps) == (
        "buyer 0 read 3 · buyer 0 wrote 2 · buyer 1 wrote nothing · "
        "buyer 2 took one, leaving 1 · buyer 3 found none left · "
        "buyer 4 was sold one, leaving 0 · buyer 5 was refused"
    )
    assert describe(steps[:2], ascii=True) == "buyer 0 read 3 - buyer 0 wrote 2"
    describe(steps, ascii=True).encode("ascii")  # no middle dot left


def test_the_other_steps_have_words_too() -> None:
    steps = [
        Step(0, "look", value=1),
        Step(0, "acquire"),
        Step(1, "acquire", blocked=True),
        Step(0, "release"),
    ]
    assert describe(steps) == (
        "buyer 0 looked and saw 1 · buyer 0 took the guard · "
        "buyer 1 found the guard taken · buyer 0 let the guard go"
    )
    assert describe([]) == ""
