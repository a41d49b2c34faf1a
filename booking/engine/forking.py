"""What every fork of a buyer needs, whoever forks it (the runner, controlled mode): the
after-fork hooks multiprocessing would run, and the stop signals held off while a child
and the parent's record of it are made."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class _Held:
    depth = 0  # signals_held() blocks open in this process
    spawning = False  # a fork that releases them itself, once its handlers are set


def _after_fork_in_any_child() -> None:
    """A process forked inside signals_held() by someone else (a Manager's server, the
    seller) starts with Ctrl-C and SIGTERM blocked. Ctrl-C is the parent's to handle: it
    is ignored (as both set themselves a moment later) and let go, so a pending one is
    dropped, never run by the parent's handler in the middle of the fork's hooks.
    SIGTERM stays held: a Manager's server is stopped by the message its manager sends
    (it then removes its socket's folder), and the seller lets SIGTERM in itself once it
    has its own disposition (strategies/seller.py)."""
    if _Held.depth and not _Held.spawning:
        _Held.depth = 0
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


os.register_at_fork(after_in_child=_after_fork_in_any_child)


def after_fork_in_child() -> None:
    """Do what multiprocessing does in a child it forks: Manager proxies and locks
    registered 'after fork' hooks that give the child its own connections. Without
    multiprocessing loaded there are no hooks, and importing it here would be paid once
    per buyer."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util._finalizer_registry.clear()
        util._run_after_forkers()


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM off for the block: one that comes meanwhile is delivered
    when it ends, after what the block made (a child and its pid, a Manager and the handle
    that shuts it down) is where the clean-up can find it. A child forked inside starts
    with them held, and lets them go once it has its own handlers (`release_in_child`)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    _Held.depth += 1
    try:
        yield
    finally:
        _Held.depth -= 1
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def spawning() -> Iterator[None]:
    """Around a fork whose child releases the signals itself (controlled.spawn)."""
    _Held.spawning = True
    try:
        yield
    finally:
        _Held.spawning = False


def release_in_child() -> None:
    """In a child forked under signals_held(), once its handlers are set: let them come."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
