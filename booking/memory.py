"""The machine's memory as a run sees it: what is available now (the admission before any
fork and the live guard read it), and sizes as people type and read them ("800M", "4G").

Sizes are binary, as `free -h` and `ulimit` count them: 1K = 1024 bytes, 1G = 1024^3.
"""

from __future__ import annotations

import re
from typing import NamedTuple

KIB = 1 << 10
_UNITS = {"K": KIB, "M": KIB**2, "G": KIB**3, "T": KIB**4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT])(?:IB?|B)?\s*", re.IGNORECASE | re.ASCII)


class Meminfo(NamedTuple):
    """Two lines of /proc/meminfo, in bytes."""

    available: int
    total: int


def meminfo(path: str = "/proc/meminfo") -> Meminfo | None:
    """MemAvailable and MemTotal; None where the kernel does not say (not Linux)."""
    found: dict[str, int] = {}
    try:
        with open(path, "rb") as f:
            for line in f:
                key, _, rest = line.partition(b":")
                if key in (b"MemAvailable", b"MemTotal"):
                    found[key.decode()] = int(rest.split()[0]) * KIB
                    if len(found) == 2:
                        return Meminfo(found["MemAvailable"], found["MemTotal"])
    except (OSError, ValueError, IndexError):
        return None
    return None


def parse_size(text: str) -> int:
    """'800M' -> 838860800. A number without a unit is refused: '4000' could mean bytes
    or megabytes, and a wrong guess either refuses every run or admits any."""
    match = _SIZE.fullmatch(text)
    if match is None and text.strip().startswith("-"):
        raise ValueError(f"{text!r} is not a size: it must be more than 0")
    if match is None:
        raise ValueError(
            f"{text!r} is not a size: write a number and a unit, K, M, G or T "
            f"(binary: 1G = 1024M), e.g. 800M or 4G"
        )
    exact = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if exact > 2**63:  # also what float() made of 400 digits: inf
        raise ValueError(f"{text!r} is not a size this machine could have")
    size = int(exact)
    if size <= 0:
        raise ValueError(f"{text!r} is not a size: it must be more than 0")
    return size


def format_size(size: float) -> str:
    """Bytes as people read them: '812 MiB', '2.1 GiB', '24 GiB'."""
    for unit, scale in (("TiB", KIB**4), ("GiB", KIB**3), ("MiB", KIB**2), ("KiB", KIB)):
        if abs(size) >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{size:,.0f} B"
