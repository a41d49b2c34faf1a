"""What an exploration runs: a small workload, checked before anything starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from booking.errors import ScenarioError
from booking.scenarios.scenario import Scenario
from booking.stores import NETWORK_STORES
from booking.strategies import STRATEGIES

#: Exploration is for small runs: the schedules of N buyers grow like N^steps.
MAX_BUYERS = 8
MAX_TICKETS = 20
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Workload:
    """Who buys what from which store under which strategy, with no time in it: no think,
    no arrival, no timeout. Order alone decides what happens."""

    strategy: str
    store: str = "json"
    buyers: int = 2
    tickets: int = 1
    attempts: int = 1
    manager_lock: bool = True
    retries: int = 3
    json_write: str = "atomic"
    seed: int = 0  # the seed of the record; explore's own seed

    def scenario(self) -> Scenario:
        """The same workload as a run's Scenario, for its checks and its judge."""
        return Scenario(
            buyers=self.buyers,
            tickets=self.tickets,
            store=self.store,
            strategy=self.strategy,
            think_ms=(0.0, 0.0),
            attempts=self.attempts,
            seed=self.seed,
            json_write=self.json_write,
            manager_lock=self.manager_lock,
            retries=self.retries,
            poll_ms=1.0 if self.strategy == "filelock" else None,
        )

    def validate(self) -> Workload:
        """Raise ScenarioError with a one-line reason for the first bad value."""
        for name, low, high in (
            ("buyers", 1, MAX_BUYERS),
            ("tickets", 0, MAX_TICKETS),
            ("attempts", 1, MAX_ATTEMPTS),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ScenarioError(f"{name} must be a whole number, not {value!r}")
            if not low <= value <= high:
                raise ScenarioError(
                    f"{name} must be between {low} and {high} to explore, not {value}: "
                    "the schedules grow exponentially with the steps (use booking run for "
                    "larger runs)"
                )
        if not isinstance(self.strategy, str) or self.strategy not in STRATEGIES:
            raise ScenarioError(
                f'unknown strategy "{self.strategy}"; expected one of {", ".join(STRATEGIES)}'
            )
        if "count" not in STRATEGIES[self.strategy].sells:
            raise ScenarioError(
                f'explore races a ticket count; strategy "{self.strategy}" sells seats '
                "(booking run --seats ROWSxCOLS)"
            )
        scenario = self.scenario().validate()
        if scenario.store_name in NETWORK_STORES:
            raise ScenarioError(
                f"explore replays its schedules on a file store (json or sqlite); a "
                f"{scenario.store_name} store's waits happen inside its server, where no "
                "schedule can order them (booking run --store "
                f"{scenario.store_name} races it for real)"
            )
        return self

    def points(self) -> frozenset[str]:
        """The steps its buyers stop at (engine/controlled.py): the look, then the
        protocol's own. A guard that is nothing (none, manager without its lock) has no
        acquire or release to stop at."""
        info = STRATEGIES[self.strategy]
        if info.design in ("guard", "snapshot"):
            bare = self.strategy == "manager" and not self.manager_lock
            unlocked = not info.holds_guard or bare
            own = {"read", "write"} if unlocked else {"acquire", "read", "write", "release"}
        else:
            own = {"conditional": {"update"}, "seller": {"ask"}}.get(info.design, {"read", "write"})
        return frozenset({"look", *own})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Workload:
        """A workload saved by to_dict; ScenarioError for anything else."""
        if not isinstance(data, dict):
            raise ScenarioError("the workload must be an object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ScenarioError(f"unknown workload key {unknown[0]!r}")
        if "strategy" not in data:
            raise ScenarioError("the workload names no strategy")
        types = {"strategy": str, "store": str, "json_write": str, "manager_lock": bool}
        for key, value in data.items():
            want = types.get(key, int)
            if want is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ScenarioError(f"workload {key} must be a whole number, not {value!r}")
            if want is not int and not isinstance(value, want):
                raise ScenarioError(f"workload {key} must be a {want.__name__}, not {value!r}")
        return cls(**data).validate()
