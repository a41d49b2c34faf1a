"""Stop signals held off around a fork: the parent keeps them pending, and a process that
someone else forks meanwhile (a Manager's server, the seller) gets them back at once, or
it could never be stopped but by SIGKILL."""

from __future__ import annotations

import os
import signal

from booking.engine import controlled
from booking.engine.forking import STOP_SIGNALS, signals_held


def blocked_in_child(fork: object) -> set[int]:
    """The stop signals a child made by `fork` starts its own code with blocked."""
    read, write = os.pipe()

    def body() -> int:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        os.write(write, bytes(sorted(int(s) for s in held & STOP_SIGNALS)))
        return 0

    pid = fork(body)  # type: ignore[operator]
    os.close(write)
    data = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    return set(data)


def plain_fork(body: object) -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(body())  # type: ignore[operator]
    return pid


def test_a_process_forked_by_another_library_while_held_drops_a_pending_ctrl_c() -> None:
    with signals_held():
        assert blocked_in_child(plain_fork) == {signal.SIGTERM}
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) >= STOP_SIGNALS
    assert not STOP_SIGNALS & signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_a_buyer_lets_them_go_once_it_ignores_ctrl_c() -> None:
    def spawn(body: object) -> int:
        return controlled.spawn(body, ())  # type: ignore[arg-type]

    with signals_held():
        assert blocked_in_child(spawn) == set()


def test_a_signal_held_off_arrives_when_the_hold_ends() -> None:
    got: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
    try:
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            assert got == []  # pending: what the block makes is recorded first
        assert got == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_helper_forked_while_held_never_runs_the_parents_handlers() -> None:
    """A Ctrl-C pending in it when the hold is lifted must not run the parent's Python
    handler in the middle of the fork's hooks: it is ignored before it is let go."""
    read, write = os.pipe()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        with signals_held():
            pid = os.fork()
            if pid == 0:
                said = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
                os.write(write, b"y" if said else b"n")
                os._exit(0)
        os.close(write)
        assert os.read(read, 1) == b"y"
        os.waitpid(pid, 0)
    finally:
        os.close(read)
        signal.signal(signal.SIGINT, previous)
