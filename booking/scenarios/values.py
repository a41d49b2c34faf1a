"""One value of a scenario file, converted and checked: every error names the key path
(`flash.toml: buyers[2]`) and shows the value as the file wrote it, on one line. Used by
`files.py`; it may import the scenario values and the ground floor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from booking.errors import ScenarioError
from booking.memory import parse_size
from booking.scenarios.arrival import GATE, Arrival
from booking.scenarios.scenario import parse_think

#: Whole numbers beyond this are never meant (and str() of a 4,300-digit one fails).
HUGE = 10**100


def whole(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{where}: expected a whole number, found {show(value)}")
    if abs(value) >= HUGE:
        raise ScenarioError(f"{where}: {show(value)} is out of range")
    return value


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: expected a number, found {show(value)}")
    if isinstance(value, int) and abs(value) >= HUGE:
        raise ScenarioError(f"{where}: {show(value)} is out of range")
    return float(value)


def text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected a string, found {show(value)}")
    return value


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: expected true or false, found {show(value)}")
    return value


def show(value: Any) -> str:
    """A value as the file wrote it, on one line whatever it holds."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= HUGE:
        return f"a {value.bit_length()}-bit whole number"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


def think(value: Any, where: str) -> tuple[float, float]:
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int) and abs(value) >= HUGE:
            raise ScenarioError(f"{where}: {show(value)} is out of range")
        text = f"{value}"
    else:
        raise ScenarioError(
            f'{where}: expected "MIN:MAX" or a number of milliseconds, found {show(value)}'
        )
    try:
        return parse_think(text)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def arrival(value: Any, where: str) -> Arrival:
    if value == "gate":
        return GATE
    if not isinstance(value, dict):
        raise ScenarioError(
            f'{where}: expected "gate", {{ rate = N }} or {{ stagger_ms = [LOW, HIGH] }}, '
            f"found {show(value)}"
        )
    for key in value:
        if key not in ("rate", "stagger_ms"):
            shown = key if key.isidentifier() else show(key)
            raise ScenarioError(f"{where}.{shown}: unknown key; expected rate or stagger_ms")
    if len(value) != 1:
        raise ScenarioError(f"{where}: expected exactly one of rate or stagger_ms")
    if "rate" in value:
        arrival = Arrival(rate=number(value["rate"], f"{where}.rate"))
    else:
        pair = value["stagger_ms"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ScenarioError(f"{where}.stagger_ms: expected [LOW, HIGH] in milliseconds")
        low = number(pair[0], f"{where}.stagger_ms[0]")
        high = number(pair[1], f"{where}.stagger_ms[1]")
        arrival = Arrival(stagger_ms=(low, high))
    try:
        return arrival.validate()
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def choice(choices: Mapping[str, object], kind: str) -> Callable[[Any, str], str]:
    def convert(value: Any, where: str) -> str:
        name = text(value, where)
        if name not in choices:
            raise ScenarioError(
                f"{where}: unknown {kind} {show(name)}; expected one of {', '.join(choices)}"
            )
        return name

    return convert


def size(value: Any, where: str) -> int:
    """A size such as "800M". A bare number is refused, as on the command line: it could
    mean bytes or megabytes."""
    if not isinstance(value, str):
        raise ScenarioError(f'{where}: expected a size such as "800M" or "4G", found {show(value)}')
    try:
        return parse_size(value)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
