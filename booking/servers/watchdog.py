"""The watchdog of a throwaway server: `python -m booking.servers.watchdog PID DIR PARENT`.

It waits until its stdin closes (booking stopped the server, or died) or the booking
process that started it is gone, then kills the server's process group if it is still
there and deletes its directory. It imports nothing of booking's, so it starts fast.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> None:
    server, directory, parent = int(argv[0]), argv[1], int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for booking, which stops us
    while _alive(parent):
        readable, _, _ = select.select([sys.stdin], [], [], 0.5)
        if readable and not os.read(sys.stdin.fileno(), 4096):
            break  # booking closed the pipe: it stopped the server itself, or it died
    try:
        os.killpg(server, signal.SIGTERM)
        for _ in range(50):
            time.sleep(0.1)
            if not _alive(server):
                break
        os.killpg(server, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
