"""The clinic database: the `Store` seam, its repositories and backends (sqlite3's only home)."""

from __future__ import annotations

from pathlib import Path

from desktop.storage.file import integrity_errors
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
    "open_store",
    "phone_search_text",
]


def open_store(target: Path | None) -> Store:
    """Open (or create) the clinic database at `target`; None keeps it in memory.

    Raises StorageError when the file cannot be used (damaged, foreign, unwritable).
    """
    return SqliteStore(target)
