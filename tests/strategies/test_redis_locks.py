"""ttl-lock and fenced on Redis: each claim tested, the failures forced.

A TTL shorter than every think forces the lock to expire under its holder: a waiter
polls every few ms, so it takes the expired lock while the holder still thinks. ttl-lock
then oversells; fenced's store refuses the stale writes (counted as conflicts) and never
does. A TTL far longer than any think keeps ttl-lock safe.
"""

from __future__ import annotations

import re
from typing import Any

from booking import Scenario, simulate
from booking.engine.frames import Kind, Outcome
from booking.engine.runner import RawRun
from booking.faults import plan
from booking.judge.result import Result
from booking.scenarios.arrival import Arrival


def run(dsn: str, strategy: str, **more: Any) -> Result:
    more.setdefault("reset", True)
    return simulate(Scenario(store="redis", dsn=dsn, strategy=strategy, **more))


def test_fenced_never_oversells_even_when_every_think_outlives_the_ttl(redis_dsn: str) -> None:
    refused = 0
    for seed in range(6):  # every think (5-10 ms) outlives the 2 ms TTL
        result = run(
            redis_dsn, "fenced", buyers=20, tickets=10, think_ms=(5, 10), lock_ttl_ms=2, seed=seed
        )
        assert result.verdict == "SAFE", result.explanation
        assert result.oversold == result.lost_updates == result.errors == 0
        assert result.lock_ttl_ms == 2
        assert result.conflicts == result.retries + result.gave_up
        refused += result.conflicts
        if result.conflicts:
            story = " ".join(result.explanation)
            assert f"The store refused {result.conflicts} write" in story
            assert "fencing token was stale" in story and "(2 ms TTL)" in story
    assert refused > 0  # the TTL did expire under holders, and the store refused them
    for seed in range(4):  # a TTL longer than any think: no refusal needed
        result = run(
            redis_dsn, "fenced", buyers=30, tickets=10, think_ms=(0, 2), lock_ttl_ms=1000, seed=seed
        )
        assert result.verdict == "SAFE", result.explanation
        assert (result.sold, result.remaining) == (10, 0)


def test_ttl_lock_oversells_when_the_think_outlives_the_ttl(redis_dsn: str) -> None:
    result = run(
        redis_dsn, "ttl-lock", buyers=10, tickets=5, think_ms=(20, 40), lock_ttl_ms=2, seed=1
    )
    assert result.verdict == "OVERSOLD", result.explanation
    assert result.oversold > 0 and result.lock_ttl_ms == 2
    story = " ".join(result.explanation)
    found = re.search(r"(\d+) holders? of \d+ wrote after the lock's 2 ms TTL had run out", story)
    assert found, story
    # Only the holders that wrote: never more than the writes made (one per receipt).
    assert 0 < int(found.group(1)) <= result.sold
    assert "took the expired lock" in story and "had written" in story
    assert "fenced adds a token the store checks" in story


def test_ttl_lock_with_a_ttl_longer_than_any_think_is_safe(redis_dsn: str) -> None:
    for seed in range(5):
        result = run(
            redis_dsn, "ttl-lock", buyers=30, tickets=10, think_ms=(0, 2), lock_ttl_ms=1000,
            seed=seed,
        )  # fmt: skip
        assert result.verdict == "SAFE", result.explanation
        assert (result.sold, result.remaining, result.max_inside) == (10, 0, 1)
        assert "Every holder that wrote finished within the lock's 1000 ms TTL" in " ".join(
            result.explanation
        )


def first_victim_seed(buyers: int) -> int:
    """A seed whose --kill-holder victim is buyer 0: with a steady arrival rate it
    arrives first, alone, so everyone after it needs the lock it dies holding."""
    return next(seed for seed in range(1000) if list(plan(buyers, 1, 0, seed)) == [0])


def test_a_killed_holders_lock_expires_and_the_next_buyer_proceeds(redis_dsn: str) -> None:
    buyers, ttl = 6, 300
    runs: list[RawRun] = []
    result = simulate(
        Scenario(
            store="redis", dsn=redis_dsn, strategy="ttl-lock", buyers=buyers, tickets=20,
            think_ms=(5, 5), lock_ttl_ms=ttl, kill_holder=1, arrival=Arrival(rate=50),
            seed=first_victim_seed(buyers), reset=True,
        ),
        runs=runs,
    )  # fmt: skip
    assert result.verdict == "SAFE", result.explanation
    assert (result.killed, result.sold, result.remaining) == (1, buyers - 1, 20 - buyers + 1)
    records = runs[0].records
    (death,) = [r for r in records if r.kind is Kind.CUT and r.outcome is Outcome.KILLED]
    assert death.buyer == 0 and death.t_acquired
    after = min(r.t_acquired for r in records if r.t_acquired > death.t_acquired)
    # Nobody released it: the next buyer got it only when Redis expired it.
    assert after - death.t_acquired >= (ttl - 5) * 1e6
    story = " ".join(result.explanation)
    assert f"Buyer 0 died holding the lock; nothing released it until its {ttl} ms TTL" in story
    assert "took the lock next" in story


def test_a_killed_fenced_holder_stops_no_one(redis_dsn: str) -> None:
    buyers = 6
    result = run(
        redis_dsn, "fenced", buyers=buyers, tickets=20, think_ms=(5, 5), lock_ttl_ms=200,
        kill_holder=1, arrival=Arrival(rate=50), seed=first_victim_seed(buyers),
    )  # fmt: skip
    assert result.verdict == "SAFE", result.explanation
    assert (result.killed, result.sold) == (1, buyers - 1)
    assert "Redis deleted its lock when the TTL ran out" in " ".join(result.explanation)


def test_the_ttl_is_in_the_record_only_where_a_lock_has_one(redis_dsn: str) -> None:
    locked = run(redis_dsn, "ttl-lock", buyers=3, think_ms=(0, 1), lock_ttl_ms=250, seed=1)
    assert locked.to_dict()["lock_ttl_ms"] == 250
    default = run(redis_dsn, "fenced", buyers=3, think_ms=(0, 1), seed=1)
    assert default.lock_ttl_ms == 1000
    plain = run(redis_dsn, "lock", buyers=3, think_ms=(0, 1), seed=1)
    assert plain.to_dict()["lock_ttl_ms"] is None


def test_a_lone_buyer_past_its_ttl_is_not_called_lucky(redis_dsn: str) -> None:
    # One buyer: its lock expired, but no one else existed to take it.
    result = run(redis_dsn, "ttl-lock", buyers=1, think_ms=(5, 5), lock_ttl_ms=1, seed=1)
    story = " ".join(result.explanation)
    assert result.verdict == "SAFE", story
    assert "nobody could take it" in story and "by luck" not in story
