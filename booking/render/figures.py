"""Figures as plain shapes: Python works out every coordinate, one Jinja macro writes the
SVG. No chart library and no script draws anything, so a report is the same picture in
every browser, opens from disk, and a test can count its shapes.

A shape with a `tip` shows it on hover (the report's few lines of script).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shape:
    tag: str  # rect, line, text, path, circle
    attrs: tuple[tuple[str, str], ...]
    css: str = ""
    tip: str = ""
    text: str = ""


@dataclass
class Group:
    css: str
    shapes: list[Shape] = field(default_factory=list)
    data: tuple[tuple[str, str], ...] = ()


@dataclass
class Figure:
    width: float
    height: float
    label: str  # what the picture shows, for screen readers
    css: str = ""
    groups: list[Group] = field(default_factory=list)


def num(value: float) -> str:
    """A coordinate with at most two decimals: the file stays small, the picture exact."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def rect(x: float, y: float, w: float, h: float, css: str = "", tip: str = "") -> Shape:
    attrs = (("x", num(x)), ("y", num(y)), ("width", num(max(w, 0))), ("height", num(h)))
    return Shape("rect", attrs, css, tip)


def line(x1: float, y1: float, x2: float, y2: float, css: str = "", tip: str = "") -> Shape:
    attrs = (("x1", num(x1)), ("y1", num(y1)), ("x2", num(x2)), ("y2", num(y2)))
    return Shape("line", attrs, css, tip)


def text(x: float, y: float, words: str, css: str = "", anchor: str = "start") -> Shape:
    return Shape("text", (("x", num(x)), ("y", num(y)), ("text-anchor", anchor)), css, "", words)


def circle(x: float, y: float, r: float, css: str = "", tip: str = "") -> Shape:
    return Shape("circle", (("cx", num(x)), ("cy", num(y)), ("r", num(r))), css, tip)


def path(points: Sequence[tuple[float, float]], css: str = "", tip: str = "") -> Shape:
    d = " ".join(f"{'M' if i == 0 else 'L'}{num(x)} {num(y)}" for i, (x, y) in enumerate(points))
    return Shape("path", (("d", d),), css, tip)


def nice_ticks(low: float, high: float, most: int = 6, whole: bool = False) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten,
    and at least 1 when the values are counts (`whole`)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, most)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(step, 1)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def tick_label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.3g}"


@dataclass(frozen=True)
class Plot:
    """The inner box of a chart and its two scales."""

    left: float
    top: float
    width: float
    height: float
    x_low: float
    x_high: float
    y_low: float
    y_high: float

    def x(self, value: float) -> float:
        span = self.x_high - self.x_low or 1.0
        return self.left + (value - self.x_low) / span * self.width

    def y(self, value: float) -> float:
        span = self.y_high - self.y_low or 1.0
        return self.top + self.height - (value - self.y_low) / span * self.height

    @property
    def bottom(self) -> float:
        return self.top + self.height


def y_axis(plot: Plot, ticks: Sequence[float], title: str) -> Group:
    axis = Group("axis y")
    for value in ticks:
        y = plot.y(value)
        axis.shapes.append(line(plot.left, y, plot.left + plot.width, y, "grid"))
        axis.shapes.append(text(plot.left - 6, y + 4, tick_label(value), "tick", "end"))
    axis.shapes.append(text(plot.left, plot.top - 10, title, "axis-title"))
    return axis


def x_axis(plot: Plot, ticks: Sequence[float], title: str) -> Group:
    axis = Group("axis x")
    axis.shapes.append(line(plot.left, plot.bottom, plot.left + plot.width, plot.bottom, "base"))
    for value in ticks:
        x = plot.x(value)
        axis.shapes.append(line(x, plot.bottom, x, plot.bottom + 4, "base"))
        axis.shapes.append(text(x, plot.bottom + 16, tick_label(value), "tick", "middle"))
    axis.shapes.append(text(plot.left + plot.width, plot.bottom + 32, title, "axis-title", "end"))
    return axis


