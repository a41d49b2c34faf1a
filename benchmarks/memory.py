"""What many buyers cost the machine (issue 11): each buyer's private memory (USS, from
/proc/PID/smaps_rollup) while it waits at the gate and while it buys, the peak memory the
run held (anonymous pages, page tables, kernel stacks and unreclaimable kernel objects
above the idle machine: see `held`), and start-up per buyer, at 1,000 / 2,000 / 10,000
buyers (lock, JSON, think 0: every buyer alive at once).

Run it with the Python of a regular install (an editable one adds import hooks):

    python3 -m venv /tmp/bench && /tmp/bench/bin/pip install -q . &&
        /tmp/bench/bin/python benchmarks/memory.py [--buyers 1000 2000 10000]

Each size runs `booking run` in a child process, in-process through the console script's
own entry point, with two probes: just before the gate opens it samples the USS of up to
100 waiting buyers; 0.3 s after, that of up to 100 live ones (queued for the lock: they
have looked at the count and are buying). A watcher reads /proc/meminfo every 20 ms for
the peak, and kills the run's process group when MemAvailable falls below 4 GB, as
../shared/tools/memwatch does.
It prints a Markdown table for BENCHMARKS.md. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FLOOR_BYTES = 4 << 30
#: The targets of issue 11.
USS_TARGET_KB = 512
PEAK_TARGETS = {2000: 1.2 * 2**30, 10000: 5 * 2**30}
START_TARGET_S = {10000: 25.0}

#: Runs inside the child: the console script's main() with the two probes installed.
PROBE = r"""
import json, os, statistics, sys, time
import booking.engine.admission as admission
import booking.engine.runner as runner

admission.MARGIN = 1.0  # admitted at the measured cost: see measure_row

def uss_kb(pid):
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith((b"Private_Clean:", b"Private_Dirty:")):
                    total += int(line.split()[1])
    except OSError:
        return None
    return total

