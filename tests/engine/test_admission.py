"""Admission: the estimate of a run's memory, and the refusal before anything starts, on a
faked /proc/meminfo (nothing here forks or allocates)."""

from __future__ import annotations

import resource

import pytest

from booking.engine import admission
from booking.engine.admission import MIB, admit, estimate, fitting
from booking.engine.memory_guard import MEMORY_FLOOR_FRACTION
from booking.errors import ResourceError
from booking.memory import Meminfo

GIB = 1 << 30
#: 4 GiB available of 8: the default limit is 2 GiB, the machine can give 3.2 GiB.
MACHINE = Meminfo(available=4 * GIB, total=8 * GIB)


@pytest.fixture(autouse=True)
def no_process_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory alone decides here, whatever `ulimit -u` the tests run under."""
    monkeypatch.setattr(
        resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    )


def refusal(buyers: int, max_memory: int | None, info: Meminfo | None) -> str:
    with pytest.raises(ResourceError) as caught:
        admit(buyers, max_memory, info)
    return str(caught.value)


def test_the_estimate_is_the_parent_plus_each_buyer_with_the_margin() -> None:
    assert estimate(0) == admission.PARENT_BYTES
    per_buyer = admission.PER_BUYER_BYTES * admission.MARGIN
    assert estimate(1000) - estimate(0) == round(1000 * per_buyer)
    for buyers in (1, 50, 933, 10_000):
        assert fitting(estimate(buyers)) == buyers
        assert estimate(fitting(estimate(buyers) - 1)) < estimate(buyers)
    assert fitting(admission.PARENT_BYTES - 1) == 0


def test_the_default_limit_is_half_of_what_is_available() -> None:
    admit(fitting(2 * GIB), None, MACHINE)
    message = refusal(2000, None, MACHINE)
    assert message == (
        "2,000 buyers need about 4.1 GiB (1.8 MiB each, with a 15 % margin, and 64 MiB for "
        "the parent), more than the 2.0 GiB this run may use (half of the 4.0 GiB "
        "available; set it with --max-memory); use at most 958 buyers"
    )
    assert fitting(2 * GIB) == 958


def test_a_larger_max_memory_is_offered_only_where_the_machine_has_it() -> None:
    # 1,200 buyers (2.6 GiB) fit in the 3.2 GiB the machine can give; 2,000 do not.
    assert "use at most 958 buyers, or a larger --max-memory" in refusal(1200, None, MACHINE)
    assert refusal(2000, None, MACHINE).endswith("use at most 958 buyers")


def test_max_memory_replaces_the_default() -> None:
    admit(1200, 3 * GIB, MACHINE)
    message = refusal(50, 1 * MIB, MACHINE)
    assert message.startswith("50 buyers need about 167 MiB")
    assert "more than the 1.0 MiB this run may use (set with --max-memory)" in message
    assert message.endswith("not even one buyer fits; give a larger --max-memory")
    assert "use at most 463 buyers, or a larger --max-memory" in refusal(500, GIB, MACHINE)


def test_max_memory_beyond_what_the_machine_can_give_is_refused() -> None:
    # The floor: 10 % of the total stays free, so 4.0 - 0.8 GiB is the most a run may take.
    ceiling = MACHINE.available - int(MACHINE.total * MEMORY_FLOOR_FRACTION)
    admit(10, ceiling, MACHINE)
    assert refusal(10, 100 * GIB, MACHINE) == (
        "--max-memory 100 GiB is more than this machine can give: 4.0 GiB is available and "
        "10 % of the machine's 8.0 GiB stays free, which leaves 3.2 GiB; use --max-memory "
        "3276M or less"
    )
    assert "more than this machine can give" in refusal(10, ceiling + 1, MACHINE)


def test_the_default_never_eats_into_the_floor() -> None:
    # 1.5 GiB available of 8: half would be 768 MiB, but only 1.5 - 0.8 GiB may be taken.
    low = Meminfo(available=3 * GIB // 2, total=8 * GIB)
    message = refusal(3000, None, low)
    assert "more than the 717 MiB this run may use (the 1.5 GiB available less 10 % of the" in (
        message
    )
    assert message.endswith("use at most 315 buyers")
    nothing = Meminfo(available=100 * MIB, total=8 * GIB)
    assert refusal(1, None, nothing).endswith("not even one buyer fits; free some memory first")


def test_without_meminfo_a_run_is_admitted_unless_a_limit_was_given() -> None:
    admit(100_000, None, None)
    message = refusal(1000, GIB, None)
    assert "more than the 1.0 GiB this run may use (set with --max-memory)" in message
    assert message.endswith("use at most 463 buyers, or a larger --max-memory")


def test_the_process_limit_is_checked_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda which: (500, 4000))
    assert "process limit (ulimit -u) is 500" in refusal(1000, 1 * MIB, MACHINE)


def test_a_buyer_costs_what_its_strategy_and_store_were_measured_at() -> None:
    assert admission.per_buyer("lock", "json") == admission.PER_BUYER_BYTES
    assert admission.per_buyer("filelock", "sqlite") > 2 * admission.per_buyer("lock", "json")
    # A pair never measured is priced as the dearest measured, never as the cheapest.
    assert admission.per_buyer("seatlock", "mongo") == max(
        admission.per_buyer(strategy, store) for strategy, store in admission.PER_BUYER_MIB
    )
    # A networked store's buyer also has a session in the server, on this machine.
    assert admission.per_buyer("for-update", "postgres") > admission.per_buyer("lock", "sqlite")
    assert admission.per_buyer("fenced", "redis") >= admission.per_buyer("lock", "sqlite")


def test_filelock_buyers_are_refused_where_as_many_lock_buyers_fit() -> None:
    limit = estimate(1000)
    admit(1000, limit, MACHINE)
    with pytest.raises(ResourceError, match=r"4\.2 MiB each"):
        admit(1000, limit, MACHINE, admission.per_buyer("filelock", "sqlite"))


def test_a_buyer_that_tries_again_costs_more() -> None:
    # Measured: a buyer's pages grow with its attempts (lock/json USS 1.64 MB at 1, 2.14 at
    # 500); the table is for one attempt.
    one = admission.per_buyer("lock", "json")
    assert admission.per_buyer("lock", "json", attempts=1) == one
    assert admission.per_buyer("lock", "json", attempts=500) >= one + 0.5 * MIB
    limit = estimate(1000)
    admit(1000, limit, MACHINE)
    with pytest.raises(ResourceError, match=r"2\.4 MiB each"):
        admit(1000, limit, MACHINE, admission.per_buyer("lock", "json", attempts=20))
