"""Pure statistics: no processes, no files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, interpolating between ranks
    (numpy's default 'linear' method). 0.0 for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    if not sorted_values:
        return 0.0
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def latency_summary(values_ms: Iterable[float]) -> dict[str, float]:
    """p50, p95, p99 and max, in the units given, rounded to microseconds."""
    ordered = sorted(values_ms)
    summary = {f"p{q}": percentile(ordered, q) for q in (50, 95, 99)}
    summary["max"] = ordered[-1] if ordered else 0.0
    return {key: round(value, 3) for key, value in summary.items()}


def max_overlap(windows: Iterable[tuple[int, int]]) -> int:
    """The most half-open [start, end) windows that contain one instant."""
    edges: list[tuple[int, int]] = []
    for start, end in windows:
        edges.append((start, 1))
        edges.append((max(start, end), -1))
    edges.sort()  # at one instant an end (-1) sorts before a start (+1)
    inside = most = 0
    for _, step in edges:
        inside += step
        most = max(most, inside)
    return most
