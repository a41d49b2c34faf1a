"""Ctrl-C and SIGTERM during `booking explore`, as a terminal sends them: to the whole
process group, at moments that fall anywhere in a schedule (a fork, a Manager being made,
a step, the shrinker). The command must say what it ran and exit 130 or 143, leave no
process and no temporary folder behind, and never hang."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: Far longer than any stop needs; a hang fails the test instead of the suite.
EXIT_WITHIN_S = 30.0
#: Long enough (queue: 333 schedules, several seconds) that no search ends before its signal.
EXPLORE = ["-m", "booking", "explore", "--buyers", "4", "--tickets", "3", "--preemptions", "-1"]


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid` (zombies are gone once reaped by someone)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields[3]: the session id
            members.append(int(entry.name))
    return members


def started(tmp: Path, process: subprocess.Popen[str]) -> None:
    """Wait until the first schedule has made its store's folder (or the command ended)."""
    deadline = time.monotonic() + EXIT_WITHIN_S
    while not list(tmp.glob("booking-explore-*")) and process.poll() is None:
        assert time.monotonic() < deadline, "explore never started"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("strategy", "sig", "code", "delay"),
    [
        ("lock", signal.SIGINT, 130, 0.0),
        ("lock", signal.SIGINT, 130, 0.4),
        ("manager", signal.SIGTERM, 143, 0.1),
        ("manager", signal.SIGINT, 130, 0.5),
        ("queue", signal.SIGINT, 130, 0.2),
        ("filelock", signal.SIGTERM, 143, 0.3),
    ],
)
def test_a_stopped_exploration_says_what_it_ran_and_leaves_nothing(
    tmp_path: Path, strategy: str, sig: signal.Signals, code: int, delay: float
) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, *EXPLORE, "--strategy", strategy],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own group, signalled as a terminal would
    )
    try:
        started(tmp_path, process)
        time.sleep(delay)
        os.killpg(process.pid, sig)
        out, err = process.communicate(timeout=EXIT_WITHIN_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == code, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert "Interrupted: the search stopped there" in out
    assert session_members(process.pid) == []
    assert list(tmp_path.glob("booking-explore-*")) == []


def test_a_stopped_replay_says_how_many_it_ran(tmp_path: Path) -> None:
    schedule = tmp_path / "race.json"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    save = [sys.executable, "-m", "booking", "explore", "--strategy", "none"]
    subprocess.run([*save, "--save-schedule", str(schedule)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "booking", "replay", str(schedule), "--times", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        started(tmp_path, process)
        time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=EXIT_WITHIN_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err
    assert "of 100,000 replays" in err and "Traceback" not in err
    assert "followed the schedule step for step" in out
    assert session_members(process.pid) == []
    assert list(tmp_path.glob("booking-explore-*")) == []
