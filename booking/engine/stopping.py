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
    owns_process = False
    late = 0  # a signal that came after a run, in booking's own process (see defer_late)


def _on_term(signum: int, frame: FrameType | None) -> None:
    _State.terminated = True
    raise Terminated


def install() -> signal.Handlers | object:
    """Make SIGTERM raise Terminated in the parent (call before any buyer is forked).
    Returns the handler it replaced, for `restore`."""
    _State.terminated = False
    return signal.signal(signal.SIGTERM, _on_term)


def restore(previous: object) -> None:
    """After the command: in the booking process itself, ignore late signals (the output
    is printed; exit with the code it earned, not -15 half-way through exiting); inside
    another program (tests run the CLI in-process), put its handler back."""
    if _State.owns_process:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]


def own_process() -> None:
    """Called by the console script: this process is booking's alone."""
    _State.owns_process = True


def defer_late() -> bool:
    """After a run, in booking's own process only: a SIGINT or SIGTERM from now on is
    remembered, not raised, so the run's result is still printed (and saved) and the
    command then exits 130 or 143; a next run (compare) starts stopped. Raised at an
    arbitrary point, it would lose a finished run's numbers. Returns whether it did."""
    if not _State.owns_process:
        return False
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_late)
    return True


def _on_late(signum: int, frame: FrameType | None) -> None:
    _State.late = signum
    if signum == signal.SIGTERM:
        _State.terminated = True


def late() -> bool:
    """A signal came after a run (defer_late): the command is to stop."""
    return bool(_State.late)


def note_terminated() -> None:
    """A SIGTERM the runner caught as a stop request: the exit code must still say 143."""
    _State.terminated = True


def exit_code() -> int:
    """130 after Ctrl-C, 143 after SIGTERM."""
    return EXIT_TERMINATED if _State.terminated else EXIT_INTERRUPTED
