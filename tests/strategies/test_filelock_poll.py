"""filelock's wait poll: the backoff and its choice from the crowd (pure), the guard's
loop (a fake clock: exact, no timing), an explicit --poll-ms, safety, and the bound."""

from __future__ import annotations

import fcntl
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
import pytest

from booking.errors import ScenarioError
from booking.scenarios.scenario import Scenario
from booking.simulation import simulate
from booking.stores import StoreOptions
from booking.stores.json_store import JsonStore
from booking.strategies import Guarded, StrategyOptions
from booking.strategies.file_lock import FileGuard, FileLockStrategy
from booking.waits import (
    MAX_POLL_S,
    POLL_BUDGET_PER_S,
    POLL_FLOOR_S,
    POLL_JITTER,
    POLL_START_S,
    Backoff,
    crowd_backoff,
)
from tests.helpers import no_children_left, run_json

# --- the backoff: pure ------------------------------------------------------------------------


def test_the_window_doubles_from_start_to_the_cap() -> None:
    backoff = Backoff(0.001, 0.010, 0.5)
    assert [backoff.window(k) for k in range(1, 8)] == [
        0.001,
        0.002,
        0.004,
        0.008,
        0.010,
        0.010,
        0.010,
    ]
    assert backoff.window(10**9) == 0.010  # no float overflow after a very long wait


def test_every_pause_is_within_its_jitter_band_and_the_band_is_used() -> None:
    backoff = Backoff(0.001, 0.040, 0.5)
    rng = random.Random(1234)
    for tries in (1, 2, 3, 6, 7, 50):
        window = backoff.window(tries)
        pauses = [backoff.pause(tries, rng) for _ in range(2000)]
        assert all(window / 2 <= p <= window for p in pauses)
        # Jitter that is really there: the band's two ends are both reached, nearly.
        assert min(pauses) < 0.55 * window
        assert max(pauses) > 0.95 * window


def test_a_seeded_rng_gives_the_same_pauses_and_two_waiters_differ() -> None:
    backoff = crowd_backoff(200)
    first = [backoff.pause(k, random.Random(7)) for k in range(1, 20)]
    again = [backoff.pause(k, random.Random(7)) for k in range(1, 20)]
    other = [backoff.pause(k, random.Random(8)) for k in range(1, 20)]
    assert first == again
    assert first != other


def test_a_fixed_backoff_is_exactly_its_poll() -> None:
    backoff = Backoff.fixed(0.007)
    assert backoff.is_fixed
    rng = random.Random(0)
    assert {backoff.pause(k, rng) for k in range(1, 100)} == {0.007}
    assert not crowd_backoff(8).is_fixed


def test_small_crowds_keep_the_floor_and_start_short() -> None:
    for buyers in (1, 2, 8):
        backoff = crowd_backoff(buyers)
        assert backoff == Backoff(POLL_START_S, POLL_FLOOR_S, POLL_JITTER)
    assert crowd_backoff(8) == Backoff(0.001, 0.005, 0.5)


@pytest.mark.parametrize("buyers", [50, 200, 1000])
def test_big_crowds_polling_at_the_cap_stay_within_the_budget(buyers: int) -> None:
    backoff = crowd_backoff(buyers)
    assert backoff.cap_s > POLL_FLOOR_S
    mean_pause_at_cap = backoff.cap_s * (1 - backoff.jitter / 2)
    polls_per_s = (buyers - 1) / mean_pause_at_cap
    assert polls_per_s == pytest.approx(POLL_BUDGET_PER_S)
    assert backoff.start_s == POLL_START_S


def test_the_cap_grows_with_the_crowd_up_to_the_longest_poll() -> None:
    caps = [crowd_backoff(n).cap_s for n in (1, 8, 20, 50, 200, 1000, 5000, 100_000)]
    assert caps == sorted(caps)
    assert caps[-1] == MAX_POLL_S
    assert crowd_backoff(1000).cap_s == pytest.approx(999 / 3000)


# --- the scenario: which backoff a run gets ---------------------------------------------------


def test_no_poll_ms_means_the_crowd_chooses() -> None:
    scenario = Scenario(buyers=200, strategy="filelock").validate()
    assert scenario.poll_ms is None
    assert scenario.poll_backoff == crowd_backoff(200)


def test_an_explicit_poll_ms_is_a_fixed_poll() -> None:
    for poll_ms in (5.0, 50.0, 0.5):
        scenario = Scenario(buyers=200, strategy="filelock", poll_ms=poll_ms).validate()
        assert scenario.poll_backoff == Backoff.fixed(poll_ms / 1000)


@pytest.mark.parametrize("poll_ms", [5.0, 7.0])
def test_an_explicit_poll_ms_needs_filelock_even_at_the_old_default(poll_ms: float) -> None:
    with pytest.raises(ScenarioError, match="only applies to --strategy filelock"):
        Scenario(strategy="lock", poll_ms=poll_ms).validate()


# --- the guard's loop, on a fake clock --------------------------------------------------------


