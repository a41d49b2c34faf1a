"""The result record of one run: the contract of `booking run --json` (DESIGN.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = (
    "SAFE",
    "OVERSOLD",
    "DOUBLE_BOOKED",
    "PARTIAL",
    "LOST_UPDATES",
    "ERRORS",
    "DEADLOCK",
    "CORRUPT",
    "INTERFERED",
    "TIMEOUT",
    "INTERRUPTED",
    "ABORTED",
)
#: Verdicts of a run that ended before it could show the strategy safe, without having
#: seen anything wrong: no anomaly of the strategy, and no proof of its safety either.
#: ABORTED: the memory guard stopped it (below MEMORY_FLOOR_FRACTION of MemTotal).
INCONCLUSIVE = frozenset({"TIMEOUT", "INTERRUPTED", "ABORTED"})


@dataclass(frozen=True)
class Result:
    # The contract: these keys, in this order; more may be added, none renamed.
    store: str
    strategy: str
    buyers: int
    tickets: int
    seed: int
    sold: int
    remaining: int | None
    oversold: int
    lost_updates: int
    refused: int
    errors: int
    max_inside: int
    wall_s: float
    throughput: float
    latency_ms: dict[str, float]
    verdict: str
    # More of what was measured.
    attempts: int = 0
    attempts_per_buyer: int = 1
    think_ms: tuple[float, float] = (0.0, 0.0)
    json_write: str | None = None
    manager_lock: bool | None = None
    poll_ms: float | None = None  # filelock's fixed wait poll (--poll-ms); None: adaptive
    poll_backoff_ms: list[float] | None = None  # filelock's adaptive poll: [start, cap]
    lock_wait_ms: dict[str, float] = field(default_factory=dict)  # acquire step: p50..max
    handoff_ms: dict[str, float] = field(default_factory=dict)  # guard idle while awaited
    killed: int = 0  # buyers killed on purpose (--kill-holder, --kill-writer)
    torn_reads: int = 0
    lock_timeouts: int = 0
    busy: int = 0
    failed_buyers: int = 0
    external_sales: int = 0
    startup_s: float = 0.0
    timed_out: bool = False
    interrupted: bool = False
    aborted: str = ""  # why the memory guard stopped the run ("memory: ..."); "": it did not
    path: str | None = None
    arrival: str = "gate"  # everyone at the gate at once; or "200/s", "stagger 0:50 ms"
    explanation: list[str] = field(default_factory=list)
    # Other writers of the store during the run (INTERFERED; see checker.interference).
    interfered: bool = False  # another process changed the store, uncoordinated or harmfully
    other_sales: int | None = None  # sales by other runs meanwhile, by the sqlite ledger
    store_sales: int | None = None  # every run's sales meanwhile, by the sqlite ledger
    store_oversold: int | None = None  # store_sales beyond the tickets held at the start
    other_runs: list[str] = field(default_factory=list)  # their run ids, as far as seen
    # How a purchase was made: "guard", "conditional", "compare-and-set" or "seller".
    protocol: str = "guard"
    steps: list[str] = field(default_factory=list)  # what one attempt does, in order
    conflicts: int = 0  # compare-and-set writes that found the version changed
    retries: int = 0  # the re-reads those conflicts led to
    gave_up: int = 0  # attempts that ran out of retries (conflicts = retries + gave_up)
    max_retries: int | None = None  # --retries (optimistic only)
    lock_ttl_ms: float | None = None  # --lock-ttl (ttl-lock and fenced only)
    # Seat runs (--seats): the map's shape ("5x10"), seats per order, how buyers pick.
    seats: str | None = None
    order: int | None = None
    pick: str | None = None
    double_booked: int = 0  # seats named by more than one receipt
    partial_orders: int = 0  # receipts whose buyer holds some, not all, of their seats
    lost_seats: int = 0  # seats a receipt names that the store shows free or another's
    # Per seat, row-major: "." free, "S" sold once, "D" double-booked, "L" lost (a receipt
    # names it, the store says otherwise), "U" held by a buyer of this run without a
    # receipt, "O" held before the run or by another run.
    seat_map: list[str] | None = None
    seat_fights: list[int] | None = None  # per seat: how many buyers tried for it

    @property
    def safe(self) -> bool:
        return self.verdict == "SAFE"

    @property
    def anomalous(self) -> bool:
        """Something went wrong with the tickets or the guard: neither SAFE nor merely
        cut short (a too-short --timeout, Ctrl-C, the memory guard)."""
        return not self.safe and self.verdict not in INCONCLUSIVE

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["think_ms"] = list(self.think_ms)
        return record
