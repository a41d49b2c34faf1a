"""How buyers arrive after the start gate opens: all at once, at a steady rate, or staggered.

A flash sale (everyone at the gate) is the worst case for a race; spreading arrivals out
gives each purchase more room, and the simulator shows how much oversell that buys back.
Offsets are computed in the parent, so a seed reproduces them exactly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from booking.errors import ScenarioError

MAX_OFFSET_S = 3600.0


@dataclass(frozen=True)
class Arrival:
    """rate: buyers per second, buyer i arriving at i / rate; stagger_ms: each buyer waits a
    uniform random delay in [low, high] ms. Neither: everyone at once (the default)."""

    rate: float | None = None
    stagger_ms: tuple[float, float] | None = None

    def validate(self) -> Arrival:
        if self.rate is not None and self.stagger_ms is not None:
            raise ScenarioError("arrival takes rate or stagger_ms, not both")
        if self.rate is not None and not (math.isfinite(self.rate) and self.rate > 0):
            raise ScenarioError(
                f"arrival rate must be a positive number of buyers per second, not {self.rate}"
            )
        if self.stagger_ms is not None:
            low, high = self.stagger_ms
            if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
                raise ScenarioError(
                    f"arrival stagger_ms must satisfy 0 <= low <= high, not [{low:g}, {high:g}]"
                )
            if high / 1000 > MAX_OFFSET_S:
                raise ScenarioError(f"arrival stagger_ms is capped at {MAX_OFFSET_S * 1000:g}")
        return self

    def offsets_s(self, buyers: int, seed: int) -> tuple[float, ...]:
        """Each buyer's delay after the gate, in seconds (empty: no delay at all)."""
        if self.rate is not None:
            return tuple(index / self.rate for index in range(buyers))
        if self.stagger_ms is not None:
            low, high = self.stagger_ms
            rng = random.Random(f"{seed}/arrival")
            return tuple(rng.uniform(low, high) / 1000 for _ in range(buyers))
        return ()

    def describe(self) -> str:
        if self.rate is not None:
            return f"{self.rate:g}/s"
        if self.stagger_ms is not None:
            low, high = self.stagger_ms
            return f"stagger {low:g}:{high:g}ms"
        return "gate"


GATE = Arrival()
