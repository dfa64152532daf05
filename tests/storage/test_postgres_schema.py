"""The PostgreSQL schema mirrors SQLite's: same tables, columns, types, indexes and triggers.

When a SQLite migration is added, these tests name what its PostgreSQL twin must create
(desktop/storage/postgres/migrations.py says how the types map).
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from desktop.storage import SqliteStore, open_store
from desktop.storage.postgres.migrations import PG_ONLY_COLUMNS
from desktop.storage.schema import DERIVED_TABLES
from desktop.storage.transfer import TABLES

TYPES = {"TEXT": "text", "INTEGER": {"integer", "bigint"}, "REAL": "double precision",
         "BLOB": "bytea"}  # fmt: skip


def _sqlite_schema() -> tuple[dict[str, dict[str, tuple[str, bool]]], set[str], set[str]]:
    store = SqliteStore(None)
    conn: sqlite3.Connection = store.db.conn
    tables: dict[str, dict[str, tuple[str, bool]]] = {}
    for table in [*store.tables(), *DERIVED_TABLES]:
        info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        # A primary key column is NOT NULL in PostgreSQL whatever SQLite's flag says.
        tables[table] = {r[1]: (r[2].upper(), bool(r[3] or r[5])) for r in info}
    indexes = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name <> '_sqlite_migrations'"
        )
    }
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    store.close()
    return tables, indexes, triggers


@pytest.fixture
def pg_schema(
    pg_url: str,
) -> tuple[dict[str, dict[str, tuple[str, bool]]], set[str], set[str]]:
    store = open_store(pg_url)
    store.close()
    with psycopg.connect(pg_url) as conn:
        tables: dict[str, dict[str, tuple[str, bool]]] = {}
        for table, column, kind, nullable in conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable "
            "FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> '_clinic_migrations'"
        ):
            if column in PG_ONLY_COLUMNS.get(table, ()):
                continue
            tables.setdefault(table, {})[column] = (kind, nullable == "NO")
        indexes = {r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}  # fmt: skip
        triggers = {r[0] for r in conn.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}  # fmt: skip
    return tables, indexes, triggers


def test_every_table_and_column_has_its_twin_with_the_mapped_type(
    pg_schema: tuple[dict[str, dict[str, tuple[str, bool]]], set[str], set[str]],
) -> None:
    sqlite_tables, _, _ = _sqlite_schema()
    pg_tables, _, _ = pg_schema
    assert set(pg_tables) == set(sqlite_tables)
    for table, columns in sqlite_tables.items():
        assert set(pg_tables[table]) == set(columns), table
        for column, (kind, not_null) in columns.items():
            pg_kind, pg_not_null = pg_tables[table][column]
            expected = TYPES[kind]
            assert pg_kind in expected if isinstance(expected, set) else pg_kind == expected, (
                table, column, kind, pg_kind)  # fmt: skip
            assert pg_not_null == not_null, (table, column)


def test_every_index_and_trigger_has_its_twin_by_name(
    pg_schema: tuple[dict[str, dict[str, tuple[str, bool]]], set[str], set[str]],
) -> None:
    _, sqlite_indexes, sqlite_triggers = _sqlite_schema()
    _, pg_indexes, pg_triggers = pg_schema
    assert sqlite_indexes <= pg_indexes
    assert sqlite_triggers <= pg_triggers
    # PostgreSQL's own additions: search, registration order, and TRUNCATE refused.
    assert pg_triggers - sqlite_triggers == {
        "audit_no_truncate", "consultations_no_truncate", "documents_no_truncate",
        "signatures_no_truncate", "seal_certificates_no_truncate",
    }  # fmt: skip


def test_the_copy_order_covers_every_table_but_the_ones_the_database_fills() -> None:
    sqlite_tables, _, _ = _sqlite_schema()
    assert set(TABLES) == set(sqlite_tables) - DERIVED_TABLES


def test_the_patient_key_index_compares_byte_wise_as_sqlite_does(pg_url: str) -> None:
    """A typed prefix is one range of the index only if keys sort by code point, as SQLite's
    BINARY collation sorts them (a language's collation sorts "o'b" and "ob" together)."""
    open_store(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        (collation,) = conn.execute(
            "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
            "WHERE a.attrelid = 'patient_keys'::regclass AND a.attname = 'key'"
        ).fetchone() or ("",)
        (definition,) = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'patient_keys_key'"
        ).fetchone() or ("",)
        # Beyond the Basic Multilingual Plane sorts last, as in SQLite.
        (order,) = conn.execute(
            'SELECT array_agg(k ORDER BY k COLLATE "C") FROM unnest(%s::text[]) AS k',
            [["z", "\U0001f600", "é", "陈", "#0", "=1"]],
        ).fetchone() or ([],)
    assert collation == "C"
    assert "UNIQUE" in definition and "(key, patient DESC)" in definition
    assert order == sorted(["z", "\U0001f600", "é", "陈", "#0", "=1"])
