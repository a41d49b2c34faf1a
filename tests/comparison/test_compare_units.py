"""Pure unit tests of the compare pieces: stats, the plan of cells and cell statistics.

Every Result, CellSummary and Comparison here is built by hand: no buyer process is started.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from booking.comparison.cellstats import CellSummary, summarize, with_relative_speed
from booking.comparison.driver import plan
from booking.errors import ScenarioError
from booking.judge.result import VERDICTS, Result
from booking.judge.stats import (
    Z_95,
    median,
    median_abs_deviation,
    ratio_with_error,
    wilson_interval,
)
from booking.scenarios.plan import (
    SEED_LIMIT,
    Cell,
    parse_names,
    parse_reference,
    plan_cells,
    round_seed,
    schedule,
)
from booking.scenarios.scenario import Scenario
from booking.stores import STORES
from booking.strategies import STRATEGIES
from tests.comparison.fakes import (
    make_comparison,
    make_result,
    oversold_cell,
    safe_cell,
    wilson_reference,
)

# --- stats -----------------------------------------------------------------------------------


def test_median_odd_even_and_empty() -> None:
    assert median([3, 1, 2]) == 2.0
    assert median([10, 40, 20]) == 20.0
    assert median([4, 1, 3, 2]) == 2.5
    assert median([5]) == 5.0
    assert median([]) == 0.0


def test_median_abs_deviation_ignores_one_wild_value() -> None:
    assert median_abs_deviation([1, 2, 3, 4, 100]) == 1.0
    assert median_abs_deviation([1, 2, 3, 4, 5]) == 1.0
    assert median_abs_deviation([1, 2, 3, 4, 10**9]) == 1.0
    assert median_abs_deviation([7, 7, 7]) == 0.0
    assert median_abs_deviation([90, 100, 110, 105, 300]) == 5.0
    assert median_abs_deviation([]) == 0.0


def test_z_95_is_the_two_sided_normal_quantile() -> None:
    assert pytest.approx(1.96, abs=1e-3) == Z_95


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        (0, 5, (0.0, 0.4345)),
        (5, 5, (0.5655, 1.0)),
        (3, 10, (0.1078, 0.6032)),
        (1, 1, (0.2065, 1.0)),
        (0, 3, (0.0, 0.5615)),
    ],
)
def test_wilson_interval_known_values(
    successes: int, trials: int, expected: tuple[float, float]
) -> None:
    low, high = wilson_interval(successes, trials)
    assert low == pytest.approx(expected[0], rel=1e-3, abs=1e-9)
    assert high == pytest.approx(expected[1], rel=1e-3, abs=1e-9)


@pytest.mark.parametrize(("successes", "trials"), [(0, 5), (5, 5), (3, 10), (7, 20), (1, 100)])
def test_wilson_interval_matches_the_textbook_formula(successes: int, trials: int) -> None:
    low, high = wilson_interval(successes, trials)
    ref_low, ref_high = wilson_reference(successes, trials)
    assert low == pytest.approx(ref_low, rel=1e-3, abs=1e-9)
    assert high == pytest.approx(ref_high, rel=1e-3, abs=1e-9)
    assert 0.0 <= low <= successes / trials <= high <= 1.0


def test_wilson_interval_of_no_trials_is_everything() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "trials"), [(6, 5), (-1, 5), (1, 0), (0, -1)])
def test_wilson_interval_rejects_impossible_counts(successes: int, trials: int) -> None:
    with pytest.raises(ValueError, match=r"successes must be within 0\.\.trials"):
        wilson_interval(successes, trials)


def test_ratio_with_error_adds_relative_errors_in_quadrature() -> None:
    ratio, error = ratio_with_error(300, 30, 100, 10)
    assert ratio == 3.0
    assert error == pytest.approx(3 * math.sqrt(0.01 + 0.01))
    assert error == pytest.approx(0.42426, rel=1e-4)


def test_ratio_with_error_without_spread_has_no_error() -> None:
    assert ratio_with_error(50, 0, 200, 0) == (0.25, 0.0)


@pytest.mark.parametrize(
    ("numerator", "denominator"), [(0, 100), (100, 0), (-1, 100), (100, -5), (0, 0)]
)
def test_ratio_with_error_needs_positive_values(numerator: float, denominator: float) -> None:
    with pytest.raises(ValueError, match="two positive values"):
        ratio_with_error(numerator, 1, denominator, 1)


# --- matrix: parse_names ---------------------------------------------------------------------


def test_parse_names_keeps_the_order_given() -> None:
    assert parse_names("none,lock", "strategy", STRATEGIES) == ["none", "lock"]
    assert parse_names(" sqlite , json ", "store", STORES) == ["sqlite", "json"]
    assert parse_names("transaction", "strategy", STRATEGIES) == ["transaction"]


def test_parse_names_rejects_an_unknown_name() -> None:
    with pytest.raises(ScenarioError, match=r'unknown strategy "mutex"') as caught:
        parse_names("lock,mutex", "strategy", STRATEGIES)
    assert (
        "expected one of none, lock, filelock, manager, transaction, deferred, atomic, "
        "optimistic, queue" in str(caught.value)
    )


@pytest.mark.parametrize("text", ["lock,,none", "lock,", ",lock", "", " , "])
def test_parse_names_rejects_an_empty_name(text: str) -> None:
    with pytest.raises(ScenarioError, match="has an empty name") as caught:
        parse_names(text, "strategy", STRATEGIES)
    assert f'strategy list "{text}"' in str(caught.value)


def test_parse_names_rejects_a_repeated_name() -> None:
    with pytest.raises(ScenarioError, match=r"^store json named twice$"):
        parse_names("json,sqlite,json", "store", STORES)
    with pytest.raises(ScenarioError, match=r"^strategy lock, none named twice$"):
        parse_names("none,lock,none,lock", "strategy", STRATEGIES)


# --- matrix: plan_cells ----------------------------------------------------------------------


def test_plan_cells_default_is_every_strategy_on_every_store_it_supports() -> None:
    cells = plan_cells(None, None)
    assert cells == [
        Cell("none", "json"),
        Cell("none", "sqlite"),
        Cell("lock", "json"),
        Cell("lock", "sqlite"),
        Cell("filelock", "json"),
        Cell("filelock", "sqlite"),
        Cell("manager", "json"),
        Cell("manager", "sqlite"),
        Cell("transaction", "sqlite"),
        Cell("deferred", "sqlite"),
        Cell("atomic", "sqlite"),
        Cell("optimistic", "json"),
        Cell("optimistic", "sqlite"),
        Cell("queue", "json"),
        Cell("queue", "sqlite"),
    ]
    assert [c.label for c in cells if c.strategy == "transaction"] == ["transaction/sqlite"]


def test_plan_cells_on_a_seat_map_holds_the_strategies_that_sell_seats() -> None:
    cells = plan_cells(None, ["sqlite"], "seats")
    assert [cell.strategy for cell in cells] == [
        "none", "lock", "filelock", "manager", "transaction", "deferred", "atomic",
        "optimistic", "queue", "seatlock", "seatlock-unordered",
    ]  # fmt: skip
    with pytest.raises(ScenarioError, match='strategy "seatlock" sells seats'):
        plan_cells(["seatlock"], None)


def test_plan_cells_rejects_a_strategy_on_a_store_it_does_not_support() -> None:
    with pytest.raises(ScenarioError, match="does not work on the json store") as caught:
        plan_cells(["transaction"], ["json"])
    assert str(caught.value) == (
        'strategy "transaction" does not work on the json store; it needs sqlite'
    )


def test_plan_cells_keeps_only_the_supported_pairs() -> None:
    assert plan_cells(["transaction", "lock"], ["json", "sqlite"]) == [
        Cell("transaction", "sqlite"),
        Cell("lock", "json"),
        Cell("lock", "sqlite"),
    ]


def test_plan_cells_rejects_a_named_store_that_no_strategy_works_on() -> None:
    with pytest.raises(ScenarioError) as caught:
        plan_cells(["transaction"], ["sqlite", "json"])
    assert str(caught.value) == "no chosen strategy works on the json store (transaction)"


def test_plan_cells_default_strategies_on_the_json_store_only() -> None:
    assert plan_cells(None, ["json"]) == [
        Cell("none", "json"),
        Cell("lock", "json"),
        Cell("filelock", "json"),
        Cell("manager", "json"),
        Cell("optimistic", "json"),
        Cell("queue", "json"),
    ]


def test_plan_cells_transaction_on_the_default_stores() -> None:
    assert plan_cells(["transaction"], None) == [Cell("transaction", "sqlite")]


# --- matrix: schedule, round_seed, parse_reference -------------------------------------------

A, B, C = Cell("none", "json"), Cell("lock", "json"), Cell("lock", "sqlite")


def test_schedule_is_round_robin() -> None:
    order = schedule([A, B, C], 3)
    assert [cell for _, cell in order] == [A, B, C, A, B, C, A, B, C]
    assert [round_ for round_, _ in order] == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_schedule_of_one_round() -> None:
    assert schedule([A, B], 1) == [(0, A), (0, B)]


@pytest.mark.parametrize("repeat", [0, -1])
def test_schedule_needs_at_least_one_round(repeat: int) -> None:
    with pytest.raises(ScenarioError, match=f"repeat must be at least 1, not {repeat}"):
        schedule([A, B, C], repeat)


def test_round_seed_adds_the_round_and_wraps() -> None:
    assert round_seed(42, 0) == 42
    assert round_seed(42, 3) == 45
    assert round_seed(SEED_LIMIT - 1, 0) == SEED_LIMIT - 1
    assert round_seed(SEED_LIMIT - 1, 1) == 0
    assert round_seed(SEED_LIMIT - 2, 4) == 2
    assert SEED_LIMIT == 2**63


def test_parse_reference_by_strategy_and_by_cell() -> None:
    cells = plan_cells(None, None)
    assert parse_reference("lock", cells) == [Cell("lock", "json"), Cell("lock", "sqlite")]
    assert parse_reference("lock/json", cells) == [Cell("lock", "json")]
    assert parse_reference("transaction", cells) == [Cell("transaction", "sqlite")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", r'reference "nope" is not in this comparison \(none/json, '),
        ("lock/mongo", r'reference "lock/mongo" is not in this comparison'),
        ("transaction/json", r'reference "transaction/json" is not in this comparison'),
        ("lock/", r'reference "lock/": expected STRATEGY or STRATEGY/STORE'),
        ("/json", r'reference "/json": expected STRATEGY or STRATEGY/STORE'),
        ("a/b/c", r'reference "a/b/c": expected STRATEGY or STRATEGY/STORE'),
        ("", r'reference "": expected STRATEGY or STRATEGY/STORE'),
    ],
)
def test_parse_reference_rejects(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_reference(text, plan_cells(None, None))


def test_plan_checks_everything_without_running() -> None:
    workload = Scenario(buyers=10, tickets=5, seed=3)
    cells, order, candidates = plan(workload, ["lock", "none"], ["sqlite"], 2, "lock")
    assert cells == [Cell("lock", "sqlite"), Cell("none", "sqlite")]
    assert order == [(0, cells[0]), (0, cells[1]), (1, cells[0]), (1, cells[1])]
    assert candidates == [Cell("lock", "sqlite")]
    assert plan(workload, ["lock"], ["json"], 1)[2] is None


def test_plan_rejects_a_path_and_a_bad_reference() -> None:
    with pytest.raises(ScenarioError, match="it takes no path"):
        plan(Scenario(reset=True), ["lock"], ["json"])
    with pytest.raises(ScenarioError, match='reference "none" is not in this comparison'):
        plan(Scenario(), ["lock"], ["json"], 2, "none")
    with pytest.raises(ScenarioError, match="repeat must be at least 1, not 0"):
        plan(Scenario(), ["lock"], ["json"], 0)


# --- cellstats: summarize --------------------------------------------------------------------


def mixed_runs() -> list[Result]:
    """Five runs of one cell: two SAFE, one each OVERSOLD, LOST_UPDATES and ERRORS."""
    return [
        make_result(seed=10, throughput=100.0, max_inside=1, latency_ms=lat(1, 2, 3)),
        make_result(
            seed=11,
            throughput=110.0,
            verdict="OVERSOLD",
            oversold=2,
            lost_updates=1,
            max_inside=3,
            latency_ms=lat(2, 4, 6),
            explanation=["buyers 3 and 4 both read 1, then both wrote 0", "more detail"],
        ),
        make_result(
            seed=12,
            throughput=90.0,
            verdict="LOST_UPDATES",
            lost_updates=3,
            max_inside=2,
            latency_ms=lat(3, 5, 7),
            explanation=["3 sales were overwritten"],
        ),
        make_result(
            seed=13,
            throughput=300.0,
            verdict="ERRORS",
            errors=2,
            max_inside=1,
            latency_ms=lat(4, 6, 8),
            explanation=["2 buyers failed"],
        ),
        make_result(seed=14, throughput=105.0, max_inside=1, latency_ms=lat(5, 7, 9)),
    ]


def lat(p50: float, p95: float, p99: float) -> dict[str, float]:
    return {"p50": p50, "p95": p95, "p99": p99, "max": p99 + 1}


def test_summarize_mixed_cell() -> None:
    summary = summarize(Cell("lock", "json"), mixed_runs(), claims_safe=True)
    assert (summary.strategy, summary.store, summary.label) == ("lock", "json", "lock/json")
    assert summary.runs == 5
    assert summary.anomaly_runs == 3
    assert summary.anomalous
    assert summary.anomaly_rate == 0.6
    low, high = wilson_interval(3, 5)
    assert summary.anomaly_rate_ci95 == (round(low, 4), round(high, 4))
    assert summary.anomaly_rate_ci95 == (0.2307, 0.8824)
    assert summary.oversold_mean == pytest.approx(0.4)
    assert summary.oversold_max == 2
    assert summary.lost_updates_mean == pytest.approx(0.8)
    assert summary.lost_updates_max == 3
    assert summary.errors == 2
    assert summary.max_inside_median == 1.0
    assert summary.throughput_median == 105.0
    assert summary.throughput_mad == 5.0
    assert (summary.throughput_min, summary.throughput_max) == (90.0, 300.0)
    assert summary.latency_ms == {"p50": 3.0, "p95": 5.0, "p99": 7.0}
    assert summary.verdicts == {
        "SAFE": 2,
        "OVERSOLD": 1,
        "DOUBLE_BOOKED": 0,
        "PARTIAL": 0,
        "LOST_UPDATES": 1,
        "ERRORS": 1,
        "DEADLOCK": 0,
        "CORRUPT": 0,
        "INTERFERED": 0,
        "TIMEOUT": 0,
        "INTERRUPTED": 0,
        "ABORTED": 0,
    }
    assert list(summary.verdicts) == list(VERDICTS)
    # OVERSOLD outranks more lost updates, which outrank errors.
    assert summary.worst == "buyers 3 and 4 both read 1, then both wrote 0"
    assert summary.worst_seed == 11
    assert summary.seeds == [10, 11, 12, 13, 14]
    assert summary.claims_safe
    assert not summary.never_raced
    assert not summary.reference
    assert summary.times_slower is None
    assert summary.times_slower_error is None


def test_summarize_worst_ranks_lost_updates_over_errors() -> None:
    runs = [r for r in mixed_runs() if r.verdict != "OVERSOLD"]
    summary = summarize(Cell("lock", "json"), runs, claims_safe=True)
    assert (summary.worst, summary.worst_seed) == ("3 sales were overwritten", 12)
    assert summary.oversold_max == 0
    assert summary.lost_updates_mean == 0.75


def test_summarize_rounds_medians_and_latencies() -> None:
    runs = [
        make_result(throughput=100.02, latency_ms=lat(1.00011, 2.0, 3.0), max_inside=1),
        make_result(throughput=100.04, latency_ms=lat(1.00031, 2.0, 3.0), max_inside=4),
    ]
    summary = summarize(Cell("lock", "json"), runs, claims_safe=True)
    assert summary.throughput_median == 100.03  # rounded to 3 decimals: slow cells keep a ratio
    assert summary.throughput_mad == 0.01
    assert summary.latency_ms["p50"] == 1.0
    assert summary.max_inside_median == 2.5


def test_summarize_safe_cell_has_no_worst() -> None:
    summary = safe_cell("lock", "sqlite", [100.0, 120.0, 80.0])
    assert summary.worst == ""
    assert summary.worst_seed is None
    assert summary.anomaly_runs == 0
    assert summary.anomaly_rate == 0.0
    assert not summary.anomalous
    assert summary.anomaly_rate_ci95 == (0.0, 0.5615)
    assert summary.verdicts == dict.fromkeys(VERDICTS, 0) | {"SAFE": 3}
    assert summary.throughput_median == 100.0
    assert summary.throughput_mad == 20.0


def test_summarize_anomalous_run_without_explanation_has_empty_worst() -> None:
    run = make_result(verdict="CORRUPT", seed=5, explanation=[])
    summary = summarize(Cell("lock", "json"), [run], claims_safe=True)
    assert (summary.worst, summary.worst_seed) == ("", 5)
    assert summary.verdicts["CORRUPT"] == 1


def test_never_raced_needs_an_unsafe_strategy_that_never_overlapped() -> None:
    runs = [make_result(strategy="none", max_inside=1, seed=i) for i in range(3)]
    assert summarize(Cell("none", "json"), runs, claims_safe=False).never_raced
    # A strategy that claims to be safe is not expected to race.
    assert not summarize(Cell("none", "json"), runs, claims_safe=True).never_raced
    # One run with two buyers inside the window did race.
    raced = [*runs, make_result(strategy="none", max_inside=2)]
    assert not summarize(Cell("none", "json"), raced, claims_safe=False).never_raced
    # An anomaly proves something, even with one buyer inside at a time.
    broken = [*runs, make_result(strategy="none", max_inside=1, verdict="ERRORS", errors=1)]
    assert not summarize(Cell("none", "json"), broken, claims_safe=False).never_raced


def test_summarize_needs_a_run() -> None:
    with pytest.raises(ValueError, match="cell lock/json has no finished run"):
        summarize(Cell("lock", "json"), [], claims_safe=True)


def test_to_dict_makes_the_interval_a_list() -> None:
    record = safe_cell("lock", "json", [100.0]).to_dict()
    assert record["anomaly_rate_ci95"] == [0.0, 0.7935]
    assert record["verdicts"]["SAFE"] == 1
    assert record["seeds"] == [0]


# --- cellstats: with_relative_speed ----------------------------------------------------------


def speed_cells() -> list[CellSummary]:
    return [
        safe_cell("none", "json", [1000.0, 1000.0, 1000.0], claims_safe=False),  # unsafe
        oversold_cell("lock", "json", 800.0, claims_safe=True),  # anomalous
        safe_cell("filelock", "json", [270.0, 300.0, 330.0]),  # 300 ± 30: the reference
        safe_cell("lock", "sqlite", [90.0, 100.0, 110.0]),  # 100 ± 10
        safe_cell("manager", "json", [0.0, 0.0, 0.0]),  # never moved
    ]


def test_default_reference_is_the_fastest_safe_cell_without_anomaly() -> None:
    cells = speed_cells()
    updated, reference = with_relative_speed(cells)
    assert reference is not None
    assert reference.label == "filelock/json"
    assert reference.reference
    assert reference.times_slower == 1.0
    assert reference is updated[2]
    by_label = {s.label: s for s in updated}
    assert [s.label for s in updated] == [s.label for s in cells]
    assert [s.label for s in updated if s.reference] == ["filelock/json"]

    slower = by_label["lock/sqlite"]
    assert slower.times_slower == 3.0
    assert slower.times_slower_error == round(3 * math.sqrt(0.01 + 0.01), 3) == 0.424

    faster = by_label["none/json"]  # 300 ± 30 over 1000 ± 0
    assert faster.times_slower == 0.3
    assert faster.times_slower_error == 0.03

    anomalous = by_label["lock/json"]  # 300 ± 30 over 800 ± 0
    assert anomalous.times_slower == 0.375
    assert anomalous.times_slower_error == 0.038

    idle = by_label["manager/json"]
    assert idle == cells[4]
    assert idle.times_slower is None


def test_a_cell_whose_attempts_gave_up_is_no_default_reference() -> None:
    quitter = replace(safe_cell("optimistic", "sqlite", [900.0, 900.0, 900.0]), gave_up_median=3)
    _, reference = with_relative_speed([*speed_cells(), quitter])
    assert reference is not None
    assert reference.label == "filelock/json"
    _, reference = with_relative_speed([*speed_cells(), replace(quitter, gave_up_median=0)])
    assert reference is not None
    assert reference.label == "optimistic/sqlite"


def test_explicit_candidates_pick_the_fastest_among_them() -> None:
    cells = speed_cells()
    updated, reference = with_relative_speed(
        cells, [Cell("lock", "sqlite"), Cell("filelock", "json")]
    )
    assert reference is not None
    assert reference.label == "filelock/json"

    updated, reference = with_relative_speed(cells, [Cell("lock", "sqlite")])
    assert reference is not None
    assert reference.label == "lock/sqlite"
    by_label = {s.label: s for s in updated}
    assert by_label["filelock/json"].times_slower == pytest.approx(1 / 3, abs=1e-3)
    assert by_label["filelock/json"].times_slower_error == 0.047  # (1/3) * sqrt(0.02)

    # A named candidate may be an unsafe cell: the user asked for it.
    updated, reference = with_relative_speed(cells, [Cell("none", "json"), Cell("lock", "sqlite")])
    assert reference is not None
    assert reference.label == "none/json"
    assert {s.label: s for s in updated}["lock/sqlite"].times_slower == 10.0


def test_no_eligible_reference_leaves_the_summaries_alone() -> None:
    cells = [
        safe_cell("none", "json", [1000.0], claims_safe=False),
        oversold_cell("lock", "json", 800.0, claims_safe=True),
        safe_cell("manager", "json", [0.0]),
    ]
    updated, reference = with_relative_speed(cells)
    assert reference is None
    assert updated == cells
    assert all(s.times_slower is None and not s.reference for s in updated)
    # Named candidates that did not move, or are not in the comparison, qualify no better.
    assert with_relative_speed(cells, [Cell("manager", "json")]) == (cells, None)
    assert with_relative_speed(cells, [Cell("lock", "sqlite")]) == (cells, None)


def test_relative_speed_again_with_other_candidates_moves_the_reference() -> None:
    cells = [safe_cell("lock", "json", [300.0]), safe_cell("filelock", "json", [100.0])]
    first, _ = with_relative_speed(cells)
    second, reference = with_relative_speed(first, [Cell("filelock", "json")])
    assert reference is not None and reference.label == "filelock/json"
    assert [c.reference for c in second] == [False, True]
    assert second[0].times_slower == pytest.approx(1 / 3, abs=1e-3)
    assert second[1].times_slower_error is None


def test_status_says_how_a_comparison_ended() -> None:
    cells = [safe_cell("lock", "json", [100.0])]
    assert make_comparison(cells).status == "complete"
    assert make_comparison(cells, interrupted=True).status == "interrupted"
    assert make_comparison(cells, interrupted=True, stopped_by="fork failed").status == "error"
