"""Issue 10, defects 2-4: a too-short --timeout is TIMEOUT (not DEADLOCK, not ERRORS, not an
anomaly in compare), an interrupted run is INTERRUPTED with the windows it had open, and a
--kill-holder run tells each buyer's fate once, with sentences true per strategy."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from booking import Scenario, faults, simulate
from booking.cli.app import app
from booking.comparison.cellstats import summarize
from booking.comparison.driver import Comparison
from booking.engine.frames import NO_VALUE, Failure, Kind, Outcome, Record
from booking.judge.checker import Judgement, RunFacts, judge
from booking.judge.result import VERDICTS
from booking.render.compare import findings, row
from booking.scenarios.plan import Cell
from tests.helpers import booking_process, children_of, exists, fake_result, no_children_left

GATE = 1_000_000_000
MS = 1_000_000
S = 1000 * MS

# --- hand-built records ----------------------------------------------------------------------


def bought(buyer: int, read: int, acquired: int, held: int = 200 * MS) -> Record:
    """A purchase that held the guard from `acquired` for `held`."""
    return Record(
        Kind.ATTEMPT, buyer, 0, Outcome.BOUGHT, Failure.NONE, read, read - 1,
        t_begin=GATE, t_acquired=acquired, t_read=acquired + 1, t_write=acquired + held - 2,
        t_left=acquired + held - 1, t_end=acquired + held,
    )  # fmt: skip


def cut(
    buyer: int,
    outcome: Outcome,
    *,
    begin: int = GATE,
    acquired: int = 0,
    end: int,
    read: int = NO_VALUE,
) -> Record:
    """A CUT record: the steps an attempt reached before a stop (or its own death)."""
    return Record(
        Kind.CUT, buyer, 0, outcome, Failure.NONE, read, NO_VALUE,
        t_begin=begin, t_acquired=acquired, t_read=acquired + 1 if acquired else 0,
        t_left=end, t_end=end,
    )  # fmt: skip


def lock_timeout(buyer: int, begin: int, end: int) -> Record:
    return Record(
        Kind.ATTEMPT, buyer, 0, Outcome.ERROR, Failure.LOCK_TIMEOUT,
        t_begin=begin, t_end=end, message="lock wait timed out",
    )  # fmt: skip


def facts(
    records: list[Record],
    *,
    buyers: int,
    tickets: int = 10,
    remaining: int | None = None,
    strategy: str = "lock",
    timed_out: bool = False,
    interrupted: bool = False,
    stopped_ns: int = 0,
    last_progress_ns: int = GATE,
    exit_codes: dict[int, int] | None = None,
    victims: dict[int, str] | None = None,
    timeout_s: float = 30.0,
    stall_timeout_s: float | None = None,
) -> RunFacts:
    sold = sum(r.outcome is Outcome.BOUGHT for r in records)
    return RunFacts(
        strategy=strategy,
        tickets=tickets,
        buyers=buyers,
        records=records,
        remaining=tickets - sold if remaining is None else remaining,
        store_problem="",
        gate_ns=GATE,
        started_ns=GATE - 10 * MS,
        finished_ns=(stopped_ns or GATE) + 50 * MS,
        last_progress_ns=last_progress_ns,
        timed_out=timed_out,
        interrupted=interrupted,
        timeout_s=timeout_s,
        exit_codes=exit_codes if exit_codes is not None else dict.fromkeys(range(buyers), 0),
        victims=victims or {},
        stall_timeout_s=stall_timeout_s,
        stopped_ns=stopped_ns,
    )


def fates_sum(judgement: Judgement | list[str]) -> tuple[int, int]:
    """(buyers named, sum of the counts) of the 'Of N buyers: ...' sentence."""
    lines = judgement if isinstance(judgement, list) else judgement.explanation
    line = next(x for x in lines if x.startswith("Of "))
    head, _, rest = line.partition(":")
    rest = re.sub(r"\(.*?\)", "", rest).strip()  # "(2 of the stopped had bought before)"
    return int(head.split()[1]), sum(int(n) for n in re.findall(r"(?:^|, )(\d+) ", rest))


# --- pure checker: TIMEOUT or DEADLOCK -------------------------------------------------------


def test_a_timeout_that_cuts_a_live_holder_is_timeout_not_deadlock() -> None:
    # lock, think 200 ms, --timeout 0.5: two sales, a third buyer thinking at the stop, the
    # rest waiting behind it. Nothing was stuck.
    stop = GATE + 500 * MS
    records = [bought(0, 10, GATE), bought(1, 9, GATE + 200 * MS)]
    records.append(cut(2, Outcome.STOPPED, acquired=GATE + 400 * MS, end=stop + MS, read=8))
    records += [cut(b, Outcome.STOPPED, end=stop + MS) for b in range(3, 10)]
    codes = {0: 0, 1: 0} | dict.fromkeys(range(2, 10), 3)
    result = judge(
        facts(records, buyers=10, timed_out=True, stopped_ns=stop, exit_codes=codes,
              last_progress_ns=GATE + 400 * MS, timeout_s=0.5)
    )  # fmt: skip
    assert result.verdict == "TIMEOUT"
    assert result.errors == 0
    line = result.explanation[-1]
    assert line.startswith("The run did not finish within its 0.5 s timeout, but it was still")
    assert "buyer 2 was inside its purchase, holding the guard" in line
    assert "not a deadlock: raise --timeout" in line
    assert not any("never released" in x for x in result.explanation)
    assert fates_sum(result) == (10, 10)
    assert "Of 10 buyers: 2 bought, 1 was stopped inside its purchase, 7 were stopped while " \
        "waiting for the guard." in result.explanation  # fmt: skip


def test_waiters_behind_a_guard_no_live_buyer_holds_are_a_deadlock() -> None:
    # Nobody alive held the guard for the whole second before the stop.
    stop = GATE + 1 * S
    records = [cut(b, Outcome.STOPPED, end=stop + MS) for b in range(4)]
    result = judge(
        facts(records, buyers=4, timed_out=True, stopped_ns=stop, timeout_s=1.0,
              exit_codes=dict.fromkeys(range(4), 3))
    )  # fmt: skip
    assert result.verdict == "DEADLOCK"
    assert "4 were waiting for the guard, and no buyer alive held it" in result.explanation[-1]


def test_a_hand_off_in_flight_at_the_stop_is_not_a_deadlock() -> None:
    # The stop fell in the microseconds between one holder's release and the next acquire.
    stop = GATE + 400 * MS + 10_000
    records = [bought(0, 10, GATE), bought(1, 9, GATE + 200 * MS)]
    records += [cut(b, Outcome.STOPPED, end=stop + MS) for b in range(2, 6)]
    result = judge(
        facts(records, buyers=6, timed_out=True, stopped_ns=stop, timeout_s=0.4,
              last_progress_ns=GATE + 400 * MS, exit_codes=dict.fromkeys(range(6), 3))
    )  # fmt: skip
    assert result.verdict == "TIMEOUT"


def test_a_stall_timeout_shorter_than_the_think_is_timeout_with_its_own_hint() -> None:
    stop = GATE + 2 * S
    records = [cut(0, Outcome.STOPPED, acquired=GATE, end=stop + MS, read=10)]
    records += [cut(b, Outcome.STOPPED, end=stop + MS) for b in (1, 2)]
    result = judge(
        facts(records, buyers=3, timed_out=True, stopped_ns=stop, stall_timeout_s=2,
              exit_codes=dict.fromkeys(range(3), 3))
    )  # fmt: skip
    assert result.verdict == "TIMEOUT"
    assert "(--stall-timeout 2), but it was still moving" in result.explanation[-1]
    assert "raise --stall-timeout" in result.explanation[-1]


def test_a_holder_killed_under_lock_with_waiters_is_a_deadlock_even_seen_briefly() -> None:
    # Buyer 1 died holding an mp.Lock 50 ms in; the run was cut 150 ms later: too soon for
    # the guard to look idle for long, but a dead holder never releases an mp.Lock.
    stop = GATE + 200 * MS
    records = [
        bought(0, 10, GATE, held=20 * MS),
        cut(1, Outcome.KILLED, acquired=GATE + 20 * MS, end=GATE + 50 * MS, read=9),
        cut(2, Outcome.STOPPED, end=stop + MS),
        cut(3, Outcome.STOPPED, end=stop + MS),
    ]
    result = judge(
        facts(records, buyers=4, timed_out=True, stopped_ns=stop, timeout_s=0.2,
              victims={1: "holder"}, exit_codes={0: 0, 1: -9, 2: 3, 3: 3})
    )  # fmt: skip
    assert result.verdict == "DEADLOCK"
    assert result.killed == 1
    assert fates_sum(result) == (4, 4)
    line = next(x for x in result.explanation if x.startswith("buyer 1 was killed"))
    assert "after 1 sale (it read 9 left" in line
    assert "never releases a multiprocessing.Lock" in line
    assert "2 other buyers waited for it until the run was stopped" in line


@pytest.mark.parametrize("strategy", ["lock", "manager"])
def test_a_dead_holder_nobody_waited_for_is_safe_and_never_called_released(strategy: str) -> None:
    # The seed-3 run: the victim was the last to take the guard; no one came after it.
    records = [bought(b, 10 - b, GATE + b * 10 * MS, held=10 * MS) for b in range(3)]
    records.append(cut(3, Outcome.KILLED, acquired=GATE + 30 * MS, end=GATE + 32 * MS, read=7))
    result = judge(
        facts(records, buyers=4, strategy=strategy, victims={3: "holder"},
              exit_codes={0: 0, 1: 0, 2: 0, 3: -9})
    )  # fmt: skip
    assert result.verdict == "SAFE"
    line = next(x for x in result.explanation if x.startswith("buyer 3 was killed"))
    assert "released with the dead process" not in line
    assert "was never released, but no other buyer came for it afterwards" in line
    assert "nobody was stuck" in line
    assert "Of 4 buyers: 3 bought, 1 was killed." in result.explanation


def test_a_dead_filelock_holder_is_released_by_the_kernel_and_others_carry_on() -> None:
    records = [
        cut(0, Outcome.KILLED, acquired=GATE, end=GATE + 5 * MS, read=10),
        bought(1, 10, GATE + 6 * MS, held=10 * MS),
        bought(2, 9, GATE + 16 * MS, held=10 * MS),
    ]
    result = judge(
        facts(records, buyers=3, strategy="filelock", victims={0: "holder"},
              exit_codes={0: -9, 1: 0, 2: 0})
    )  # fmt: skip
    assert result.verdict == "SAFE"
    line = next(x for x in result.explanation if x.startswith("buyer 0 was killed"))
    assert "the kernel released its flock when the process died; 2 buyers took the guard" in line


# --- pure checker: lock waits cut by the --timeout bound -------------------------------------


def test_lock_waits_cut_by_the_timeout_bound_while_the_guard_moves_are_not_errors() -> None:
    # --timeout 0.5 bounds each lock wait: buyer 3 waited 0.5 s while buyers 0-2 held the
    # guard in turn, then gave up. The queue was longer than the limit; the lock was fine.
    records = [bought(b, 10 - b, GATE + b * 200 * MS) for b in range(3)]
    records.append(lock_timeout(3, GATE, GATE + 500 * MS))
    result = judge(facts(records, buyers=4, timeout_s=0.5))
    assert result.verdict == "TIMEOUT"
    assert (result.errors, result.lock_timeouts) == (0, 1)
    assert not any(x.startswith("1 operation failed") for x in result.explanation)
    assert "ran into the 0.5 s limit that --timeout sets" in result.explanation[-1]
    assert "Raise --timeout." in result.explanation[-1]


def test_lock_waits_on_a_guard_nobody_alive_held_are_a_deadlock() -> None:
    records = [bought(0, 10, GATE, held=10 * MS)]
    records += [lock_timeout(b, GATE + 5 * MS, GATE + 1005 * MS) for b in (1, 2)]
    result = judge(facts(records, buyers=3, timeout_s=1.0))
    assert result.verdict == "DEADLOCK"
    assert (result.errors, result.lock_timeouts) == (2, 2)


def test_a_lock_wait_that_failed_before_the_bound_is_still_an_error() -> None:
    records = [bought(0, 10, GATE), lock_timeout(1, GATE, GATE + 2 * MS)]
    result = judge(facts(records, buyers=2, timeout_s=30.0))
    assert (result.verdict, result.errors) == ("ERRORS", 1)


# --- pure checker: INTERRUPTED ---------------------------------------------------------------


def test_an_interrupted_race_counts_its_open_windows_and_runs_until_the_stop() -> None:
    # 60 unguarded buyers read, and were thinking when Ctrl-C came 1.5 s after the gate.
    stop = GATE + 1500 * MS
    records = [
        cut(b, Outcome.STOPPED, acquired=GATE + b, end=stop + MS, read=10) for b in range(60)
    ]
    result = judge(
        facts(records, buyers=60, strategy="none", interrupted=True, stopped_ns=stop,
              exit_codes=dict.fromkeys(range(60), 3))
    )  # fmt: skip
    assert result.verdict == "INTERRUPTED"
    assert result.max_inside == 60
    assert result.wall_s >= 1.5
    assert result.attempts == 0 and result.sold == 0  # cut attempts are not attempts
    assert "Of 60 buyers: 60 were stopped inside their purchase." in result.explanation
    assert result.explanation[-1] == "Interrupted: these are the numbers measured before the stop."


def test_an_anomaly_seen_before_the_interrupt_wins() -> None:
    stop = GATE + 1 * S
    records = [bought(b, 1, GATE) for b in range(3)]  # three receipts for one ticket
    records.append(cut(3, Outcome.STOPPED, acquired=GATE, end=stop, read=1))
    result = judge(
        facts(records, buyers=4, tickets=1, remaining=0, strategy="none", interrupted=True,
              stopped_ns=stop, exit_codes={0: 0, 1: 0, 2: 0, 3: 3})
    )  # fmt: skip
    assert result.verdict == "OVERSOLD"


def test_fates_count_each_buyer_once_whatever_happened_to_it() -> None:
    # One bought, one told sold out, one gave up waiting, one killed, one failed, two stopped
    # (one of them after buying on an earlier attempt), one never started.
    stop = GATE + 2 * S
    records = [
        bought(0, 1, GATE, held=10 * MS),
        Record(Kind.ATTEMPT, 1, 0, Outcome.SOLD_OUT, Failure.NONE, 0, t_begin=GATE,
               t_acquired=GATE + 20 * MS, t_read=GATE + 20 * MS, t_left=GATE + 21 * MS,
               t_end=GATE + 21 * MS),
        lock_timeout(2, GATE, GATE + 5 * MS),
        cut(3, Outcome.KILLED, acquired=GATE + 30 * MS, end=GATE + 31 * MS, read=0),
        Record(Kind.FAILED, 4, message="OSError: gone"),
        bought(5, 2, GATE + 40 * MS, held=10 * MS)._replace(attempt=0),
        cut(5, Outcome.STOPPED, begin=GATE + 60 * MS, end=stop),
        cut(6, Outcome.STOPPED, begin=0, end=stop),
    ]  # fmt: skip
    codes = {0: 0, 1: 0, 2: 0, 3: -9, 4: 1, 5: 3, 6: 3}
    result = judge(
        facts(records, buyers=8, tickets=2, remaining=0, interrupted=True, stopped_ns=stop,
              exit_codes=codes, victims={3: "holder"})
    )  # fmt: skip
    assert fates_sum(result) == (8, 8)
    line = next(x for x in result.explanation if x.startswith("Of 8 buyers"))
    for part in (
        "1 bought", "1 was killed", "1 was stopped while waiting for the guard",
        "1 was stopped before it arrived", "1 failed", "1 was told sold out",
        "1 gave up waiting for the guard", "1 was never started",
        "(1 of the stopped had bought before)",
    ):  # fmt: skip
        assert part in line, line


# --- verdicts in compare ---------------------------------------------------------------------


def test_timeout_interrupted_and_aborted_are_verdicts_and_not_anomalies() -> None:
    assert {"TIMEOUT", "INTERRUPTED", "ABORTED"} <= set(VERDICTS)
    for verdict in VERDICTS:
        result = fake_result(verdict=verdict)
        assert result.anomalous == (verdict not in ("SAFE", "TIMEOUT", "INTERRUPTED", "ABORTED"))
        assert result.safe == (verdict == "SAFE")


def test_a_cell_of_timed_out_runs_shows_them_apart_and_claims_nothing() -> None:
    runs = [fake_result(verdict="TIMEOUT", seed=1), fake_result(verdict="TIMEOUT", seed=2)]
    runs.append(fake_result(seed=3))
    cell = summarize(Cell("lock", "json"), runs, claims_safe=True)
    assert (cell.runs, cell.anomaly_runs, cell.timeout_runs, cell.judged_runs) == (3, 0, 2, 1)
    assert not cell.anomalous
    assert cell.anomaly_rate == 0.0
    assert cell.verdicts["TIMEOUT"] == 2
    assert (cell.worst, cell.worst_seed) == ("", None)
    assert cell.to_dict()["timeout_runs"] == 2
    assert row(cell)[1].endswith("+2 timed out")
    comparison = Comparison(Scenario(), 1, 3, [cell], 3, 3)
    assert not comparison.anomaly_in_a_safe_cell
    (note,) = findings(comparison)
    assert note.startswith("lock/json: 2 of 3 runs timed out (TIMEOUT)")
    assert "Raise --timeout." in note


def _compare(*args: str) -> Any:
    return CliRunner().invoke(app, ["compare", *args])


def test_compare_with_a_tiny_timeout_counts_no_anomaly_and_shows_the_timeouts() -> None:
    args = (
        "--strategies", "lock,filelock", "--stores", "json", "--repeat", "2", "--buyers", "6",
        "--think", "20", "--timeout", "0.001", "--seed", "1", "--fail-on-anomaly",
    )  # fmt: skip
    result = _compare(*args, "--format", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    for cell in json.loads(result.stdout):
        assert cell["anomaly_runs"] == 0, cell
        assert cell["timeout_runs"] == cell["verdicts"]["TIMEOUT"] == 2, cell
        assert cell["errors"] == 0, cell
    table = _compare(*args)
    assert table.exit_code == 0
    assert "not SAFE" not in table.stdout
    assert "lock/json: 2 of 2 runs timed out (TIMEOUT)" in table.stdout
    assert "+2 timed out" in table.stdout


# --- real runs -------------------------------------------------------------------------------


def test_a_too_short_timeout_under_a_working_lock_is_timeout() -> None:
    # 6 purchases of 200 ms each under one lock need 1.2 s; --timeout 0.5 cuts them.
    result = simulate(
        Scenario(buyers=6, tickets=10, strategy="lock", think_ms=(200, 200), timeout_s=0.5, seed=1)
    )
    assert result.verdict == "TIMEOUT", result.explanation
    assert result.timed_out and not result.anomalous
    assert result.errors == 0
    assert any("raise --timeout" in line for line in result.explanation)
    assert fates_sum(result.explanation) == (6, 6)
    assert no_children_left()


def test_a_guard_killed_with_its_holder_while_others_wait_is_still_a_deadlock() -> None:
    # Everyone comes back for 3 attempts of 20 ms: whenever the victim dies, others wait.
    result = simulate(
        Scenario(buyers=6, tickets=40, attempts=3, think_ms=(20, 20), strategy="lock",
                 kill_holder=1, seed=2, stall_timeout_s=0.5)
    )  # fmt: skip
    assert result.verdict == "DEADLOCK", result.explanation
    assert result.killed == 1
    assert fates_sum(result.explanation) == (6, 6)
    assert no_children_left()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("strategy", ["lock", "manager", "filelock"])
def test_kill_holder_counts_add_up_and_the_guard_sentence_is_true(seed: int, strategy: str) -> None:
    result = simulate(
        Scenario(buyers=8, tickets=20, strategy=strategy, kill_holder=1, seed=seed,
                 stall_timeout_s=0.5)
    )  # fmt: skip
    assert result.killed == 1
    assert fates_sum(result.explanation) == (8, 8), result.explanation
    (victim,) = faults.plan(8, 1, 0, seed)
    line = next(x for x in result.explanation if x.startswith(f"buyer {victim} was killed"))
    assert "released with the dead process" not in line
    if strategy == "filelock":
        assert result.verdict == "SAFE", result.explanation
        assert "the kernel released its flock when the process died" in line
    else:
        assert "never released" in line
        stuck = "waited for it until the run was stopped" in line
        assert stuck == (result.verdict == "DEADLOCK"), result.explanation
        assert stuck or "nobody was stuck" in line
    assert no_children_left()


def test_the_seed_names_the_same_victim_every_time() -> None:
    named = set()
    for _ in range(2):
        result = simulate(
            Scenario(buyers=8, tickets=20, strategy="filelock", kill_holder=1, seed=3)
        )
        named |= {x.split(" was killed")[0] for x in result.explanation if " was killed " in x}
    (victim,) = faults.plan(8, 1, 0, 3)
    assert named == {f"buyer {victim}"}


def _wchan(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def test_ctrl_c_in_the_middle_of_an_unguarded_race_is_interrupted_with_its_windows() -> None:
    buyers = 12
    proc = booking_process(
        "run", "--strategy", "none", "--buyers", str(buyers), "--think", "3000", "--json"
    )
    # Wait until every buyer sleeps in its think: past the gate, inside the window.
    seen: list[int] = []
    for _ in range(400):
        seen = children_of(proc.pid)
        if len(seen) == buyers and all("nanosleep" in _wchan(pid) for pid in seen):
            break
        time.sleep(0.025)
    else:
        raise AssertionError("the buyers never all reached their think")
    racing_since = time.monotonic()
    time.sleep(0.3)
    ran_at_least = time.monotonic() - racing_since
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    record = json.loads(out)
    assert record["interrupted"] is True
    assert record["verdict"] == "INTERRUPTED"
    assert record["max_inside"] == buyers
    assert record["wall_s"] >= ran_at_least  # the gate opened before they all slept
    assert any(f"{buyers} were stopped inside their purchase" in x for x in record["explanation"])
    assert not any(exists(pid) for pid in seen)


def test_a_dead_holder_with_buyers_still_to_arrive_is_deadlock_not_timeout() -> None:
    # lock, --kill-holder, arrivals spread out: at the timeout buyer 1 waits for the lock
    # the dead buyer 0 took with it, and buyer 2 has not arrived yet. It would wait too:
    # nothing could move (found in review; was TIMEOUT because someone was "arriving").
    records = [
        cut(0, Outcome.KILLED, acquired=GATE + 1 * MS, end=GATE + 3 * MS, read=10),
        cut(1, Outcome.STOPPED, begin=GATE + 5 * MS, end=GATE + 400 * MS),
        cut(2, Outcome.STOPPED, begin=0, end=GATE + 400 * MS),
    ]
    judgement = judge(
        facts(
            records,
            buyers=3,
            timed_out=True,
            stopped_ns=GATE + 400 * MS,
            last_progress_ns=GATE + 5 * MS,
            victims={0: "holder"},
            exit_codes={0: -9, 1: 0, 2: 0},
        )
    )
    assert judgement.verdict == "DEADLOCK"


def test_a_guard_handed_over_after_the_stop_does_not_make_two_holders() -> None:
    # lock, --stall-timeout: buyer 0 held the guard at the stop and released it on its way
    # out; buyer 1 took it in that instant before its own stop. One lock, one holder.
    stop = GATE + 400 * MS
    records = [
        cut(0, Outcome.STOPPED, acquired=GATE + 1 * MS, end=stop + 1 * MS),
        cut(1, Outcome.STOPPED, begin=GATE + 2 * MS, acquired=stop + 2 * MS, end=stop + 3 * MS),
    ]
    judgement = judge(facts(records, buyers=2, timed_out=True, stopped_ns=stop))
    text = " ".join(judgement.explanation)
    assert "2 buyers were inside their purchase" not in text
    assert "1 was stopped inside its purchase" in text
    assert "1 was stopped while waiting for the guard" in text


def test_torn_reads_in_the_look_ups_are_said_to_be_there() -> None:
    # lock with --json-write inplace: every purchase is guarded, but the seeds' unguarded
    # search() can catch the file half-written. The sentence says where they failed.
    torn = Record(
        Kind.QUERY, 1, 0, Outcome.ERROR, Failure.TORN_READ,
        t_begin=GATE, t_end=GATE + 1 * MS, message="torn read: read 0 bytes",
    )  # fmt: skip
    judgement = judge(facts([bought(0, 10, GATE + 2 * MS), torn], buyers=2))
    assert judgement.verdict == "ERRORS"
    assert any("all in the unguarded look-ups before buying" in s for s in judgement.explanation)
