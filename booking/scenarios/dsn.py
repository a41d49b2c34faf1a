"""A networked store's DSN: checked against the store's scheme, and masked for display
(a password never reaches the screen, the record or the history)."""

from __future__ import annotations

import json

from booking.errors import ScenarioError
from booking.stores import DSN_SCHEMES
from booking.words import mask_dsn

__all__ = ["check_dsn", "mask_dsn"]


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def check_dsn(store: str, dsn: str) -> None:
    """A DSN of the store's own scheme, with a host (the server is never guessed)."""
    from urllib.parse import urlsplit

    schemes = DSN_SCHEMES[store]
    if not dsn.lower().startswith(schemes):
        raise ScenarioError(
            f"dsn {_quote(mask_dsn(dsn))}: a {store} store needs a {schemes[0]}... URL"
        )
    try:
        parts = urlsplit(dsn)
        _ = parts.port
    except ValueError as exc:
        raise ScenarioError(f"dsn {_quote(mask_dsn(dsn))}: {exc}") from None
    if not parts.hostname:
        raise ScenarioError(f"dsn {_quote(mask_dsn(dsn))}: no host")
