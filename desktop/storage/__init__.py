"""The clinic database: the `Store` seam, its repositories and backends (sqlite3's only home)."""

from __future__ import annotations

from pathlib import Path

from desktop.storage.file import integrity_errors
from desktop.storage.postgres import is_server_url
from desktop.storage.search import RANKED_AT_MOST, fold, fts_query, phone_search_text
from desktop.storage.sqlite import MIGRATION_SET, SCHEMA, SqliteStore
from desktop.storage.store import Store

__all__ = [
    "MIGRATION_SET",
    "RANKED_AT_MOST",
    "SCHEMA",
    "SqliteStore",
    "Store",
    "fold",
    "fts_query",
    "integrity_errors",
    "is_server_url",
    "open_store",
    "phone_search_text",
]


def open_store(target: Path | str | None) -> Store:
    """Open (or create) the clinic database `target`: a file path, a postgresql:// URL of
    the clinic's server (psycopg is loaded then), or None to keep it in memory.

    Raises StorageError when the database cannot be used (damaged, foreign, unwritable,
    a server that cannot be reached or refuses the user).
    """
    if is_server_url(target):
        from desktop.storage.postgres.store import PostgresStore

        return PostgresStore(str(target))
    return SqliteStore(Path(target) if target is not None else None)