def sample(pids):
    pids = list(pids)
    values = [v for v in map(uss_kb, pids[:: max(1, len(pids) // 100)]) if v]
    return statistics.median(values) if values else None

seen = {}
open_gate = runner._Buyers.open_gate
def probed_gate(self):
    if "waiting_kb" not in seen and self.pids:
        seen["waiting_kb"] = sample(self.pids)
    return open_gate(self)
runner._Buyers.open_gate = probed_gate

read_frames = runner._read_frames
def probed_read(procs, buffer, raw, until_ns):
    if raw.gate_ns and "buying_kb" not in seen and time.monotonic_ns() - raw.gate_ns > 3e8:
        seen["buying_kb"] = sample(procs.alive)
        seen["buying_alive"] = len(procs.alive)
    return read_frames(procs, buffer, raw, until_ns)
runner._read_frames = probed_read

from booking.cli.entry import main
sys.argv = ["booking", *sys.argv[1:]]
try:
    main()
finally:
    with open(os.environ["PROBE_OUT"], "w") as f:
        json.dump(seen, f)
"""


#: What a run holds, from /proc/meminfo: its processes' anonymous pages (the copies of the
#: parent's pages), their page tables, kernel stacks and unreclaimable kernel objects.
HELD = ("AnonPages", "PageTables", "KernelStack", "SUnreclaim")


def held() -> int:
    """The machine's memory held by processes and their kernel structures, in bytes. Not
    MemAvailable: on this VM MemFree lags what processes take (1,000 buyers took 1.27 GB
    of new anonymous pages while MemFree fell 0.25 GB; pages freed by the previous run are
    reused before they are counted free), so its drop varies from 0.4 to 1.7 GiB for the
    same run."""
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in HELD:
                total += int(rest.split()[0]) * 1024
    return total


def available() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no MemAvailable in /proc/meminfo")


def measure(
    buyers: int, work: Path, strategy: str = "lock", store: str = "json"
) -> dict[str, float | str | None]:
    """One run of `buyers` buyers, think 0; its probes, peak and record."""
    out = work / "probe.json"
    path = work / ("tickets.db" if store == "sqlite" else "tickets.json")
    cmd = [
        sys.executable, "-c", PROBE, "run", "--buyers", str(buyers), "--tickets", "100",
        "--strategy", strategy, "--think", "0", "--json", "--timeout", "300",
        "--path", str(path), "--reset", "--max-memory", f"{max_memory() >> 20}M",
    ]  # fmt: skip
    base = top = held()
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        env={**os.environ, "PROBE_OUT": str(out)},
        start_new_session=True,
    )
    killed = threading.Event()

    def watch() -> None:
        nonlocal top
        while proc.poll() is None:
            top = max(top, held())
            if available() < FLOOR_BYTES and not killed.is_set():
                killed.set()
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    stdout, _ = proc.communicate()
    whole_s = time.monotonic() - started
    watcher.join()
    record = json.loads(stdout) if stdout.strip() else {}
    probes = json.loads(out.read_text()) if out.exists() else {}
    return {
        "verdict": "killed below the floor" if killed.is_set() else record.get("verdict"),
        "waiting_kb": probes.get("waiting_kb"),
        "buying_kb": probes.get("buying_kb"),
        "peak_bytes": top - base,
        "whole_s": whole_s,
        "startup_s": record.get("startup_s"),
    }


def max_memory() -> int:
    """The largest --max-memory booking accepts here: what is available less its floor."""
    with open("/proc/meminfo") as f:
        total = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemTotal:"))
    return int((available() - total // 10) * 0.995)  # it moves meanwhile


def row(buyers: int, m: dict[str, float | str | None], cell: str) -> str:
    peak = float(m["peak_bytes"] or 0)
    startup = float(m["startup_s"] or 0)
    targets = []
    if buyers == 1000:
        targets.append(f"USS ≤ {USS_TARGET_KB} kB")
    if buyers in PEAK_TARGETS:
        targets.append(f"peak ≤ {PEAK_TARGETS[buyers] / 2**30:g} GiB")
    if buyers in START_TARGET_S:
        targets.append(f"whole ≤ {START_TARGET_S[buyers]:g} s")
    met = []
    if buyers == 1000:
        met.append(float(m["waiting_kb"] or 1e9) <= USS_TARGET_KB)
    if buyers in PEAK_TARGETS:
        met.append(peak <= PEAK_TARGETS[buyers])
    if buyers in START_TARGET_S:
        met.append(float(m["whole_s"] or 1e9) <= START_TARGET_S[buyers])
    verdict = "—" if not met else ("met" if all(met) else "MISSED")
    if m["verdict"] is None:
        verdict = "not run"
    kb = lambda v: f"{float(v):,.0f} kB" if v else "-"  # noqa: E731
    return (
        f"| {buyers:,} {cell} | {kb(m['waiting_kb'])} | {kb(m['buying_kb'])} "
        f"| {peak / 2**30:.2f} GiB ({peak / buyers / 2**20:.2f} MiB/buyer) "
        f"| {float(m['whole_s'] or 0):.1f} s | {startup:.1f} s "
        f"({1000 * startup / buyers:.2f} ms/buyer) | {m['verdict']} "
        f"| {', '.join(targets) or '—'} | {verdict} |"
    )


HEADER = (
    "| buyers | USS waiting (median) | USS buying (median) | peak memory held "
    "| whole run | start-up | verdict | target | met |"
)
RULE = "|---|---|---|---|---|---|---|---|---|"


def measure_row(buyers: int, cell: str) -> str:
    """Measure one run and return its table row (or why it was skipped). The runs are
    admitted at the measured cost without booking's margin, so that 10,000 lock/json
    buyers (~18 GiB) can be measured on a 24 GiB machine; the watcher here and booking's
    own memory guard still stop a run before the machine runs short."""
    from booking.engine import admission
    from booking.engine.admission import estimate, per_buyer

    admission.MARGIN = 1.0

    strategy, _, store = cell.partition("/")
    need = estimate(buyers, per_buyer(strategy, store or "json"))
    if need > max_memory():
        return (
            f"| {buyers:,} {cell} | not run: booking estimates {need / 2**30:.1f} GiB, more than "
            f"the {max_memory() / 2**30:.1f} GiB this machine can give now |"
        )
    with tempfile.TemporaryDirectory() as work:
        line = row(buyers, measure(buyers, Path(work), strategy, store or "json"), cell)
    time.sleep(2)  # let the machine settle: exited buyers' pages are freed lazily
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, nargs="+", default=[1000, 2000, 10000])
    parser.add_argument(
        "--cells", nargs="+", default=["lock/json"], help="strategy/store pairs to measure"
    )
    args = parser.parse_args()
    print(HEADER)
    print(RULE)
    for cell in args.cells:
        for buyers in args.buyers:
            print(measure_row(buyers, cell), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
