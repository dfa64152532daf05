"""The SQLite store (Store): the one way into the database; only it loads sqlite-utils."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from desktop.errors import Conflict, NotFound, StorageError
from desktop.models import Consultation, Patient
from desktop.storage.connection import Connection
from desktop.storage.documents import StoreDocuments
from desktop.storage.file import friendly_error, integrity_errors, prepare_file
from desktop.storage.rows import (
    Row,
    consultation_from_row,
    consultation_to_row,
    patient_from_row,
    patient_to_row,
)
from desktop.storage.search import RANKED_AT_MOST, fold, fts_query, phone_search_text

# Row mapping lives in storage_rows.py, search folding in storage_search.py, file-level checks
# in storage_file.py and signatures, documents and test spots in storage_documents.py (mixed
# into Store); the names callers import from desktop.storage are re-exported here.
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

log = logging.getLogger(__name__)

# The schema this code expects: the names of storage.migrations, in order (a test checks they
# agree). Opening a database that has them all never loads sqlite-utils at all.
MIGRATION_SET = "clinic_intake"
SCHEMA = ("0001_core", "0002_signed_documents", "0003_accounts_audit")


class Store(StoreDocuments):
    """One open clinic database: schema, integrity, and typed reads and writes."""

    ranked_at_most = RANKED_AT_MOST  # broader searches list the newest matches

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
        """One atomic unit of work; SQLite errors become StorageError or Conflict."""
        try:
            with self.db.atomic():
                yield
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"The change was refused: {exc}.") from exc
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def write(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
        with self.transaction():
            self.db.execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        try:
            return list(self.db.query(sql, params))
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

    # Settings ---------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self.rows("SELECT value FROM settings WHERE key = ?", [key])
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        self.write(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value, sort_keys=True)],
        )

    # Patients ---------------------------------------------------------------------------

    def save_patient(self, patient: Patient) -> None:
        row = patient_to_row(patient)
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row if k not in ("id", "created"))
        self.write(
            f"INSERT INTO patients ({cols}) VALUES ({marks}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            row,
        )

    def get_patient(self, patient_id: str) -> Patient:
        rows = self.rows("SELECT * FROM patients WHERE id = ?", [patient_id])
        if not rows:
            raise NotFound(f"No patient with ID {patient_id}.")
        return patient_from_row(rows[0])

    def patients_named(self, full_name: str, date_of_birth: date) -> list[Patient]:
        rows = self.rows(
            "SELECT * FROM patients WHERE search_name = ? AND date_of_birth = ?",
            [fold(full_name), date_of_birth.isoformat()],
        )
        return [patient_from_row(r) for r in rows]

    def find_patients(self, text: str, limit: int = 50) -> tuple[list[Patient], bool]:
        """Matching patients, and whether the search was too broad to rank.

        Up to `ranked_at_most` matches are ranked (bm25, then name); a broader search returns
        the `limit` most recently registered matches, newest first.
        """
        query = fts_query(text)
        if query is None:
            rows = self.rows("SELECT * FROM patients ORDER BY updated DESC LIMIT ?", [limit])
            return [patient_from_row(r) for r in rows], False
        # Newest first stops early, so this probe stays cheap however many patients match.
        probe = self.rows(
            "SELECT rowid FROM patients_fts WHERE patients_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            [query, max(self.ranked_at_most, limit) + 1],
        )
        if len(probe) > self.ranked_at_most:
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

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT count(*) AS n FROM [{table}]")[0]["n"])

    # Consultations ----------------------------------------------------------------------

    def save_consultation(self, c: Consultation) -> None:
        row = consultation_to_row(c)
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row if k not in ("id", "created"))
        self.write(
            f"INSERT INTO consultations ({cols}) VALUES ({marks}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            row,
        )

    def get_consultation(self, consultation_id: str) -> Consultation:
        rows = self.rows("SELECT * FROM consultations WHERE id = ?", [consultation_id])
        if not rows:
            raise NotFound(f"No consultation with ID {consultation_id}.")
        return consultation_from_row(rows[0])

    def consultations_for(self, patient_id: str) -> list[Consultation]:
        rows = self.rows(
            "SELECT * FROM consultations WHERE patient_id = ? ORDER BY date DESC, created DESC",
            [patient_id],
        )
        return [consultation_from_row(r) for r in rows]

    def consultations_where(self, where: str, params: Sequence[Any]) -> list[Consultation]:
        rows = self.rows(
            f"SELECT * FROM consultations WHERE {where} ORDER BY date DESC, created DESC",
            params,
        )
        return [consultation_from_row(r) for r in rows]

    # Backup -----------------------------------------------------------------------------

    def backup_to(self, dest: Path) -> None:
        """Copy the live database with SQLite's online backup API."""
        self.db.conn.commit()
        target = sqlite3.connect(dest)
        try:
            with target:
                self.db.conn.backup(target)
        except sqlite3.Error as exc:
            raise friendly_error(exc, str(dest)) from exc
        finally:
            target.close()
