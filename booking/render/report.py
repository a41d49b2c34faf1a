"""`--report FILE.html`: one self-contained page per run, comparison or saved session.

Jinja2 writes the page (autoescaped, so no store or message text can inject markup);
every style and the few lines of script are inlined from the templates folder and every
picture is SVG worked out in Python (figures.py), so the file opens from disk with no
network, and is the same picture in every browser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import booking
from booking.engine.frames import Kind
from booking.engine.runner import RawRun
from booking.judge.motion import DEATH_HOLDS
from booking.judge.result import Result
from booking.render import figures, timeline, timeline_figure, timeline_words
from booking.render.run import heading
from booking.render.seats import HeatMap, heat_map
from booking.strategies import keeps_buyers_out

if TYPE_CHECKING:
    from jinja2 import Environment

OUTCOME_LEGEND = (
    ("bought", "bought"),
    ("sold-out", "sold out"),
    ("error", "error"),
    ("killed", "killed"),
    ("stopped", "stopped"),
    ("gave-up", "gave up"),
    ("timed-out", "gave up waiting for the guard (--timeout)"),
    ("conflict", "a try that found the store changed"),
)
STEP_LEGEND = (
    ("query", "look at the count (no guard)"),
    ("wait", "waiting for the guard"),
    ("hold", "holding the guard"),
    ("hold orphaned", "a guard a killed buyer held, never released"),
    ("think", "thinking (read -> write)"),
    ("sell", "the seller reading and writing the store for the sale"),
    ("write", "writing"),
    ("mark read", "read: hover for the count"),
    ("mark wrote", "write finished: hover for the count"),
    ("mark end", "an attempt's end, in the colour of its outcome"),
    ("window overlap", "a read -> write window another buyer's overlapped"),
    ("lost", "a sale overwritten: from the sale to the write over it"),
)


@cache
def environment() -> Environment:
    """The templates, loaded once; jinja2 is imported only when a report is asked for."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("booking.render", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class RunPicture:
    """Everything the run section of a page draws; also a compare cell's worst run."""

    anchor: str
    result: Result
    title: str
    timeline: figures.Figure | None
    timeline_axis: figures.Figure | None
    sentences: list[str]
    latency: figures.Figure | None
    lock_wait: figures.Figure | None
    record: list[tuple[str, str]]
    missing: str  # why there is no timeline ("" when there is one)
    outcome_legend: list[tuple[str, str]] = field(default_factory=list)
    step_legend: list[tuple[str, str]] = field(default_factory=list)  # what the picture has
    seats: HeatMap | None = None  # a seat run's map, each seat by how fought-for it was


def picture(
    result: Result, raw: RawRun | None, anchor: str = "run", missing: str = ""
) -> RunPicture:
    """The run section: the timeline and its distributions when the steps are at hand."""
    record = [(key, _shown(value)) for key, value in result.to_dict().items()]
    if raw is None:
        return RunPicture(
            anchor, result, heading(result), None, None, [], None, None, record,
            missing or "The timeline of this run was not recorded.", seats=heat_map(result),
        )  # fmt: skip
    guarded = result.protocol == "guard" and keeps_buyers_out(result.strategy, result.manager_lock)
    orphans = DEATH_HOLDS.get(result.strategy, "")
    lanes = timeline.build(raw, result.buyers, guarded, result.protocol, orphans)
    latency, waits = _durations(raw, guarded)
    drawn = timeline_figure.figure(lanes)
    return RunPicture(
        anchor=anchor,
        result=result,
        title=heading(result),
        timeline=drawn,
        timeline_axis=timeline_figure.axis(lanes),
        sentences=timeline_words.sentences(lanes, result, raw, guarded),
        latency=figures.histogram(latency, "How long each attempt took", "ms per attempt"),
        lock_wait=figures.histogram(
            waits, "How long each attempt waited for the guard", "ms waiting", css="bar waited"
        )
        if waits
        else None,
        record=record,
        missing="",
        outcome_legend=_present(drawn, OUTCOME_LEGEND),
        step_legend=_present(drawn, STEP_LEGEND),
        seats=heat_map(result),
    )


def _present(drawn: figures.Figure, legend: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The legend entries this picture has a shape of: no guard's wait under `none`."""
    shapes = {frozenset(shape.css.split()) for group in drawn.groups for shape in group.shapes}
    return [(css, words) for css, words in legend if any(set(css.split()) <= s for s in shapes)]


def _shown(value: Any) -> str:
    """A record value as `--json` prints it (true, null, [1, 5]); text as it is."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _durations(raw: RawRun, guarded: bool) -> tuple[list[float], list[float]]:
    """Each finished attempt's latency and, under a guard, its wait for it: the checker's
    own measures (a stopped run's attempts count up to the stop)."""
    attempts = [
        r
        for r in raw.records
        if r.kind is Kind.ATTEMPT and r.t_begin and r.t_end
        and (not raw.stopped_ns or r.t_end <= raw.stopped_ns)
    ]  # fmt: skip
    latency = [(r.t_end - r.t_begin) / 1e6 for r in attempts]
    waits = [((r.t_acquired or r.t_end) - r.t_begin) / 1e6 for r in attempts] if guarded else []
    return latency, waits


def render_run(result: Result, raw: RawRun | None, missing: str = "", origin: str = "") -> str:
    """The page of one run; `origin` says where a saved one came from."""
    return (
        environment()
        .get_template("run.html.j2")
        .render(
            page_title=f"booking: {result.verdict} · {result.strategy}/{result.store}",
            run=picture(result, raw, missing=missing),
            origin=origin,
            **_common(),
        )
    )


def _common() -> dict[str, Any]:
    return {
        "version": booking.__version__,
        "made": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render_page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context, **_common())
