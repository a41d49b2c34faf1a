"""filelock's wait poll against the crowd: fixed 5 ms, fixed 50 ms and the adaptive default.

Run it against a regular install (an editable one adds import hooks to every start), and
run the 1,000-buyer rows under ../shared/tools/memwatch:

    python3 -m venv /tmp/flp && /tmp/flp/bin/pip install -q . &&
        ../shared/tools/memwatch -- /tmp/flp/bin/python benchmarks/filelock_poll.py

Every cell is `booking run --strategy filelock --json` in a fresh process. The variants of
one cell run back to back (A B C A B C ...), so a busy spell of the machine hits them all;
the table gives medians and the spread (min-max). `--flash-sale` also times
`booking scenario run flash-sale` (give `--old-booking` to time another install beside).
Nothing here is a test: no test asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BOOKING = str(Path(sys.executable).parent / "booking")
VARIANTS: dict[str, list[str]] = {
    "5 ms (old default)": ["--poll-ms", "5"],
    "50 ms": ["--poll-ms", "50"],
    "adaptive (new default)": [],
}


def run_cell(booking: str, args: list[str], timeout_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [booking, "run", "--strategy", "filelock", "--json", "--timeout", f"{timeout_s:g}", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-300:], "process_s": elapsed}
    record: dict[str, Any] = json.loads(proc.stdout)
    record["process_s"] = elapsed
    return record


def spread(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def table(rows: dict[tuple[int, str, str, str], list[dict[str, Any]]]) -> str:
    lines = [
        "| buyers | store | think ms | poll | attempts/s | wall s | hand-off p95 ms | verdicts |",
        "|---:|---|---|---|---|---|---|---|",
    ]
    for (buyers, store, think, variant), records in rows.items():
        good = [r for r in records if "error" not in r]
        verdicts = sorted({r.get("verdict", "exit!=0") for r in records})
        handoff = [r["handoff_ms"]["p95"] for r in good if r.get("handoff_ms")]
        lines.append(
            f"| {buyers:,} | {store} | {think} | {variant} "
            f"| {spread([r['throughput'] for r in good], 0)} "
            f"| {spread([r['wall_s'] for r in good], 2)} "
            f"| {spread(handoff, 1)} | {' '.join(verdicts)} |"
        )
    return "\n".join(lines)


def from_raw(path: Path) -> dict[tuple[int, str, str, str], list[dict[str, Any]]]:
    """The records of earlier runs (--raw), grouped into cells; a killed run has none."""
    rows: dict[tuple[int, str, str, str], list[dict[str, Any]]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        low, high = record["think_ms"]
        think = f"{low:g}" if low == high else f"{low:g}:{high:g}"
        key = (record["buyers"], record["store"], think, record["variant"])
        rows.setdefault(key, []).append(record)
    order = {name: i for i, name in enumerate(VARIANTS)}
    return dict(
        sorted(
            rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] != "1:5", order[kv[0][3]])
        )
    )


def flash_sale(bookings: dict[str, str], repeat: int) -> str:
    times: dict[str, list[float]] = {name: [] for name in bookings}
    for _ in range(repeat):
        for name, booking in bookings.items():
            started = time.perf_counter()
            subprocess.run(
                [booking, "scenario", "run", "flash-sale", "--format", "json"],
                capture_output=True,
                check=False,
            )
            times[name].append(time.perf_counter() - started)
            print(f"flash-sale {name}: {times[name][-1]:.1f} s", file=sys.stderr, flush=True)
    return "\n".join(
        ["| flash-sale (30 runs) | whole command s |", "|---|---|"]
        + [f"| {name} | {spread(values, 1)} |" for name, values in times.items()]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--booking", default=BOOKING, help="the booking command to measure")
    parser.add_argument("--buyers", default="8,50,200,1000")
    parser.add_argument("--stores", default="json,sqlite")
    parser.add_argument("--thinks", default="1:5,0")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big-repeat", type=int, default=2, help="repeats at 500+ buyers")
    parser.add_argument("--timeout", type=float, default=60.0, help="each run's --timeout")
    parser.add_argument("--flash-sale", type=int, default=0, metavar="N", help="time it N times")
    parser.add_argument("--old-booking", help="another install to time flash-sale with")
    parser.add_argument("--raw", type=Path, help="append every record here (JSON lines)")
    parser.add_argument("--from-raw", type=Path, help="only print the table of these records")
    args = parser.parse_args()
    if args.from_raw:
        print(table(from_raw(args.from_raw)))
        return
    cells = [
        (int(b), s, t)
        for b in args.buyers.split(",")
        for s in args.stores.split(",")
        for t in args.thinks.split(",")
    ]
    rows: dict[tuple[int, str, str, str], list[dict[str, Any]]] = {
        (b, s, t, v): [] for b, s, t in cells for v in VARIANTS
    }
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    for rep in range(max(args.repeat, args.big_repeat)):
        for buyers, store, think in cells:
            if rep >= (args.big_repeat if buyers >= 500 else args.repeat):
                continue
            for variant, extra in VARIANTS.items():
                cell = ["--store", store, "--buyers", str(buyers), "--think", think, *extra]
                record = run_cell(args.booking, cell, args.timeout)
                rows[(buyers, store, think, variant)].append(record)
                print(
                    f"{buyers} {store} {think} {variant}: {record.get('throughput')} /s "
                    f"{record.get('wall_s')} s {record.get('verdict', record.get('error'))}",
                    file=sys.stderr,
                    flush=True,
                )
                if args.raw:
                    with args.raw.open("a") as out:
                        out.write(json.dumps({"variant": variant, **record}) + "\n")
    print(table(rows))
    if args.flash_sale:
        bookings = {"new": args.booking}
        if args.old_booking:
            bookings = {"old": args.old_booking, **bookings}
        print()
        print(flash_sale(bookings, args.flash_sale))
    print(f"\nload average after: {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    main()
