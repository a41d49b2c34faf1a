"""Numbers and counts as people read them, shared by every message and table: a plural
that agrees with its count, and figures with three significant digits that never turn
into an exponent ("3,880", not "3.88e+03")."""

from __future__ import annotations

import math


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 buyer', '2 buyers', '1,000 buyers'; `many` for irregular words."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def figure(value: float) -> str:
    """Three significant digits below 100 (0.00123, 9.77, 48.2), whole numbers with
    thousands separators from 100 up (340, 3,880): never scientific notation."""
    if math.isnan(value):  # nothing was measured
        return "-"
    magnitude = abs(value)
    if magnitude >= 99.95 or magnitude == 0:
        return f"{value:,.0f}"
    text = f"{value:.3g}"
    if "e" in text:  # below 0.0001: as many decimals as three significant digits need
        return f"{value:.{3 - int(f'{magnitude:e}'.split('e')[1]) - 1}f}"
    return text


def printable(text: str) -> str:
    """Text from a store (a writer tag, a ledger's run id) as it may reach a terminal:
    control characters, escape sequences among them, become '?'."""
    return "".join("?" if ord(char) < 32 or 127 <= ord(char) < 160 else char for char in text)
