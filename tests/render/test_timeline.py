"""The timeline model: lanes, overlapped windows and overwritten sales, from step records
made by hand, so each rule is checked on an interleaving chosen, not hoped for."""

from __future__ import annotations

from booking.engine.frames import NO_VALUE, Failure, Kind, Outcome, Record
from booking.engine.runner import RawRun
from booking.render import timeline

MS = 1_000_000  # ns
GATE = 1_000 * MS


def sale(buyer: int, read_at: float, wrote_at: float, read: int, *, took: float = 1.0) -> Record:
    """A bought attempt: read `read` at read_at ms, wrote read - 1 from wrote_at for `took`."""
    return Record(
        Kind.ATTEMPT,
        buyer,
        attempt=0,
        outcome=Outcome.BOUGHT,
        read_value=read,
        written_value=read - 1,
        t_begin=GATE + int(read_at * MS) - MS // 10,
        t_acquired=GATE + int(read_at * MS) - MS // 20,
        t_read=GATE + int(read_at * MS),
        t_write=GATE + int(wrote_at * MS),
        t_left=GATE + int((wrote_at + took) * MS),
        t_end=GATE + int((wrote_at + took) * MS) + MS // 20,
    )


def build(records: list[Record], buyers: int) -> timeline.Timeline:
    return timeline.build(RawRun(records=records, gate_ns=GATE), buyers)


def overlapped(built: timeline.Timeline) -> dict[int, list[bool]]:
    return {lane.buyer: [w.overlapped for w in lane.windows] for lane in built.lanes}


def test_two_buyers_that_read_the_same_count_overlap_and_one_sale_is_overwritten() -> None:
    built = build([sale(0, 1, 5, 10), sale(1, 2, 6, 10)], 2)
    assert overlapped(built) == {0: [True], 1: [True]}
    assert built.overlapped == 2 and built.windows == 2
    (link,) = built.links
    assert (link.buyer, link.by) == (0, 1)
    assert link.at_ms == 6.0 and link.by_ms == 7.0  # where each write landed
    assert "buyer 1 wrote 9 over buyer 0's 9: it had read 10 before" in link.tip


def test_a_buyer_who_read_after_the_sale_overwrote_nothing() -> None:
    # 0 sells 10 -> 9; 1 reads 9 after that and sells 9 -> 8; 2 read 10 before both.
    built = build([sale(0, 1, 2, 10), sale(1, 4, 5, 9), sale(2, 0.5, 8, 10)], 3)
    # 2's write of 9 landed over both sales; 1 read 9 after 0's write, so not over 0's.
    assert [(link.buyer, link.by) for link in built.links] == [(0, 2), (1, 2)]
    assert overlapped(built) == {0: [True], 1: [True], 2: [True]}


def test_windows_one_after_another_do_not_overlap_even_when_they_touch() -> None:
    first = sale(0, 1, 2, 10)  # window [1, 3) ms
    second = sale(1, 3, 4, 9)  # window [3, 5) ms: begins as the first ends
    built = build([first, second], 2)
    assert overlapped(built) == {0: [False], 1: [False]}
    assert built.overlapped == 0 and built.links == []


def test_a_long_window_overlaps_two_that_do_not_overlap_each_other() -> None:
    built = build([sale(0, 0, 9, 10), sale(1, 1, 1.5, 10), sale(2, 5, 5.5, 9)], 3)
    assert overlapped(built) == {0: [True], 1: [True], 2: [True]}


def test_each_lane_draws_the_steps_its_record_reached() -> None:
    (lane,) = build([sale(0, 1, 5, 10)], 1).lanes
    assert [span.step for span in lane.spans] == ["attempt", "wait", "hold", "think", "write"]
    assert [mark.step for mark in lane.marks] == ["end", "read", "wrote"]
    assert lane.marks[0].css == "bought" and lane.marks[0].at_ms == lane.spans[0].end_ms
    assert "read 10 tickets left" in lane.marks[1].tip
    assert "wrote 9" in lane.marks[2].tip
    assert lane.spans[0].css == "bought"


def test_a_conditional_update_has_no_read_mark_and_its_window_is_its_write() -> None:
    record = sale(0, 1, 5, 10)._replace(t_read=0, t_acquired=0, read_value=NO_VALUE)
    (lane,) = build([record], 1).lanes
    assert [span.step for span in lane.spans] == ["attempt", "write"]
    assert [mark.step for mark in lane.marks] == ["end", "wrote"]
    assert (lane.windows[0].start_ms, lane.windows[0].end_ms) == (5.0, 6.0)


def test_a_run_with_no_steps_has_empty_lanes() -> None:
    built = build([], 3)
    assert [lane.buyer for lane in built.lanes] == [0, 1, 2]
    assert built.end_ms == 0.0 and built.windows == 0


def test_a_huge_run_shows_an_even_sample_and_counts_every_window() -> None:
    buyers = timeline.MAX_LANES * 3
    records = [sale(b, 1 + b * 0.001, 3 + b * 0.001, 10) for b in range(buyers)]
    built = build(records, buyers)
    assert built.sampled_every == 3
    assert built.shown == timeline.MAX_LANES
    assert [lane.buyer for lane in built.lanes[:3]] == [0, 3, 6]
    assert built.windows == buyers and built.overlapped == buyers
    assert built.links  # drawn between the lanes shown, not lost to the sampling
    assert all(link.buyer % 3 == 0 and link.by % 3 == 0 for link in built.links)


