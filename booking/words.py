"""Numbers and counts as people read them, shared by every message and table: a plural
that agrees with its count, and figures with three significant digits that never turn
into an exponent ("3,880", not "3.88e+03")."""

from __future__ import annotations

import math
import re


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


#: Parameters of a DSN that carry a secret (libpq's and redis-py's), in a URL's query or in
#: libpq's "key=value" form.
_SECRET_PARAMETERS = ("password", "sslpassword", "pass")
_SECRET_IN_QUERY = re.compile(r"([?&](?:password|sslpassword|pass)=)[^&#]*", re.IGNORECASE)
_SECRET_IN_KEYWORDS = re.compile(
    r"\b((?:password|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE
)


def mask_dsn(dsn: str) -> str:
    """A server URL as it may be shown, recorded or saved: a password replaced by ***,
    wherever it is: in the user part (user:pw@host, read as libpq reads it: up to the last
    "@", so a "#" or "?" in it is still the password's), in the query (?password=pw), or in
    libpq's "key=value" form (password=pw)."""
    scheme, sep, rest = dsn.partition("://")
    if not sep:
        return _SECRET_IN_KEYWORDS.sub(lambda m: m.group(1) + "***", dsn)
    at = rest.rfind("@")
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        if colon:
            rest = f"{user}:***{rest[at:]}"
    return scheme + sep + _SECRET_IN_QUERY.sub(lambda m: m.group(1) + "***", rest)


def dsn_secrets(dsn: str) -> list[str]:
    """The passwords a DSN carries, as written and decoded: what no message may repeat."""
    from urllib.parse import unquote, unquote_plus

    found: list[str] = []
    _, sep, rest = dsn.partition("://")
    if sep:
        at = rest.rfind("@")
        if at >= 0:
            _, colon, password = rest[:at].partition(":")
            if colon:
                found.append(password)
        found += [m.group(0).split("=", 1)[1] for m in _SECRET_IN_QUERY.finditer(rest)]
    else:
        found += [m.group(2).strip("'") for m in _SECRET_IN_KEYWORDS.finditer(dsn)]
    every = {v for raw in found for v in (raw, unquote(raw), unquote_plus(raw))}
    return sorted((secret for secret in every if secret), key=len, reverse=True)


def without_secrets(text: str, dsn: str) -> str:
    """`text` (a driver's error, which may quote the DSN) with the DSN's passwords and the
    DSN itself masked."""
    text = text.replace(dsn, mask_dsn(dsn)) if dsn else text
    for secret in dsn_secrets(dsn):
        text = text.replace(secret, "***")
    return text
