"""Shared test helpers: run the CLI, and find the processes a run may have left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from booking.cli import app


def children_of(pid: int) -> list[int]:
    """Live (or zombie) processes whose parent is `pid`, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def run_cli(*args: str) -> Any:
    """`booking run ARGS` through typer's CliRunner."""
    return CliRunner().invoke(app, ["run", *args])


def run_json(*args: str) -> dict[str, Any]:
    """`booking run ARGS --json`, checked to exit 0 and print one JSON object."""
    result = run_cli(*args, "--json")
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def no_children_left() -> bool:
    return children_of(os.getpid()) == []
