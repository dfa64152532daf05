"""The SQLite backend: one file (or memory), WAL, named migrations and indexed patient search."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from desktop.errors import Conflict, StorageError
from desktop.models import Patient
from desktop.storage.connection import Connection
from desktop.storage.file import (
    FileIdentity,
    OpenLock,
    friendly_error,
    prepare_file,
    remove_copy,
)
from desktop.storage.rows import Row, patient_from_row
from desktop.storage.schema import APPLICATION_ID, MIGRATION_SET, SCHEMA
from desktop.storage.search import SORT, TOP, Found, Term, compound
from desktop.storage.store import Params, Store

log = logging.getLogger(__name__)

CACHE_KIB = 32 * 1024  # page cache per connection: a large clinic's search index stays in memory
BUSY_TIMEOUT_MS = 5000  # how long a write waits for another program's transaction
# Checked whenever the database opens: the small tables that opening and signing in read. The
# whole file (which grows with the clinic) is checked by every backup, in a worker.
# A typed word with fewer index entries than this drives a complete search; a search whose
# every word is more common is broad.
SIZED_AT_MOST = 2_000
# Common words are intersected through the index when each has at most this many entries.
INTERSECTED_AT_MOST = 10_000
# A broad search lists its matches among this many newest patients.
NEWEST_AT_MOST = 5_000
CHECKED_ON_OPEN = ("sqlite_schema", "_sqlite_migrations", "settings", "users")


class SqliteStore(Store):
    """A clinic database in one SQLite file (`path`), or in memory (`path` None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.label = str(path) if path is not None else ":memory:"
        self._identity: FileIdentity | None = None
        self._open_lock: OpenLock | None = None
        # One connection, used from the window's thread and from workers in turn: every use
        # of it holds this lock (a transaction for its whole length).
        self._using = threading.RLock()
        try:
            if path is not None:
                prepare_file(path)
                self._identity = FileIdentity(path)
            self.db = Connection(path)
            self.db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._recognise()  # before anything is written to the file (or beside it)
            if path is not None:
                self._open_lock = OpenLock(path)
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
            for leftover in path.parent.glob(".backup-*"):
                remove_copy(leftover)
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
        """The full integrity check of the open database (time grows with its size: run it
        in a worker); an empty list means it is sound."""
        try:
            rows = self.db.conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.Error as exc:
            return [str(exc)]
        result = [str(r[0]) for r in rows]
        return [] if result == ["ok"] else result

    def close(self) -> None:
        self._close_quietly()

    def claim_exclusive(self) -> None:
        """Make sure no other window or program has this database open (StorageError if one
        has); held until the store closes."""
        if self._open_lock is not None:
            self._open_lock.claim_exclusive()

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
        """Patients matching every term, over the `patient_keys` index (storage.search).

        A term with fewer than SIZED_AT_MOST index entries drives: its entries are read and
        each patient is checked against the other terms on its own row. When every term is
        more common: name words run together as written or reversed, all but the last whole
        ("anna smi": Anna Smith, Smith Anna, Anna Smithers; not Anna Maria Smith), drive if
        that is selective; else the entries of the terms with at most INTERSECTED_AT_MOST
        are intersected. Those searches are complete: up to `ranked_at_most` matches are
        ranked, more are broad and listed newest first. Otherwise the search is broad and
        lists its matches among the NEWEST_AT_MOST newest patients (one common word alone:
        its first matches in index order when those are too few). The work per call is
        bounded whatever the number of patients.
        """
        try:
            with self._using:  # several reads that must see one state of the index
                return self._search(terms, limit)
        except sqlite3.Error as exc:
            raise friendly_error(exc, self.label) from exc

    def _search(self, terms: list[Term], limit: int) -> Found:
        if not terms:
            rows = self.rows("SELECT * FROM patients ORDER BY updated DESC LIMIT ?", [limit])
            return Found([patient_from_row(r) for r in rows], False, "recent")
        sizes = [self._term_size(t) for t in terms]
        best = min(range(len(terms)), key=sizes.__getitem__)
        driver: Term | None = terms[best] if sizes[best] < SIZED_AT_MOST else None
        if driver is None:
            pair = compound(terms)  # very common words: matched as a name written so
            if pair is not None and self._term_size(pair) < SIZED_AT_MOST:
                driver = pair
        hits = self._scan(driver, [t for t in terms if t is not driver]) if driver else None
        if hits is None and len(terms) > 1:
            hits = self._intersect(terms)
        if hits is not None:
            if len(hits) <= self.patients.ranked_at_most:
                return Found(self._fetch(self._ranked(hits, terms, limit)), False, "ranked")
            return Found(self._fetch(sorted(hits, reverse=True)[:limit]), True, "newest")
        chosen = self._newest(terms, limit)
        if len(terms) == 1 and len(chosen) < limit:  # sparse among the newest
            return Found(self._fetch(self._first(terms[0], limit)), True, "alphabetical")
        return Found(self._fetch(chosen), True, "newest")

    def _fetch(self, rowids: list[int]) -> list[Patient]:
        if not rowids:
            return []
        marks = ", ".join("?" * len(rowids))
        sql = f"SELECT rowid, * FROM patients WHERE rowid IN ({marks})"
        found = {r["rowid"]: patient_from_row(r) for r in self.db.query(sql, rowids)}
        return [found[rowid] for rowid in rowids if rowid in found]

    @staticmethod
    def _parts(term: Term) -> list[tuple[str, list[str]]]:
        """The index ranges of a term, in key order: (condition on `key`, parameters)."""
        parts = [("key >= ? AND key < ?", [p, p + TOP]) for p in sorted(term.prefixes)]
        if term.exact:
            marks = ", ".join("?" * len(term.exact))
            parts.append((f"key IN ({marks})", list(term.exact)))
        return parts

    def _count(self, condition: str, params: list[str], cap: int) -> int:
        """Index entries in one range, counted up to `cap`."""
        rows = self.db.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM patient_keys WHERE {condition} LIMIT ?)",
            [*params, cap],
        )
        return int(rows.fetchone()[0])

    def _term_size(self, term: Term, cap: int | None = None) -> int:
        """How many index entries a term matches, counted up to `cap` (SIZED_AT_MOST)."""
        cap = SIZED_AT_MOST if cap is None else cap
        return sum(self._count(c, p, cap) for c, p in self._parts(term))

    @staticmethod
    def _filter(terms: list[Term]) -> tuple[str, list[str]]:
        """SQL that keeps a patient row only if every term matches one of its keys."""
        clauses: list[str] = []
        params: list[str] = []
        for term in terms:
            checks = ["instr(p.search_keys, ?) > 0"] * (len(term.prefixes) + len(term.exact))
            params += [f'"{x}' for x in term.prefixes] + [f'"{x}"' for x in term.exact]
            clauses.append("(" + " OR ".join(checks) + ")")
        return "".join(f" AND {c}" for c in clauses), params

    def _scan(self, driver: Term, others: list[Term]) -> list[int]:
        """Every patient (row id) matching the driving term (fewer than SIZED_AT_MOST index
        entries) and the others, in index order."""
        where, params = self._filter(others)
        hits: list[int] = []
        seen: set[int] = set()
        for condition, part in self._parts(driver):
            sql = f"SELECT patient FROM patient_keys WHERE {condition}"
            if others:
                sql = f"SELECT k.patient FROM ({sql}) AS k "
                sql += "JOIN patients p ON p.rowid = k.patient WHERE 1" + where
            for (rowid,) in self.db.conn.execute(sql, [*part, *params]):
                if rowid not in seen:
                    seen.add(rowid)
                    hits.append(rowid)
        return hits

    def _ids(self, term: Term) -> set[int]:
        """The patients matching one term (row ids)."""
        ids: set[int] = set()
        for condition, part in self._parts(term):
            rows = self.db.conn.execute(f"SELECT patient FROM patient_keys WHERE {condition}", part)
            ids.update(r[0] for r in rows)
        return ids

    def _intersect(self, terms: list[Term]) -> list[int] | None:
        """Every patient matching all terms, from the index entries of those terms that have
        at most INTERSECTED_AT_MOST (a few thousand patients left over are then checked
        against the others on their rows); None when that cannot be done within bounds."""
        counts = [self._term_size(t, INTERSECTED_AT_MOST + 1) for t in terms]
        small = sorted(
            (i for i, n in enumerate(counts) if n <= INTERSECTED_AT_MOST), key=counts.__getitem__
        )
        if not small:
            return None
        found = self._ids(terms[small[0]])
        for i in small[1:]:
            found &= self._ids(terms[i])
        rest = [t for i, t in enumerate(terms) if i not in small]
        if not rest:
            return sorted(found)
        if len(found) > SIZED_AT_MOST:
            return None
        return self._matching(sorted(found), rest)

    def _matching(self, rowids: list[int], terms: list[Term]) -> list[int]:
        """Those of the patients (row ids) that match every term (on their own rows)."""
        where, params = self._filter(terms)
        marks = ", ".join("?" * len(rowids))
        sql = f"SELECT p.rowid FROM patients p WHERE p.rowid IN ({marks}){where}"
        return [r[0] for r in self.db.conn.execute(sql, [*rowids, *params])]

    def _first(self, term: Term, limit: int) -> list[int]:
        """The first `limit` patients matching one term, in index order (alphabetically by
        the matching name, newest first among equals)."""
        hits: list[int] = []
        for condition, part in self._parts(term):
            rows = self.db.conn.execute(
                f"SELECT patient FROM patient_keys WHERE {condition} "
                "ORDER BY key, patient DESC LIMIT ?",
                [*part, limit * 4],
            )
            for (rowid,) in rows:
                if rowid not in hits:
                    hits.append(rowid)
            if len(hits) >= limit:
                break
        return hits[:limit]

    def _newest(self, terms: list[Term], limit: int) -> list[int]:
        """The most recently registered matches among the newest NEWEST_AT_MOST patients
        (up to `limit`, newest first)."""
        where, params = self._filter(terms)
        rows = self.db.conn.execute(
            "SELECT p.rowid FROM (SELECT rowid, search_keys FROM patients ORDER BY rowid DESC "
            f"LIMIT ?) AS p WHERE 1{where} LIMIT ?",
            [NEWEST_AT_MOST, *params, limit],
        ).fetchall()
        return [r[0] for r in rows]

    def _ranked(self, hits: list[int], terms: list[Term], limit: int) -> list[int]:
        """The best `limit` of the hits: most typed words matching a whole word of the name
        first, then by family and given name (folded)."""
        if not hits:
            return hits
        whole = " + ".join(["(instr(search_keys, ?) > 0)"] * len(terms))
        marks = ", ".join("?" * len(hits))
        rows = self.db.conn.execute(
            f"SELECT rowid FROM patients WHERE rowid IN ({marks}) ORDER BY {whole} DESC, "
            f"json_extract(search_keys, '$.\"{SORT}\"'), rowid DESC LIMIT ?",
            [*hits, *(f'"{t.word}"' for t in terms), limit],
        ).fetchall()
        return [r[0] for r in rows]

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
