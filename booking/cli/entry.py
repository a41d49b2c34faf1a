"""The console script's entry: Ctrl-C during start-up (imports, typer building the
commands) exits 130 quietly instead of printing a traceback from the import machinery.
Once the command runs, Ctrl-C is a KeyboardInterrupt again, which the runner turns into
a clean stop."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

EXIT_INTERRUPTED = 130


def _quiet_exit(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("Aborted.\n")
    os._exit(EXIT_INTERRUPTED)  # nothing has started yet: nothing to clean up


def main() -> None:
    signal.signal(signal.SIGINT, _quiet_exit)
    from booking.cli.app import app
    from booking.engine import stopping

    stopping.own_process()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        app(prog_name="booking")
    except KeyboardInterrupt:  # between typer's set-up and our group's own handling
        sys.stderr.write("Aborted.\n")
        sys.exit(stopping.exit_code())
