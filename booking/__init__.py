"""booking: a ticket-booking race simulator.

    from booking import Scenario, explore, simulate
    result = simulate(Scenario(buyers=50, strategy="none"))
    print(result.verdict, result.oversold)

    found = explore("none", buyers=2, tickets=1)  # every interleaving, in order
    print(found.counterexample.story())

Names are imported on first use, so `booking --help` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "BookingError",
    "Comparison",
    "Result",
    "Scenario",
    "compare",
    "explore",
    "replay",
    "simulate",
]

if TYPE_CHECKING:
    from booking.comparison.driver import Comparison, compare
    from booking.errors import BookingError
    from booking.judge.result import Result
    from booking.scenarios.scenario import Scenario
    from booking.schedules.exploration import explore
    from booking.schedules.replaying import replay
    from booking.simulation import simulate

_LAZY = {
    "BookingError": "booking.errors",
    "Comparison": "booking.comparison.driver",
    "compare": "booking.comparison.driver",
    "Result": "booking.judge.result",
    "Scenario": "booking.scenarios.scenario",
    "simulate": "booking.simulation",
    "explore": "booking.schedules.exploration",
    "replay": "booking.schedules.replaying",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'booking' has no attribute {name!r}")
