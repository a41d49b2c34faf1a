"""The compare matrix, as plain data: which cells, in which order, against which reference.

A cell is one (strategy, store) pair. Runs go round-robin across cells (A B C A B C ...)
so that whatever the machine does meanwhile (a cron job, thermal throttling, a noisy
neighbour) lands on every cell alike instead of on whichever cell happened to run then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from booking.errors import ScenarioError
from booking.stores import NETWORK_STORES, STORES
from booking.strategies import STRATEGIES

#: Seeds must stay within what Scenario accepts.
SEED_LIMIT = 2**63


class Cell(NamedTuple):
    """One column of the experiment: a strategy on a store, and for a scenario sweep the
    values of its other axes, as (name, shown value) pairs."""

    strategy: str
    store: str
    axes: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        # An arrival says what it is ("gate", "200/s"); a number needs its name ("buyers=10").
        extra = "".join(
            f" {value}" if name == "arrival" else f" {name}={value}" for name, value in self.axes
        )
        return f"{self.strategy}/{self.store}{extra}"


def parse_names(text: str, kind: str, choices: Mapping[str, object]) -> list[str]:
    """A comma-separated list of registry names: each known, none repeated, none empty."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise ScenarioError(f'{kind} list "{text}" has an empty name')
    for name in names:
        if name not in choices:
            raise ScenarioError(f'unknown {kind} "{name}"; expected one of {", ".join(choices)}')
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ScenarioError(f"{kind} {', '.join(repeated)} named twice")
    return names


def plan_cells(
    strategies: Sequence[str] | None, stores: Sequence[str] | None, sells: str = "count"
) -> list[Cell]:
    """Every chosen strategy on every chosen store it supports (default: all of each that
    sells what the run sells, a "count" of tickets or "seats", on the file stores). A
    strategy or store that the user named but that yields no cell is an error."""
    if strategies:
        for strategy in strategies:
            if sells not in STRATEGIES[strategy].sells:
                raise ScenarioError(
                    f'strategy "{strategy}" sells seats: add --seats ROWSxCOLS'
                    if sells == "count"
                    else f'strategy "{strategy}" does not sell seats'
                )
    chosen_strategies = (
        list(strategies)
        if strategies
        else [name for name, info in STRATEGIES.items() if sells in info.sells]
    )
    # The networked stores need a server: only when named (--stores postgres,redis).
    chosen_stores = list(stores) if stores else [s for s in STORES if s not in NETWORK_STORES]
    cells = [
        Cell(strategy, store)
        for strategy in chosen_strategies
        for store in chosen_stores
        if STRATEGIES[strategy].supports(store)
    ]
    if strategies:  # only a name the user gave can be "not working"; defaults just drop out
        for strategy in chosen_strategies:
            if not any(cell.strategy == strategy for cell in cells):
                needs = " or ".join(STRATEGIES[strategy].stores or ())
                raise ScenarioError(
                    f'strategy "{strategy}" does not work on the {" or ".join(chosen_stores)} '
                    f"store; it needs {needs}"
                )
    if stores:
        for store in chosen_stores:
            if not any(cell.store == store for cell in cells):
                raise ScenarioError(
                    f"no chosen strategy works on the {store} store "
                    f"({', '.join(chosen_strategies)})"
                )
    return cells


def schedule(cells: Sequence[Cell], repeat: int) -> list[tuple[int, Cell]]:
    """(round, cell) in running order: every cell once per round, rounds one after another."""
    if repeat < 1:
        raise ScenarioError(f"repeat must be at least 1, not {repeat}")
    return [(round_, cell) for round_ in range(repeat) for cell in cells]


def round_seed(base: int, round_: int) -> int:
    """The seed of every cell's run in one round: the same think times for each cell of a
    round (a paired comparison), different ones from round to round."""
    return (base + round_) % SEED_LIMIT


def parse_reference(text: str, cells: Sequence[Cell]) -> list[Cell]:
    """`STRATEGY` or `STRATEGY/STORE` -> the cells of the matrix it names (the fastest of
    them becomes the reference)."""
    strategy, _, store = text.partition("/")
    if not strategy or (text.count("/") and not store) or text.count("/") > 1:
        raise ScenarioError(f'reference "{text}": expected STRATEGY or STRATEGY/STORE')
    matching = [c for c in cells if c.strategy == strategy and (not store or c.store == store)]
    if not matching:
        present = ", ".join(cell.label for cell in cells)
        raise ScenarioError(f'reference "{text}" is not in this comparison ({present})')
    return matching
