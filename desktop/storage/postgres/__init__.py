"""The PostgreSQL backend (psycopg's only home); loaded only when a server is used."""

from __future__ import annotations

SCHEMES = ("postgresql://", "postgres://")


def is_server_url(target: object) -> bool:
    """True for a PostgreSQL URL (postgresql://... or postgres://...); cheap, loads nothing."""
    return isinstance(target, str) and target.lower().startswith(SCHEMES)
