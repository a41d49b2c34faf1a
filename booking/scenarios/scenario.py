"""Scenario: one workload, validated once, shared by the CLI, the API and scenario files."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from booking.errors import ScenarioError
from booking.memory import parse_size
from booking.scenarios.arrival import GATE, Arrival
from booking.scenarios.dsn import check_dsn, mask_dsn
from booking.seating import MAX_ORDER, PICKS, SeatPlan, Shape, parse_seats
from booking.stores import DSN_SCHEMES, NETWORK_STORES, STORES, infer_store
from booking.strategies import STRATEGIES
from booking.strategies.network import NOT_ON_A_SERVER
from booking.waits import MAX_POLL_S, MAX_WAIT_S, Backoff, crowd_backoff

#: Counts are carried as 64-bit integers between processes and in SQLite;
#: 2**53 keeps them exact in every JSON reader too.
MAX_COUNT = 2**53
MAX_BUYERS = 100_000
JSON_WRITE_MODES = ("atomic", "inplace")
DEFAULT_THINK_MS = (1.0, 5.0)
MAX_THINK_MS = 3_600_000.0  # an hour: beyond it time.sleep overflows, and nobody means it
#: filelock's wait poll. None (no --poll-ms): adaptive, waits.crowd_backoff(buyers). No
#: fixed poll suits every crowd: the library's 50 ms makes small crowds' waits measure the
#: poll; 5 ms was best at 50 buyers (think 1:5, sqlite: 393 attempts/s against 240 at 1 ms
#: and 190 at 50 ms) but 200 waiters polling at 200 Hz starve the holder on 2 cores
#: (4.3 s against 0.8 s at 50 ms). An explicit --poll-ms is a fixed poll.
DEFAULT_POLL_MS: float | None = None
MAX_POLL_MS = MAX_POLL_S * 1000
DEFAULT_RETRIES = 3
DEFAULT_LOCK_TTL_MS = 1_000.0
TTL_STRATEGIES = ("ttl-lock", "fenced")
MAX_RETRIES = 1_000
#: Why a fault option cannot apply to a strategy that the registry gives no such fault.
_NO_FAULT = {
    "holder": "its buyers hold nothing while they think (no guard, no read of their own)",
    "writer": "its buyers never write the store",
}


def _quote(text: str) -> str:
    """A user's text in a message: quoted, and on one line whatever it holds."""
    return json.dumps(text, ensure_ascii=False)


def parse_think(text: str) -> tuple[float, float]:
    """Read `MIN:MAX` or one number (milliseconds) into a (min, max) pair."""
    parts = text.split(":")
    if len(parts) > 2 or not all(p.strip() for p in parts):
        raise ScenarioError(f"think {_quote(text)}: expected MIN:MAX or one number of milliseconds")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ScenarioError(
            f"think {_quote(text)}: expected MIN:MAX or one number of milliseconds"
        ) from None
    low, high = values[0], values[-1]
    if not all(math.isfinite(v) and 0 <= v <= MAX_THINK_MS for v in values):
        raise ScenarioError(
            f"think {_quote(text)}: milliseconds must be finite, >= 0 and at most "
            f"{MAX_THINK_MS:,.0f}"
        )
    if low > high:
        raise ScenarioError(f"think {_quote(text)}: MIN {low:g} is greater than MAX {high:g}")
    return low, high


def format_think(think_ms: tuple[float, float]) -> str:
    low, high = think_ms
    return f"{low:g}" if low == high else f"{low:g}:{high:g}"


def _choice(kind: str, value: str, choices: Mapping[str, object]) -> None:
    if value not in choices:
        raise ScenarioError(f'unknown {kind} "{value}"; expected one of {", ".join(choices)}')


