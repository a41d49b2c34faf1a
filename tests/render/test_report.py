"""`--report FILE.html` without a browser: the page is one file with nothing fetched, its
timeline has a lane per buyer, and it marks what the verdict says (a forced race under
`none`, nothing under `lock`). The browser tests (tests/browser) check it renders."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from booking.cli.app import app
from booking.engine.frames import Kind, Outcome, Record
from booking.engine.runner import RawRun
from booking.judge.result import Result
from booking.render.report import render_run
from tests.helpers import run_cli


class Elements(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def with_class(self, name: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if name in (a.get("class") or "").split()]


def reported(tmp_path: Path, *args: str) -> tuple[str, dict[str, object], Elements]:
    path = tmp_path / "report.html"
    result = run_cli(*args, "--report", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert f"wrote the report to {path}" in result.stderr
    page = path.read_text(encoding="utf-8")
    parsed = Elements()
    parsed.feed(page)
    return page, json.loads(result.stdout), parsed


def test_a_race_is_drawn_with_every_window_overlapped_and_every_lost_sale_linked(
    tmp_path: Path,
) -> None:
    # A 400 ms think: every unguarded buyer reads before any writes, even on a loaded machine.
    page, record, parsed = reported(
        tmp_path, "--buyers", "6", "--tickets", "3", "--strategy", "none", "--think", "400"
    )
    assert record["verdict"] == "OVERSOLD"
    lanes = parsed.with_class("lane")
    assert [lane["data-buyer"] for lane in lanes] == [str(b) for b in range(6)]
    windows = [a for a in parsed.with_class("overlap") if a.get("data-tip")]
    assert len(windows) == 6
    links = [a for a in parsed.with_class("lost") if a.get("data-tip")]
    assert len(links) == record["lost_updates"]
    assert links
    # Every buyer read the same count, so the curves are exactly the sales the store lost.
    assert f"{record['lost_updates']} sales lost, by the count the store kept." in page
    reads = [a for a in parsed.with_class("read") if a.get("data-tip")]
    assert len(reads) == 6 and all("read 3 tickets left" in str(a["data-tip"]) for a in reads)
    assert "OVERSOLD" in page and str(record["explanation"][0]) in page  # type: ignore[index]
    # `none` holds nothing: no wait for a guard, no lock-wait chart, only the latency one.
    assert [a for a in parsed.with_class("wait") if a.get("data-tip")] == []
    assert len(parsed.with_class("histogram")) == 1


def test_under_a_lock_no_window_overlaps_and_no_sale_is_lost(tmp_path: Path) -> None:
    page, record, parsed = reported(
        tmp_path, "--buyers", "6", "--tickets", "3", "--strategy", "lock", "--think", "20"
    )
    assert record["verdict"] == "SAFE"
    assert len(parsed.with_class("lane")) == 6
    assert [a for a in parsed.with_class("overlap") if a.get("data-tip")] == []
    assert [a for a in parsed.with_class("lost") if a.get("data-tip")] == []
    assert "0 of 6 read -&gt; write windows overlapped" in page
    waits = [a for a in parsed.with_class("wait") if "waited" in str(a.get("data-tip"))]
    assert len(waits) == 6  # every attempt's wait for the guard is drawn
    assert len(parsed.with_class("histogram")) == 2  # latency and lock wait


def test_the_page_fetches_nothing(tmp_path: Path) -> None:
    page, _, parsed = reported(tmp_path, "--buyers", "3", "--strategy", "lock")
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        assert tag != "link", attrs
        href = attrs.get("href") or ""
        assert href == "" or href.startswith("#"), href
    # The only address on the page is the SVG namespace, which is a name, not a fetch.
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "@import" not in page and "url(" not in page


def test_text_from_the_store_cannot_inject_markup() -> None:
    hostile = '<script>alert("x")</script>'
    records = [
        Record(
            Kind.ATTEMPT, 0, 1, Outcome.ERROR, t_begin=10, t_acquired=11, t_end=20,
            message=hostile,
        )
    ]  # fmt: skip
    result = Result(
        store="json", strategy="lock", buyers=1, tickets=1, seed=1, sold=0, remaining=1,
        oversold=0, lost_updates=0, refused=0, errors=1, max_inside=0, wall_s=0.1,
        throughput=10.0, latency_ms={}, verdict="ERRORS", explanation=[hostile],
    )  # fmt: skip
    page = render_run(result, RawRun(records=records, gate_ns=5))
    assert hostile not in page
    assert "&lt;script&gt;alert(" in page


def test_a_run_without_its_steps_says_the_timeline_was_not_recorded() -> None:
    result = Result(
        store="json", strategy="lock", buyers=2, tickets=1, seed=1, sold=1, remaining=0,
        oversold=0, lost_updates=0, refused=1, errors=0, max_inside=1, wall_s=0.1,
        throughput=20.0, latency_ms={}, verdict="SAFE", explanation=["fine"],
    )  # fmt: skip
    page = render_run(result, None)
    assert "The timeline of this run was not recorded." in page
    assert 'class="lane"' not in page


@pytest.mark.parametrize("where", ["dir", "missing"])
def test_a_bad_report_path_is_refused_before_the_run(tmp_path: Path, where: str) -> None:
    path = tmp_path if where == "dir" else tmp_path / "no" / "r.html"
    result = run_cli("--buyers", "2", "--report", str(path))
    assert result.exit_code == 2
    assert "error" in result.stderr and "--report" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_sweep_report_draws_each_metric_against_the_axis_one_line_per_strategy(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "sweep.toml"
    scenario.write_text(
        'name = "tiny-sweep"\nstrategy = ["none", "lock"]\nstore = "json"\n'
        'buyers = [2, 3]\ntickets = 1\nthink = "0:1"\nrepeat = 1\n'
    )
    path = tmp_path / "sweep.html"
    ran = CliRunner().invoke(
        app, ["scenario", "run", str(scenario), "--seed", "1", "--report", str(path)]
    )
    assert ran.exit_code == 0, ran.stderr
    parsed = Elements()
    parsed.feed(path.read_text())
    charts = parsed.with_class("lines")
    assert len(charts) == 4  # oversold, lost updates, max inside, attempts/s
    series = [a["data-series"] for a in parsed.with_class("series")]
    assert series == ["none/json", "lock/json"] * 4
    assert len(parsed.with_class("point")) == 4 * 2 * 2  # two buyers values a line
    assert len(parsed.with_class("cell")) == 4  # a table row per sweep point
    links = [a["href"] for tag, a in parsed.tags if tag == "a"]
    anchors = {a["id"] for a in parsed.with_class("run")}
    assert len(links) == 4 and {str(href)[1:] for href in links} == anchors


@pytest.mark.parametrize(
    ("args", "guard_drawn", "says"),
    [
        (["--strategy", "lock"], True, "the guard let one buyer in at a time"),
        (["--strategy", "none"], False, "nothing kept them apart"),
        (["--strategy", "manager", "--no-manager-lock"], False, "nothing kept them apart"),
        (["--strategy", "queue"], False, "windows overlapped another buyer&#39;s.</p>"),
    ],
)
def test_a_guard_is_drawn_and_credited_only_where_there_is_one(
    tmp_path: Path, args: list[str], guard_drawn: bool, says: str
) -> None:
    # One buyer, two attempts: two windows that cannot overlap, whatever the strategy.
    page, _, parsed = reported(tmp_path, "--buyers", "1", "--attempts", "2", *args)
    waits = [a for a in parsed.with_class("wait") if "waited" in str(a.get("data-tip"))]
    assert bool(waits) is guard_drawn
    assert ("waiting for the guard" in page) is guard_drawn  # the legend follows the picture
    assert says in page
    assert ("the guard let" in page) is guard_drawn


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--trace", "x.html", "--report", "x.html"], "x.html is the same file as --trace"),
        (["--path", "st.json", "--report", "st.json"], "st.json is the same file as --path"),
        (["--save", "--db", "h.db", "--report", "h.db"], "--report h.db is the same file as --db"),
        (["--report", "/dev/null"], "--report /dev/null: not a regular file"),
        (["--report", "a" * 300 + ".html"], "File name too long"),
    ],
)  # fmt: skip
def test_a_report_that_would_destroy_a_file_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("--buyers", "2", *options)
    assert result.exit_code == 2
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "st.json").exists() and not (tmp_path / "h.db").exists()


def test_a_report_through_a_symlink_writes_the_file_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "link.html").symlink_to(tmp_path / "real.html")
    assert run_cli("--buyers", "2", "--report", str(tmp_path / "link.html")).exit_code == 0
    assert (tmp_path / "link.html").is_symlink()
    assert "<svg" in (tmp_path / "real.html").read_text()


def test_a_file_that_cannot_be_written_costs_neither_the_result_nor_the_other_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.render import output

    real = output.write_atomically

    def failing(path: Path, text: str) -> None:
        if path.name == "t.json":
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(output, "write_atomically", failing)
    report = tmp_path / "r.html"
    result = run_cli(
        "--buyers", "2", "--json", "--trace", str(tmp_path / "t.json"), "--report", str(report)
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["verdict"] == "SAFE"  # the result came first
    assert report.is_file()
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith("t.json: No space left on device; the trace was not written")
    )


def test_a_loop_of_symlinks_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = run_cli("--buyers", "2", "--report", str(tmp_path / "a"))
    assert result.exit_code == 2
    assert "a loop of symbolic links" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_scenario_report_never_overwrites_the_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\nstrategy = "lock"\nbuyers = 2\nrepeat = 1\n')
    ran = CliRunner().invoke(app, ["scenario", "run", str(scenario), "--report", str(scenario)])
    assert ran.exit_code == 2
    assert "is the same file as the scenario file" in ran.stderr
    assert scenario.read_text().startswith('name = "s"')


def test_a_manager_run_without_its_lock_says_so_in_its_heading(tmp_path: Path) -> None:
    page, _, _ = reported(tmp_path, "--buyers", "2", "--strategy", "manager", "--no-manager-lock")
    assert "manager without its lock on a fresh json store" in page


def test_a_compare_whose_out_fails_still_says_what_went_wrong_and_writes_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.render import output

    real = output.write_atomically

    def failing(path: Path, text: str) -> None:
        if path.name == "o.json":
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(output, "write_atomically", failing)
    report = tmp_path / "c.html"
    ran = CliRunner().invoke(
        app,
        [
            "compare", "--strategies", "none", "--stores", "json", "--buyers", "4",
            "--tickets", "1", "--think", "200", "--repeat", "1", "--format", "json",
            "--out", str(tmp_path / "o.json"), "--report", str(report),
        ],
    )  # fmt: skip
    assert ran.exit_code == 2
    assert json.loads(ran.stdout)[0]["strategy"] == "none"  # the output went to stdout
    assert "booking: note: none/json: 1 of 1 run not SAFE" in ran.stderr
    assert report.is_file()
    assert "the output went to stdout instead" in ran.stderr.strip().splitlines()[-1]
