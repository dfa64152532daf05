"""`Clinic`: one clinic database and one service per concept, built once at open."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.auth import PasswordHasher, User
from desktop.clinic.accounts import Accounts
from desktop.clinic.anchors import Anchors
from desktop.clinic.audit_log import AuditLog
from desktop.clinic.audit_trail import AuditTrail
from desktop.clinic.backups import Backups, sweep_restore_folder
from desktop.clinic.bindings import SignatureBindings
from desktop.clinic.checklists import Checklists
from desktop.clinic.consultations import Consultations
from desktop.clinic.documents import Documents
from desktop.clinic.patients import Patients
from desktop.clinic.repeat_visits import RepeatVisits
from desktop.clinic.seal import Seal
from desktop.clinic.session import Session
from desktop.clinic.settings import Settings, read_profile
from desktop.clinic.test_spots import TestSpots
from desktop.errors import ClinicMoved, StorageError
from desktop.storage import MOVED_PLACE, SqliteStore, Store, open_store

if TYPE_CHECKING:
    from desktop.checklist import ChecklistDefinition

Clock = Callable[[], datetime]


def local_now() -> datetime:
    """The local time with its UTC offset, to the second."""
    return datetime.now().astimezone().replace(microsecond=0)


class Clinic:
    """One clinic database, the rules around it, and who may do what.

    Every use case is a method of one of its services: `session` (sign-in), `accounts`,
    `patients`, `consultations`, `repeat_visits` (start from the last visit, discard a
    draft), `test_spots`, `documents` (signatures and sealed sheets),
    `seal`, `settings`, `audit` (reading the trail) and `backups`. A restore rebuilds them
    all around the restored database; the signed-in user stays signed in.
    """

    session: Session
    accounts: Accounts
    patients: Patients
    consultations: Consultations
    repeat_visits: RepeatVisits
    test_spots: TestSpots
    documents: Documents
    seal: Seal
    settings: Settings
    audit: AuditTrail
    backups: Backups

    def __init__(
        self,
        store: Store,
        *,
        data_dir: Path | None = None,
        clock: Clock = local_now,
        checklist: ChecklistDefinition | None = None,
        actor: User | None = None,
        hasher: PasswordHasher | None = None,
        workstation_dir: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.clock = clock
        # Every checklist version, each read on first use; `checklist` replaces the newest.
        self.checklists = Checklists(checklist)
        self._hasher = hasher
        self._workstation_dir = workstation_dir
        self._build(store, actor)
        self.session.audit_log.check_head()

    @classmethod
    def open(
        cls,
        target: Path | str,
        *,
        clock: Clock = local_now,
        actor: User | None = None,
        hasher: PasswordHasher | None = None,
        workstation_dir: Path | None = None,
        data_dir: Path | None = None,
        open_wait: float | None = None,
        finishing_move: bool = False,
    ) -> Clinic:
        """Open (or create) a clinic database: a file path, or the postgresql:// URL of the
        clinic's server (passwords from ~/.pgpass, PGPASSFILE or PGSERVICE; TLS from the
        URL's sslmode). Nobody is signed in unless `actor` is given.

        `workstation_dir` keeps this computer's copy of the audit anchors (default: the
        user's data folder); for a server it is the only copy, named by server, database and
        clinic. `data_dir` is the folder beside the clinic where older versions kept files
        (the seal, moved into the database on first use): a file's folder; a server has none.
        `open_wait`: seconds to wait for a restore or move elsewhere that holds the file alone
        (a window passes a short wait: it must not freeze). A database the clinic was moved
        out of, or a copy whose move has not finished, opens only `finishing_move` (the
        move-to command, run again). Raises StorageError when the database cannot be used
        (for a server: unreachable, refused, not a clinic's; moved).
        """
        from desktop import paths

        if workstation_dir is None:
            workstation_dir = paths.data_dir() / "anchors"
        store = open_store(target, open_wait=open_wait)
        try:
            if isinstance(store, SqliteStore):
                store.sweep()  # copies a killed backup or restore left beside it
            sweep_restore_folder()  # and those a killed restore onto a server left here
            arriving = store.arriving_from()
            if arriving is not None:
                raise StorageError(
                    f"{store.label} holds a copy of the clinic whose move from "
                    f"{arriving.get('from', 'another database')} did not finish, so it is not "
                    "in use yet. On the computer that has that database, run the same move-to "
                    "command again: it finishes the move (or makes it again)."
                )
            moved = store.moved_to()
            if moved is not None and not finishing_move:
                place = store.settings.get(MOVED_PLACE)
                raise ClinicMoved(
                    f"This clinic was moved out of {store.label} ({moved}); that database is "
                    "kept as it was at the move and is no longer used. Open the clinic at its new "
                    "place (in the window: Open the clinic's new place; on the command line: "
                    "--db).",
                    place if isinstance(place, str) else "",
                )
            if data_dir is None and store.path is not None:
                data_dir = store.path.parent
            return cls(
                store,
                data_dir=data_dir,
                clock=clock,
                actor=actor,
                hasher=hasher,
                workstation_dir=workstation_dir,
            )
        except BaseException:
            store.close()
            raise

    @classmethod
    def in_memory(
        cls,
        *,
        data_dir: Path | None = None,
        clock: Clock = local_now,
        actor: User | None = None,
        hasher: PasswordHasher | None = None,
    ) -> Clinic:
        """A clinic in memory (tests, `assess`); its seal lives in it like any record."""
        return cls(open_store(None), data_dir=data_dir, clock=clock, actor=actor, hasher=hasher)

    def _build(self, store: Store, actor: User | None) -> None:
        self._store = store
        self.session = Session(
            store, self.clock, self._anchors(store), actor=actor, hasher=self._hasher
        )
        log = self.session.audit_log
        self._hasher = None  # the session owns it now (made on first use)
        # the folder in which older versions kept the seal, beside the database
        old_seal_dir = self.data_dir / "seal" if self.data_dir is not None else None
        self.seal = Seal(
            store, self.session, log, self.clock, old_seal_dir, lambda: read_profile(store).name
        )
        self.settings = Settings(store, self.session, log, self.seal)
        self.accounts = Accounts(store, self.session, log, self.settings, self.clock)
        bindings = SignatureBindings(store, log, self.checklists)
        self.consultations = Consultations(
            store, self.session, log, self.clock, self.checklists, bindings
        )
        self.patients = Patients(
            store, self.session, log, self.clock, self.consultations.reassess_drafts
        )
        self.repeat_visits = RepeatVisits(
            store, self.session, log, self.clock, self.consultations, lambda: self.checklist
        )
        self.test_spots = TestSpots(
            store,
            self.session,
            log,
            self.clock,
            self.consultations.reassess_drafts,
            self.checklists,
        )
        self.documents = Documents(
            store,
            self.session,
            log,
            self.clock,
            self.consultations,
            self.seal,
            self.checklists,
            bindings,
        )
        self.audit = AuditTrail(store, self.session, log)
        self.backups = Backups(store, self.session, log, self.clock, self._reopen)
        self._log = log

    def _anchors(self, store: Store) -> Anchors:
        """The anchor files of `store`: beside the database and in this workstation's folder;
        for a server, this workstation's only (named by server, database and clinic)."""
        if store.server:
            if self._workstation_dir is None:
                return Anchors(())
            return Anchors([self._workstation_dir / f"{store.identity}.audit-anchor"])
        if store.path is None:
            return Anchors(())
        paths = [store.path.with_name(store.path.name + ".audit-anchor")]
        clinic_id = store.settings.get("clinic_id")
        if self._workstation_dir is not None and clinic_id:
            # One per database file of the clinic this computer opens (a copy opened
            # elsewhere is another trail from that point on).
            where = hashlib.sha256(str(store.path.resolve()).encode()).hexdigest()[:16]
            paths.append(self._workstation_dir / f"{clinic_id}-{where}.audit-anchor")
        return Anchors(paths)

    def _reopen(self, target: Path | str) -> AuditLog:
        """Open the database `target` in place of the current one and rebuild the services."""
        actor = self.session.signed_in
        self._hasher = self.session.hasher
        self._store.close()
        self._build(open_store(target), actor)
        return self._log

    @property
    def checklist(self) -> ChecklistDefinition:
        """The newest checklist definition, the one new consultations use (read on first use).

        A consultation's own version: `consultations.checklist_for(c)`.
        """
        return self.checklists.newest()

    @property
    def label(self) -> str:
        """The database, as the window's status line names it (a path or a server)."""
        return self._store.label

    def today(self) -> date:
        return self.clock().date()

    def close(self) -> None:
        self._store.close()
