"""Servers: throwaway PostgreSQL and Redis servers that booking starts when a networked
store is chosen without --dsn, and always stops and deletes (Ctrl-C and crashes included:
a watchdog process cleans up after a parent that died). Loopback only, no persistence.
Modules here may import the ground floor only (errors, files, waits); drivers are never
imported here: readiness is checked with the server's own protocol on a plain socket.
"""

from __future__ import annotations

from booking.servers.throwaway import (
    KINDS,
    Server,
    ServerUnavailable,
    available,
    killer,
    server_for,
    throwaway,
)

__all__ = ["KINDS", "Server", "ServerUnavailable", "available", "killer", "server_for", "throwaway"]
