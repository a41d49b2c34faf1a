"""A networked store's DSN: checked against the store's scheme, and masked for display
(a password never reaches the screen, the record or the history)."""

from __future__ import annotations

import json
import re

from booking.errors import ScenarioError
from booking.stores import DSN_SCHEMES
from booking.words import mask_dsn

__all__ = ["check_dsn", "mask_dsn"]


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def check_dsn(store: str, dsn: str) -> None:
    """A DSN of the store's own scheme, with a host (the server is never guessed) and a
    port that is a number. Read as libpq reads it: the host follows the last "@" of the
    user part, so a password may hold "#", "?" or "/"."""
    schemes = DSN_SCHEMES[store]
    shown = _quote(mask_dsn(dsn))
    if not dsn.lower().startswith(schemes):
        raise ScenarioError(f"dsn {shown}: a {store} store needs a {schemes[0]}... URL")
    rest = dsn.partition("://")[2]
    authority = re.split(r"[/?]", rest[rest.rfind("@") + 1 :], maxsplit=1)[0]
    host, port = authority, ""
    if ":" in authority and not authority.endswith("]"):  # [::1] alone has no port
        host, _, port = authority.rpartition(":")
    host_in_query = re.search(r"[?&]host=[^&]", rest) is not None  # libpq: a socket folder
    if not host.strip("[]") and not host_in_query:
        raise ScenarioError(f"dsn {shown}: no host")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ScenarioError(f"dsn {shown}: the port must be a number from 1 to 65535")
