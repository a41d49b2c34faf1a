"""The race as lanes: one per buyer, each attempt drawn as the steps it really took.

Pure geometry-free data: times in milliseconds from the gate, what each step was, the
read -> write windows that overlapped another buyer's, and the sales another write
overwrote. The HTML report draws it; tests read it without a browser.

The windows are the checker's own (`max_inside`): from the read (or, for a conditional
update, the write) to the end of the write, half-open, so a window that ends as another
begins did not overlap it.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field

from booking.engine.frames import NO_VALUE, Failure, Kind, Outcome, Record
from booking.engine.runner import RawRun

#: Lanes drawn at most; a bigger run shows an even sample and says so.
MAX_LANES = 2000
#: Curves from a sale to the write over it, drawn at most.
MAX_LINKS = 2000

OUTCOME_CLASS = {
    Outcome.NONE: "none",
    Outcome.BOUGHT: "bought",
    Outcome.SOLD_OUT: "sold-out",
    Outcome.ERROR: "error",
    Outcome.STOPPED: "stopped",
    Outcome.KILLED: "killed",
    Outcome.GAVE_UP: "gave-up",
}
_DRAWN = (Kind.QUERY, Kind.ATTEMPT, Kind.CUT, Kind.CONFLICT)
#: Nanoseconds of the monotonic clock -> milliseconds from the gate.
ToMs = Callable[[int], float]


@dataclass(frozen=True)
class Span:
    """A step with a duration: `step` is attempt, query, try, wait, hold, think or write."""

    step: str
    start_ms: float
    end_ms: float
    css: str
    tip: str


@dataclass(frozen=True)
class Mark:
    """An instant: a read (with the count seen), a write finishing, an attempt's end (its
    outcome as `css`)."""

    step: str
    at_ms: float
    tip: str
    css: str = ""


@dataclass(frozen=True)
class Window:
    """One read -> write window, and whether another buyer's window overlapped it."""

    buyer: int
    start_ms: float
    end_ms: float
    overlapped: bool
    tip: str


@dataclass(frozen=True)
class Link:
    """A sale written over: `buyer`'s write finished, then `by` wrote a count it had read
    before that."""

    buyer: int
    at_ms: float
    by: int
    by_ms: float
    tip: str


@dataclass
class Lane:
    buyer: int
    spans: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)


@dataclass
class Timeline:
    lanes: list[Lane]
    links: list[Link]
    end_ms: float  # the last stamp drawn
    buyers: int
    overlapped: int  # windows that overlapped another (all lanes, drawn or not)
    windows: int
    stop_ms: float | None = None  # when the run was stopped, if it was
    sampled_every: int = 1  # 1: every buyer has a lane

    @property
    def shown(self) -> int:
        return len(self.lanes)


