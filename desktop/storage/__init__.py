"""The clinic database: the `Store` seam, its repositories and backends (sqlite3's only home)."""

from __future__ import annotations

from pathlib import Path

from desktop.errors import StorageError
from desktop.storage.file import copy_folder, integrity_errors, sweep_copies
from desktop.storage.postgres import is_server_url
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
from desktop.storage.store import ARRIVING, MOVE_TOKEN, MOVED_PLACE, MOVED_TO, Store

__all__ = [
    "ARRIVING",
    "MIGRATION_SET",
    "MOVED_PLACE",
    "MOVED_TO",
    "MOVE_TOKEN",
    "RANKED_AT_MOST",
    "SCHEMA",
    "PhoneReading",
    "SqliteStore",
    "Store",
    "copy_folder",
    "fold",
    "integrity_errors",
    "is_server_url",
    "name_key",
    "open_store",
    "parse_query",
    "read_phone",
    "sweep_copies",
]


def open_store(target: Path | str | None, *, open_wait: float | None = None) -> Store:
    """Open (or create) the clinic database `target`: a file path, a postgresql:// URL of
    the clinic's server (psycopg is loaded then), or None to keep it in memory. A file that a
    restore or move elsewhere holds alone is waited for at most `open_wait` seconds (default
    storage.file.OPEN_WAIT_SECONDS).

    Raises StorageError when the database cannot be used (damaged, foreign, unwritable,
    a server that cannot be reached or refuses the user).
    """
    if is_server_url(target):
        try:
            from desktop.storage.postgres.store import PostgresStore
        except ImportError as exc:  # an installation without the optional driver
            raise StorageError(
                f"This installation cannot use the clinic's server: the PostgreSQL driver "
                f"({exc.name or 'psycopg'}) is missing. Install Clinic Intake again with its "
                "requirements (pip install -e . in its folder, or `make run`), then try again."
            ) from exc
        return PostgresStore(str(target))
    return SqliteStore(Path(target) if target is not None else None, open_wait=open_wait)
