"""Backups and restores of the clinic database (a restore checks first and keeps the old file)."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.audit import AuditEntry
from desktop.clinic.anchors import Anchors
from desktop.clinic.audit_log import AuditLog
from desktop.clinic.session import Session
from desktop.clinic.workstation import without_password
from desktop.errors import Conflict, OtherClinic, StorageError, ValidationError
from desktop.storage import (
    ARRIVING,
    MOVE_TOKEN,
    MOVED_PLACE,
    MOVED_TO,
    SqliteStore,
    Store,
    copy_folder,
    integrity_errors,
    open_store,
    sweep_copies,
)
from desktop.storage.restore import BackupFacts

if TYPE_CHECKING:
    from desktop.storage.transfer import TransferReport

log = logging.getLogger(__name__)


_COMPANIONS = ("-wal", "-shm", ".lock")


@dataclass(frozen=True)
class RestorePreview:
    """What a restore of a checked backup would do, to ask about before it is made.

    `made`: the time of the backup's last audit entry (ISO 8601, "" when it has none);
    `patients` / `patients_now`: patients in the backup and in this database;
    `changes_since`: audit entries recorded here after the backup was made (undone by the
    restore; kept in the copy set aside and noted in the trail), None when the backup is not
    an earlier state of this database.
    """

    made: str
    patients: int
    patients_now: int
    changes_since: int | None


@dataclass
class _Moved:
    report: TransferReport | None = None


class Backups:
    """Copy the database out ("backup"), replace it from a checked copy ("restore"), and
    move the clinic between a file and the clinic's server ("move_to").

    `reopen(target)` opens `target` in place of the closed store and returns the audit log
    of the reopened clinic (the facade rebuilds every service around the new store).
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        reopen: Callable[[Path | str], AuditLog],
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._reopen = reopen

    def _sqlite(self) -> SqliteStore:
        if not isinstance(self._store, SqliteStore) or self._store.path is None:
            raise StorageError("Only a clinic database kept in a file can be backed up here.")
        return self._store

    def _backed_up(self) -> Store:
        if self._store.path is None and not self._store.server:
            raise StorageError("An in-memory database has no file to back up.")
        return self._store

    def backup(self, dest: Path) -> Path:
        """Copy the database to `dest` (a file, or a folder for a timestamped name).

        Returns the file written. Raises Conflict if the file named exists (a name made for
        a folder is made unique instead: -2, -3, ...), ValidationError for a missing folder
        and StorageError when the copy fails its integrity check or the folder cannot be
        written to. The copy is made in a private folder beside it and takes its name only
        once checked; what a killed backup left there goes at the next backup into the same
        folder (or the next open of a database in it).
        """
        if dest.is_dir():
            stamp = self._clock().strftime("%Y%m%d-%H%M%S")
            return self._backup(dest / f"clinic-backup-{stamp}.sqlite", unique=True)
        return self._backup(dest, unique=False)

    def _backup(self, dest: Path, *, unique: bool) -> Path:
        """`backup` into `dest`; `unique`: the name was made here, not chosen by the user, so
        a taken one gets -2, -3, ... rather than a refusal."""
        self._session.require("backup")
        store = self._backed_up()
        if not dest.parent.is_dir():
            raise ValidationError(f"The folder {dest.parent} does not exist.", "dest")
        if not unique and dest.exists():
            raise Conflict(f"{dest} already exists; choose a new file name.")
        sweep_copies(dest.parent, COPY_PREFIX)
        with _copy_folder(dest.parent) as work:
            copy = work / "clinic.sqlite"
            store.backup_to(copy)
            problems = integrity_errors(copy)
            if problems:
                raise StorageError(f"The backup copy failed its integrity check: {problems[0]}.")
            if store.server:
                self._check_as_restore_would(copy, work)
            copy.chmod(0o600)
            record = self._audit.record
            placing = _Placing(unique, "already exists; choose a new file name.",
                               lambda name: record("backup", f"file:{name}"))  # fmt: skip
            dest = self._place(copy, dest, placing)
        log.info("backup written to %s", dest)
        return dest

    def _place(self, copy: Path, dest: Path, how: _Placing) -> Path:
        """Give the checked `copy` the name `dest` (or, `how.unique`, the first free one of
        dest, dest-2, dest-3, ...), never replacing a file (but an empty one where
        `how.over_empty`); `how.announce(name)` runs first (the audit entry: a copy of every
        record never exists without it). Returns the path now holding the copy."""
        while True:
            final = _free_name(dest) if how.unique else dest
            try:
                empty = final.is_file() and final.stat().st_size == 0
                if how.over_empty and empty:
                    how.announce(final.name)
                    os.replace(copy, final)
                    break
                if final.exists() or final.is_symlink():
                    if how.unique:
                        continue  # taken since it was found free
                    raise Conflict(f"{final} {how.taken}")
                how.announce(final.name)
                try:
                    os.link(copy, final)  # never replaces a file another program just made
                except FileExistsError:
                    if how.unique:
                        continue
                    raise Conflict(f"{final} {how.taken}") from None
                except OSError:  # a file system without hard links (a FAT memory stick)
                    os.replace(copy, final)
                break
            except OSError as exc:
                raise StorageError(
                    f"The copy could not be saved as {final} ({exc.strerror}); nothing was "
                    "kept. Check that the folder is yours to write to and has free space."
                ) from exc
        _sync_folder(final.parent)
        return final

    def _check_as_restore_would(self, copy: Path, folder: Path) -> None:
        """A server's backup is a new SQLite file made row by row: it must pass every check
        a restore makes (exact schema, integrity, the audit chain) before it is kept."""
        from desktop.storage.restore import check_backup

        facts = check_backup(copy, folder)
        facts.path.unlink(missing_ok=True)
        here = self._store.audit.last()
        if not facts.chain.intact and (here is None or facts.chain.count < here.seq):
            raise StorageError(
                f"The backup copy's audit trail is broken ({facts.chain.reason}); it was not "
                "kept. Run `audit verify` on the clinic, then back up again."
            )

    def preview_restore(self, src: Path) -> RestorePreview:
        """Check `src` as `restore` does (without changing anything) and say what restoring
        it would do. Raises as `restore` would refuse: ValidationError for the database in
        use or a missing file, StorageError for a file that is no clinic backup."""
        self._session.require("restore")
        self._refuse_not_a_backup(src)
        from desktop.storage.restore import check_backup

        if self._store.server:
            folder = restore_folder()
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        else:
            path = self._sqlite().path
            assert path is not None
            folder = path.parent  # where the restore itself checks its copy
        facts = check_backup(src, folder)
        try:
            copy = SqliteStore(facts.path)
            try:
                last = copy.audit.last()
                patients = copy.patients.count()
            finally:
                copy.close()
        finally:
            for path in (
                facts.path,
                *(facts.path.with_name(facts.path.name + x) for x in _COMPANIONS),
            ):
                path.unlink(missing_ok=True)
        since = None
        if facts.trail_end is not None and self._other_history(facts) is None:
            ours = self._store.audit.last()
            since = (ours.seq if ours is not None else 0) - facts.trail_end[0]
        return RestorePreview(
            last.at if last is not None else "", patients, self._store.patients.count(), since
        )

    def _refuse_not_a_backup(self, src: Path) -> None:
        if not src.is_file():
            raise ValidationError(f"{src} does not exist or is not a file.", "src")
        if self._store.path is not None and _same_file(src, self._store.path):
            raise ValidationError(
                f"{src.name} is the database in use, not a backup of it; nothing was changed. "
                "Choose a backup file (made with Back up, or the backup command).",
                "src",
            )

    def restore(self, src: Path, *, other_clinic: bool = False) -> Path:
        """Replace this database with the backup `src`; the current one is kept as a
        timestamped backup beside it, whose path is returned.

        The backup is read through SQLite's backup API (a `-wal` beside it counts) into a
        private copy, which must pass every check before anything changes: integrity, a
        clinic database of this or an older version with exactly the schema the migrations
        make (no extra trigger, view or table), an intact audit chain, and the same clinic
        unless `other_clinic` confirms another one (OtherClinic otherwise). A restore while
        another window or program has the database open is refused. What the replaced trail
        recorded since the backup is carried into the restored trail.
        """
        self._session.require("restore")
        self._refuse_not_a_backup(src)
        if self._store.server:
            return self._restore_server(src, other_clinic)
        store = self._sqlite()
        target = store.path
        assert target is not None
        from desktop.storage.restore import check_backup

        facts = check_backup(src, target.parent)
        try:
            self._refuse_unless_restorable(src, facts, other_clinic)
            store.claim_exclusive()
            stamp = self._clock().strftime("%Y%m%d-%H%M%S")
            kept = self._backup(
                target.parent / f"{target.stem}-before-restore-{stamp}.sqlite", unique=True
            )
            trail = store.audit.entries()  # what happened here, to carry past the restore
            # The copy's trail is completed before it takes the database's place, so the
            # restore and what it carried over are recorded whenever the swap happens.
            head = self._complete_trail(facts.path, trail, kept.name, src.name)
            self._audit.anchors.expect(*head)  # a crash after the swap: the anchors agree
            store.close()
            os.replace(facts.path, target)  # atomic: the old file or the new one
            _sync_folder(target.parent)
        finally:
            facts.path.unlink(missing_ok=True)
            facts.path.with_name(facts.path.name + ".lock").unlink(missing_ok=True)
        self._reopen(target).anchors.write(*head)
        log.info("database restored from %s; previous copy kept at %s", src, kept)
        return kept

    def _refuse_unless_restorable(self, src: Path, facts: BackupFacts, other_clinic: bool) -> None:
        if not facts.chain.intact:
            raise StorageError(
                f"{src} cannot be restored: its audit trail is broken ({facts.chain.reason})."
                " Nothing was changed."
            )
        # A database never set up (no account, no patient) has nothing a restore could lose:
        # restoring onto a new computer needs no confirmation.
        blank = self._store.users.count() == 0 and self._store.patients.count() == 0
        other = None if other_clinic or blank else self._other_history(facts)
        if facts.moved_to is not None and not other_clinic:
            other = (
                f"is a database the clinic was moved out of ({facts.moved_to}): restored, the "
                "clinic would be in use in two places, its records splitting between them. Use "
                "the clinic where it was moved; restore this only if that place is lost"
            )
        if other is not None:
            raise OtherClinic(
                f"{src} {other}. Restoring it replaces every patient and record here. "
                "Nothing was changed; to restore it all the same, confirm it (in the window, "
                "or with --other-clinic on the command line)."
            )

    def _restore_server(self, src: Path, other_clinic: bool) -> Path:
        """Restore onto the clinic's server: refused while any other workstation (or program)
        is connected; the server's clinic is first backed up beside `src`; the database's
        contents are then replaced in one transaction (all or nothing)."""
        from desktop.storage.postgres.store import PostgresStore
        from desktop.storage.restore import check_backup

        store = self._store
        assert isinstance(store, PostgresStore)
        store.claim_exclusive()  # before any work: the same check runs again at the swap
        # The checked copy is made in this computer's data folder, in a folder of its own
        # that the next open (or restore) removes if this one is killed.
        folder = restore_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(
                f"{src} cannot be restored: the folder {folder} cannot be made "
                f"({exc.strerror}). Nothing was changed."
            ) from exc
        sweep_copies(folder, RESTORE_PREFIX)
        with _copy_folder(folder, RESTORE_PREFIX) as work:
            facts = check_backup(src, work)
            self._refuse_unless_restorable(src, facts, other_clinic)
            stamp = self._clock().strftime("%Y%m%d-%H%M%S")
            name = store.params.get("dbname", "clinic") or "clinic"
            kept = self._backup(src.parent / f"{name}-before-restore-{stamp}.sqlite", unique=True)
            trail = store.audit.entries()
            head = self._complete_trail(facts.path, trail, kept.name, src.name)
            self._audit.anchors.expect(*head)
            copy = SqliteStore(facts.path)
            try:
                store.replace_with(copy)
            except BaseException:
                self._audit.anchors.write(*self._head())  # nothing changed: as before
                raise
            finally:
                copy.close()
        self._reopen(store.url).anchors.write(*head)
        log.info("server database restored from %s; previous copy kept at %s", src, kept)
        return kept

    def _head(self) -> tuple[int, str]:
        last = self._store.audit.last()
        return (last.seq, last.hash) if last is not None else (0, "")

    def move_to(
        self, target: Path | str, progress: Callable[[str], None] | None = None
    ) -> TransferReport | None:
        """Copy this clinic into an empty database `target` (the clinic's server, or a new
        file) and prove the copy: per table the same rows (count and digest), every document
        matching its SHA-256, the audit trail ending on the same entry, the same seal
        certificates. Both trails then record the move. Nothing here changes otherwise: the
        workstations are pointed at `target` afterwards (README, 'Several computers').

        In three commits, so that a kill between any two leaves one clinic in use: the copy
        arrives marked as arriving (it will not open), this database is marked as moved (it
        will not open either), then the copy's mark goes. Moving again after a kill
        replaces an arrived copy of this clinic, or finishes a move whose copy only waits
        for its mark to go (None is then returned: nothing was copied).

        Raises StorageError when `target` cannot be opened, already holds a clinic, or the
        copy fails a check (it is then not kept).
        """
        self._session.require("restore")
        # Nobody else may be working in the clinic being moved: what they saved during or
        # after the copy would be left behind. Once moved, this database refuses every
        # later save and open (Store.moved_to), so the records never split in two.
        self._store.claim_exclusive()
        try:
            if self._store.moved_to() is not None:
                self._finish_move(target)
                return None
            token = secrets.token_hex(16)
            if isinstance(target, Path):
                report = self._move_to_file(target, progress, token)
            else:
                destination = open_store(target)
                try:
                    self._replace_arrived(destination)
                    address = without_password(target)
                    with self._moving(lambda: destination.label, token, address) as moved:
                        moved.report = self._copy_into(destination, progress, token)
                    destination.settings.remove(ARRIVING)  # the clinic's new place opens
                finally:
                    destination.close()
                report = moved.report
            assert report is not None
            return report
        finally:
            self._store.release_exclusive()

    @contextlib.contextmanager
    def _moving(self, where: Callable[[], str], token: str, address: str = "") -> Iterator[_Moved]:
        """One transaction of this clinic around the copy: no write here can slip in
        between the copy and the mark that the clinic has moved (recorded with the move)."""
        moved = _Moved()
        with self._store.transaction():
            yield moved
            place = where()
            self._audit.record("move out", f"database:{place}")
            when = self._clock().strftime("%d %B %Y %H:%M")
            self._store.settings.set(MOVED_TO, f"moved to {place} on {when}")
            self._store.settings.set(MOVE_TOKEN, token)
            self._store.settings.set(MOVED_PLACE, address or place)
        log.info("clinic copied from %s to %s and checked", self._store.label, place)

    def _arrived_here(self, destination: Store) -> dict[str, str] | None:
        """The mark of a copy of this clinic that a move left arriving in `destination`."""
        arriving = destination.arriving_from()
        ours = self._store.settings.get("clinic_id")
        if arriving is None or destination.settings.get("clinic_id") != ours:
            return None
        return arriving

    def _replace_arrived(self, destination: Store) -> None:
        """A server that holds a copy of this clinic whose move was killed before it
        finished: emptied, so the move can be made again."""
        if self._arrived_here(destination) is not None:
            log.info("replacing the copy an unfinished move left in %s", destination.label)
            with destination.transaction():
                destination.reset_schema()
            destination.adopt_identity()  # an empty clinic now, about to be filled

    def _finish_move(self, target: Path | str) -> None:
        """This database was marked as moved; finish the move if its copy in `target` is
        still marked as arriving from this very move, else say where the clinic went."""
        moved = self._store.moved_to()
        if isinstance(target, Path) and not target.is_file():
            raise StorageError(
                f"This clinic was already {moved}; nothing was changed. Open it there "
                "(--db, or Settings > Database for a server)."
            )
        destination = open_store(target)
        try:
            arriving = self._arrived_here(destination)
            if arriving is None or arriving.get("token") != self._store.settings.get(MOVE_TOKEN):
                raise StorageError(
                    f"This clinic was already {moved}; nothing was changed. Open it there "
                    "(--db, or Settings > Database for a server)."
                )
            destination.settings.remove(ARRIVING)
        finally:
            destination.close()
        log.info("the unfinished move to %s was finished", destination.label)

    def _move_to_file(
        self, target: Path, progress: Callable[[str], None] | None, token: str
    ) -> TransferReport:
        """`move_to` a new file: the copy is made and proven in a private folder beside it
        and takes its name only then, so a move that fails or is killed leaves no clinic
        file behind (what a killed one left goes at the next move into the folder or the
        next open of a database in it), and moving again goes through."""
        if target.is_file() and target.stat().st_size > 0:
            self._remove_arrived_file(target)
        if target.exists() and not (target.is_file() and target.stat().st_size == 0):
            raise Conflict(f"{target} already exists; a clinic is moved into a new file.")
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(
                f"The folder {target.parent} cannot be made ({exc.strerror}); nothing was "
                "changed. Choose a folder that is yours to write to."
            ) from exc
        sweep_copies(target.parent, COPY_PREFIX)
        with (
            _copy_folder(target.parent) as work,
            self._moving(lambda: str(target), token) as moved,
        ):
            copy = work / target.name
            destination = SqliteStore(copy)
            try:
                moved.report = self._copy_into(destination, progress, token)
                destination.make_self_contained()
            finally:
                destination.close()
            placing = _Placing(
                False, "already exists; a clinic is moved into a new file.",
                lambda _name: None, over_empty=True,
            )  # fmt: skip
            self._place(copy, target, placing)
        arrived = SqliteStore(target)
        try:
            arrived.settings.remove(ARRIVING)  # the clinic's new place opens
            arrived.make_self_contained()
        finally:
            arrived.close()
        assert moved.report is not None
        return moved.report

    def _remove_arrived_file(self, target: Path) -> None:
        """A file that holds a copy of this clinic whose move was killed before this
        database was marked: removed, so the move can be made again."""
        try:
            found = SqliteStore(target)
        except StorageError:
            return  # not a clinic's file: left alone, and the move refuses it
        try:
            arrived = self._arrived_here(found) is not None
        finally:
            found.close()
        if arrived:
            log.info("replacing the copy an unfinished move left at %s", target)
            for path in (target, *(target.with_name(target.name + x) for x in _COMPANIONS)):
                path.unlink(missing_ok=True)

    def _copy_into(
        self, destination: Store, progress: Callable[[str], None] | None, token: str
    ) -> TransferReport:
        """Copy and prove this clinic into the empty `destination`, and record the move in
        its trail, in one transaction: all of it, or (a failure, a kill) nothing. The copy
        is marked as arriving (it does not open) until this database is marked as moved."""
        from desktop.storage.transfer import copy_clinic

        with destination.transaction():
            report = copy_clinic(self._store, destination, progress)
            moved = AuditLog(destination, self._clock, self._session.actor_name, Anchors(()))
            rows = sum(p.rows for p in report.tables)
            moved.record("move in", f"database:{self._store.label}", rows=rows)
            destination.settings.set(ARRIVING, {"from": self._store.label, "token": token})
        destination.adopt_identity()
        return report

    def _complete_trail(
        self, copy: Path, trail: Sequence[AuditEntry], kept: str, source: str
    ) -> tuple[int, str]:
        """Append to the checked copy's trail what the replaced trail recorded since the
        backup, then the restore itself; returns the copy's new (count, last hash)."""
        restored = SqliteStore(copy)  # brings an older backup's schema up to date too
        try:
            audit = AuditLog(restored, self._clock, self._session.actor_name, Anchors(()))
            with restored.transaction():
                carried = audit.carry(trail, kept)
                # A database left behind by a move, restored: in use again, deliberately.
                for key in (MOVED_TO, MOVED_PLACE, MOVE_TOKEN, ARRIVING):
                    restored.settings.remove(key)
                audit.record("restore", f"file:{source}", kept=kept, carried=carried)
            last = restored.audit.last()
            assert last is not None
            return last.seq, last.hash
        finally:
            restored.close()

    def _other_history(self, facts: BackupFacts) -> str | None:
        """Why the backup is not an earlier state of this clinic's own records, or None.

        The same clinic (its identity, or before identities were kept, its trail's first
        entry) whose audit trail is a beginning of ours: anything else needs confirming.
        """
        here = self._store.settings.get("clinic_id")
        if facts.clinic_id is not None and here is not None:
            same = facts.clinic_id == here
        else:
            first = self._store.audit.first()
            same = first is not None and first.hash == facts.first_audit_hash
        if not same:
            return "is a backup of another clinic (or one this database cannot recognise)"
        if facts.trail_end is not None:
            count, digest = facts.trail_end
            ours = self._store.audit.at(count)
            if ours is None or ours.hash != digest:
                return (
                    f"is of this clinic, but its audit trail is not how this database's trail "
                    f"began (its row {count} differs): it was altered, or it comes from before "
                    "an earlier restore, and what was recorded here since would be kept only "
                    "in the copy set aside"
                )
        return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


