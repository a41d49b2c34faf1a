"""--kill-server: the throwaway server SIGKILLed mid-run ends the run with a verdict that
says so (ERRORS, never CORRUPT: the store is unreachable, not damaged), every buyer reaped
and no server left behind."""

from __future__ import annotations

import pytest

from booking import Scenario, simulate
from tests.helpers import no_children_left, require_server


@pytest.mark.parametrize(("store", "strategy"), [("postgres", "for-update"), ("redis", "fenced")])
def test_a_killed_server_ends_the_run_with_errors_and_says_why(store: str, strategy: str) -> None:
    require_server(store)
    result = simulate(
        Scenario(
            store=store,
            strategy=strategy,
            buyers=20,
            think_ms=(20, 20),
            kill_server_ms=50,
            seed=1,
        )
    )
    words = " ".join(result.explanation)
    assert result.verdict == "ERRORS", words
    assert result.remaining is None and result.errors > 0
    assert f"The {store} server was killed 50 ms after the gate opened" in words
    assert "The store could not be read after the run: cannot reach" in words
    # Nothing that needed the run to finish is claimed (fenced: "no write was refused").
    assert "No write was refused" not in words and "Every holder" not in words
    assert no_children_left()


def test_a_kill_that_comes_after_the_run_is_said_not_to_have_happened() -> None:
    require_server("redis")
    result = simulate(
        Scenario(store="redis", strategy="atomic", buyers=3, think_ms=(0, 0), kill_server_ms=60_000)
    )
    assert result.verdict == "SAFE", result.explanation
    assert "--kill-server 60000 never fired" in " ".join(result.explanation)


def test_a_summary_does_not_count_lost_sales_it_cannot_know() -> None:
    # Without the count left (the server is gone) lost updates are unknown: "?", not 0.
    import io

    from booking.render.run import summary
    from tests.helpers import fake_result

    out = io.StringIO()
    summary(fake_result(remaining=None, lost_updates=0, verdict="ERRORS"), out)
    assert "lost updates  ?" in out.getvalue() or "lost updates ?" in out.getvalue()
