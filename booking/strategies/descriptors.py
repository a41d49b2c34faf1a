"""File descriptors for a strategy that holds some per buyer (the queue's answer pipes):
room made, or a clear refusal, before anything is made."""

from __future__ import annotations

import contextlib
import resource

from booking.errors import ResourceError

#: Descriptors the parent needs besides two a buyer: stdio, the runner's pipes, the store.
FD_MARGIN = 64


def make_room(buyers: int) -> None:
    """Let this process hold two descriptors a buyer (the parent holds both ends of each
    answer pipe until the seller is forked): raise the soft RLIMIT_NOFILE towards the hard
    one if needed, else ResourceError, before anything is made."""
    need = 2 * buyers + FD_MARGIN
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft < need:
        raise ResourceError(
            f"the queue strategy needs 2 file descriptors a buyer: {buyers:,} buyers need "
            f"about {need:,}, more than this process may open ({soft:,}, ulimit -n); use at "
            f"most {max(0, (soft - FD_MARGIN) // 2):,} buyers"
        )
