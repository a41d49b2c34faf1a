"""Scenario files: TOML data describing a workload, where any list is a sweep axis.

    name = "flash-sale"
    description = "Many buyers, few tickets: what each strategy does at the gate."
    strategy = ["none", "lock"]      # a list: one axis of the sweep
    buyers = [10, 40]
    tickets = 5
    think = "1:5"
    repeat = 3

The file is parsed with tomllib as data; nothing in it is executed. Every error names the
file, the key path and what was expected, and unknown keys are errors, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from booking.errors import ScenarioError
from booking.scenarios.arrival import Arrival
from booking.scenarios.plan import Cell
from booking.scenarios.scenario import (
    DEFAULT_POLL_MS,
    DEFAULT_RETRIES,
    JSON_WRITE_MODES,
    TTL_STRATEGIES,
    Scenario,
    format_think,
)
from booking.scenarios.values import (
    arrival,
    choice,
    flag,
    number,
    show,
    size,
    text,
    think,
    whole,
)
from booking.seating import MAX_COLS, MAX_ROWS, PICKS
from booking.stores import STORES
from booking.strategies import STRATEGIES

MAX_FILE_BYTES = 1 << 20
MAX_POINTS = 10_000
MAX_RUNS = 100_000
DEFAULT_REPEAT = 3
#: Keys whose list values are sweep axes, in the order a table shows them.
WORKLOAD_KEYS = (
    "strategy",
    "store",
    "buyers",
    "tickets",
    "seats",
    "order",
    "pick",
    "think",
    "attempts",
    "arrival",
    "seed",
    "timeout",
    "json_write",
    "manager_lock",
    "poll_ms",
    "retries",
    "lock_ttl",
)
#: What the whole sweep shares and never sweeps: "max_memory" is the memory each run may
#: use ("800M"), as --max-memory.
KEYS = ("name", "description", "repeat", "max_memory", *WORKLOAD_KEYS)


@dataclass(frozen=True)
class ScenarioFile:
    """A parsed scenario: its points (one Scenario per cell of the sweep) and how often."""

    path: Path | None
    name: str
    description: str
    repeat: int
    axes: tuple[str, ...]  # the keys given as lists, in file order
    points: tuple[tuple[Cell, Scenario], ...]

    @property
    def runs(self) -> int:
        return self.repeat * len(self.points)


#: key -> (convert one value, the Scenario field it sets)
_CONVERT: dict[str, tuple[Callable[[Any, str], Any], str]] = {
    "strategy": (choice(STRATEGIES, "strategy"), "strategy"),
    "store": (choice(STORES, "store"), "store"),
    "buyers": (whole, "buyers"),
    "tickets": (whole, "tickets"),
    "seats": (text, "seats"),
    "order": (whole, "order"),
    "pick": (choice(dict.fromkeys(PICKS), "pick"), "pick"),
    "think": (think, "think_ms"),
    "attempts": (whole, "attempts"),
    "arrival": (arrival, "arrival"),
    "seed": (whole, "seed"),
    "timeout": (number, "timeout_s"),
    "json_write": (choice(dict.fromkeys(JSON_WRITE_MODES), "json-write mode"), "json_write"),
    "manager_lock": (flag, "manager_lock"),
    "poll_ms": (number, "poll_ms"),
    "retries": (whole, "retries"),
    "lock_ttl": (number, "lock_ttl_ms"),
}


def _shown(key: str, value: Any) -> str:
    """How an axis value appears in a cell label."""
    if isinstance(value, Arrival):
        return value.describe()
    if key == "think":
        return format_think(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _values(key: str, raw: Any, where: str) -> list[Any]:
    """The converted values of one key: a list is an axis, anything else one value. Each
    value is also checked alone against Scenario, so its error names its own key path."""
    convert, field = _CONVERT[key]
    if isinstance(raw, list):
        if not raw:
            raise ScenarioError(f"{where}{key}: an empty list sweeps nothing")
        if len(raw) > MAX_POINTS:
            raise ScenarioError(
                f"{where}{key}: {len(raw):,} values; a sweep has at most {MAX_POINTS:,} points"
            )
        items = [(f"{where}{key}[{i}]", item) for i, item in enumerate(raw)]
    else:
        items = [(f"{where}{key}", raw)]
    values = []
    for path, item in items:
        value = convert(item, path)
        # Probe the value alone, on a strategy it applies to (an order on a seat map
        # that holds any order).
        probe = replace(Scenario(strategy="filelock"), **{field: value})
        if field in ("order", "pick"):
            probe = replace(probe, seats=f"{MAX_ROWS}x{MAX_COLS}")
        if field == "lock_ttl_ms":
            probe = replace(probe, strategy=TTL_STRATEGIES[0], store="redis")
        if field not in ("strategy", "store", "json_write", "manager_lock"):
            try:
                probe.validate()
            except ScenarioError as exc:
                raise ScenarioError(f"{path}: {exc}") from None
        values.append(value)
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ScenarioError(f"{where}{key}: {_shown(key, value)} is listed twice")
        seen.add(value)
    return values


#: Combinations that do not exist: (the keys involved, the test, what to say).
_RULES: tuple[tuple[tuple[str, ...], Callable[[Scenario], bool], str], ...] = (
    (
        ("strategy", "seats"),
        lambda s: ("seats" if s.seats else "count") in STRATEGIES[s.strategy].sells,
        "",  # reported by _check_every_value_used, which knows what the strategy sells
    ),
    (
        ("strategy", "store"),
        lambda s: STRATEGIES[s.strategy].supports(s.store_name),
        "",  # reported by _check_every_value_used, which knows what the strategy needs
    ),
    (
        ("json_write", "store"),
        lambda s: s.json_write == "atomic" or s.store_name == "json",
        'json_write: "inplace" only applies to the json store',
    ),
    (
        ("manager_lock", "strategy"),
        lambda s: s.manager_lock or s.strategy == "manager",
        "manager_lock: false only applies to strategy manager",
    ),
    (
        ("poll_ms", "strategy"),
        lambda s: s.poll_ms == DEFAULT_POLL_MS or s.strategy == "filelock",
        "poll_ms: only applies to strategy filelock",
    ),
    (
        ("retries", "strategy"),
        lambda s: s.retries == DEFAULT_RETRIES or STRATEGIES[s.strategy].retries,
        "retries: only applies to strategies "
        + ", ".join(name for name, info in STRATEGIES.items() if info.retries),
    ),
    (
        ("lock_ttl", "strategy"),
        lambda s: s.lock_ttl_ms is None or s.strategy in TTL_STRATEGIES,
        f"lock_ttl: only applies to strategy {' or '.join(TTL_STRATEGIES)}",
    ),
)


def _applies(scenario: Scenario, axes: tuple[str, ...], prefix: str) -> bool:
    """Whether this point of the sweep exists. A combination that cannot exist is skipped
    when a sweep made it (transaction x json in store = ["json", "sqlite"]), and is an
    error when the file asked for it outright."""
    for keys, holds, message in _RULES:
        if holds(scenario):
            continue
        if message and not any(key in axes for key in keys):
            raise ScenarioError(f"{prefix}{message}")
        return False
    return True


def parse(
    document: Mapping[str, Any], source: str, overrides: Mapping[str, Any] | None = None
) -> ScenarioFile:
    """Check a parsed TOML document and expand its sweep. `source` prefixes every error
    (the file name); `overrides` replace keys first (the command line's --repeat etc.)."""
    for key, value in (overrides or {}).items():
        _values(key, value, "--") if key in _CONVERT else None  # blame the option, not the file
    doc = {**document, **(overrides or {})}
    prefix = f"{source}: "
    for key in doc:
        if key not in KEYS:
            shown = key if key.isidentifier() else show(key)
            raise ScenarioError(f"{prefix}{shown}: unknown key; expected one of {', '.join(KEYS)}")
    name = text(doc.get("name", Path(source).stem), f"{prefix}name")
    max_memory = size(doc["max_memory"], f"{prefix}max_memory") if "max_memory" in doc else None
    description = text(doc.get("description", ""), f"{prefix}description")
    repeat = whole(doc.get("repeat", DEFAULT_REPEAT), f"{prefix}repeat")
    if repeat < 1:
        raise ScenarioError(f"{prefix}repeat: must be at least 1, not {repeat}")
    # Points vary in WORKLOAD_KEYS order (strategy slowest), so a table groups by strategy.
    given = [key for key in WORKLOAD_KEYS if key in doc]
    values = {key: _values(key, doc[key], prefix) for key in given}
    axes = tuple(key for key in doc if key in values and isinstance(doc[key], list))
    count = 1
    for key in axes:
        count *= len(values[key])
    if count > MAX_POINTS:
        raise ScenarioError(f"{prefix}the sweep has {count:,} points; the limit is {MAX_POINTS:,}")
    if count * repeat > MAX_RUNS:
        raise ScenarioError(
            f"{prefix}{count:,} points × repeat {repeat:,} is {count * repeat:,} runs; "
            f"the limit is {MAX_RUNS:,}"
        )
    points = []
    for combo in itertools.product(*(values[key] for key in given)):
        chosen = dict(zip(given, combo, strict=True))
        scenario = replace(
            Scenario(max_memory=max_memory),
            **{_CONVERT[key][1]: value for key, value in chosen.items()},
        )
        if (
            "retries" in chosen
            and "retries" not in axes
            and "strategy" in axes
            and not STRATEGIES[scenario.strategy].retries
        ):
            # One retries for the whole file is the retrying strategies' setting; other
            # cells ignore it, as compare's --retries. (A retries sweep drops their copies.)
            scenario = replace(scenario, retries=DEFAULT_RETRIES)
        if (
            "lock_ttl" in chosen
            and "lock_ttl" not in axes
            and "strategy" in axes
            and scenario.strategy not in TTL_STRATEGIES
        ):
            scenario = replace(scenario, lock_ttl_ms=None)  # the TTL locks' setting alone
        if not _applies(scenario, axes, prefix):
            continue
        try:
            scenario.validate()
        except ScenarioError as exc:
            raise ScenarioError(f"{prefix}{exc}") from None
        label_axes = tuple(
            (key, _shown(key, chosen[key]))
            for key in given
            if key in axes and key not in ("strategy", "store")
        )
        points.append((Cell(scenario.strategy, scenario.store_name, label_axes), scenario))
    _check_every_value_used(values, axes, points, prefix)
    return ScenarioFile(
        path=None,
        name=name,
        description=description,
        repeat=repeat,
        axes=axes,
        points=tuple(points),
    )


def _check_every_value_used(
    values: Mapping[str, list[Any]],
    axes: tuple[str, ...],
    points: list[tuple[Cell, Scenario]],
    prefix: str,
) -> None:
    """A value the file names that yields no cell at all is a mistake, not a silent skip."""
    for key, items in values.items():
        field = _CONVERT[key][1]
        for value in items:
            if any(getattr(scenario, field) == value for _, scenario in points):
                continue
            sells = STRATEGIES[value].sells if key == "strategy" else ()
            if key == "strategy" and ("seats" if "seats" in values else "count") not in sells:
                detail = (
                    "it sells seats; add seats"
                    if "count" not in sells
                    else "it does not sell seats; remove seats or choose another"
                )
            elif key == "strategy" and STRATEGIES[value].stores is not None:
                needs = " or ".join(STRATEGIES[value].stores or ())
                detail = f"it needs the {needs} store; check store"
            elif key == "strategy":
                only = {"poll_ms": "filelock", "manager_lock": "manager", "retries": "optimistic"}
                swept = [k for k in only if k in values]
                owners = ", ".join(f"{k} to {only[k]}" for k in swept)
                detail = (
                    f"every value of {', '.join(swept)} applies only to another strategy: "
                    f"{owners}; sweep those in a file of their own"
                    if swept
                    else "every value of the other axes applies only to another strategy"
                )
            elif key == "store":
                detail = "no chosen strategy works on it; check strategy"
            else:
                detail = "it applies to none of the chosen strategies and stores"
            raise ScenarioError(
                f"{prefix}{key} {_shown(key, value)}: no cell of the sweep can run it ({detail})"
            )


def with_max_memory(scenario_file: ScenarioFile, limit: int) -> ScenarioFile:
    """The command line's --max-memory (bytes) over the file's max_memory, at every point."""
    points = tuple((cell, replace(point, max_memory=limit)) for cell, point in scenario_file.points)
    return replace(scenario_file, points=points)


def load(path: Path, overrides: Mapping[str, Any] | None = None) -> ScenarioFile:
    """Read and check a scenario file. Errors name the file."""
    source = path.name
    try:
        if path.is_dir():
            raise ScenarioError(f"{path}: is a directory, not a scenario file")
        if path.exists() and not path.is_file():
            raise ScenarioError(f"{path}: not a regular file")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{source}: larger than 1 MiB; not a scenario file")
    try:
        document = tomllib.loads(data.decode("utf-8-sig"))  # a BOM from some editors is fine
    except UnicodeDecodeError:
        raise ScenarioError(f"{source}: not UTF-8 text") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:  # a 4,300+ digit integer: ValueError
        raise ScenarioError(f"{source}: not valid TOML ({exc})") from None
    return replace(parse(document, source, overrides), path=path)
