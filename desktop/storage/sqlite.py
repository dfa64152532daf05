"""The SQLite backend: one file (or memory), WAL, named migrations and FTS5 patient search."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from desktop.errors import Conflict, StorageError
from desktop.models import Patient
from desktop.storage.connection import Connection
from desktop.storage.file import friendly_error, prepare_file
from desktop.storage.rows import Row, patient_from_row
from desktop.storage.search import fts_query
from desktop.storage.store import Params, Store

log = logging.getLogger(__name__)

# The schema this code expects: the names of storage.migrations, in order (a test checks they
# agree). Opening a database that has them all never loads sqlite-utils at all.
MIGRATION_SET = "clinic_intake"
SCHEMA = ("0001_core", "0002_signed_documents", "0003_accounts_audit", "0005_seal_in_database")


class SqliteStore(Store):
    """A clinic database in one SQLite file (`path`), or in memory (`path` None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.label = str(path) if path is not None else ":memory:"
        try:
            if path is not None:
                prepare_file(path)
            self.db = Connection(path)
            self._configure()
            self._check()
            if self.applied_migrations() != list(SCHEMA):
                self._migrate()
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc
        super().__init__()

    def _configure(self) -> None:
        conn = self.db.conn
        conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 3000")

    def _check(self) -> None:
        result = [r[0] for r in self.db.conn.execute("PRAGMA quick_check").fetchall()]
        if result != ["ok"]:
            detail = "; ".join(str(r) for r in result[:3])
            raise StorageError(
                f"The database {self.label} is damaged ({detail}). Restore it from a backup "
                "(python main.py --db PATH restore BACKUP)."
            )

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.db.atomic():
                yield
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"The change was refused: {exc}.") from exc
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def execute(self, sql: str, params: Params = ()) -> None:
        try:
            self.db.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"The change was refused: {exc}.") from exc
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return list(self.db.query(sql, params))
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[Row]:
        try:
            yield from self.db.query(sql, params)
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def applied_migrations(self) -> list[str]:
        if "_sqlite_migrations" not in self.db.table_names():
            return []
        rows = self.db.query(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            [MIGRATION_SET],
        )
        return [r["name"] for r in rows]

    def _migrate(self) -> None:
        """Create or upgrade the schema with the named sqlite-utils migrations."""
        from sqlite_utils import Database

        from desktop.storage.migrations import MIGRATIONS

        db = Database(self.db.conn)
        pending = [m.name for m in MIGRATIONS.pending(db)]
        log.info("applying migrations %s to %s", ", ".join(pending) or "none", self.label)
        MIGRATIONS.apply(db)

    def search_patients(self, text: str, limit: int) -> tuple[list[Patient], bool]:
        """FTS5 over folded names, phones and birth dates; bm25-ranked up to `ranked_at_most`."""
        ranked_at_most = self.patients.ranked_at_most
        query = fts_query(text)
        if query is None:
            rows = self.rows("SELECT * FROM patients ORDER BY updated DESC LIMIT ?", [limit])
            return [patient_from_row(r) for r in rows], False
        # Newest first stops early, so this probe stays cheap however many patients match.
        probe = self.rows(
            "SELECT rowid FROM patients_fts WHERE patients_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            [query, max(ranked_at_most, limit) + 1],
        )
        if len(probe) > ranked_at_most:
            newest = [r["rowid"] for r in probe[:limit]]
            marks = ", ".join("?" * len(newest))
            rows = self.rows(
                f"SELECT * FROM patients WHERE rowid IN ({marks}) ORDER BY rowid DESC", newest
            )
            return [patient_from_row(r) for r in rows], True
        # Rank inside FTS first (bm25), then fetch and order only the best `limit` rows.
        rows = self.rows(
            "SELECT patients.* FROM (SELECT rowid, rank FROM patients_fts "
            "WHERE patients_fts MATCH ? ORDER BY rank LIMIT ?) AS hit "
            "JOIN patients ON patients.rowid = hit.rowid "
            "ORDER BY hit.rank, patients.family_name, patients.given_name",
            [query, limit],
        )
        return [patient_from_row(r) for r in rows], False

    def backup_to(self, dest: Path) -> None:
        """Copy the live database with SQLite's online backup API."""
        if self.db.conn.in_transaction:
            raise StorageError("A backup cannot start inside a transaction; try again.")
        target = sqlite3.connect(dest)
        try:
            with target:
                self.db.conn.backup(target)
        except sqlite3.Error as exc:
            raise friendly_error(exc, str(dest)) from exc
        finally:
            target.close()
