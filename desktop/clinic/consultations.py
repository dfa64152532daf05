"""Consultations: drafts autosaved and reassessed, decisions and overrides, addenda."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from desktop.auth import User
from desktop.clinic.audit_log import AuditLog
from desktop.clinic.bindings import SignatureBindings
from desktop.clinic.repeat_visits import still_needed, still_unconfirmed, tidy_reason
from desktop.clinic.revisions import check_revision
from desktop.clinic.session import Session
from desktop.errors import Conflict, ValidationError
from desktop.models import (
    DECISIONS,
    AnswerValue,
    Assessment,
    Consultation,
    Decision,
    Document,
    Override,
    Procedure,
    Signature,
    SignerRole,
    new_id,
)
from desktop.storage import Store

if TYPE_CHECKING:
    from desktop.checklist import AssessContext, ChecklistDefinition

# The checklist engine (desktop.checklist) is imported where it is used, not here: the sign-in
# screen needs this module but not the engine, and loading it costs a noticeable part of the
# start-up time.

log = logging.getLogger(__name__)

MIN_OVERRIDE_REASON = 10


@dataclass(frozen=True)
class ConsultationOverview:
    """Everything the consultation screen shows about its steps, read at once.

    `missing`: required checklist answers not yet given (question IDs, in checklist order);
    `required_signers`: who must sign (empty until the checklist is complete);
    `signatures` captured so far; `documents` sealed (only once signed).
    """

    consultation: Consultation
    missing: tuple[str, ...]
    required_signers: tuple[SignerRole, ...]
    signatures: tuple[Signature, ...]
    documents: tuple[Document, ...]

    @property
    def signed_roles(self) -> frozenset[str]:
        return frozenset(s.role for s in self.signatures)


@dataclass(frozen=True)
class LiveAssessment:
    """What the assessment step shows: the result, or what is still missing."""

    assessment: Assessment | None
    missing: tuple[str, ...]


class Consultations:
    """Consultations and their checklist, under the signed-in user's permissions.

    `checklist` gives the definition new consultations use (loaded on first call). Each use
    case is one transaction with its audit entry; every saved change raises the revision,
    and a save that names an older revision is refused (StaleRecord). A change to what the
    sheets say voids the signatures captured on the older content (`bindings`).
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        checklist: Callable[[], ChecklistDefinition],
        bindings: SignatureBindings,
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._checklist = checklist
        self._bindings = bindings

    def _save(self, c: Consultation) -> Consultation:
        """Store `c` (read in this transaction) as its next revision; void stale signatures."""
        user = self._session.signed_in
        saved = replace(
            c,
            revision=c.revision + 1,
            updated_by=user.username if user is not None else "",
            updated=self._clock(),
        )
        self._store.consultations.save(saved)
        if saved.state == "draft":
            self._bindings.void_stale(saved)
        return saved

    def start(
        self,
        patient_id: str,
        *,
        clinician: str = "",
        on: date | None = None,
        procedure: Procedure | None = None,
    ) -> Consultation:
        """A new draft for the patient, on `on` (default today), with the newest checklist."""
        user = self._session.require("consultation.edit")
        with self._store.transaction():
            return self._start(user, patient_id, clinician, on, procedure)

    def _start(
        self,
        user: User,
        patient_id: str,
        clinician: str,
        on: date | None,
        procedure: Procedure | None,
    ) -> Consultation:
        patient = self._store.patients.get(patient_id)
        on = on or self._clock().date()
        if on < patient.date_of_birth:
            raise ValidationError("The consultation date is before the patient's birth.", "date")
        now = self._clock()
        checklist = self._checklist()
        consultation = Consultation(
            id=new_id(),
            patient_id=patient_id,
            clinician=clinician.strip(),
            date=on,
            procedure=valid_procedure(procedure or Procedure()),
            checklist_id=checklist.id,
            checklist_version=checklist.version,
            answers={},
            strict=bool(self._store.settings.get("strict_mode", False)),
            created=now,
            updated=now,
            created_by=user.username,
            updated_by=user.username,
        )
        self._store.consultations.save(consultation)
        self._audit.record("create consultation", f"consultation:{consultation.id}", patient_id)
        log.info("consultation %s started for patient %s", consultation.id, patient_id)
        return consultation

    def get(self, consultation_id: str) -> Consultation:
        self._session.require("patient.view")
        return self._store.consultations.get(consultation_id)

    def for_patient(self, patient_id: str) -> list[Consultation]:
        """A patient's consultations, newest first."""
        self._session.require("patient.view")
        self._store.patients.get(patient_id)
        return self._store.consultations.for_patient(patient_id)

    def drafts(self) -> list[Consultation]:
        """Every consultation not yet signed, newest first."""
        self._session.require("patient.view")
        return self._store.consultations.drafts()

    def on(self, day: date) -> list[Consultation]:
        self._session.require("patient.view")
        return self._store.consultations.on(day)

    def draft(self, consultation_id: str) -> Consultation:
        """The consultation if it can still change; Conflict once it is signed."""
        c = self._store.consultations.get(consultation_id)
        if c.state != "draft":
            raise Conflict(
                "This consultation is signed and can no longer be changed; record an addendum."
            )
        if c.discarded:
            raise Conflict("This draft was discarded and can no longer change; start a new one.")
        return c

    def save_draft(
        self,
        consultation_id: str,
        *,
        answers: Mapping[str, object] | None = None,
        procedure: Procedure | None = None,
        clinician: str | None = None,
        on: date | None = None,
        revision: int | None = None,
        confirmed: Collection[str] = (),
    ) -> Consultation:
        """Autosave a draft: answers may be partial; answers that no longer apply are dropped.

        `revision` is the revision the caller loaded (screens always give it): StaleRecord
        when someone saved a newer one meanwhile, and nothing is saved then. `confirmed`
        names carried-over answers the user confirmed as still true (see repeat_visits).
        A change of the consultation date is recorded in the audit entry's detail.
        """
        user = self._session.require("consultation.edit")
        with self._store.transaction():
            old = self.draft(consultation_id)
            check_revision(self._store, revision, old)
            return self._save_draft(user, old, answers, procedure, clinician, on, confirmed)

    def _save_draft(
        self,
        user: User,
        old: Consultation,
        answers: Mapping[str, object] | None,
        procedure: Procedure | None,
        clinician: str | None,
        on: date | None,
        confirmed: Collection[str] = (),
    ) -> Consultation:
        from desktop.checklist import normalize_answers

        c = old
        if procedure is not None:
            c = replace(c, procedure=valid_procedure(procedure))
        if clinician is not None:
            c = replace(c, clinician=clinician.strip())
        if on is not None:
            c = replace(c, date=on)
        if answers is not None:
            checklist = self._checklist()
            raw = {k: v for k, v in answers.items() if v is not None and v != ""}
            pruned = {k: v for k, v in raw.items() if self._applies(checklist, k, raw)}
            c = replace(c, answers=normalize_answers(checklist, pruned, partial=True))
            self._check_examination(user, old.answers, c.answers)
        if old.unconfirmed:
            checklist = self._checklist()
            c = replace(c, unconfirmed=still_unconfirmed(user, checklist, old, c, confirmed))
        c = self._save(self.reassessed(c))
        moved = {"date": c.date.isoformat(), "date_was": old.date.isoformat()}
        self._audit.record(
            "update consultation",
            f"consultation:{c.id}",
            c.patient_id,
            **(moved if c.date != old.date else {}),
        )
        if c.assessment is not None and c.assessment != old.assessment:
            self._record_assessment(c)
        return c

    def _check_examination(
        self, user: User, old: Mapping[str, AnswerValue], new: Mapping[str, AnswerValue]
    ) -> None:
        """Examination findings are the clinician's to record."""
        exam = [q.id for q in self._checklist().questions if q.examination]
        if any(old.get(q) != new.get(q) for q in exam):
            user.require("consultation.examine")

    def _record_assessment(self, c: Consultation) -> None:
        a = c.assessment
        if a is not None:
            self._audit.record(
                "assess",
                f"consultation:{c.id}",
                c.patient_id,
                vitiligo=a.vitiligo,
                general=a.general,
                decision=a.decision,
                fired=list(a.fired_ids()),
            )

    def record_answers(self, consultation_id: str, answers: Mapping[str, object]) -> Consultation:
        """Merge answers into a draft (None removes an answer)."""
        self._session.require("consultation.edit")
        with self._store.transaction():
            c = self.draft(consultation_id)
            merged: dict[str, object] = dict(c.answers)
            for key, value in answers.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            return self.save_draft(consultation_id, answers=merged)

    @staticmethod
    def _applies(
        checklist: ChecklistDefinition, question_id: str, answers: Mapping[str, object]
    ) -> bool:
        from desktop.checklist import applicable

        try:
            return applicable(checklist, question_id, answers)
        except ValidationError:
            return True  # unknown IDs are reported by normalize_answers

    def save_clinician(self, c: Consultation, name: str) -> Consultation:
        """Name the clinician on draft `c` (read in the caller's transaction): the clinician
        who signs a consultation nobody was named on."""
        return self._save(replace(c, clinician=name))

    def context(self, c: Consultation) -> AssessContext:
        """What the rules need besides the answers: dates, strict mode, test-spot results."""
        from desktop.checklist import AssessContext

        patient = self._store.patients.get(c.patient_id)
        spots = self._store.test_spots.for_patient(c.patient_id)
        return AssessContext(
            date=c.date,
            date_of_birth=patient.date_of_birth,
            strict=c.strict,
            test_spot_depigmented=any(s.depigmented for s in spots),
        )

    def current_assessment(self, c: Consultation) -> Assessment:
        """Assess `c`'s complete answers now; ValidationError names what is missing."""
        from desktop.checklist import assess

        checklist = self._checklist()
        missing = still_needed(checklist, c)
        if missing:
            raise ValidationError(
                "The checklist is incomplete; answer (or confirm) "
                + ", ".join(missing)
                + " before signing."
            )
        return assess(checklist, c.answers, self.context(c))

    def reassessed(self, c: Consultation) -> Consultation:
        """Keep the stored assessment in step with the answers (None while incomplete)."""
        from desktop.checklist import assess

        checklist = self._checklist()
        if still_needed(checklist, c):
            assessment = None
        else:
            assessment = assess(checklist, c.answers, self.context(c))
        override = c.override
        if override and (assessment is None or assessment != c.assessment):
            override = None  # the basis of the override changed: the clinician decides again
        return replace(c, assessment=assessment, override=override)

    def reassess_drafts(self, patient_id: str) -> None:
        """Reassess every open draft of a patient (after a test spot's result changed)."""
        with self._store.transaction():
            for draft in self._store.consultations.drafts(patient_id):
                self._save(self.reassessed(draft))

    def live_assessment(self, consultation_id: str) -> LiveAssessment:
        """The stored assessment if the checklist is complete, else what is still missing."""
        self._session.require("patient.view")
        c = self._store.consultations.get(consultation_id)
        missing = still_needed(self._checklist(), c)
        return LiveAssessment(c.assessment if not missing else None, tuple(missing))

    def overview(self, consultation_id: str) -> ConsultationOverview:
        """The consultation with its missing answers, signers, signatures and documents."""
        from desktop.consent import required_signer_roles

        self._session.require("patient.view")
        c = self._store.consultations.get(consultation_id)
        missing = still_needed(self._checklist(), c)
        checklist = self._checklist()
        required = (
            required_signer_roles(checklist, c.assessment)
            if c.assessment is not None and not missing
            else ()
        )
        documents = self._store.documents.for_consultation(c.id) if c.state == "signed" else []
        return ConsultationOverview(
            consultation=c,
            missing=missing,
            required_signers=tuple(required),
            signatures=tuple(self._store.signatures.for_consultation(c.id)),
            documents=tuple(documents),
        )

    def assess(self, consultation_id: str) -> Assessment:
        """Assess a complete checklist and store the result; incomplete -> ValidationError."""
        from desktop.checklist import assess

        self._session.require("consultation.edit")
        with self._store.transaction():
            c = self.draft(consultation_id)
            assessment = assess(self._checklist(), c.answers, self.context(c))
            c = self._save(replace(c, assessment=assessment))
            self._record_assessment(c)
        return assessment

    def override(
        self, consultation_id: str, decision: str, reason: str, author: str = ""
    ) -> Consultation:
        """A clinician's own decision instead of the checklist's, with a written reason."""
        user = self._session.require("consultation.decide")
        with self._store.transaction():
            return self._override(user, consultation_id, decision, reason, author)

    def _override(
        self, user: User, consultation_id: str, decision: str, reason: str, author: str
    ) -> Consultation:
        c = self.draft(consultation_id)
        if c.assessment is None:
            raise ValidationError("Complete the checklist before overriding its decision.")
        if decision not in DECISIONS:
            raise ValidationError(
                f"Decision '{decision}' is unknown; use one of {', '.join(DECISIONS)}.", "decision"
            )
        reason = " ".join(reason.split())
        if len(reason) < MIN_OVERRIDE_REASON:
            raise ValidationError(
                "An override needs a written reason (at least "
                f"{MIN_OVERRIDE_REASON} characters) explaining the clinical judgement.",
                "reason",
            )
        # The author is the signed-in clinician; only a headless command names one itself.
        author = " ".join(author.split()) if user.system else user.display_name
        if not author:
            raise ValidationError("An override must name the clinician who made it.", "author")
        dec: Decision = decision
        override = Override(decision=dec, reason=reason, author=author.strip(), at=self._clock())
        c = self._save(replace(c, override=override))
        self._audit.record(
            "override", f"consultation:{c.id}", c.patient_id, decision=decision, reason=reason
        )
        log.info("consultation %s decision overridden", c.id)
        return c

    def clear_override(self, consultation_id: str) -> Consultation:
        self._session.require("consultation.decide")
        with self._store.transaction():
            c = self._save(replace(self.draft(consultation_id), override=None))
            self._audit.record("override", f"consultation:{c.id}", c.patient_id, cleared=True)
        return c

    def set_photo_consent(self, consultation_id: str, other_use: bool) -> Consultation:
        """Record the patient's separate opt-in to photographs used beyond their record."""
        self._session.require("consultation.edit")
        with self._store.transaction():
            c = self._save(replace(self.draft(consultation_id), photo_other_use=other_use))
            self._audit.record("update consultation", f"consultation:{c.id}", c.patient_id)
        return c

    def start_addendum(self, original_id: str, *, reason: str, clinician: str = "") -> Consultation:
        """A new draft that corrects a signed consultation and references it; `reason` (why
        the correction, at least a sentence) is stored with it and audited."""
        user = self._session.require("consultation.edit")
        reason = tidy_reason(reason, "the addendum is needed", "Consultation.addendum_reason")
        with self._store.transaction():
            return self._start_addendum(user, original_id, clinician, reason)

    def _start_addendum(
        self, user: User, original_id: str, clinician: str, reason: str
    ) -> Consultation:
        original = self._store.consultations.get(original_id)
        if original.state != "signed":
            raise Conflict("Only a signed consultation needs an addendum; edit the draft itself.")
        now = self._clock()
        checklist = self._checklist()
        addendum = replace(
            original,
            id=new_id(),
            clinician=clinician.strip() or original.clinician,
            date=now.date(),
            checklist_id=checklist.id,
            checklist_version=checklist.version,
            assessment=None,
            override=None,
            state="draft",
            amends_id=original.id,
            addendum_reason=reason,
            unconfirmed=(),
            copied_from=None,
            discard=None,
            created=now,
            updated=now,
            signed_at=None,
            created_by=user.username,
            updated_by=user.username,
            revision=1,
        )
        addendum = self.reassessed(addendum)
        self._store.consultations.save(addendum)
        self._audit.record(
            "create consultation",
            f"consultation:{addendum.id}",
            addendum.patient_id,
            amends=original.id,
            reason=reason,
        )
        return addendum


def valid_procedure(p: Procedure) -> Procedure:
    """`p` with tidy text; ValidationError for a needle depth outside 0-3 mm or a session
    number outside 1-50."""
    if p.needle_depth_mm is not None and not 0 < p.needle_depth_mm <= 3.0:
        raise ValidationError(
            f"Needle depth {p.needle_depth_mm} mm is outside 0–3 mm; check the value.",
            "needle_depth_mm",
        )
    if not 1 <= p.session_number <= 50:
        raise ValidationError("Session number must be between 1 and 50.", "session_number")
    areas = tuple(a for a in (" ".join(x.split()) for x in p.areas) if a)
    return replace(p, device=p.device.strip(), product=p.product.strip(), areas=areas)
