"""Patients: register, update, open, search; a same-name, same-birthday patient needs a yes."""

from __future__ import annotations

import contextlib
import logging
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.bindings import SignatureBindings
from desktop.clinic.patient_fields import (
    PatientFields,
    field_errors,
    parse_date,
    validate_patient,
)
from desktop.clinic.revisions import check_revision
from desktop.clinic.session import Session
from desktop.errors import DuplicatePatient, ValidationError
from desktop.models import Patient, new_id
from desktop.storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatientSearch:
    """A page of search results; `broad`: more than `ranked_at_most` matched, newest shown."""

    patients: list[Patient]
    broad: bool
    ranked_at_most: int


class Patients:
    """The clinic's patients under the signed-in user's permissions (views are audited).

    A change to a patient's record voids signatures captured on sheets that showed the
    older details (`bindings`).
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        bindings: SignatureBindings,
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._bindings = bindings

    def _today(self) -> date:
        return self._clock().date()

    def field_errors(self, fields: Mapping[str, object]) -> dict[str, str]:
        """Inline messages for a patient form: field name -> what to fix."""
        return field_errors(fields, self._today())

    def find_duplicates(
        self, given_name: str, family_name: str, date_of_birth: date, *, exclude: str = ""
    ) -> list[Patient]:
        """Patients registered with the same (folded) name and date of birth."""
        self._session.require("patient.view")
        found = self._store.patients.named(f"{given_name} {family_name}", date_of_birth)
        return [p for p in found if p.id != exclude]

    def register(
        self, fields: Mapping[str, object], *, allow_duplicate: bool = False, demo: bool = False
    ) -> Patient:
        """Register a patient from form fields (desktop.clinic.patient_fields.FIELDS).

        Raises ValidationError for a bad field and DuplicatePatient when a patient with the
        same name and date of birth exists, unless `allow_duplicate`.
        """
        user = self._session.require("patient.edit")
        valid = validate_patient(fields, self._today())
        now = self._clock()
        patient = Patient(
            id=new_id(), demo=demo, created=now, updated=now, updated_by=user.username,
            **vars(valid),
        )  # fmt: skip
        with self._store.transaction():
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
            current = {k: getattr(old, k) for k in PatientFields.__dataclass_fields__}
            valid = validate_patient(current | dict(fields), self._today())
            self._refuse_duplicate(valid, allow_duplicate, exclude=patient_id)
            patient = replace(
                old,
                updated=self._clock(),
                revision=old.revision + 1,
                updated_by=user.username,
                **vars(valid),
            )
            self._store.patients.save(patient)
            changed = sorted(k for k in vars(valid) if getattr(old, k) != getattr(patient, k))
            self._audit.record(
                "update patient", f"patient:{patient.id}", patient.id, fields=changed
            )
            for draft in self._store.consultations.drafts(patient_id):
                self._bindings.void_stale(draft)
        log.info("patient %s updated", patient.id)
        return patient

    def _refuse_duplicate(self, p: PatientFields, allowed: bool, exclude: str = "") -> None:
        if allowed:
            return
        dupes = self.find_duplicates(p.given_name, p.family_name, p.date_of_birth, exclude=exclude)
        if dupes:
            raise DuplicatePatient(
                f"{p.given_name} {p.family_name}, born {p.date_of_birth.isoformat()}, is already "
                "registered. Open the existing record, or confirm that this is a different "
                "person.",
                tuple(d.id for d in dupes),
            )

    def get(self, patient_id: str) -> Patient:
        """Open a patient's record (audited as a view)."""
        self._session.require("patient.view")
        patient = self._store.patients.get(patient_id)
        self._audit.record("view patient", f"patient:{patient_id}", patient_id)
        return patient

    def names(self, patient_ids: Iterable[str]) -> dict[str, str]:
        """Full names for a list on screen; listing is not opening a record (not audited)."""
        self._session.require("patient.view")
        return {pid: self._store.patients.get(pid).full_name for pid in set(patient_ids)}

    def search(self, text: str, limit: int = 50) -> list[Patient]:
        """Patients whose name, phone or date of birth start with every typed word."""
        return self.find(text, limit).patients

    def find(self, text: str, limit: int = 50) -> PatientSearch:
        """Like `search`, and says when the search is too broad to rank (see storage)."""
        self._session.require("patient.view")
        typed = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
        patients, broad = self._store.patients.find(_date_tokens_to_iso(typed), limit)
        return PatientSearch(patients, broad, self._store.patients.ranked_at_most)

    def count(self) -> int:
        self._session.require("patient.view")
        return self._store.patients.count()


def _date_tokens_to_iso(text: str) -> str:
    """Let a search for 02.04.1990 find the ISO-stored date of birth 1990-04-02."""
    out = []
    for token in text.split():
        iso = token
        if any(sep in token for sep in "./") and token[:1].isdigit():
            with contextlib.suppress(ValidationError):
                iso = parse_date(token).isoformat()
        out.append(iso)
    return " ".join(out)
