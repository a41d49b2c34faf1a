"""The errors the tool reports to the user: one line on stderr, a known exit code."""

from __future__ import annotations


class BookingError(Exception):
    """Bad input or an unusable store: shown as one line, never as a traceback."""

    exit_code = 2


class ScenarioError(BookingError):
    """A workload parameter is out of range or unknown."""


class StoreError(BookingError):
    """The store file is missing its directory, corrupt, or of the wrong kind."""


class ServerUnreachable(StoreError):
    """A networked store's server did not answer (gone, or never there): no sign that the
    store itself is damaged."""


class ResourceError(BookingError):
    """The machine cannot start the buyers asked for (process or memory limit)."""
