"""A replay's report says what its clocks mean: a controlled run's times are the
scheduler's pace, so the report must not blame the machine's cores for them."""

from __future__ import annotations

from booking.render.report import render_run
from booking.schedules.exploration import explore
from booking.schedules.replaying import replay_traces


def test_a_replayed_schedule_draws_as_a_controlled_run() -> None:
    found = explore("none", buyers=2, tickets=1, seed=1)
    example = found.counterexample
    assert example is not None
    (trace,) = replay_traces(example.workload, example.steps)
    assert trace.raw is not None and trace.raw.controlled
    assert trace.result is not None
    page = render_run(trace.result, trace.raw, origin="a replay")
    assert "waited for the scheduler&#39;s grant" in page
    assert "waiting to run on the machine" not in page
    assert "a replay" in page