def build(
    raw: RawRun, buyers: int, guarded: bool = True, design: str = "guard", orphans: str = ""
) -> Timeline:
    """The lanes of one run, times from the gate (from the first stamp if it never opened).
    Unguarded (`none`, whose guard is a no-op), no wait for a guard and no hold is drawn;
    under a seller, the read -> write stamps are the seller's, and are drawn as its. Only a
    design that writes a count it read can write over a sale: only there are curves.
    `orphans` says why a guard a killed buyer held stays held (a multiprocessing.Lock): its
    hold is then drawn on to the end of the run."""
    drawn = [r for r in raw.records if r.kind in _DRAWN and r.t_begin]
    zero = raw.gate_ns or min((r.t_begin for r in drawn), default=0)

    def ms(ns: int) -> float:
        return round((ns - zero) / 1e6, 4)

    every = max(1, -(-buyers // MAX_LANES))
    lanes = {b: Lane(b) for b in range(0, buyers, every)}
    windows = _windows(drawn, ms)
    for record in drawn:
        lane = lanes.get(record.buyer)
        if lane is not None:
            _draw(record, lane, ms, guarded, design)
    for window in windows:
        if window.buyer in lanes:
            lanes[window.buyer].windows.append(window)
    links = _links(drawn, ms, lanes) if design == "guard" else []
    ends = [ms(r.t_end or r.t_left or r.t_begin) for r in drawn]
    last = max([*ends, ms(raw.stopped_ns) if raw.stopped_ns else 0.0], default=0.0)
    if guarded and orphans:
        for record in drawn:
            lane = lanes.get(record.buyer)
            if lane is not None and record.outcome is Outcome.KILLED and record.t_acquired:
                died = ms(record.t_end or record.t_begin)
                tip = f"{_who(record)}: died holding the guard, which stayed held: {orphans}"
                lane.spans.append(Span("hold", died, last, "hold orphaned", tip))
    return Timeline(
        lanes=list(lanes.values()),
        links=links,
        end_ms=last,
        buyers=buyers,
        overlapped=sum(w.overlapped for w in windows),
        windows=len(windows),
        stop_ms=ms(raw.stopped_ns) if raw.stopped_ns else None,
        sampled_every=every,
    )


def _who(record: Record) -> str:
    if record.kind is Kind.QUERY:
        return f"buyer {record.buyer}, look"
    return f"buyer {record.buyer}, attempt {record.attempt + 1}"  # counted from 1 for people


def _draw(record: Record, lane: Lane, ms: ToMs, guarded: bool, design: str) -> None:
    """The spans and marks of one step record, from the stamps it reached."""
    who = _who(record)
    end = record.t_end or record.t_left or record.t_begin
    if record.kind is Kind.QUERY:
        seen = f": saw {record.read_value}" if record.read_value != NO_VALUE else ""
        lane.spans.append(Span("query", ms(record.t_begin), ms(end), "query", f"{who}{seen}"))
        return
    if record.kind is Kind.CONFLICT:  # one try of a compare-and-set: from its own read
        start = record.t_read or record.t_begin
        took = ms(end) - ms(start)
        tip = f"{who}: a try that found the store changed ({took:.3f} ms), so it retried"
        lane.spans.append(Span("try", ms(start), ms(end), "conflict", tip))
    else:
        css, ended = _outcome(record)
        took = ms(end) - ms(record.t_begin)
        tip = f"{who}: {ended} ({took:.3f} ms)"
        if record.message:
            tip += f" — {record.message}"
        lane.spans.append(Span("attempt", ms(record.t_begin), ms(end), css, tip))
        lane.marks.append(Mark("end", ms(end), tip, css))
    _guard(record, lane, ms, who, end, guarded)
    if record.t_read and (record.t_write or record.kind is Kind.CUT):
        until = record.t_write or end  # a cut attempt was thinking when it was cut
        cut = "killed" if record.outcome is Outcome.KILLED else "stopped"
        doing = "thinking" if record.t_write else f"thinking when it was {cut}"
        step = "think"
        if design == "seller":
            step, doing = "sell", "the seller reading and writing the store for this sale"
        lane.spans.append(Span(step, ms(record.t_read), ms(until), step, f"{who}: {doing}"))
    if record.t_write and record.t_left:
        lane.spans.append(
            Span("write", ms(record.t_write), ms(record.t_left), "write", _writing(record, design))
        )
    if record.t_read and record.read_value != NO_VALUE:
        left = "ticket left" if record.read_value == 1 else "tickets left"
        lane.marks.append(
            Mark("read", ms(record.t_read), f"{who}: read {record.read_value} {left}")
        )
    if record.t_left and record.written_value != NO_VALUE:
        lane.marks.append(Mark("wrote", ms(record.t_left), f"{who}: wrote {record.written_value}"))


def _writing(record: Record, design: str) -> str:
    """What a write span was, in the tip."""
    who = _who(record)
    if record.kind is Kind.CONFLICT:
        return f"{who}: tried to write, found the version changed: wrote nothing"
    wrote = f" {record.written_value}" if record.written_value != NO_VALUE else ""
    if design == "compare-and-set":
        return f"{who}: compare-and-set of{wrote} (with its wait for the store's short lock)"
    return f"{who}: writing{wrote}"


def _outcome(record: Record) -> tuple[str, str]:
    """The css class and words of how an attempt ended. A wait for the guard that ran into
    --timeout is the timeout's, not an error of the strategy (the checker says so too)."""
    if record.failure is Failure.LOCK_TIMEOUT:
        return "timed-out", "gave up waiting for the guard at --timeout"
    css = OUTCOME_CLASS[record.outcome]
    return css, css.replace("-", " ")


def _guard(record: Record, lane: Lane, ms: ToMs, who: str, end: int, guarded: bool) -> None:
    """The wait for the guard and the time it was held, under a guard that is one."""
    if not guarded or record.kind is Kind.CONFLICT:
        return
    if record.t_acquired:
        waited = ms(record.t_acquired) - ms(record.t_begin)
        tip = f"{who}: waited {waited:.3f} ms for the guard"
        lane.spans.append(Span("wait", ms(record.t_begin), ms(record.t_acquired), "wait", tip))
        if record.t_end:
            tip = f"{who}: held the guard"
            lane.spans.append(Span("hold", ms(record.t_acquired), ms(record.t_end), "hold", tip))
    elif not record.t_read and not record.t_write and end > record.t_begin:
        # Never acquired: still waiting when stopped, or until --timeout gave up.
        tip = f"{who}: waited {ms(end) - ms(record.t_begin):.3f} ms for the guard, in vain"
        lane.spans.append(Span("wait", ms(record.t_begin), ms(end), "wait", tip))


def _windows(drawn: list[Record], ms: ToMs) -> list[Window]:
    """Every read -> write window, marked when another buyer's window overlapped it.

    Sorted by start, a window overlaps an earlier one exactly when it starts before the
    latest end so far; that latest one overlaps it too, and any other earlier window it
    overlaps also overlaps that latest one, so marking the pair finds them all."""
    spans = [
        (r.t_read or r.t_write, r.t_left, r)
        for r in drawn
        if r.kind is not Kind.QUERY and (r.t_read or r.t_write) and r.t_left
    ]
    spans.sort(key=lambda span: (span[0], span[1]))
    overlapped = [False] * len(spans)
    latest = -1
    for index, (start, end, _) in enumerate(spans):
        if latest >= 0 and start < spans[latest][1] and start < end:
            overlapped[index] = overlapped[latest] = True
        if latest < 0 or end > spans[latest][1]:
            latest = index
    windows = []
    for (start, end, record), hit in zip(spans, overlapped, strict=True):
        what = "overlapped another buyer's" if hit else "overlapped no other"
        windows.append(
            Window(
                record.buyer,
                ms(start),
                ms(end),
                hit,
                f"{_who(record)}: read -> write window, {ms(end) - ms(start):.3f} ms; {what}",
            )
        )
    return windows


def _saw(sale: Record, write: Record) -> bool:
    """The sale read the count `write` wrote, after that write began: the write took
    effect before the sale, though it finished later (a long write), so it is not over it."""
    return sale.t_read >= write.t_write and sale.read_value == write.written_value


def _links(drawn: list[Record], ms: ToMs, shown: Container[int]) -> list[Link]:
    """Each sale written over, linked to the first later write that did it: a write whose
    buyer began reading before the sale's write had finished, and read a count no lower
    than the sale's, so it did not see the sale, and whose own write finished after it.
    Both the clock and the count must say so; a read after the sale (two runs under one
    lock, a count put back by another writer) is no link. Only writes in lanes `shown`."""
    writes = sorted(
        (
            r
            for r in drawn
            if r.kind in (Kind.ATTEMPT, Kind.CUT)
            and r.outcome is Outcome.BOUGHT
            and r.t_read
            and r.t_left
            and r.buyer in shown
            and NO_VALUE not in (r.read_value, r.written_value)
        ),
        key=lambda r: r.t_left,
    )
    # The highest count read by any later write: no later write can have written over a
    # sale whose count is above it, so most sales need no search.
    highest = [NO_VALUE] * (len(writes) + 1)
    for index in range(len(writes) - 1, -1, -1):
        highest[index] = max(highest[index + 1], writes[index].read_value)
    links = []
    for index, sale in enumerate(writes):
        if highest[index + 1] < sale.read_value:
            continue
        later = next(
            (
                w
                for w in writes[index + 1 :]
                if w.t_read < sale.t_left
                and w.read_value >= sale.read_value
                and w.buyer != sale.buyer
                and not _saw(sale, w)
            ),
            None,
        )
        if later is not None:
            links.append(
                Link(
                    sale.buyer,
                    ms(sale.t_left),
                    later.buyer,
                    ms(later.t_left),
                    f"buyer {later.buyer} wrote {later.written_value} over buyer "
                    f"{sale.buyer}'s {sale.written_value}: it had read {later.read_value} "
                    "before that sale's write finished",
                )
            )
            if len(links) == MAX_LINKS:
                break
    return links
