"""Patients: register, update, open, search; the same person registered twice needs a yes."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.patient_fields import (
    FIELDS,
    InputRules,
    PatientFields,
    describe_date,
    describe_phone,
    field_errors,
    long_date,
    validate_patient,
)
from desktop.clinic.patient_import import ImportReport, ImportRow, PatientImporter
from desktop.clinic.revisions import check_revision
from desktop.clinic.session import Session
from desktop.clinic.settings import read_input_rules
from desktop.errors import DuplicatePatient
from desktop.models import Patient, new_id, person_name
from desktop.storage import Store, read_phone
from desktop.storage.search import Order, phone_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatientSearch:
    """A page of search results. `broad`: more than `ranked_at_most` matched, or the words
    are too common to search completely: type more. `order` says what the list is (the
    screen words its hint by it): "recent" (nothing typed: recently updated patients),
    "ranked" (every match, best first), "newest" (a broad search's most recently registered
    matches) or "alphabetical" (a broad search's first matches by name)."""

    patients: list[Patient]
    broad: bool
    ranked_at_most: int
    order: Order = "ranked"


class Patients:
    """The clinic's patients under the signed-in user's permissions (views are audited).

    A change to a patient's record reassesses their open drafts (`reassess_drafts`: the
    age may have changed) and so voids signatures captured on sheets that showed the older
    details. What the front desk types is read with the clinic's phone
    region and date order (Settings).
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        reassess_drafts: Callable[[str], None],
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._reassess_drafts = reassess_drafts

    def _today(self) -> date:
        return self._clock().date()

    def rules(self) -> InputRules:
        """The clinic's phone region and date order, as the forms read them."""
        return read_input_rules(self._store)

    def field_errors(self, fields: Mapping[str, object]) -> dict[str, str]:
        """Inline messages for a patient form: field name -> what to fix."""
        return field_errors(fields, self._today(), self.rules())

    def understood_date(self, text: str, *, birth: bool = True) -> str:
        """What a typed date is read as, to show under a date field as the user types:
        "1 December 2008, age 17" (`birth`: with the age today) or "1 December 2008"; ""
        when it is not a date (field_errors says why)."""
        return describe_date(text, self._today(), self.rules().date_order, birth=birth)

    def understood_phone(self, text: str) -> str:
        """What a typed phone number is read as, to show under a phone field:
        "+44 20 7946 0011 (GB)", or a note that it is kept as typed and why."""
        return describe_phone(text, self.rules().phone_region)

    def find_duplicates(
        self,
        given_name: str,
        family_name: str,
        date_of_birth: date,
        *,
        phone: str = "",
        exclude: str = "",
    ) -> list[Patient]:
        """Patients who may be the same person: the same name folded (accents, apostrophes,
        hyphens, spaces, invisible characters and the order of the two names do not count)
        and the same date of birth or the same phone number."""
        self._session.require("patient.view")
        key = phone_key(read_phone(phone, self.rules().phone_region).e164, phone)
        found = self._store.patients.same_person(given_name, family_name, date_of_birth, key)
        return [p for p in found if p.id != exclude]

    def register(
        self, fields: Mapping[str, object], *, allow_duplicate: bool = False, demo: bool = False
    ) -> Patient:
        """Register a patient from form fields (desktop.clinic.patient_fields.FIELDS).

        Raises ValidationError for a bad field and DuplicatePatient when the same person
        seems registered already (find_duplicates), unless `allow_duplicate`.
        """
        user = self._session.require("patient.edit")
        with self._store.transaction():  # the rules are read from the file checked first
            valid = validate_patient(fields, self._today(), self.rules())
            now = self._clock()
            patient = Patient(
                id=new_id(), demo=demo, created=now, updated=now, updated_by=user.username,
                **vars(valid),
            )  # fmt: skip
            self._refuse_duplicate(valid, allow_duplicate)
            self._store.patients.save(patient)
            self._audit.record("create patient", f"patient:{patient.id}", patient.id)
        log.info("patient %s registered", patient.id)
        return patient

    def update(
        self,
        patient_id: str,
        fields: Mapping[str, object],
        *,
        allow_duplicate: bool = False,
        revision: int | None = None,
    ) -> Patient:
        """Change some of a patient's fields (the others keep their values).

        `revision` is the revision the caller loaded (screens always give it): StaleRecord
        when someone saved a newer one meanwhile, and nothing is saved then.
        """
        user = self._session.require("patient.edit")
        with self._store.transaction():
            old = self._store.patients.get(patient_id)
            check_revision(self._store, revision, old)
            current = {k: getattr(old, k) for k in FIELDS}
            valid = validate_patient(current | dict(fields), self._today(), self.rules())
            self._refuse_duplicate(valid, allow_duplicate, exclude=patient_id)
            patient = replace(
                old,
                updated=self._clock(),
                revision=old.revision + 1,
                updated_by=user.username,
                **vars(valid),
            )
            self._store.patients.save(patient)
            changed = sorted(k for k in FIELDS if getattr(old, k) != getattr(patient, k))
            self._audit.record(
                "update patient", f"patient:{patient.id}", patient.id, fields=changed
            )
            # A new date of birth changes the age each draft is assessed at, and anything
            # printed voids the signatures taken on the older sheets.
            self._reassess_drafts(patient_id)
        log.info("patient %s updated", patient.id)
        return patient

    def same_person(self, p: PatientFields, exclude: str = "") -> list[Patient]:
        """find_duplicates for validated fields."""
        found = self._store.patients.same_person(
            p.given_name, p.family_name, p.date_of_birth, phone_key(p.phone_e164, p.phone)
        )
        return [d for d in found if d.id != exclude]

    def _refuse_duplicate(self, p: PatientFields, allowed: bool, exclude: str = "") -> None:
        if allowed:
            return
        dupes = self.same_person(p, exclude)
        if dupes:
            raise DuplicatePatient(duplicate_message(p, dupes), tuple(d.id for d in dupes))

    def get(self, patient_id: str) -> Patient:
        """Open a patient's record (audited as a view)."""
        self._session.require("patient.view")
        patient = self._store.patients.get(patient_id)
        self._audit.record("view patient", f"patient:{patient_id}", patient_id)
        return patient

    def names(self, patient_ids: Iterable[str]) -> dict[str, str]:
        """Full names for a list on screen; listing is not opening a record (not audited)."""
        self._session.require("patient.view")
        found = self._store.patients.existing(sorted(set(patient_ids)))
        return {p.id: p.full_name for p in found}

    def search(self, text: str, limit: int = 50) -> list[Patient]:
        """Patients matching every typed word: a name (or any part of it), the digits of a
        phone number however written, or a date of birth (1990-04-02, 02.04.1990, 1990)."""
        return self.find(text, limit).patients

    def find(self, text: str, limit: int = 50) -> PatientSearch:
        """Like `search`, and says when the search is too broad to rank (see storage).

        Nothing typed: the most recently updated patients. Bounded work per call whatever
        the number of patients (one index; see desktop.storage.search).
        """
        self._session.require("patient.view")
        typed = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
        order = self.rules().date_order
        day_first = None if order is None else order == "day-first"
        found = self._store.patients.find(typed, limit, day_first=day_first, today=self._today())
        ranked_at_most = self._store.patients.ranked_at_most
        return PatientSearch(found.patients, found.broad, ranked_at_most, found.order)

    def count(self) -> int:
        self._session.require("patient.view")
        return self._store.patients.count()

    def import_csv(
        self,
        path: Path,
        *,
        dry_run: bool = False,
        on_row: Callable[[ImportRow], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Import existing patients from a CSV file (UTF-8, a heading row; columns in
        desktop.clinic.patient_import.HEADINGS, others ignored and reported).

        Every row is read with the same rules as the patient form (and the clinic's phone
        region and date order); a row that breaks one is refused with the reason, and a row
        that looks like a registered patient (or an earlier row) is a duplicate and is not
        imported. `dry_run` changes nothing and reports exactly that. A real run commits
        every BATCH rows in one transaction with their audit entries, so a stop part-way
        keeps whole batches and a second run reports those rows as duplicates. `on_row`
        hears each row's outcome, `progress` (characters read, file size) each batch.
        Raises ValidationError for a file that cannot be read as patients (nothing is
        imported then). Time grows with the file: run it in a worker.
        """
        user = self._session.require("patient.edit")
        importer = PatientImporter(
            self._store, self._audit, self._clock, self.rules(), user.username
        )
        return importer.run(path, dry_run=dry_run, on_row=on_row, progress=progress)


def duplicate_message(p: PatientFields, dupes: list[Patient]) -> str:
    """Why a registration looks like a patient already registered, and what to do."""
    name = person_name(p.given_name, p.family_name)
    same_dob = any(d.date_of_birth == p.date_of_birth for d in dupes)
    other = next((d for d in dupes if d.date_of_birth != p.date_of_birth), None)
    if same_dob:
        why = f"{name}, born {long_date(p.date_of_birth)}, is already registered"
    else:
        assert other is not None
        why = (
            f"{name} with phone {p.phone} is already registered (born "
            f"{long_date(other.date_of_birth)}: check the date of birth)"
        )
    return f"{why}. Open the existing record, or confirm that this is a different person."
