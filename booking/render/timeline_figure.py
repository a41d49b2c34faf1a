"""The timeline as a figure: one lane (an SVG group of class `lane`) per buyer shown,
time from the gate across, each step a rectangle sized by its stamps.

Steps shorter than a pixel are drawn one pixel wide, and reads and writes as two-pixel
ticks, so a fast write stays visible; the hover tip gives its real duration. Only the
windows that overlapped another are outlined: under a guard there are none to draw.
"""

from __future__ import annotations

from booking.render.figures import (
    Figure,
    Group,
    Plot,
    line,
    nice_ticks,
    path,
    rect,
    text,
    tick_label,
)
from booking.render.timeline import Lane, Timeline

WIDTH = 1150
LEFT = 84
RIGHT = 24
TOP = 18  # room above the first lane for a curve's bend
AXIS = 36  # the height of the axis drawn apart
#: How much of a lane each step fills, from the middle: (offset from the lane top, height)
#: as fractions of the lane.
_BANDS = {
    "attempt": (0.08, 0.84),
    "try": (0.04, 0.24),
    "query": (0.35, 0.3),
    "wait": (0.3, 0.4),
    "hold": (0.78, 0.14),
    "think": (0.3, 0.4),
    "sell": (0.3, 0.4),
    "write": (0.18, 0.64),
}


def lane_height(lanes: int) -> float:
    """16 px a lane for a few buyers, down to 3 px for a thousand and more."""
    return max(3.0, min(16.0, 1400 / max(1, lanes)))


def _scale(timeline: Timeline) -> tuple[list[float], float]:
    """The time ticks both figures share, and the lane height."""
    return nice_ticks(0, max(timeline.end_ms, 0.001), 10), lane_height(timeline.shown)


def axis(timeline: Timeline) -> Figure:
    """The time axis, drawn apart above the lanes so it stays in view while they scroll."""
    ticks, _ = _scale(timeline)
    plot = Plot(LEFT, AXIS, WIDTH - LEFT - RIGHT, 1, 0, ticks[-1], 0, 1)
    picture = Figure(WIDTH, AXIS, "Time in milliseconds from the gate", "timeline-axis")
    group = Group("axis x")
    for value in ticks:
        x = plot.x(value)
        group.shapes.append(text(x, AXIS - 6, tick_label(value), "tick", "middle"))
        group.shapes.append(line(x, AXIS - 3, x, AXIS, "base"))
    group.shapes.append(text(LEFT, 12, "milliseconds from the gate", "axis-title"))
    picture.groups.append(group)
    return picture


def figure(timeline: Timeline) -> Figure:
    ticks, h = _scale(timeline)
    height = TOP + h * timeline.shown + 16
    plot = Plot(LEFT, TOP, WIDTH - LEFT - RIGHT, h * timeline.shown, 0, ticks[-1], 0, 1)
    # Thin lanes: outlines and links drawn finer, so a thousand of them stay readable.
    css = "timeline dense" if h < 6 else "timeline"
    picture = Figure(WIDTH, height, _label(timeline), css)
    grid = Group("axis x")
    for value in ticks:
        x = plot.x(value)
        grid.shapes.append(line(x, 0, x, height - 16, "grid"))
    if timeline.stop_ms is not None:
        x = plot.x(timeline.stop_ms)
        grid.shapes.append(line(x, 0, x, height - 16, "stop"))
        grid.shapes.append(text(x + 3, height - 4, "stopped", "stop-label"))
    picture.groups.append(grid)
    rows = {lane.buyer: index for index, lane in enumerate(timeline.lanes)}
    for index, lane in enumerate(timeline.lanes):
        picture.groups.append(_lane(lane, plot, TOP + index * h, h))
    links = Group("links")
    for link in timeline.links:
        x1, y1 = plot.x(link.at_ms), TOP + (rows[link.buyer] + 0.5) * h
        x2, y2 = plot.x(link.by_ms), TOP + (rows[link.by] + 0.5) * h
        bend = (x1 + x2) / 2, min(y1, y2) - h
        links.shapes.append(path([(x1, y1), bend, (x2, y2)], "lost", link.tip))
    picture.groups.append(links)
    # The instants last, over the links, so every read and write can be hovered.
    for index, lane in enumerate(timeline.lanes):
        picture.groups.append(_marks(lane, plot, TOP + index * h, h))
    return picture


def _label(timeline: Timeline) -> str:
    shown = (
        f"{timeline.shown} of {timeline.buyers} buyers (one in every {timeline.sampled_every})"
        if timeline.sampled_every > 1
        else f"{timeline.buyers} buyers"
    )
    return f"Timeline of {shown}: each lane is one buyer's steps, time from the gate"


def _lane(lane: Lane, plot: Plot, top: float, h: float) -> Group:
    group = Group("lane", data=(("buyer", str(lane.buyer)),))
    if h >= 10:
        group.shapes.append(text(LEFT - 6, top + h * 0.75, f"buyer {lane.buyer}", "name", "end"))
    # The attempt's band first, its steps over it (a compare-and-set's tries come before
    # the attempt in the records).
    for span in sorted(lane.spans, key=lambda span: span.step != "attempt"):
        offset, size = _BANDS[span.step]
        x0 = plot.x(span.start_ms)
        width = max(1.0, plot.x(span.end_ms) - x0)
        css = f"{span.step} {span.css}" if span.css != span.step else span.step
        group.shapes.append(rect(x0, top + offset * h, width, size * h, css, span.tip))
    for window in lane.windows:
        if window.overlapped:
            x0 = plot.x(window.start_ms)
            width = max(1.0, plot.x(window.end_ms) - x0)
            outline = rect(x0, top + 0.04 * h, width, 0.92 * h, "window overlap", window.tip)
            group.shapes.append(outline)
    return group


def _marks(lane: Lane, plot: Plot, top: float, h: float) -> Group:
    """A lane's instants: reads and writes as two-pixel ticks, each attempt's end as a
    three-pixel cap in the colour of its outcome."""
    group = Group("marks", data=(("buyer", str(lane.buyer)),))
    for mark in lane.marks:
        x = plot.x(mark.at_ms)
        if mark.step == "end":
            shape = rect(x - 1.5, top + 0.08 * h, 3, 0.84 * h, f"mark end {mark.css}", mark.tip)
        else:
            shape = rect(x - 1, top, 2, h, f"mark {mark.step}", mark.tip)
        group.shapes.append(shape)
    return group
