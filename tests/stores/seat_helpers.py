"""What the seat store tests share: a store of either kind, and work done in a forked
child (a real other process, as a buyer is), its wait status handed back."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

from booking.errors import StoreError
from booking.seating import Shape
from booking.stores import StoreOptions
from booking.stores.seat_store import SeatStoreFile, load_seat_store

OPTIONS = StoreOptions(run_id="t1")
SHAPE = Shape(3, 4)


def make(
    name: str,
    path: Path,
    shape: Shape = SHAPE,
    *,
    create: bool = True,
    reset: bool = False,
    options: StoreOptions = OPTIONS,
) -> SeatStoreFile:
    kind = load_seat_store(name)
    return kind(path, shape, create=create, reset=reset, options=options)


def refusal(name: str, path: Path, shape: Shape = SHAPE, **kwargs: Any) -> str:
    """Opening `path` as a `name` seat store is refused: the message, checked to be one
    line naming the path, with the file untouched."""
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        make(name, path, shape, **kwargs)
    assert path.read_bytes() == before
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def in_child_body(work: Callable[[], object]) -> NoReturn:
    """Inside a forked child: run `work`, then exit 0, or 1 with its error on stderr."""
    code = 1
    try:
        work()
        code = 0
    except BaseException as exc:
        os.write(2, f"child: {type(exc).__name__}: {exc}\n".encode())
    finally:
        os._exit(code)


def in_child(work: Callable[[], object]) -> int:
    """Run `work` in a forked child; its wait status. The child never returns into
    pytest: any exception is written to stderr and exits 1."""
    pid = os.fork()
    if pid == 0:
        in_child_body(work)
    return os.waitpid(pid, 0)[1]


def exited_cleanly(status: int) -> bool:
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def was_killed(status: int) -> bool:
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def race(count: int, work: Callable[[], object]) -> list[int]:
    """Fork `count` children that wait at one gate (a pipe), then all run `work` at once
    when the parent closes the pipe; their wait statuses."""
    gate_in, gate_out = os.pipe()
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            os.close(gate_out)
            os.read(gate_in, 1)  # returns b"" when the parent closes its end
            in_child_body(work)
        children.append(pid)
    os.close(gate_in)
    os.close(gate_out)
    return [os.waitpid(pid, 0)[1] for pid in children]
