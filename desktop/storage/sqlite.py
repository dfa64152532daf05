"""The SQLite backend: one file (or memory), WAL, named migrations and indexed patient search."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from desktop.errors import Conflict, StorageError
from desktop.storage.connection import Connection
from desktop.storage.file import (
    FileIdentity,
    OpenLock,
    friendly_error,
    prepare_file,
    remove_copy,
    sweep_copies,
)
from desktop.storage.key_search import Dialect, KeySearch
from desktop.storage.rows import Row
from desktop.storage.schema import APPLICATION_ID, DERIVED_TABLES, MIGRATION_SET, SCHEMA
from desktop.storage.search import KEYS, SORT, Found, Term
from desktop.storage.store import Params, Store

log = logging.getLogger(__name__)

CACHE_KIB = 32 * 1024  # page cache per connection: a large clinic's search index stays in memory
BUSY_TIMEOUT_MS = 5000  # how long a write waits for another program's transaction
# Checked whenever the database opens: the small tables that opening and signing in read. The
# whole file (which grows with the clinic) is checked by every backup, in a worker.
CHECKED_ON_OPEN = ("sqlite_schema", "_sqlite_migrations", "settings", "users")
# How patient search (storage.key_search) is written for SQLite.
DIALECT = Dialect(
    row_id="rowid",
    contains="instr({}, ?) > 0",
    sort_name=f"json_extract({{}}, '$.\"{SORT}\"')",
    keys_of=f"json_each(p.search_keys, '$.\"{KEYS}\"') AS e",
)


class SqliteStore(Store):
    """A clinic database in one SQLite file (`path`), or in memory (`path` None)."""

    def __init__(self, path: Path | None, *, open_wait: float | None = None) -> None:
        self.path = path
        self.label = str(path) if path is not None else ":memory:"
        self._identity: FileIdentity | None = None
        self._open_lock: OpenLock | None = None
        # One connection, used from the window's thread and from workers in turn: every use
        # of it holds this lock (a transaction for its whole length).
        self._using = threading.RLock()
        self._keys = KeySearch(DIALECT, self._values, self._dict_rows)
        try:
            if path is not None:
                prepare_file(path)
                self._identity = FileIdentity(path)
            self.db = Connection(path)
            self.db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._recognise()  # before anything is written to the file (or beside it)
            if path is not None:
                self._open_lock = OpenLock(path, open_wait)
            self._configure()
            self._check()
            if self.applied_migrations() != list(SCHEMA):
                self._migrate()
        except sqlite3.Error as exc:
            self._close_quietly()
            raise friendly_error(exc, self.label) from exc
        except BaseException:
            self._close_quietly()
            raise
        super().__init__()

    def sweep(self) -> None:
        """Remove what a backup or restore killed part-way left beside the database (copies
        of every record): only when no other program has it open, so none is in use."""
        path = self.path
        if path is None or self._open_lock is None or not self._open_lock.try_alone():
            return
        try:
            for leftover in path.parent.glob(".restore-*"):
                remove_copy(leftover)
            # A backup or move into this folder may be under way in another program (of
            # another database): only copies nobody holds go.
            sweep_copies(path.parent, ".backup-")
            for leftover in path.parent.glob(f"{path.name}.audit-anchor.*.tmp"):
                leftover.unlink(missing_ok=True)
        finally:
            self._open_lock.share()

    def _close_quietly(self) -> None:
        if hasattr(self, "db"):
            self.db.close()
        if self._identity is not None:
            self._identity.close()
        if self._open_lock is not None:
            self._open_lock.close()

    def _recognise(self) -> None:
        """Refuse another application's database and one from a newer version of ours."""
        conn = self.db.conn
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = self.db.table_names()
        applied = self.applied_migrations()
        if app_id not in (0, APPLICATION_ID) or (tables and app_id == 0 and not applied):
            raise StorageError(
                f"{self.label} is a database of another application, not a clinic database; "
                "it was left as it was. Choose the clinic's database file."
            )
        unknown = [name for name in applied if name not in SCHEMA]
        if unknown or applied != list(SCHEMA[: len(applied)]):
            raise StorageError(
                f"{self.label} was made by a newer version of Clinic Intake (it has the "
                f"schema change {(unknown or applied)[-1]}, which this version does not "
                "know); it was left as it was. Open it with the newer version."
            )

    def _check_identity(self) -> None:
        if self._identity is not None:
            self._identity.check()

    def _configure(self) -> None:
        conn = self.db.conn
        conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    def _check(self) -> None:
        """A cheap check on open (milliseconds whatever the size): the schema and the small
        tables that opening and signing in read. Damage elsewhere is reported when it is
        read, and by the full check of every backup."""
        tables = set(self.db.table_names())
        for table in CHECKED_ON_OPEN:
            if table != "sqlite_schema" and table not in tables:
                continue
            rows = self.db.conn.execute(f'PRAGMA quick_check("{table}")').fetchall()
            result = [r[0] for r in rows]
            if result != ["ok"]:
                detail = "; ".join(str(r) for r in result[:3])
                raise StorageError(
                    f"The database {self.label} is damaged ({detail}). Restore it from a "
                    "backup (python main.py --db PATH restore BACKUP)."
                )

    def integrity_problems(self) -> list[str]:
        """The full integrity check of the open database, then whether the patient search
        index holds each patient's keys and the audit trail's rows link up (time grows with
        its size: run it in a worker); an empty list means it is sound."""
        try:
            with self._using:
                rows = self.db.conn.execute("PRAGMA integrity_check").fetchall()
                result = [str(r[0]) for r in rows]
                if result != ["ok"]:
                    return result
                return self._keys.index_problems() + self.audit.link_problems()
        except sqlite3.Error as exc:
            return [str(exc)]

    def close(self) -> None:
        self._close_quietly()

    def make_self_contained(self) -> None:
        """Fold the write-ahead log into the file and stop using one: the file alone holds
        the database, with no -wal or -shm beside it (a copy about to be renamed into
        place). Nothing else may have it open."""
        try:
            with self._using:
                self.db.conn.execute("PRAGMA journal_mode = DELETE").fetchall()
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def claim_exclusive(self) -> None:
        """Make sure no other window or program has this database open (StorageError if one
        has); held until the store closes or `release_exclusive`."""
        if self._open_lock is not None:
            self._open_lock.claim_exclusive()

    def release_exclusive(self) -> None:
        if self._open_lock is not None:
            self._open_lock.share()

    @property
    def in_transaction(self) -> bool:
        return self.db.conn.in_transaction

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._using:
            yield from self._transaction()

    def _transaction(self) -> Iterator[None]:
        outermost = not self.db.conn.in_transaction
        if outermost:
            self._check_identity()
        try:
            with self.db.atomic():
                yield
        except sqlite3.IntegrityError as exc:
            if outermost:
                self._rolled_back()
            raise Conflict(f"The change was refused: {exc}.") from exc
        except sqlite3.Error as exc:
            if outermost:
                self._rolled_back()
            raise friendly_error(exc, self.label) from exc
        except BaseException:
            if outermost:
                self._rolled_back()
            raise
        if outermost:
            self._committed()

    def execute(self, sql: str, params: Params = ()) -> None:
        try:
            with self._using:
                self.db.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"The change was refused: {exc}.") from exc
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            with self._using:
                return list(self.db.query(sql, params))
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """Rows one at a time. A database file is read through a connection of its own, so
        a long read (a million audit rows) neither holds up nor waits for other work."""
        try:
            if self.path is None:
                with self._using:
                    yield from self.db.query(sql, params)
                return
            reader = Connection(self.path, read_only=True)
            try:
                yield from reader.query(sql, params)
            finally:
                reader.close()
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

    def search_patients(self, terms: list[Term], limit: int) -> Found:
        """Patients matching every term, over the `patient_keys` index (storage.key_search
        says how; the work per call is bounded whatever the number of patients)."""
        try:
            with self._using:  # several reads that must see one state of the index
                return self._keys.search(terms, limit, self.patients.ranked_at_most)
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def _values(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self.db.conn.execute(sql, params).fetchall()

    def _dict_rows(self, sql: str, params: list[Any]) -> list[Row]:
        return list(self.db.query(sql, params))

    def tables(self) -> list[str]:
        """The clinic's tables: not the migrations' own, not search indexes (the patient
        key index, schema.DERIVED_TABLES; full-text indexes and their shadow tables)."""
        with self._using:
            rows = self.db.conn.execute(
                "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name <> '_sqlite_migrations' ORDER BY name"
            ).fetchall()
        virtual = [n for n, sql in rows if sql.upper().startswith("CREATE VIRTUAL TABLE")]
        return [
            n
            for n, _ in rows
            if n not in DERIVED_TABLES and not any(n == v or n.startswith(v + "_") for v in virtual)
        ]

    def copy_columns(self, table: str) -> list[str]:
        with self._using:
            info = self.db.conn.execute(f'PRAGMA table_xinfo("{table}")').fetchall()
        return [str(r[1]) for r in info if r[6] == 0]  # hidden 0: neither virtual nor generated

    def registration_order(self, table: str) -> str:
        return "rowid"

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Store.Reader]:
        """A read transaction on a connection of its own (WAL: writers go on meanwhile); an
        in-memory database reads through its only connection."""
        if self.path is None:
            with self._using:
                yield _SqliteReader(self.db)
            return
        reader = Connection(self.path, read_only=True)
        try:
            reader.execute("BEGIN")
            yield _SqliteReader(reader)
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc
        finally:
            reader.close()

    def insert_many(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        assert self.in_transaction, "insert_many needs a transaction"
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        try:
            with self._using:
                cursor = self.db.conn.executemany(
                    f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows
                )
                return max(cursor.rowcount, 0)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"The change was refused: {exc}.") from exc
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def backup_to(self, dest: Path) -> None:
        """Copy the live database with SQLite's online backup API."""
        if self.path is None:
            raise StorageError("An in-memory database has no file to back up.")
        # A connection of its own: the copy (seconds for a large clinic) holds up no other work.
        source = Connection(self.path, read_only=True)
        target = sqlite3.connect(dest)
        try:
            with target:
                source.conn.backup(target)
            # One self-contained file: no -wal or -shm beside it once it is checked or moved.
            target.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.Error as exc:
            raise friendly_error(exc, str(dest)) from exc
        finally:
            target.close()
            source.close()


class _SqliteReader(Store.Reader):
    def __init__(self, db: Connection) -> None:
        self._db = db

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self._db.query(sql, params))

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[Row]:
        yield from self._db.query(sql, params)
