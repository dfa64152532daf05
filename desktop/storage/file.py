"""The database file itself: creating it privately, recognising it, checking it, naming errors."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from desktop.errors import StorageError

__all__ = ["friendly_error", "integrity_errors", "prepare_file"]

_HEADER = b"SQLite format 3\x00"


def friendly_error(exc: sqlite3.Error, path: str) -> StorageError:
    """What went wrong with the database at `path`, in words a clinic user can act on."""
    text = str(exc)
    if "full" in text:
        return StorageError(
            f"The disk holding {path} is full; nothing was saved. Free some space and try again."
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(
            f"The database {path} is read-only; nothing was saved. Check the file's permissions "
            "or open a copy you can write to."
        )
    if "locked" in text or "busy" in text:
        return StorageError(
            f"The database {path} is busy in another program; close it there and try again."
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StorageError(
            f"The database {path} is damaged ({text}). Restore it from a backup "
            "(python main.py --db PATH restore BACKUP)."
        )
    return StorageError(f"The database {path} could not be used: {text}.")


def prepare_file(path: Path) -> None:
    """Create a missing database file (and folder) private to the user; refuse foreign files."""
    if path.is_dir():
        raise StorageError(f"{path} is a folder; give the path of a database file.")
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    else:
        with path.open("rb") as fh:
            head = fh.read(16)
        if head and head != _HEADER:
            raise StorageError(
                f"{path} is not a clinic database (it is not an SQLite file). "
                "Choose another file, or restore from a backup."
            )


def integrity_errors(path: Path) -> list[str]:
    """Run a full integrity check on a database file; an empty list means it is sound."""
    try:
        with path.open("rb") as fh:
            if fh.read(16) != _HEADER:
                return ["not an SQLite database"]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        return [str(exc)]
    if rows != ["ok"]:
        return [str(r) for r in rows]
    missing = {"patients", "consultations", "_sqlite_migrations"} - tables
    return [f"not a clinic database (missing {', '.join(sorted(missing))})"] if missing else []
