"""Other writers of a run's store: what the run can prove about them from what its buyers
read and what the store recorded, and whether they did harm. Pure, like the checker.

What each check proves, for a run whose every write left a receipt (a buyer reports a
write even when stopped; a killed holder dies before writing, a killed writer's half
write never becomes a count):
- the count went down by more than this run sold: someone else decremented it. Alone,
  every write is (a count read) - 1 and every count read is the start or one of ours, so
  the count can never fall below tickets - sold.
- a buyer read a count that is neither the start nor one this run wrote (or the store
  ended at one): someone else wrote it, for the same reason. Neither check sees another
  writer whose values happen to be ours (two `lock` runs in lockstep write the same
  sequence): that takes the store's own record below.
- the sqlite ledger holds rows of another run written since this run's start mark: that
  run sold those tickets meanwhile; the resets table says when another run reset it.
- a JSON file a buyer read carries another writer's tag (an atomic write makes a new
  file, tagged before it is renamed over the store): that writer wrote the store.
Whether it did harm: the ledger balances (every sale since the mark took exactly one
ticket off the count) or it does not; a JSON store only knows whether each writer it
saw held the same <store>.lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from booking.engine.frames import NO_VALUE
from booking.stores.sighting import Sighting, Writer
from booking.words import plural as _plural

if TYPE_CHECKING:
    from booking.judge.checker import RunFacts


#: The strategies that coordinate every run on a store of each kind, as a sentence says them.
ACROSS_RUNS = {
    "json": "filelock (a lock file beside the store) and optimistic (a version under it)",
    "sqlite": "filelock (a lock file beside the store) and transaction (SQLite's write lock)",
    "postgres": "for-update (the row lock), advisory, serializable and atomic (the server's "
    "own locks and checks)",
    "redis": "fenced (a lock with a token the store checks) and atomic (a Lua script)",
}


class Interference(NamedTuple):
    """What this run can prove about other writers of its store, and what it makes of them."""

    proven: bool = False  # another process changed the store during the run
    harmless: bool = False  # coordinated with this run, and the store shows no harm
    voids_oversell: bool = False  # a reset meanwhile: receipts are not set against `tickets`
    other_sales: int | None = None  # ledger rows of other runs since the start
    store_sales: int | None = None  # ledger rows of every run since the start
    store_oversold: int | None = None  # max(0, store_sales - tickets)
    other_runs: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()

    @property
    def interfered(self) -> bool:
        """The verdict's question: was this run's store changed by someone it did not
        coordinate with (or in a way the store shows did harm)?"""
        return self.proven and not self.harmless


def stray_counts(facts: RunFacts) -> list[int]:
    """Counts this run saw (read, or left at the end) that it never wrote and did not start
    from: each one was written by another process."""
    written = {r.written_value for r in facts.records if r.written_value != NO_VALUE}
    known = written | {facts.tickets}
    seen = {r.read_value for r in facts.records if r.read_value != NO_VALUE}
    if facts.remaining is not None:
        seen.add(facts.remaining)
    return sorted(seen - known, reverse=True)


def _writer(writer: Writer) -> str:
    if not writer.run:
        return "a writer the store cannot name (its file carries no writer tag)"
    return f"run {writer.run}" + (f" ({writer.strategy})" if writer.strategy else "")


def _runs(writers: list[Writer]) -> str:
    names = ", ".join(_writer(w) for w in writers[:3]) + (", ..." if len(writers) > 3 else "")
    return names if len(writers) == 1 else f"{len(writers)} other writers: {names}"


def interference(facts: RunFacts, sold: int, lost: int, external: int, inside: int) -> Interference:
    """Judge what the run saw of other writers of its store (see the notes above)."""
    seen = facts.sighting or Sighting(identity=False)
    tickets = facts.tickets
    if unanswered := _unanswered_sales(facts, seen, external):
        one = unanswered == 1
        return Interference(
            lines=(
                f"{_plural(unanswered, 'sale')} of this run reached the store but no buyer "
                f"heard of {'it' if one else 'them'}: the seller made {'it' if one else 'them'}"
                ", then died before it could answer, so "
                f"{'that ticket was' if one else 'those tickets were'} sold without a "
                "receipt. No other process wrote the store.",
            )
        )
    stray = stray_counts(facts)
    others = list(seen.others)
    # Every purchase made alone, yet the count fell by less than the sales: this run's
    # buyers cannot have overwritten one another, so someone else changed the count.
    alone_yet_lost = bool(lost) and inside <= 1
    evidence = bool(
        external or stray or others or seen.resets or seen.overwritten is not None or alone_yet_lost
    )
    # Another run on the store at this run's start or end shares its stock. That alone
    # proves nothing against a strategy that coordinates runs (filelock, transaction):
    # the store's own records judge those.
    shared = seen.concurrent and not facts.across_runs
    proven = evidence or shared
    if not proven:
        return Interference()
    drop = tickets - facts.remaining if facts.remaining is not None else None
    # The ledger's sales are set against the count read in the same snapshot (later than
    # `remaining` when another run is still selling).
    books = tickets - seen.ledger_count if seen.ledger_count is not None else drop
    moved = (
        "" if drop is None else f"it went down by {drop}" if drop >= 0 else f"it went up by {-drop}"
    )
    facts_seen: list[str] = []
    other_sales = store_sales = store_oversold = None
    balanced = False
    if seen.ledger:
        other_sales = sum(w.sales or 0 for w in others)
        store_sales = seen.sales
        balanced = books == store_sales and not seen.resets
        if others:
            facts_seen.append(
                f"its ledger holds {_plural(other_sales, 'sale')} by {_runs(others)} made meanwhile"
            )
        if not seen.resets:
            store_oversold = max(0, store_sales - tickets)
    elif others:
        read = sum(w.reads for w in others)
        overwrote = sum(w.overwrites for w in others)
        found = []
        if read:
            found.append(f"{read} of this run's reads found a file written by {_runs(others)}")
        if overwrote:
            found.append(
                f"{overwrote} of its writes replaced a file {'that run' if read else _runs(others)}"
                " had written since the buyer read it"
            )
        facts_seen.append("; ".join(found) or f"the store was last written by {_runs(others)}")
    if seen.resets:
        facts_seen.append(f"run {', '.join(seen.resets)} reset its count")
    if seen.overwritten is not None:
        facts_seen.append(
            f"while the stock was in the manager its count changed from {tickets} to "
            f"{seen.overwritten}, and writing back erased that change"
        )
    if shared:
        facts_seen.append(
            "another booking run was using this store at the same time (at this run's "
            "start or end), selling from the same stock"
        )
    if alone_yet_lost and not facts_seen:
        facts_seen.append(
            "every purchase of this run was made alone (at most 1 buyer inside the read -> "
            "write window), so the difference is another process's write"
        )
    if stray and not facts_seen:
        shown = ", ".join(map(str, stray[:3])) + (", ..." if len(stray) > 3 else "")
        facts_seen.append(f"the store held counts this run never wrote ({shown})")
    what = "; ".join(([f"{moved} while this run sold {sold}"] if moved else []) + facts_seen)
    lines = [f"Another process changed this store during the run: {what}."]

    strategy = facts.strategy
    coordinated = facts.across_runs and not seen.resets and seen.overwritten is None
    harmless = False
    if coordinated and seen.ledger:
        harmless = balanced
    elif coordinated and seen.identity and others:
        harmless = all(w.same_lock for w in others)
    if harmless and seen.ledger:
        lines.append(
            f"{strategy} coordinates every run on the store, and the ledger agrees: since this "
            f"run started it holds {_plural(store_sales or 0, 'sale')} for the "
            f"{_plural(tickets, 'ticket')} the store held then, and the count went down by "
            "exactly that: none oversold, none lost."
        )
    elif harmless:
        lines.append(
            f"Every writer seen held the store's lock file too ({strategy} coordinates every "
            f"run that uses it), so all sales were made one at a time: together they took "
            f"{drop} tickets off the count, none oversold."
        )
    elif not facts.across_runs:
        lines.append(
            f"The {strategy} strategy only coordinates the buyers of one run, so this result "
            "does not show what it does alone: "
            + ACROSS_RUNS.get(facts.store, ACROSS_RUNS["sqlite"])
            + " coordinate every run on the store."
        )
    elif seen.ledger:
        lines.append(
            f"{strategy} only coordinates runs that use it too, and the ledger shows "
            "someone did not."
        )
    elif others and seen.identity and all(w.same_lock for w in others):
        lines.append(
            "Every other writer held the store's lock file too, but the store's count was "
            "also reset or written back meanwhile, which no lock file guards."
        )
    elif others and seen.identity:
        stranger = [w for w in others if not w.same_lock]
        lines.append(
            f"filelock only coordinates runs that hold the store's lock file too; "
            f"{_runs(stranger)} did not, so this run's purchases were not protected from it."
        )
    elif not seen.resets and seen.overwritten is None:
        why = "no writer tags" if facts.sighting is not None else "nothing"
        lines.append(
            f"The store keeps {why} to say who that was: another {strategy} run on the same "
            "lock would have lost nothing, but this run cannot show it was one."
        )
    if store_sales is not None and store_oversold is not None and not harmless:
        lost_all = max(0, store_sales - books) if books is not None else 0
        ended = (
            f"{_plural(store_oversold, 'ticket')} oversold across all runs on it"
            if store_oversold
            else "none oversold across the runs on it"
        )
        if lost_all:
            ended += f"; the count went down by only {books}: {_plural(lost_all, 'sale')} lost"
        lines.append(
            f"Since this run started, the store's ledger holds "
            f"{_plural(store_sales, 'sale')} for the {_plural(tickets, 'ticket')} it "
            f"held then: {ended}."
        )
    # Buyers only ever take a ticket off: a count above the start, read or left at the
    # end, was put there by someone else (a reset, a restock by hand), so the store held
    # more tickets than this run started with.
    raised = any(count > tickets for count in stray) or (drop is not None and drop < 0)
    voids = (bool(seen.resets) or raised) and sold > tickets
    if raised and not seen.resets:
        lines.append(
            f"Someone raised the count above the {tickets} this run started with"
            + (
                f", so its {sold} receipts for {tickets} tickets are not proof of an oversell."
                if voids
                else "."
            )
        )
    if seen.resets:
        lines.append(
            "A reset in the middle of a run gives the store a new stock, so this run's "
            "sales cannot all be set against the tickets it started with"
            + (
                f": its {sold} receipts for {tickets} tickets are not proof of an oversell."
                if voids
                else "."
            )
        )
    if lost and not harmless:
        lines.append(
            f"The {_plural(lost, 'sale')} lost may be the other process's doing: its writes "
            "and this run's may have overwritten each other."
        )
    return Interference(
        proven=True,
        harmless=harmless,
        voids_oversell=voids,
        other_sales=other_sales,
        store_sales=store_sales,
        store_oversold=store_oversold,
        other_runs=tuple(w.run for w in others if w.run),
        lines=tuple(lines),
    )


def _unanswered_sales(facts: RunFacts, seen: Sighting, external: int) -> int:
    """`queue`: decrements beyond the receipts that can only be this run's own (its
    seller's, killed between a sale and its answer): the store was in a folder of this run
    alone, or the sqlite ledger holds them as this run's, or every JSON write seen carries
    this run's tag. 0 when anything else could explain them."""
    alone = not seen.others and not seen.resets and seen.overwritten is None
    if facts.design != "seller" or not external or not alone or seen.concurrent:
        return 0
    if facts.private_store:
        return external
    if seen.ledger:
        if seen.ledger_count is None or seen.ledger_count != facts.remaining:
            return 0
        own_books = facts.tickets - seen.ledger_count == seen.sales  # all ledgered
        return external if own_books else 0
    return external if seen.identity else 0