def test_unguarded_no_wait_for_a_guard_and_no_hold_is_drawn() -> None:
    (lane,) = timeline.build(RawRun(records=[sale(0, 1, 5, 10)], gate_ns=GATE), 1, False).lanes
    assert [span.step for span in lane.spans] == ["attempt", "think", "write"]


def test_a_try_that_found_the_store_changed_is_drawn_from_its_own_read() -> None:
    first_try = Record(
        Kind.CONFLICT, 0, 0, read_value=10, written_value=9,
        t_begin=GATE, t_read=GATE + 2 * MS, t_write=GATE + 5 * MS, t_left=GATE + 6 * MS,
        t_end=GATE + 6 * MS,
    )  # fmt: skip
    second = sale(0, 8, 10, 9)._replace(t_begin=GATE)  # the attempt began with the first try
    (lane,) = build([first_try, second], 1).lanes
    (tried,) = [span for span in lane.spans if span.step == "try"]
    assert (tried.start_ms, tried.end_ms) == (2.0, 6.0)
    assert "(4.000 ms)" in tried.tip
    assert [mark.step for mark in lane.marks].count("end") == 1  # a try is no attempt


def test_an_attempt_stopped_while_thinking_draws_its_think_up_to_the_stop() -> None:
    cut = Record(
        Kind.CUT, 0, 0, Outcome.STOPPED, read_value=10,
        t_begin=GATE, t_acquired=GATE + MS, t_read=GATE + 2 * MS, t_end=GATE + 9 * MS,
    )  # fmt: skip
    (lane,) = build([cut], 1).lanes
    (think,) = [span for span in lane.spans if span.step == "think"]
    assert (think.start_ms, think.end_ms) == (2.0, 9.0)
    assert "stopped" in think.tip
    assert lane.spans[0].css == "stopped"


def test_a_wait_that_ran_into_the_timeout_is_a_wait_not_an_error() -> None:
    waited = Record(
        Kind.ATTEMPT, 0, 0, Outcome.ERROR, Failure.LOCK_TIMEOUT,
        t_begin=GATE, t_end=GATE + 30 * MS, message="lock wait timed out",
    )  # fmt: skip
    (lane,) = build([waited], 1).lanes
    assert [(span.step, span.css) for span in lane.spans] == [
        ("attempt", "timed-out"),
        ("wait", "wait"),
    ]
    assert "in vain" in lane.spans[1].tip


def test_a_read_after_the_sale_finished_is_no_link_even_when_the_count_went_back_up() -> None:
    # Two runs under one lock on one store: the other run put the count back to 88, so
    # buyer 1 read 88 again, but after buyer 0's write had finished: it wrote over nothing.
    built = build([sale(0, 1, 2, 88), sale(1, 4, 5, 88)], 2)
    assert built.links == []


def test_a_curve_is_a_write_over_a_sale_even_when_a_later_write_builds_on_that_sale() -> None:
    # A sells 10 -> 9, B reads 9 and sells 9 -> 8, C (read 10 early) writes 9 over both,
    # D read 8 after B and writes 7: the store lost one sale (C's), but C did write over
    # A's and B's sales when it landed. The curves draw those writes; the page takes the
    # count of lost sales from the record, not from the curves.
    records = [sale(0, 1, 2, 10), sale(1, 3.5, 4, 9), sale(2, 0.5, 5.5, 10), sale(3, 5.2, 7, 8)]
    built = build(records, 4)
    assert [(link.buyer, link.by) for link in built.links] == [(0, 2), (1, 2)]


def test_a_long_write_that_took_effect_before_the_sale_read_it_is_not_over_that_sale() -> None:
    # Buyer 1 read 9 and its write ran long (waiting for a lock) but took effect early:
    # buyer 0 read the 8 it wrote, then sold 8 -> 7 and finished before buyer 1 did.
    long_write = sale(1, 31.6, 36.7, 9, took=6.4)
    after_it = sale(0, 39.5, 41, 8, took=1.5)
    assert build([long_write, after_it], 2).links == []


def test_a_design_that_cannot_write_over_a_sale_has_no_curves() -> None:
    racing = [sale(0, 1, 5, 10), sale(1, 2, 6, 10)]
    raw = RawRun(records=racing, gate_ns=GATE)
    assert timeline.build(raw, 2, design="guard").links
    for design in ("compare-and-set", "conditional", "snapshot", "seller"):
        assert timeline.build(raw, 2, design=design).links == []


def test_a_guard_a_killed_holder_never_released_is_drawn_held_to_the_end() -> None:
    killed = Record(
        Kind.CUT, 0, 0, Outcome.KILLED, read_value=10,
        t_begin=GATE, t_acquired=GATE + MS, t_read=GATE + 2 * MS, t_end=GATE + 3 * MS,
    )  # fmt: skip
    waiting = Record(
        Kind.CUT, 1, 0, Outcome.STOPPED, t_begin=GATE + MS, t_end=GATE + 40 * MS
    )  # fmt: skip
    raw = RawRun(records=[killed, waiting], gate_ns=GATE, stopped_ns=GATE + 39 * MS)
    why = "a dead holder never releases a multiprocessing.Lock"
    held = timeline.build(raw, 2, orphans=why).lanes[0].spans
    orphaned = [span for span in held if span.css == "hold orphaned"]
    assert [(span.start_ms, span.end_ms) for span in orphaned] == [(3.0, 40.0)]
    assert why in orphaned[0].tip
    released = timeline.build(raw, 2).lanes[0].spans  # a guard released on death: none
    assert not [span for span in released if span.css == "hold orphaned"]
