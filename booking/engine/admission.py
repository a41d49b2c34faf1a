"""Admission: before anything is forked or a store is touched, refuse a run this machine
cannot hold, naming the numbers and what to do, rather than let it die half-way (or take
the machine down with it: without swap, running out of memory is the kernel's OOM killer).

Two limits: the user's process limit (`ulimit -u`), and memory. The memory a run will use
is estimated from the measured cost of one buyer, with a margin, and compared with what
the run may use: `--max-memory` (`max_memory` in scenario files and the API) or, by
default, half of MemAvailable read now.
"""

from __future__ import annotations

import math

from booking.engine.memory_guard import MEMORY_FLOOR_FRACTION
from booking.errors import ResourceError
from booking.memory import Meminfo, format_size

MIB = 1 << 20

#: What one buyer adds to the memory the machine holds at the run's peak, in MiB: its own
#: pages (the parent's, copied as the buyer runs Python code), its page tables, kernel
#: stack and kernel objects. Measured by benchmarks/memory.py, 1,000 buyers, think 0, on a
#: 2-core 24 GiB machine with Python 3.11 (BENCHMARKS.md, section 6), rounded up. A sqlite
#: buyer keeps a connection and its page cache; the filelock library runs much more code in
#: each buyer (its fork hooks, a lock object): twice a lock buyer's cost.
PER_BUYER_MIB: dict[tuple[str, str], float] = {
    ("none", "json"): 1.8,
    ("lock", "json"): 1.8,
    ("manager", "json"): 2.2,
    ("filelock", "json"): 3.4,
    ("none", "sqlite"): 2.4,
    ("lock", "sqlite"): 2.4,
    ("manager", "sqlite"): 2.3,
    ("transaction", "sqlite"): 2.3,
    ("filelock", "sqlite"): 4.2,
    # Issue 12's protocols (1,000 buyers, regular install): held peak 2.67, 3.48, 2.59,
    # 2.33, 2.01 and 2.18 MiB a buyer. optimistic/json pays for filelock as filelock does;
    # a queue buyer runs the least code; the seller is one more process, inside the margin.
    ("atomic", "sqlite"): 2.7,
    ("optimistic", "json"): 3.5,
    ("optimistic", "sqlite"): 2.6,
    ("deferred", "sqlite"): 2.4,
    ("queue", "json"): 2.1,
    ("queue", "sqlite"): 2.2,
}


#: What a buyer that makes more than one attempt adds to the table, in MiB: its second
#: attempt runs code its first did not, and its pages keep growing slowly with more (lock
#: /json, USS while buying: 1.64 MB at 1 attempt, 1.86 at 2, 1.90 at 20, 2.00 at 100,
#: 2.14 at 500).
MORE_ATTEMPTS_MIB = 0.6


#: The networked stores (issue 16), per buyer whatever the strategy: the buyer as a sqlite
#: one (a connection where sqlite has a file handle), plus its session in a server on this
#: machine (a throwaway one always is): a PostgreSQL backend took 1.26 MiB of MemAvailable
#: each (200 sessions that had locked rows, on a throwaway server), a Redis client well
#: under 0.1 MiB. Rounded up.
NETWORK_MIB: dict[str, float] = {"postgres": 2.7 + 1.3, "redis": 2.7 + 0.1}


def per_buyer(strategy: str, store: str, attempts: int = 1) -> int:
    """The measured cost of one buyer of this strategy on this store, in bytes; for a
    pair never measured, the dearest one measured."""
    mib = PER_BUYER_MIB.get((strategy, store)) or NETWORK_MIB.get(store)
    if mib is None:
        mib = max(PER_BUYER_MIB.values())
    if attempts > 1:
        mib += MORE_ATTEMPTS_MIB
    return int(mib * MIB)


#: The README's run: lock on JSON.
PER_BUYER_BYTES = per_buyer("lock", "json")
#: The same run measures within ~2 % from one time to the next; other Python builds and
#: machines differ more. The estimate asks for 15 % more, and the live guard (memory_guard)
#: stops whatever the estimate still misses.
MARGIN = 1.15
#: What the run needs besides its buyers: a Manager server process for the manager
#: strategy, the frames the parent collects, the store. A round figure, not a measurement.
PARENT_BYTES = 64 * MIB
#: By default a run may use this share of MemAvailable: another run, a browser or a build
#: may start meanwhile.
DEFAULT_SHARE = 0.5
#: Processes the user may already run besides the buyers (shell, editor, this parent...).
PROCESS_RESERVE = 64


def estimate(buyers: int, each: int = PER_BUYER_BYTES) -> int:
    """Bytes the run will add to the machine's memory in use at its peak, margin included,
    when one buyer costs `each` bytes."""
    return PARENT_BYTES + math.ceil(buyers * each * MARGIN)


