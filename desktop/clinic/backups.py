"""Backups and restores of the clinic database (a restore keeps the replaced file)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.session import Session
from desktop.errors import Conflict, StorageError, ValidationError
from desktop.storage import SqliteStore, Store, integrity_errors

log = logging.getLogger(__name__)


class Backups:
    """Copy the database out ("backup") and replace it from a copy ("restore").

    `reopen(path)` closes the current store, opens `path` in its place and returns the audit
    log of the reopened clinic (the facade rebuilds every service around the new store).
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        reopen: Callable[[Path], AuditLog],
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._reopen = reopen

    def backup(self, dest: Path) -> Path:
        """Copy the database to `dest` (a file, or a folder for a timestamped name).

        Returns the file written. Raises Conflict if it exists, ValidationError for a missing
        folder and StorageError when the copy fails its integrity check.
        """
        self._session.require("backup")
        if dest.is_dir():
            dest = dest / f"clinic-backup-{self._clock().strftime('%Y%m%d-%H%M%S')}.sqlite"
        if dest.exists():
            raise Conflict(f"{dest} already exists; choose a new file name.")
        if not dest.parent.exists():
            raise ValidationError(f"The folder {dest.parent} does not exist.", "dest")
        if not isinstance(self._store, SqliteStore):
            raise StorageError("Backups of this kind of database are not supported yet.")
        fd, tmp_name = tempfile.mkstemp(prefix=".backup-", dir=dest.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            self._store.backup_to(tmp)
            problems = integrity_errors(tmp)
            if problems:
                raise StorageError(f"The backup copy failed its integrity check: {problems[0]}.")
            tmp.chmod(0o600)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        self._audit.record("backup", f"file:{dest.name}")
        log.info("backup written to %s", dest)
        return dest

    def restore(self, src: Path) -> Path:
        """Replace this database with `src`; the current one is kept as a timestamped backup.

        Returns the path of the kept copy. What the replaced trail recorded since the backup
        is carried into the restored trail.
        """
        self._session.require("restore")
        if self._store.path is None:
            raise StorageError("An in-memory database cannot be restored into.")
        if not src.is_file():
            raise ValidationError(f"{src} does not exist or is not a file.", "src")
        problems = integrity_errors(src)
        if problems:
            raise StorageError(f"{src} cannot be restored: {problems[0]}. Nothing was changed.")
        target = self._store.path
        stamp = self._clock().strftime("%Y%m%d-%H%M%S")
        kept = self.backup(target.parent / f"{target.stem}-before-restore-{stamp}.sqlite")
        trail = self._store.audit.entries()  # what happened here, to carry past the restore
        fd, tmp_name = tempfile.mkstemp(prefix=".restore-", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            shutil.copyfile(src, tmp)
            tmp.chmod(0o600)
            self._store.close()
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            tmp.replace(target)  # atomic: the old file or the new one, never half of each
        finally:
            tmp.unlink(missing_ok=True)
        audit = self._reopen(target)
        carried = audit.carry(trail, kept.name)
        audit.record("restore", f"file:{src.name}", kept=kept.name, carried=carried)
        log.info("database restored from %s; previous copy kept at %s", src, kept)
        return kept
