"""The floor under a buyer's private memory: what a forked child that only waits on a pipe
holds, depending on what its parent imported first (BENCHMARKS.md, section 6).

    /tmp/bench/bin/python benchmarks/fork_floor.py

Each row runs in a fresh interpreter (`-c`), imports the modules named, forks 20 children
that block on a pipe, and prints the median of their USS (Private_Clean + Private_Dirty of
/proc/PID/smaps_rollup). Run it with a regular install's Python: an editable install, or a
site that imports `threading` at start-up (some .pth files do), changes the first row.
"""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
import importlib, os, statistics, sys, time
for name in sys.argv[1:]:
    importlib.import_module(name)
r, w = os.pipe()
pids = []
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
    pids.append(pid)
time.sleep(0.3)
def uss(pid):
    with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
        return sum(int(line.split()[1]) for line in f
                   if line.startswith((b"Private_Clean:", b"Private_Dirty:")))
print(statistics.median(uss(pid) for pid in pids))
os.close(w)
for pid in pids:
    os.waitpid(pid, 0)
"""

ROWS = [
    ("a bare interpreter", []),
    ("+ json, random", ["json", "random"]),
    ("+ threading (its at-fork hook runs in every child)", ["threading"]),
    ("+ multiprocessing (imports threading)", ["multiprocessing"]),
    ("+ typer (booking's command line)", ["typer"]),
    ("+ filelock 4 (its fork-safety hooks)", ["filelock"]),
    ("booking's parent at the fork (cli, simulation)", ["booking.cli.app", "booking.simulation"]),
]


def main() -> int:
    print("| the parent imported | USS of an idle child (median of 20) |")
    print("|---|---|")
    for label, modules in ROWS:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, *modules], capture_output=True, text=True, check=True
        )
        print(f"| {label} | {float(out.stdout):,.0f} kB |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
