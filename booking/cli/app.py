"""The command line: options -> Scenario -> simulate -> render. No logic of its own."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated, Any

import typer

# typer 0.28 vendors click as typer._click; we catch its errors to print them as one line.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._click.utils import PacifyFlushWrapper
from typer.core import TyperGroup

from booking.cli import compare, explore, history, run, scenario, strategies
from booking.cli.encoding import degrade_gracefully
from booking.cli.exits import EXIT_BROKEN_PIPE, EXIT_USAGE
from booking.cli.options import STRATEGIES_EPILOG
from booking.engine import stopping
from booking.errors import BookingError


def _error(prog: str, message: str) -> None:
    one_line = message.replace("\r", "\\r").replace("\n", "\\n")
    print(f"{prog}: error: {one_line}", file=sys.stderr)


def _stdout_gone() -> None:
    """The reader of stdout left (`booking run | head -1`): exit as a command killed by
    SIGPIPE would, 141, and never 1, which says the run had an anomaly. Python's own
    advice: point stdout at /dev/null so the exit's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(EXIT_BROKEN_PIPE)


class BookingGroup(TyperGroup):
    """Every bad input ends as one line on stderr and exit 2: no box, no traceback."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        degrade_gracefully()
        previous = stopping.install()
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except SystemExit:
            if isinstance(sys.stdout, PacifyFlushWrapper):  # typer's way to say EPIPE
                _stdout_gone()
            raise
        except NoArgsIsHelpError as exc:
            if message := exc.format_message().strip():  # typer has printed the help already
                print(message, file=sys.stderr)
            sys.exit(EXIT_USAGE)
        except UsageError as exc:
            prog = exc.ctx.command_path if exc.ctx else "booking"
            hint = f" (see '{prog} --help')" if exc.ctx else ""
            _error(prog, exc.format_message() + hint)
            sys.exit(EXIT_USAGE)
        except BookingError as exc:
            _error(prog_name or "booking", str(exc))
            sys.exit(exc.exit_code)
        except ClickException as exc:
            _error(prog_name or "booking", exc.format_message())
            sys.exit(exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            print("Aborted.", file=sys.stderr)
            sys.exit(stopping.exit_code())
        finally:
            stopping.restore(previous)
            # Whatever was printed reaches the pipe before a late SIGTERM could kill us.
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                _stdout_gone()
        if code in (stopping.EXIT_INTERRUPTED, stopping.EXIT_TERMINATED):
            code = stopping.exit_code()  # typer turns any KeyboardInterrupt into 130
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=BookingGroup,
    help="A ticket-booking race simulator: buyer processes race to buy tickets from one store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from booking import __version__

        print(f"booking {__version__}")
        raise typer.Exit()


@app.callback()
def booking(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """A ticket-booking race simulator: buyer processes race to buy tickets from one store."""


app.command(epilog=STRATEGIES_EPILOG)(run.run)
app.command(epilog=STRATEGIES_EPILOG)(compare.compare)
app.add_typer(scenario.scenario_app, name="scenario")
app.add_typer(history.history_app, name="history")
app.command()(strategies.strategies)
app.command(epilog=STRATEGIES_EPILOG)(explore.explore)
app.command()(explore.replay)
