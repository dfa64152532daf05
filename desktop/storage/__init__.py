"""The clinic database: connection, migrations, repositories; the only home of sqlite3."""

from desktop.storage.store import (
    MIGRATION_SET,
    SCHEMA,
    Row,
    Store,
    fold,
    fts_query,
    integrity_errors,
    phone_search_text,
)

__all__ = [
    "MIGRATION_SET",
    "SCHEMA",
    "Row",
    "Store",
    "fold",
    "fts_query",
    "integrity_errors",
    "phone_search_text",
]
