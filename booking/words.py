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


#: Query parameters of a DSN that carry a secret (libpq's and redis-py's).
_SECRET_PARAMETERS = {"password", "sslpassword", "pass"}


def mask_dsn(dsn: str) -> str:
    """A server URL as it may be shown, recorded or saved: a password, in the user part
    (user:pw@host) or in the query (?password=pw), replaced by ***. Text that is no URL
    keeps only what follows its last "@"."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(dsn)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username or ''}:***@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in _SECRET_PARAMETERS for key, _ in pairs):
            query = urlencode(
                [(k, "***" if k.lower() in _SECRET_PARAMETERS else v) for k, v in pairs],
                safe="*/:",
            )
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return dsn.rsplit("@", 1)[-1]


def dsn_secrets(dsn: str) -> list[str]:
    """The passwords a DSN carries, as written and decoded: what no message may repeat."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    found: list[str] = []
    try:
        parts = urlsplit(dsn)
        if parts.password:
            found += [parts.password, unquote(parts.password)]
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() in _SECRET_PARAMETERS and value:
                found += [value, unquote(value)]
    except ValueError:
        pass
    return sorted({secret for secret in found if secret}, key=len, reverse=True)


def without_secrets(text: str, dsn: str) -> str:
    """`text` (a driver's error, which may quote the DSN) with the DSN's passwords and the
    DSN itself masked."""
    text = text.replace(dsn, mask_dsn(dsn)) if dsn else text
    for secret in dsn_secrets(dsn):
        text = text.replace(secret, "***")
    return text
