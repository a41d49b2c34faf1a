"""`none`: read -> think -> write with nothing held; the race the seeds warn about."""

from __future__ import annotations

from booking.strategies import Purchase, Unlocked
from booking.strategies.on_store import OnTheStore


class Unguarded(OnTheStore):
    def buyer_parts(self, buyer: int) -> Purchase:
        return self._guarded(buyer, Unlocked())
