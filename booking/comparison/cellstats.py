"""Pure statistics of one compare cell: many Results of one (strategy, store) -> one row.

A rate of anomalies comes with its Wilson 95 % interval, because "0 of 5" is not "never".
A run cut short by --timeout (TIMEOUT) is no anomaly of the strategy and no evidence of its
safety either: it is counted apart and left out of the rate.
Speeds are medians with their median absolute deviation (MAD): one run slowed by the
machine moves neither. Relative speed is a ratio of medians, its ± the two MADs
propagated in quadrature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from booking.judge.result import VERDICTS, Result
from booking.judge.stats import median, median_abs_deviation, ratio_with_error, wilson_interval
from booking.scenarios.plan import Cell
from booking.strategies import STRATEGIES


@dataclass(frozen=True)
class CellSummary:
    """One row of the comparison; `to_dict()` is the JSON contract of a cell."""

    strategy: str
    store: str
    runs: int
    anomaly_runs: int  # runs with an anomaly (result.anomalous): not TIMEOUT, not SAFE
    anomaly_rate: float
    anomaly_rate_ci95: tuple[float, float]
    oversold_mean: float
    oversold_max: int
    lost_updates_mean: float
    lost_updates_max: int
    errors: int
    max_inside_median: float
    throughput_median: float
    throughput_mad: float
    throughput_min: float
    throughput_max: float
    latency_ms: dict[str, float]
    verdicts: dict[str, int]
    claims_safe: bool
    never_raced: bool
    worst: str  # what went wrong in the worst run, in the checker's words ("" if SAFE)
    worst_seed: int | None
    seeds: list[int] = field(default_factory=list)
    timeout_runs: int = 0  # runs cut short while still moving: out of the anomaly rate
    axes: dict[str, str] = field(default_factory=dict)  # a sweep point's other axes
    params: dict[str, Any] = field(default_factory=dict)  # the cell's own workload values
    reference: bool = False
    times_slower: float | None = None  # reference median / this median; < 1 is faster
    times_slower_error: float | None = None
    protocol: str = "guard"  # how a purchase was made (Result.protocol)
    # Compare-and-set cells only (None for the others): writes that found the store changed,
    # and attempts out of retries, a run.
    conflicts_median: float | None = None
    gave_up_median: float | None = None
    # Seat cells only (None for count cells): seats double-booked, a run.
    double_booked_mean: float | None = None
    double_booked_max: int | None = None

    @property
    def label(self) -> str:
        return Cell(self.strategy, self.store, tuple(self.axes.items())).label

    @property
    def anomalous(self) -> bool:
        return self.anomaly_runs > 0

    @property
    def judged_runs(self) -> int:
        """The runs that could show an anomaly or its absence: not those cut short."""
        return self.runs - self.timeout_runs

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        del record["params"]  # merged into the record by the renderer, as plain keys
        record["anomaly_rate_ci95"] = list(self.anomaly_rate_ci95)
        return record


def _worst_story(result: Result) -> str:
    """The headline of the worst run; for ERRORS, with the line that says what failed."""
    story = result.explanation[0]
    if result.verdict == "ERRORS":
        failed = next((line for line in result.explanation[1:] if " failed" in line), "")
        story = f"{story} {failed}".strip()
    return story


def is_sample(result: Result) -> bool:
    """Whether a run counts in its cell: a run cut short (Ctrl-C, the memory guard) is no
    sample of the strategy's speed or safety, unless it proved an anomaly before the stop."""
    return not (result.interrupted or result.aborted) or result.anomalous


def severity(result: Result) -> tuple[bool, int, int, int]:
    return (result.anomalous, result.oversold, result.lost_updates, result.errors)