COPY_PREFIX = ".backup-"  # a copy being made (a backup, a move into a file), in its folder
RESTORE_PREFIX = ".restore-"  # a backup checked before a restore onto the server


@dataclass(frozen=True)
class _Placing:
    """How a finished copy takes its name: `unique` (a name made here: -2, -3, ... rather
    than a refusal), the refusal's words when taken, `announce(name)` (the audit entry, just
    before), `over_empty` (an empty file made for it may be replaced)."""

    unique: bool
    taken: str
    announce: Callable[[str], None]
    over_empty: bool = False


def _free_name(dest: Path) -> Path:
    """`dest`, or the first of dest-2, dest-3, ... that names no file."""
    n = 1
    candidate = dest
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = dest.with_name(f"{dest.stem}-{n}{dest.suffix}")
    return candidate


@contextlib.contextmanager
def _copy_folder(folder: Path, prefix: str = COPY_PREFIX) -> Iterator[Path]:
    """storage.copy_folder, with a folder that cannot take it said in words."""
    stack = contextlib.ExitStack()
    try:
        work = stack.enter_context(copy_folder(folder, prefix))
    except OSError as exc:
        raise StorageError(
            f"Nothing can be written into the folder {folder} ({exc.strerror}); nothing was "
            "changed. Choose a folder that is yours to write to, with free space."
        ) from exc
    with stack:
        yield work


def restore_folder() -> Path:
    """Where this computer checks a backup before restoring it onto the clinic's server
    (in the user's data folder: what a killed restore left is removed at the next open)."""
    from desktop import paths

    return paths.data_dir() / "restore"


def sweep_restore_folder() -> None:
    """Remove what killed restores onto the server left in `restore_folder` (copies of
    every record), those no program is still using."""
    sweep_copies(restore_folder(), RESTORE_PREFIX)
