"""`ttl-lock` and `fenced`: a Redis lock with a time-to-live, without and with fencing.

ttl-lock: `SET booking:lock <token> NX PX <ttl>` (retried with a back-off), then the
seeds' read -> think -> write, then a compare-and-delete. Redis deletes the key once the
TTL runs out, whether its holder is done or not: a holder that thinks longer than the TTL
has lost the lock without knowing it, the next buyer takes it, and both write (oversell).

fenced: the same lock, whose acquire also hands out a fencing token (INCR booking:fence,
in one script with the SET). The holder reads and writes through scripts that carry the
token; the store keeps the newest token it has seen used (booking:fenced) and refuses a
write whose token is older: its lock expired and a later holder has used the store since.
A refused write is a conflict: the buyer releases, takes the lock (and a token) again and
retries, up to --retries times. Kleppmann, "How to do distributed locking" (2016).

The store keeps the newest token *seen*, reads included, not only the newest that wrote:
with read -> think -> write, "refuse a token older than the last write's" lets an older
holder write first and a newer one, whose read predates that write, overwrite it.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from functools import partial

from booking.errors import StoreError
from booking.stores import StoreFile
from booking.stores.redis_store import RedisStock, RedisStore
from booking.strategies import StrategyOptions
from booking.strategies.on_store import OnTheStore
from booking.strategies.protocols import Ending, GuardTimeout, Purchase, Steps
from booking.waits import Backoff, bounded, poll_until

#: The TTL when none is given (the scenario's default is the same).
DEFAULT_TTL_MS = 1000


class TtlGuard:
    """The lock: SET NX PX, tried again after a back-off until the run's timeout."""

    def __init__(
        self,
        take: Callable[[str], int | bool | None],
        give_back: Callable[[str], bool],
        backoff: Backoff,
        timeout_s: float,
        name: str,
    ) -> None:
        self._take = take
        self._give_back = give_back
        self._backoff = backoff
        self._timeout_s = bounded(timeout_s)
        self._name = name  # "<run>/<buyer>": whose lock it is, when someone looks
        self._rng = random.Random()  # made in the buyer: each waiter jitters its own way
        self._serial = 0
        self.token = ""
        self.got: int | bool | None = None  # what the take gave: fenced's token

    def acquire(self) -> bool:
        return poll_until(self._try, self._timeout_s, self._backoff, self._rng)

    def _try(self) -> bool:
        self._serial += 1
        token = f"{self._name}/{self._serial}/{os.urandom(4).hex()}"
        got = self._take(token)
        if got:  # fencing tokens start at 1
            self.token, self.got = token, got
        return bool(got)

    def release(self) -> None:
        # Deletes the key only if it is still ours: an expired lock may be another's now.
        self._give_back(self.token)


class FencedPurchase:
    """Acquire (lock + token) -> read -> think -> write if the token is still the newest
    the store has seen; a refused write releases, counts a conflict and tries again."""

    holding = "holding the lock"
    picked = ""

    def __init__(self, stock: RedisStock, guard: TtlGuard, retries: int) -> None:
        self.stock = stock
        self.guard = guard
        self.retries = retries

    def look(self) -> int:
        return self.stock.read()

    def buy(self, steps: Steps) -> Ending:
        for _ in range(self.retries + 1):
            if not self.guard.acquire():
                raise GuardTimeout("lock wait timed out")
            steps.acquired()
            fence = int(self.guard.got or 0)
            try:
                count = steps.read(partial(self.stock.read_fenced, fence))
                if count <= 0:
                    steps.left()
                    return "sold_out"
                steps.think()
                if steps.write(
                    partial(self._write, fence=fence), count - 1, self.stock.die_writing
                ):
                    return "bought"
            finally:
                self.guard.release()
            steps.conflict()
        return "gave_up"

    def _write(self, count: int, fence: int) -> bool:
        return self.stock.write_fenced(count, fence)


class _RedisLocked(OnTheStore):
    """What both share: the Redis store, and the TTL in whole milliseconds."""

    name = ""

    def __init__(self, store: StoreFile, options: StrategyOptions) -> None:
        ttl = options.lock_ttl_ms if options.lock_ttl_ms is not None else DEFAULT_TTL_MS
        self._ttl_ms = max(1, round(ttl))
        super().__init__(store, options)

    def _prepare(self) -> None:
        if not isinstance(self._store, RedisStore):
            raise StoreError(f"the {self.name} strategy needs the redis store")

    def _stock(self, buyer: int) -> RedisStock:
        stock = self._store.connect(buyer)
        assert isinstance(stock, RedisStock)
        return stock

    def _guard(
        self, take: Callable[[str], int | bool | None], stock: RedisStock, buyer: int
    ) -> TtlGuard:
        return TtlGuard(take, stock.unlock, self._poll, self._timeout_s, str(buyer))


class TtlLock(_RedisLocked):
    name = "ttl-lock"

    def buyer_parts(self, buyer: int) -> Purchase:
        stock = self._stock(buyer)
        ttl = self._ttl_ms
        guard = self._guard(lambda token: stock.lock(token, ttl), stock, buyer)
        return self._guarded(buyer, guard, stock)


class Fenced(_RedisLocked):
    name = "fenced"

    def buyer_parts(self, buyer: int) -> Purchase:
        stock = self._stock(buyer)
        ttl = self._ttl_ms
        guard = self._guard(lambda token: stock.lock_fenced(token, ttl), stock, buyer)
        return FencedPurchase(stock, guard, self._retries)
