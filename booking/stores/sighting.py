"""What a store saw of other writers during a run: plain values the stores fill in and the
judge reads (in a module of their own, so `--help` never builds them)."""

from __future__ import annotations

from typing import NamedTuple


class Writer(NamedTuple):
    """Another writer a store saw during a run: a run id from the sqlite ledger, or the
    writer tag of a JSON file a buyer read ("" for a file written outside booking)."""

    run: str
    strategy: str = ""  # as its JSON tag says; "" when unknown (ledger rows, untagged files)
    same_lock: bool = False  # it held this store's <store>.lock (filelock on the same file)
    sales: int | None = None  # its ledger rows since the mark; None: the store has no ledger
    reads: int = 0  # this run's reads that found a file it wrote (JSON)
    overwrites: int = 0  # this run's writes that replaced a file of its, unread (JSON)


class Sighting(NamedTuple):
    """What a store can tell about other writers between the start mark and now.

    The sqlite store keeps a ledger, so it counts every sale of every run exactly. A JSON
    file only carries a tag naming the run that wrote it last (an extended attribute), so
    it sees the writers whose files this run's buyers happened to read."""

    ledger: bool = False  # `sales` and each writer's `sales` are exact ledger counts
    sales: int = 0  # ledger rows since the mark, every run's
    ledger_count: int | None = None  # the count read together with `sales` (one snapshot)
    others: tuple[Writer, ...] = ()
    resets: tuple[str, ...] = ()  # runs that reset the store's count since the mark
    overwritten: int | None = None  # the changed count a write-back replaced (manager)
    identity: bool = True  # False: the store cannot tell writers apart (JSON inplace, no xattrs)
    concurrent: bool = False  # another booking run was on the store at this run's start or end


def ledger_sighting(
    own: str,
    count: int,
    sales: list[tuple[str, int]],
    resets: list[str],
    overwritten: int | None,
) -> Sighting:
    """What a store with a ledger saw since the mark: `sales` per run in the order they
    came (this run's, `own`, among them), `resets` by run, read in one snapshot with the
    count. Every ledger store (sqlite, postgres, redis) says it the same way."""
    from booking.words import printable

    return Sighting(
        ledger=True,
        sales=sum(n for _, n in sales),
        ledger_count=count,
        others=tuple(Writer(printable(str(run)), sales=n) for run, n in sales if run != own),
        resets=tuple(printable(str(run)) for run in resets),
        overwritten=overwritten,
    )