def summarize(
    cell: Cell,
    results: Sequence[Result],
    *,
    claims_safe: bool,
    params: dict[str, Any] | None = None,
) -> CellSummary:
    """The statistics of one cell over its finished runs (at least one)."""
    if not results:
        raise ValueError(f"cell {cell.label} has no finished run")
    runs = len(results)
    anomaly_runs = sum(r.anomalous for r in results)
    # Neither SAFE nor anomalous: cut short (an interrupted run is never a sample).
    timeout_runs = sum(not r.safe and not r.anomalous for r in results)
    judged = runs - timeout_runs
    throughputs = [r.throughput for r in results]
    verdicts = dict.fromkeys(VERDICTS, 0)
    for result in results:
        verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
    worst = max(results, key=severity)
    # A strategy that retries after a conflict (optimistic, serializable, fenced, ...)
    # records its --retries: its conflicts and quitters are what it paid instead.
    compared = results[0].max_retries is not None
    low, high = wilson_interval(anomaly_runs, judged)
    return CellSummary(
        strategy=cell.strategy,
        store=cell.store,
        runs=runs,
        anomaly_runs=anomaly_runs,
        anomaly_rate=anomaly_runs / judged if judged else 0.0,
        anomaly_rate_ci95=(round(low, 4), round(high, 4)),
        oversold_mean=sum(r.oversold for r in results) / runs,
        oversold_max=max(r.oversold for r in results),
        double_booked_mean=(
            sum(r.double_booked for r in results) / runs if results[0].seats else None
        ),
        double_booked_max=max(r.double_booked for r in results) if results[0].seats else None,
        lost_updates_mean=sum(r.lost_updates for r in results) / runs,
        lost_updates_max=max(r.lost_updates for r in results),
        errors=sum(r.errors for r in results),
        max_inside_median=median(r.max_inside for r in results),
        throughput_median=round(median(throughputs), 3),
        throughput_mad=round(median_abs_deviation(throughputs), 3),
        throughput_min=min(throughputs),
        throughput_max=max(throughputs),
        latency_ms={
            key: round(median(r.latency_ms[key] for r in results), 3)
            for key in ("p50", "p95", "p99")
        },
        verdicts=verdicts,
        claims_safe=claims_safe,
        # An unguarded cell that never had two buyers in the window proved nothing (not so
        # for a design whose lesson is not the race: deferred).
        never_raced=not claims_safe
        and not getattr(STRATEGIES.get(cell.strategy), "claim", "")
        and anomaly_runs == 0
        and all(r.max_inside <= 1 for r in results),
        worst=_worst_story(worst) if worst.explanation and worst.anomalous else "",
        worst_seed=worst.seed if worst.anomalous else None,
        seeds=[r.seed for r in results],
        timeout_runs=timeout_runs,
        axes=dict(cell.axes),
        params=dict(params or {}),
        protocol=results[0].protocol,
        conflicts_median=median(r.conflicts for r in results) if compared else None,
        gave_up_median=median(r.gave_up for r in results) if compared else None,
    )


def eligible_reference(summary: CellSummary) -> bool:
    """A default reference claims safety, showed none of the anomalies in runs that
    finished, moved, and did not give purchases up (an optimistic cell whose buyers gave
    up is fast because it stopped trying, not because it sold)."""
    return (
        summary.claims_safe
        and not summary.anomalous
        and summary.judged_runs > 0
        and summary.throughput_median > 0
        and not summary.gave_up_median
    )


def with_relative_speed(
    summaries: Sequence[CellSummary], candidates: Sequence[Cell] | None = None
) -> tuple[list[CellSummary], CellSummary | None]:
    """Every summary with its speed relative to the reference: the fastest of `candidates`
    (the cells --reference named), or by default the fastest safe cell. Returns the
    summaries and the reference, or None when no cell qualifies."""
    if candidates is None:
        pool = [s for s in summaries if eligible_reference(s)]
    else:
        named = {(c.strategy, c.store) for c in candidates}
        pool = [s for s in summaries if (s.strategy, s.store) in named and s.throughput_median > 0]
    if not pool:
        return list(summaries), None
    reference = max(pool, key=lambda s: s.throughput_median)
    updated = []
    for summary in summaries:
        if summary is reference:
            updated.append(
                replace(summary, reference=True, times_slower=1.0, times_slower_error=None)
            )
        elif summary.throughput_median > 0:
            ratio, error = ratio_with_error(
                reference.throughput_median,
                reference.throughput_mad,
                summary.throughput_median,
                summary.throughput_mad,
            )
            updated.append(
                replace(
                    summary,
                    reference=False,
                    times_slower=round(ratio, 3),
                    times_slower_error=round(error, 3),
                )
            )
        else:
            updated.append(
                replace(summary, reference=False, times_slower=None, times_slower_error=None)
            )
    return updated, next(s for s in updated if s.reference)