def fitting(limit: int, each: int = PER_BUYER_BYTES) -> int:
    """The most buyers whose estimate stays within `limit` bytes (0 when none fit)."""
    return max(0, int((limit - PARENT_BYTES) // (each * MARGIN)))


def admit(
    buyers: int,
    max_memory: int | None,
    info: Meminfo | None,
    each: int = PER_BUYER_BYTES,
    *,
    what: str = "",
    name: str = "--max-memory",
) -> None:
    """Raise ResourceError unless the machine can hold `buyers` buyers: first the process
    limit, then memory. `max_memory` is the user's limit in bytes (None: half of what
    `info` says is available), given as `name` (the option or key the message names);
    `what` names the buyers ("filelock/sqlite"). When /proc/meminfo could not be read
    (`info` None) and no limit was given, the run is admitted: refusing every run where the
    kernel does not say would be worse than the risk, and the user can still give a limit."""
    check_processes(buyers)
    limit, source = _limit(max_memory, info, name)
    need = estimate(buyers, each)
    if limit is None or need <= limit:
        return
    more = info is None or need <= _ceiling(info)  # would a larger --max-memory do?
    most = fitting(limit, each)
    if most == 0:
        advice = "not even one buyer fits; " + (
            f"give a larger {name}" if more else "free some memory first"
        )
    else:
        advice = f"use at most {most:,} buyers" + (f", or a larger {name}" if more else "")
    who = f"{buyers:,} {what} buyers" if what else f"{buyers:,} buyers"
    raise ResourceError(_refusal(who, need, each, limit, source, advice))


def _limit(max_memory: int | None, info: Meminfo | None, name: str) -> tuple[int | None, str]:
    """What this run may use, and where that figure comes from. A --max-memory above what
    the machine can give (available less the floor) is refused even when the run would
    fit in it: the budget the user counted on is not there."""
    if max_memory is not None:
        if info is not None and max_memory > _ceiling(info):
            raise ResourceError(
                f"{name} {format_size(max_memory)} is more than this machine can give: "
                f"{_machine(info)}; use {name} {max(_ceiling(info), 0) // MIB}M or less"
            )
        return max_memory, f"set with {name}"
    if info is None:
        return None, ""
    share = int(info.available * DEFAULT_SHARE)
    if share <= _ceiling(info):
        return share, (f"half of the {format_size(info.available)} available; set it with {name}")
    return max(_ceiling(info), 0), (
        f"the {format_size(info.available)} available less {_floor_words(info)}"
    )


def _refusal(who: str, need: int, each: int, limit: int, source: str, advice: str) -> str:
    margin = round((MARGIN - 1) * 100)
    return (
        f"{who} need about {format_size(need)} ({format_size(each)} "
        f"each, with a {margin} % margin, and {format_size(PARENT_BYTES)} for the parent), "
        f"more than the {format_size(limit)} this run may use ({source}); {advice}"
    )


def _ceiling(info: Meminfo) -> int:
    """What a run may take before the machine's free memory reaches the floor."""
    return info.available - int(info.total * MEMORY_FLOOR_FRACTION)


def _floor_words(info: Meminfo) -> str:
    return f"{round(MEMORY_FLOOR_FRACTION * 100)} % of the machine's {format_size(info.total)}"


def _machine(info: Meminfo) -> str:
    return (
        f"{format_size(info.available)} is available and {_floor_words(info)} stays free, "
        f"which leaves {format_size(max(_ceiling(info), 0))}"
    )


def _raise_process_limit(soft: int, hard: int) -> str:
    """How to get more processes: up to the hard limit, or, when the soft limit already
    is the hard one, only by fewer buyers (raising a hard limit takes root)."""
    import resource

    fewer = f"use at most {max(soft - PROCESS_RESERVE, 1):,} buyers"
    if hard == resource.RLIM_INFINITY:
        return f"raise it with `ulimit -u unlimited` or {fewer}"
    if hard > soft:
        return f"raise it with `ulimit -u {hard}` or {fewer}"
    return f"that is also the hard limit, which only root can raise; {fewer}"


def check_processes(buyers: int) -> None:
    """Refuse, naming the limit and how to raise it, when `buyers` more processes would
    pass the user's process limit. (Descriptors are no limit: the parent holds 4, however
    many buyers there are.)"""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    if soft != resource.RLIM_INFINITY and buyers + PROCESS_RESERVE > soft:
        raise ResourceError(
            f"{buyers:,} buyers need {buyers:,} processes, but the process limit "
            f"(ulimit -u) is {soft:,}; {_raise_process_limit(soft, hard)}"
        )
