"""What the HTML report costs (BENCHMARKS.md, section 7): its size, the time booking takes
to write it, and the time Chromium takes to open and draw it, for real runs of 50 and
1,000 buyers under `none` and `lock`; with the trace and the saved timeline beside it.

    ../shared/tools/memwatch -- .venv/bin/python benchmarks/report.py

Each run is one real `simulate()`; the page is written five times (the median is shown),
then loaded five times in Debian's headless Chromium through Playwright, timed from
`goto` to two animation frames after the load event (the page is laid out and painted).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

from booking.history.timeline import pack
from booking.render import trace
from booking.render.report import render_run
from booking.scenarios.scenario import Scenario
from booking.simulation import simulate

CASES = [(50, "none"), (50, "lock"), (1000, "none"), (1000, "lock")]
REPEAT = 5


def paint_ms(files: list[Path]) -> dict[Path, float]:
    """Median load-to-paint time of each file in headless Chromium."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.browser.harness import CHROMIUM_ARGS, find_chromium

    timings: dict[Path, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for path in files:
            samples = []
            for _ in range(REPEAT):
                started = time.perf_counter()
                page.goto(path.as_uri(), wait_until="load")
                page.evaluate(
                    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                )
                samples.append((time.perf_counter() - started) * 1000)
            timings[path] = statistics.median(samples)
        browser.close()
    return timings


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="booking-report-bench-") as name:
        measure(Path(name))


def measure(folder: Path) -> None:
    rows = []
    for buyers, strategy in CASES:
        runs: list = []
        result = simulate(Scenario(buyers=buyers, strategy=strategy, seed=7), None, runs)
        raw = runs[0]
        writes = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            page = render_run(result, raw)
            writes.append((time.perf_counter() - started) * 1000)
        path = folder / f"{strategy}-{buyers}.html"
        path.write_text(page, encoding="utf-8")
        traced = len(trace.to_json(raw, result).encode())
        saved = len(pack(raw)["frames"])
        rows.append(
            (buyers, strategy, result.verdict, path, statistics.median(writes), traced, saved)
        )
        print(f"ran {strategy} × {buyers}: {result.verdict}", file=sys.stderr)
    painted = paint_ms([row[3] for row in rows])
    print(
        "| buyers | strategy | verdict | report | gzipped | write | open and paint "
        "| trace | saved timeline |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for buyers, strategy, verdict, path, write_ms, traced, saved in rows:
        data = path.read_bytes()
        print(
            f"| {buyers:,} | {strategy} | {verdict} | {len(data) / 1024:,.0f} KB "
            f"| {len(zlib.compress(data)) / 1024:,.0f} KB | {write_ms:.0f} ms "
            f"| {painted[path]:.0f} ms | {traced / 1024:,.0f} KB | {saved / 1024:,.1f} KB |"
        )


if __name__ == "__main__":
    main()
