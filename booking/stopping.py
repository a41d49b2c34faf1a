"""SIGTERM stops the tool the way Ctrl-C does: buyers stopped and reaped, the partial
result printed (and saved), then exit 143 instead of 130.

The handler raises `Terminated`, a KeyboardInterrupt, so every path that already survives
Ctrl-C (the runner, compare, the history) survives a `kill` too. Buyers install their own
handler after the fork.
"""

from __future__ import annotations

import signal
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """The tool received SIGTERM."""


class _State:
    terminated = False


def _on_term(signum: int, frame: FrameType | None) -> None:
    _State.terminated = True
    raise Terminated


def install() -> signal.Handlers | object:
    """Make SIGTERM raise Terminated in the parent (call before any buyer is forked).
    Returns the handler it replaced, for `restore`."""
    _State.terminated = False
    return signal.signal(signal.SIGTERM, _on_term)


def restore(previous: object) -> None:
    signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]


def exit_code() -> int:
    """130 after Ctrl-C, 143 after SIGTERM."""
    return EXIT_TERMINATED if _State.terminated else EXIT_INTERRUPTED