@dataclass(frozen=True)
class Scenario:
    """One workload: who buys what from which store, coordinated how."""

    buyers: int = 50
    tickets: int | None = None
    store: str | None = None
    strategy: str = "lock"
    think_ms: tuple[float, float] = DEFAULT_THINK_MS
    attempts: int = 1
    seed: int | None = None
    timeout_s: float = 30.0
    path: Path | None = None
    reset: bool = False
    json_write: str = "atomic"
    manager_lock: bool = True
    arrival: Arrival = GATE
    poll_ms: float | None = DEFAULT_POLL_MS  # None: adaptive (see poll_backoff)
    kill_holder: int = 0  # buyers that SIGKILL themselves inside the critical section
    kill_writer: int = 0  # buyers that SIGKILL themselves half-way through a write
    stall_timeout_s: float | None = None  # end the run after this long with no progress
    #: What the run may use, in bytes or as a size ("800M", "4G"); None: half of what is
    #: available at its start (engine.admission).
    max_memory: int | str | None = None
    #: `optimistic`: how many times a buyer re-reads and tries again after a conflict
    #: before it gives up (ignored by the other strategies).
    retries: int = DEFAULT_RETRIES
    #: A seat map instead of a count: "ROWSxCOLS" (--seats); orders of `order` seats,
    #: picked "best", "random" or "together".
    seats: str | None = None
    order: int = 1
    pick: str = "best"
    #: A networked store's server (postgres, redis): its URL; None: a throwaway server
    #: started for the run (and `kill_server_ms` after the start SIGKILLs it).
    dsn: str | None = None
    kill_server_ms: float | None = None
    #: ttl-lock and fenced: how long the lock lives (None: DEFAULT_LOCK_TTL_MS).
    lock_ttl_ms: float | None = None

    @property
    def shape(self) -> Shape | None:
        """The seat map's shape; None for a count run. Raises ScenarioError when bad."""
        if self.seats is None:
            return None
        if not isinstance(self.seats, str):
            raise ScenarioError(f'seats must be text such as "10x20", not {self.seats!r}')
        try:
            return parse_seats(self.seats)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None

    def seat_plan(self, seed: int) -> SeatPlan | None:
        shape = self.shape
        return None if shape is None else SeatPlan(shape, self.order, self.pick, seed)

    @property
    def store_name(self) -> str:
        """The store kind: given; else the path's suffix says; else json, the default,
        unless the strategy works only on other stores (transaction: sqlite)."""
        if self.store:
            return self.store
        inferred = infer_store(self.path, self.dsn)
        info = STRATEGIES.get(self.strategy)
        if self.path is None and info is not None and info.stores and inferred not in info.stores:
            return info.stores[0]
        return inferred

    @property
    def poll_backoff(self) -> Backoff:
        """How filelock's waiters poll: the fixed --poll-ms, or chosen from the crowd."""
        if self.poll_ms is not None:
            return Backoff.fixed(self.poll_ms / 1000)
        return crowd_backoff(self.buyers)

    @property
    def memory_limit(self) -> int | None:
        """max_memory in bytes. Raises ScenarioError for a bad size."""
        value = self.max_memory
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return parse_size(value)
            except ValueError as exc:
                raise ScenarioError(f"max memory: {exc}") from None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ScenarioError(
                f'max memory must be a number of bytes or a size such as "800M", not {value!r}'
            )
        return value

    @property
    def initial_tickets(self) -> int:
        """Tickets for a new or reset store (10 when not given, as in the seeds' db.json);
        a seat map's seats."""
        shape = self.shape
        if shape is not None:
            return shape.size
        return 10 if self.tickets is None else self.tickets

    def validate(self) -> Scenario:
        """Raise ScenarioError with a one-line reason for the first bad parameter."""
        if isinstance(self.buyers, bool) or not isinstance(self.buyers, int):
            raise ScenarioError(f"buyers must be a whole number, not {self.buyers!r}")
        if not 1 <= self.buyers <= MAX_BUYERS:
            raise ScenarioError(f"buyers must be between 1 and {MAX_BUYERS:,}, not {self.buyers}")
        if self.tickets is not None and not 0 <= self.tickets <= MAX_COUNT:
            raise ScenarioError(f"tickets must be between 0 and 2**53, not {self.tickets}")
        if self.attempts < 1:
            raise ScenarioError(f"attempts must be at least 1, not {self.attempts}")
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise ScenarioError(f"seed must be between 0 and 2**63-1, not {self.seed}")
        if not (math.isfinite(self.timeout_s) and 0 < self.timeout_s <= MAX_WAIT_S):
            raise ScenarioError(
                f"timeout must be a positive number of seconds up to {MAX_WAIT_S:,.0f} "
                f"(a week), not {self.timeout_s}"
            )
        low, high = self.think_ms
        if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high <= MAX_THINK_MS):
            raise ScenarioError(f"think must satisfy 0 <= MIN <= MAX, not {low:g}:{high:g}")
        if self.path is not None and (not self.path.name or self.path.is_dir()):
            raise ScenarioError(f'path "{self.path}": expected a store file, not a directory')
        if self.store is not None:
            _choice("store", self.store, STORES)
        _choice("strategy", self.strategy, STRATEGIES)
        info = STRATEGIES[self.strategy]
        if not info.supports(self.store_name):
            why = NOT_ON_A_SERVER.get(self.strategy) if self.store_name in NETWORK_STORES else None
            raise ScenarioError(
                f'strategy "{self.strategy}" does not work on the {self.store_name} store; '
                + (why or f"it needs {' or '.join(info.stores or ())}")
            )
        if self.json_write not in JSON_WRITE_MODES:
            raise ScenarioError(
                f'unknown json-write mode "{self.json_write}"; expected one of '
                + ", ".join(JSON_WRITE_MODES)
            )
        if self.json_write != "atomic" and self.store_name != "json":
            raise ScenarioError("--json-write only applies to the json store")
        if not self.manager_lock and self.strategy != "manager":
            raise ScenarioError("--no-manager-lock only applies to --strategy manager")
        self.arrival.validate()
        if self.poll_ms is not None and not (
            math.isfinite(self.poll_ms) and 0 < self.poll_ms <= MAX_POLL_MS
        ):
            raise ScenarioError(
                f"poll must be more than 0 and at most {MAX_POLL_MS:g} ms, not {self.poll_ms:g}"
            )
        for name, value in (("kill-holder", self.kill_holder), ("kill-writer", self.kill_writer)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ScenarioError(f"{name} must be a whole number >= 0, not {value!r}")
        if self.kill_holder + self.kill_writer > self.buyers:
            raise ScenarioError(
                f"cannot kill {self.kill_holder + self.kill_writer} of {self.buyers} buyers"
            )
        if self.stall_timeout_s is not None and not (
            math.isfinite(self.stall_timeout_s) and 0 < self.stall_timeout_s <= MAX_WAIT_S
        ):
            raise ScenarioError(
                f"stall timeout must be a positive number of seconds, not {self.stall_timeout_s}"
            )
        if isinstance(self.retries, bool) or not isinstance(self.retries, int):
            raise ScenarioError(f"retries must be a whole number, not {self.retries!r}")
        if not 0 <= self.retries <= MAX_RETRIES:
            raise ScenarioError(
                f"retries must be between 0 and {MAX_RETRIES:,}, not {self.retries}"
            )
        self._check_faults()
        self._check_seats()
        self._check_server()
        if self.poll_ms is not None and self.strategy != "filelock":
            raise ScenarioError("--poll-ms only applies to --strategy filelock")
        _ = self.memory_limit  # a bad size raises
        return self

    @property
    def lock_ttl(self) -> float:
        """ttl-lock's and fenced's TTL in milliseconds."""
        return DEFAULT_LOCK_TTL_MS if self.lock_ttl_ms is None else self.lock_ttl_ms

    def _check_server(self) -> None:
        """--dsn, --kill-server and --lock-ttl where they mean something, and sound."""
        store = self.store_name
        if store not in NETWORK_STORES:
            if self.dsn is not None and self.store is None:
                raise ScenarioError(
                    f"dsn {json.dumps(mask_dsn(self.dsn))}: not a server booking knows; "
                    "expected postgresql://, postgres:// or redis://"
                )
            for given, option in ((self.dsn, "--dsn"), (self.kill_server_ms, "--kill-server")):
                if given is not None:
                    raise ScenarioError(
                        f"{option} only applies to a networked store (--store "
                        f"{' or '.join(NETWORK_STORES)})"
                    )
        else:
            if self.path is not None:
                raise ScenarioError(
                    f"--path names a store file; a {store} store lives on a server: give "
                    f"--dsn {DSN_SCHEMES[store][0]}..., or nothing for a throwaway server"
                )
            if self.dsn is not None:
                check_dsn(store, self.dsn)
                if self.kill_server_ms is not None:
                    raise ScenarioError(
                        "--kill-server kills the throwaway server booking starts; it never "
                        "kills a server you run (drop --dsn, or unset BOOKING_DSN)"
                    )
            if self.kill_server_ms is not None and not (
                math.isfinite(self.kill_server_ms) and 0 <= self.kill_server_ms <= MAX_THINK_MS
            ):
                raise ScenarioError(
                    f"kill server must be a number of milliseconds between 0 and "
                    f"{MAX_THINK_MS:,.0f}, not {self.kill_server_ms:g}"
                )
        if self.lock_ttl_ms is not None:
            if self.strategy not in TTL_STRATEGIES:
                raise ScenarioError(
                    f"--lock-ttl only applies to --strategy {' or '.join(TTL_STRATEGIES)}"
                )
            ttl = self.lock_ttl_ms
            # Redis counts PX in whole milliseconds: a fraction would be a TTL not kept.
            if not (math.isfinite(ttl) and float(ttl).is_integer() and 1 <= ttl <= MAX_THINK_MS):
                raise ScenarioError(
                    f"lock ttl must be a whole number of milliseconds from 1 to "
                    f"{MAX_THINK_MS:,.0f}, not {ttl:g}"
                )

    def _check_seats(self) -> None:
        """A seat map, its orders and a strategy that sells seats, or none of them."""
        shape = self.shape
        info = STRATEGIES[self.strategy]
        if shape is None:
            if self.order != 1 or self.pick != "best":
                option = "--order" if self.order != 1 else "--pick"
                raise ScenarioError(f"{option} only applies to a seat map (--seats ROWSxCOLS)")
            if "count" not in info.sells:
                raise ScenarioError(
                    f'strategy "{self.strategy}" sells seats: add --seats ROWSxCOLS'
                )
            return
        if self.tickets is not None:
            raise ScenarioError(
                "--tickets and --seats do not go together: a seat map's seats are its tickets"
            )
        if "seats" not in info.sells:
            sellers = ", ".join(name for name, i in STRATEGIES.items() if "seats" in i.sells)
            raise ScenarioError(
                f'strategy "{self.strategy}" does not sell seats; with --seats use one of {sellers}'
            )
        if isinstance(self.order, bool) or not isinstance(self.order, int):
            raise ScenarioError(f"order must be a whole number of seats, not {self.order!r}")
        most = min(shape.size, MAX_ORDER)
        if not 1 <= self.order <= most:
            raise ScenarioError(
                f"order must be between 1 and {most} seats"
                + (" (the seats of the map)" if most == shape.size else "")
                + f", not {self.order}"
            )
        _choice("pick", self.pick, dict.fromkeys(PICKS))
        if self.pick == "together" and self.order > shape.cols:
            raise ScenarioError(
                f"an order of {self.order} seats together does not fit in a row of "
                f"{shape.cols} (--seats {shape})"
            )

    def _check_faults(self) -> None:
        """A fault option that means nothing for this strategy's protocol is refused."""
        info = STRATEGIES[self.strategy]
        if info.design == "seller" and self.kill_holder + self.kill_writer > 1:
            raise ScenarioError(
                f"--strategy {self.strategy} has one seller, which can die only once: use "
                "--kill-holder 1 or --kill-writer 1"
            )
        for kind, count in (("holder", self.kill_holder), ("writer", self.kill_writer)):
            if count and info.fault(kind) is None:
                can = " and ".join(f"--kill-{k} ({what})" for k, what in info.faults)
                raise ScenarioError(
                    f"--kill-{kind} does not apply to --strategy {self.strategy}: "
                    f"{_NO_FAULT.get(kind, 'nothing to kill there')}"
                    + (f"; it takes {can}" if can else "")
                )