def histogram(
    values: Sequence[float], label: str, unit: str, bins: int = 30, css: str = "bar"
) -> Figure | None:
    """Counts of `values` in equal bins from 0 to the largest; None when there are none."""
    if not values:
        return None
    high = max(values) or 1.0
    width = high / bins
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int(value / width))] += 1
    figure = Figure(570, 240, label, "chart histogram")
    y_ticks = nice_ticks(0, max(counts), 4, whole=True)
    x_ticks = nice_ticks(0, high, 6)
    plot = Plot(56, 24, 490, 170, 0, x_ticks[-1], 0, y_ticks[-1])
    figure.groups.append(y_axis(plot, y_ticks, "attempts"))
    figure.groups.append(x_axis(plot, x_ticks, unit))
    bars = Group("bars")
    for index, count in enumerate(counts):
        if count:
            x0, x1 = plot.x(index * width), plot.x((index + 1) * width)
            tip = f"{count} between {index * width:.3f} and {(index + 1) * width:.3f} {unit}"
            y = plot.y(count)
            bars.shapes.append(rect(x0, y, max(1.0, x1 - x0 - 1), plot.bottom - y, css, tip))
    figure.groups.append(bars)
    return figure


@dataclass(frozen=True)
class Spread:
    """One cell's value with its spread or interval, and where it links."""

    label: str
    value: float
    low: float
    high: float
    tip: str
    css: str = ""


def spreads(items: Sequence[Spread], label: str, unit: str, bars: bool = True) -> Figure:
    """One row per item: a bar (or a dot) at its value, a whisker from low to high."""
    row = 26
    figure = Figure(760, 60 + row * len(items), label, "chart spreads")
    high = max([item.high for item in items] + [item.value for item in items] + [0.0])
    x_ticks = nice_ticks(0, high or 1.0, 6)
    plot = Plot(220, 12, 500, row * len(items), 0, x_ticks[-1], 0, 1)
    figure.groups.append(x_axis(plot, x_ticks, unit))
    for index, item in enumerate(items):
        y = plot.top + index * row + row / 2
        group = Group(f"item {item.css}".strip(), data=(("cell", item.label),))
        group.shapes.append(text(plot.left - 8, y + 4, item.label, "label", "end"))
        if bars:
            group.shapes.append(
                rect(plot.left, y - 8, plot.x(item.value) - plot.left, 16, "value", item.tip)
            )
        else:
            group.shapes.append(circle(plot.x(item.value), y, 5, "value", item.tip))
        if item.high > item.low:
            group.shapes.append(line(plot.x(item.low), y, plot.x(item.high), y, "whisker"))
            for end in (item.low, item.high):
                group.shapes.append(line(plot.x(end), y - 5, plot.x(end), y + 5, "whisker"))
        figure.groups.append(group)
    return figure


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[float, float, str]]  # x, y, tip


def lines(
    series: Sequence[Series], label: str, x_title: str, y_title: str, x_names: Sequence[str]
) -> Figure:
    """One line per series over the swept axis; x is the index of `x_names`."""
    figure = Figure(760, 300, label, "chart lines")
    high = max((y for s in series for _, y, _ in s.points), default=1.0)
    y_ticks = nice_ticks(0, high or 1.0, 5)
    plot = Plot(64, 28, 520, 220, -0.5, len(x_names) - 0.5, 0, y_ticks[-1])
    figure.groups.append(y_axis(plot, y_ticks, y_title))
    axis = Group("axis x")
    axis.shapes.append(line(plot.left, plot.bottom, plot.left + plot.width, plot.bottom, "base"))
    for index, name in enumerate(x_names):
        axis.shapes.append(text(plot.x(index), plot.bottom + 16, name, "tick", "middle"))
    axis.shapes.append(text(plot.left + plot.width, plot.bottom + 34, x_title, "axis-title", "end"))
    figure.groups.append(axis)
    for number, each in enumerate(series):
        group = Group(f"series s{number % 8}", data=(("series", each.name),))
        points = [(plot.x(x), plot.y(y)) for x, y, _ in each.points]
        group.shapes.append(path(points, "trace"))
        for (x, y), (_, _, tip) in zip(points, each.points, strict=True):
            group.shapes.append(circle(x, y, 4, "point", tip))
        key_x, key_y = plot.left + plot.width + 16, plot.top + 14 * number
        group.shapes.append(line(key_x, key_y, key_x + 20, key_y, "trace"))
        group.shapes.append(text(key_x + 24, key_y + 4, each.name, "legend"))
        figure.groups.append(group)
    return figure
