"""The clinic database: the `Store` seam, its repositories and backends (sqlite3's only home)."""

from __future__ import annotations

from pathlib import Path

from desktop.storage.file import integrity_errors
from desktop.storage.schema import MIGRATION_SET, SCHEMA
from desktop.storage.search import (
    RANKED_AT_MOST,
    PhoneReading,
    fold,
    name_key,
    parse_query,
    read_phone,
)
from desktop.storage.sqlite import SqliteStore
from desktop.storage.store import Store

__all__ = [
    "MIGRATION_SET",
    "RANKED_AT_MOST",
    "SCHEMA",
    "PhoneReading",
    "SqliteStore",
    "Store",
    "fold",
    "integrity_errors",
    "name_key",
    "open_store",
    "parse_query",
    "read_phone",
]


def open_store(target: Path | None) -> Store:
    """Open (or create) the clinic database at `target`; None keeps it in memory.

    Raises StorageError when the file cannot be used (damaged, foreign, unwritable).
    """
    return SqliteStore(target)
