"""Checking a backup before it may replace the clinic database: a copy read, never executed."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop.audit import AuditEntry, ChainReport, verify_chain
from desktop.errors import StorageError
from desktop.storage.file import integrity_errors
from desktop.storage.schema import APPLICATION_ID, MIGRATION_SET, SCHEMA

# Objects SQLite makes itself (statistics, autoincrement counters): data, not code. In LIKE
# an underscore matches any character: it is escaped, so "sqliteXevil" is not one of them.
_NOT_INTERNAL = "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
# No statement of the check may run longer than this (a hostile copy must not hang it).
STATEMENT_SECONDS = 300


@dataclass(frozen=True)
class BackupFacts:
    """What a checked backup copy holds: its schema level, clinic identity and trail."""

    path: Path  # the checked copy, ready to take the database's place
    applied: tuple[str, ...]  # migrations applied, a prefix of SCHEMA
    clinic_id: str | None  # None before 0004_integrity
    first_audit_hash: str | None  # the trail's first entry: the same clinic's history
    chain: ChainReport
    trail_end: tuple[int, str] | None  # (rows, last hash) of its audit trail
    moved_to: str | None = None  # a database left behind by a move: where the clinic went


def _schema(conn: sqlite3.Connection) -> set[tuple[str, str, str, str]]:
    rows = conn.execute(
        f"SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master WHERE {_NOT_INTERNAL}"
    )
    return {(r[0], r[1], r[2], " ".join(str(r[3]).split())) for r in rows}


@functools.cache
def expected_schema(level: int) -> frozenset[tuple[str, str, str, str]]:
    """The schema objects the first `level` migrations produce (tables, indexes, triggers,
    views, with their SQL)."""
    from sqlite_utils import Database

    from desktop.storage.migrations import MIGRATIONS

    conn = sqlite3.connect(":memory:")
    try:
        db = Database(conn)
        stop = SCHEMA[level] if level < len(SCHEMA) else None
        MIGRATIONS.apply(db, stop_before=stop)
        return frozenset(_schema(conn))
    finally:
        conn.close()


@contextlib.contextmanager
def _private_copy(src: Path, beside: Path) -> Iterator[Path]:
    """A copy of `src` with its write-ahead log (if one lies beside it), in a private folder
    inside `beside` (the database's own folder: one disk to have room on).

    SQLite applies the log when the copy is opened, so rows still in `-wal` count; the
    original and its log are only read.
    """
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=beside) as folder:
        copy = Path(folder) / "backup.sqlite"
        shutil.copyfile(src, copy)
        wal = src.with_name(src.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        yield copy


def check_backup(src: Path, folder: Path) -> BackupFacts:
    """Copy the backup `src` into `folder` through SQLite's backup API and check the copy.

    Refused (StorageError, naming what is wrong and saying nothing was changed): a file that
    is not a sound SQLite database, another application's database, one from a newer
    version, and any schema other than exactly what the migrations make for its level
    (an extra trigger, view, index or table, a missing or altered one). The copy's audit
    chain is walked (`chain`); its identity is reported for the caller to compare.
    """
    try:
        info = os.stat(src)
    except OSError as exc:
        raise _refuse(src, f"it cannot be opened ({exc.strerror})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(src, "it is not a regular file")
    if info.st_size == 0:
        raise _refuse(src, "it is empty")
    try:
        fd, name = tempfile.mkstemp(prefix=".restore-", suffix=".sqlite", dir=folder)
    except OSError as exc:
        raise _refuse(src, f"the copy cannot be made beside the database ({exc.strerror})") from exc
    os.close(fd)
    target = Path(name)
    try:
        with _private_copy(src, folder) as copy:
            source = sqlite3.connect(copy)
            dest = sqlite3.connect(target)
            try:
                source.backup(dest)
                dest.execute("PRAGMA journal_mode = DELETE")  # no -wal beside the copy
            except sqlite3.Error as exc:
                raise _refuse(src, f"it cannot be read ({exc})") from exc
            finally:
                dest.close()
                source.close()
        return _facts(src, target)
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise _refuse(
            src,
            f"the copy to check could not be written ({exc.strerror}); free some space on the "
            f"disk holding {folder} (it needs twice the backup's size)",
        ) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _refuse(src: Path, why: str) -> StorageError:
    return StorageError(f"{src} cannot be restored: {why}. Nothing was changed.")


def _facts(src: Path, copy: Path) -> BackupFacts:
    problems = integrity_errors(copy)
    if problems:
        raise _refuse(src, problems[0])
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    started = time.monotonic()
    conn.set_progress_handler(lambda: int(time.monotonic() - started > STATEMENT_SECONDS), 10_000)
    try:
        return _checked(src, copy, conn)
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise _refuse(src, "checking it takes too long (it is not a clinic database)") from exc
        raise _refuse(src, f"it cannot be read ({exc})") from exc
    except sqlite3.Error as exc:
        raise _refuse(src, f"it cannot be read ({exc})") from exc
    finally:
        conn.close()


def _checked(src: Path, copy: Path, conn: sqlite3.Connection) -> BackupFacts:
    """The facts of the copy, read only after its schema proved to be ours: no query runs on
    anything but our own tables (a view or trigger in the copy is refused unread)."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id not in (0, APPLICATION_ID):
        raise _refuse(
            src, "it is a database of another application; choose a backup made by Clinic Intake"
        )
    found = _schema(conn)
    full = expected_schema(len(SCHEMA))
    history = [o for o in full if o[1] == "_sqlite_migrations"]
    if not history or not set(history) <= found:
        raise _refuse(src, "it is not a clinic database (it has no schema history of ours)")
    applied = tuple(
        r[0]
        for r in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            [MIGRATION_SET],
        )
    )
    if not applied or applied != SCHEMA[: len(applied)]:
        unknown = [n for n in applied if n not in SCHEMA]
        if unknown:
            raise _refuse(
                src,
                f"it comes from a newer version of Clinic Intake (schema {unknown[-1]}); "
                "restore it with that version",
            )
        raise _refuse(src, "its schema history is not one this program made")
    if (app_id == APPLICATION_ID) != ("0004_integrity" in applied):
        raise _refuse(src, "its application id does not match its schema")
    expected = expected_schema(len(applied))
    extra, missing = sorted(found - expected), sorted(expected - found)
    if extra or missing:
        kind, name = (extra or missing)[0][:2]
        article = "an" if kind[0] in "aeiou" else "a"
        what = (
            f"it holds {article} {kind} '{name}' that a clinic database does not have"
            if extra
            else f"its {kind} '{name}' is missing or altered"
        )
        raise _refuse(src, what)
    clinic_id = moved_to = None
    if "0004_integrity" in applied:
        row = conn.execute("SELECT value FROM settings WHERE key = 'clinic_id'").fetchone()
        clinic_id = str(json.loads(row[0])) if row else None
        row = conn.execute("SELECT value FROM settings WHERE key = 'moved_to'").fetchone()
        moved_to = str(json.loads(row[0])) if row else None
    first, chain, end = None, ChainReport(True, 0), None
    if "0003_accounts_audit" in applied:
        first = conn.execute("SELECT hash FROM audit WHERE seq = 1").fetchone()
        chain = verify_chain(_entries(conn))
        last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        end = (int(last[0]), str(last[1])) if last else None
    return BackupFacts(copy, applied, clinic_id, first[0] if first else None, chain, end, moved_to)


def _entries(conn: sqlite3.Connection) -> Iterator[AuditEntry]:
    cursor = conn.execute(
        "SELECT seq, at, user, action, target, patient, detail, prev_hash, hash FROM audit "
        "ORDER BY seq"
    )
    for r in cursor:
        yield AuditEntry(*r)
