"""`booking strategies`: every strategy, from the one registry the options use."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from booking.strategies import STRATEGIES


def strategies(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the catalogue as a JSON list on stdout.")
    ] = False,
) -> None:
    """List every strategy: its protocol, stores, safety, cost and origin.

    One row per strategy, from the registry that --strategy and compare use.
    """
    records = [info.record(name) for name, info in STRATEGIES.items()]
    if as_json:
        print(json.dumps(records, indent=2))
        return
    from booking.render import strategies as strategies_render

    strategies_render.table(records)