class FakeTime:
    """A clock that moves only when the guard sleeps: exact, and no test waits."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.pauses.append(seconds)
        self.now += seconds


class BusyFor:
    """A lock stand-in that refuses its first `refusals` tries."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.tries = 0

    def acquire(self, *, blocking: bool) -> None:
        assert blocking is False  # the guard makes single tries; it does the waiting
        self.tries += 1
        if self.tries <= self.refusals:
            raise filelock.Timeout("busy.lock")

    def release(self) -> None:
        return None


def guard_on(lock: object, backoff: Backoff, timeout_s: float, fake: FakeTime) -> FileGuard:
    return FileGuard(
        lock,  # type: ignore[arg-type]
        backoff,
        timeout_s,
        rng=random.Random(42),
        clock=fake.clock,
        sleep=fake.sleep,
    )


def test_the_guard_sleeps_the_backoff_between_tries() -> None:
    backoff = Backoff(0.001, 0.008, 0.5)
    fake, lock = FakeTime(), BusyFor(6)
    assert guard_on(lock, backoff, 30.0, fake).acquire()
    assert lock.tries == 7
    rng = random.Random(42)
    assert fake.pauses == [backoff.pause(k, rng) for k in range(1, 7)]


def test_the_guard_honours_a_fixed_poll() -> None:
    fake, lock = FakeTime(), BusyFor(20)
    assert guard_on(lock, Backoff.fixed(0.05), 30.0, fake).acquire()
    assert fake.pauses == [0.05] * 20


def test_a_free_lock_is_taken_without_sleeping() -> None:
    fake, lock = FakeTime(), BusyFor(0)
    assert guard_on(lock, crowd_backoff(1000), 30.0, fake).acquire()
    assert fake.pauses == []


def test_the_wait_ends_at_the_timeout_with_a_last_try_there() -> None:
    fake, lock = FakeTime(), BusyFor(10**9)
    backoff = crowd_backoff(1000)  # a cap of 333 ms against a timeout of 1 s
    assert not guard_on(lock, backoff, 1.0, fake).acquire()
    assert fake.now == pytest.approx(101.0)  # waited the whole timeout, not a pause more
    assert all(p <= backoff.cap_s for p in fake.pauses)
    assert lock.tries == len(fake.pauses) + 1  # one try before each pause, one at the end


@contextmanager
def held(lock_path: Path) -> Iterator[None]:
    """Hold `<store>.lock` from the test process, as a holder that never releases."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def test_a_held_lock_file_times_the_guard_out(tmp_path: Path) -> None:
    store = JsonStore(tmp_path / "t.json", 3, create=True, reset=False, options=StoreOptions())
    backoff = crowd_backoff(1000)
    strategy = FileLockStrategy(store, StrategyOptions(timeout_s=0.5, poll=backoff))
    fake = FakeTime()
    guard = FileGuard(
        filelock.FileLock(store.lock_path), backoff, 0.5, clock=fake.clock, sleep=fake.sleep
    )
    with held(store.lock_path):
        assert not guard.acquire()
        assert fake.now == pytest.approx(100.5)
        purchase = strategy.buyer_parts(0)
        assert isinstance(purchase, Guarded)
        real_guard = purchase.guard
        assert not real_guard.acquire()  # the real clock: still bounded by the timeout
    assert real_guard.acquire()  # released: the next try gets it
    real_guard.release()
    store.close()


# --- whole runs -------------------------------------------------------------------------------


def test_the_record_says_which_poll_was_used() -> None:
    adaptive = run_json("--strategy", "filelock", "--buyers", "8", "--think", "0")
    assert adaptive["poll_ms"] is None
    assert adaptive["poll_backoff_ms"] == [1.0, 5.0]
    fixed = run_json("--strategy", "filelock", "--buyers", "8", "--think", "0", "--poll-ms", "7")
    assert fixed["poll_ms"] == 7.0
    assert fixed["poll_backoff_ms"] is None
    other = run_json("--strategy", "lock", "--buyers", "8", "--think", "0")
    assert other["poll_ms"] is None and other["poll_backoff_ms"] is None


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_filelock_with_the_adaptive_poll_stays_safe(store: str) -> None:
    for seed in range(6):
        result = simulate(
            Scenario(
                buyers=30,
                tickets=12,
                strategy="filelock",
                store=store,
                think_ms=(0.0, 1.0),
                attempts=2,
                seed=seed,
            )
        )
        assert result.poll_backoff_ms == [1.0, pytest.approx(29 / 3, abs=1e-3)]
        assert result.verdict == "SAFE", result.explanation
        assert result.max_inside == 1
        assert result.oversold == result.lost_updates == result.errors == 0
        assert result.sold == 12


def test_a_holder_that_never_releases_cannot_hang_the_run(tmp_path: Path) -> None:
    # The guard's own bound is the test above; here the run's timeout (the same value)
    # stops the buyers, however long their backoff (a cap of 333 ms).
    path = tmp_path / "t.json"
    JsonStore(path, 5, create=True, reset=False, options=StoreOptions()).close()
    with held(path.with_name(path.name + ".lock")):
        result = simulate(
            Scenario(buyers=1000 // 250, strategy="filelock", path=path, timeout_s=0.6)
        )
    assert result.sold == 0
    assert result.remaining == 5
    assert result.timed_out
    assert result.verdict == "DEADLOCK"
    assert no_children_left()
