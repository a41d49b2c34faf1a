"""`none`: read -> think -> write with nothing held; the race the seeds warn about."""

from __future__ import annotations

from booking.stores import StoreFile
from booking.strategies import Guarded, Unlocked
from booking.waits import Backoff


class Unguarded:
    def __init__(
        self,
        store: StoreFile,
        *,
        timeout_s: float,
        manager_lock: bool,
        poll: Backoff,
        buyers: int = 1,
        retries: int = 3,
    ) -> None:
        self._store = store

    def buyer_parts(self, buyer: int) -> Guarded:
        return Guarded(self._store.connect(buyer), Unlocked())

    def finish(self, sold_by: list[int]) -> int:
        return self._store.count()

    def close(self) -> None:
        return None
