"""`none`: read -> think -> write with nothing held; the race the seeds warn about."""

from __future__ import annotations

from booking.strategies import Guarded, Unlocked
from booking.strategies.on_store import OnTheStore


class Unguarded(OnTheStore):
    def buyer_parts(self, buyer: int) -> Guarded:
        return Guarded(self._store.connect(buyer), Unlocked())
