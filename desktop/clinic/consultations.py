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
from desktop.clinic.checklists import Checklists
from desktop.clinic.limits import check_count, check_length
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
    `signatures` captured so far; `documents` sealed (only once signed);
    `newer_checklist`: the newest checklist version when this draft is on an older one (it
    can be moved with `upgrade_checklist`), else None.
    """

    consultation: Consultation
    missing: tuple[str, ...]
    required_signers: tuple[SignerRole, ...]
    signatures: tuple[Signature, ...]
    documents: tuple[Document, ...]
    newer_checklist: str | None = None

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

    New consultations use the newest checklist version; everything about a consultation
    (validation, assessment, sheets) uses its own stored version, for ever (`checklists`).
    Each use case is one transaction with its audit entry; every saved change raises the revision,
    and a save that names an older revision is refused (StaleRecord). A change to what the
    sheets say voids the signatures captured on the older content (`bindings`).
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        checklists: Checklists,
        bindings: SignatureBindings,
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._checklists = checklists
        self._bindings = bindings

    def checklist_for(self, c: Consultation) -> ChecklistDefinition:
        """The checklist definition of `c`'s own version (the form, texts and rules to show)."""
        return self._checklists.of(c)

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
        checklist = self._checklists.newest()
        consultation = Consultation(
            id=new_id(),
            patient_id=patient_id,
            clinician=valid_clinician(clinician),
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
            c = replace(c, clinician=valid_clinician(clinician))
        if on is not None:
            c = replace(c, date=on)
        if answers is not None:
            checklist = self._checklists.of(c)
            raw = {k: v for k, v in answers.items() if v is not None and v != ""}
            pruned = {k: v for k, v in raw.items() if self._applies(checklist, k, raw)}
            c = replace(c, answers=normalize_answers(checklist, pruned, partial=True))
            self._check_examination(user, checklist, old.answers, c.answers)
        if old.unconfirmed:
            checklist = self._checklists.of(c)
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

    @staticmethod
    def _check_examination(
        user: User,
        checklist: ChecklistDefinition,
        old: Mapping[str, AnswerValue],
        new: Mapping[str, AnswerValue],
    ) -> None:
        """Examination findings are the clinician's to record."""
        exam = [q.id for q in checklist.questions if q.examination]
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

    def upgrade_checklist(
        self, consultation_id: str, *, revision: int | None = None
    ) -> Consultation:
        """Move a draft started under an older checklist version to the newest version.

        Every answer the newest version can take carries over unchanged; the questions it adds
        then show as missing, so the draft has no assessment until they are answered (an
        answer it cannot take, if any, is dropped and named in the audit entry). As with any
        edit that changes the assessment, a clinician's override is cleared and signatures
        taken on the older sheets are voided (audited). Signed consultations stay on their
        version for ever: Conflict. Conflict too when the draft is on the newest version
        already; StaleRecord when `revision` is not the draft's current one.

        Permission: consultation.edit, the permission that enters answers: the move changes
        no answer and no examination finding, it only asks more questions, and whoever
        answers them is checked as for any answer (examination questions need
        consultation.examine). The clinician's decision is not bypassed: the new assessment
        follows the same rules and an override is made again by a clinician.
        """
        self._session.require("consultation.edit")
        with self._store.transaction():
            old = self._store.consultations.get(consultation_id)
            if old.state != "draft":
                raise Conflict(
                    f"This consultation was signed under checklist {old.checklist_version} and "
                    "stays on it; record an addendum to use the newest checklist."
                )
            check_revision(self._store, revision, old)
            return self._upgrade(old)

    def _upgrade(self, old: Consultation) -> Consultation:
        from desktop.checklist import missing_required

        newest = self._checklists.newest()
        if (old.checklist_id, old.checklist_version) == (newest.id, newest.version):
            raise Conflict(f"This draft already uses the newest checklist ({newest.version}).")
        earlier = self._checklists.of(old)
        answers = carried_answers(newest, old.answers)
        c = replace(old, checklist_id=newest.id, checklist_version=newest.version, answers=answers)
        c = self._save(self.reassessed(c))
        known = {q.id for q in earlier.questions}
        self._audit.record(
            "upgrade checklist",
            f"consultation:{c.id}",
            c.patient_id,
            from_version=old.checklist_version,
            to_version=newest.version,
            dropped=sorted(set(old.answers) - set(answers)),
            new_questions=[q for q in missing_required(newest, answers) if q not in known],
        )
        if c.assessment is not None:
            self._record_assessment(c)
        log.info("consultation %s moved to checklist %s", c.id, newest.version)
        return c

    def save_clinician(self, c: Consultation, name: str) -> Consultation:
        """Name the clinician on draft `c` (read in the caller's transaction): the clinician
        who signs a consultation nobody was named on."""
        return self._save(replace(c, clinician=valid_clinician(name)))

    def context(self, c: Consultation) -> AssessContext:
        """What the rules need besides the answers: dates, strict mode, and every test spot
        of the patient with the day it was done and its review results."""
        from desktop.checklist import AssessContext, SpotHistory

        patient = self._store.patients.get(c.patient_id)
        spots = self._store.test_spots.for_patient(c.patient_id)
        return AssessContext(
            date=c.date,
            date_of_birth=patient.date_of_birth,
            strict=c.strict,
            test_spots=tuple(
                SpotHistory(
                    s.done_on,
                    r4.result if (r4 := s.review(4)) is not None else None,
                    r12.result if (r12 := s.review(12)) is not None else None,
                )
                for s in spots
            ),
        )

    def current_assessment(self, c: Consultation) -> Assessment:
        """Assess `c`'s complete answers now; ValidationError names what is missing."""
        from desktop.checklist import assess

        checklist = self._checklists.of(c)
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

        checklist = self._checklists.of(c)
        if still_needed(checklist, c):
            assessment = None
        else:
            assessment = assess(checklist, c.answers, self.context(c))
        override = c.override
        if override and (assessment is None or assessment != c.assessment):
            override = None  # the basis of the override changed: the clinician decides again
        return replace(c, assessment=assessment, override=override)

    def reassess_drafts(self, patient_id: str) -> None:
        """Reassess every open draft of a patient (after their details, a test spot or its
        review changed); a draft whose assessment is unchanged keeps its revision, but any
        signature taken on a sheet that now reads differently is voided either way."""
        with self._store.transaction():
            for draft in self._store.consultations.drafts(patient_id):
                again = self.reassessed(draft)
                if again.assessment == draft.assessment and again.override == draft.override:
                    self._bindings.void_stale(draft)
                    continue
                saved = self._save(again)
                if saved.assessment is not None:
                    self._record_assessment(saved)

    def live_assessment(self, consultation_id: str) -> LiveAssessment:
        """The stored assessment if the checklist is complete, else what is still missing."""
        self._session.require("patient.view")
        c = self._store.consultations.get(consultation_id)
        missing = still_needed(self._checklists.of(c), c)
        return LiveAssessment(c.assessment if not missing else None, tuple(missing))

    def overview(self, consultation_id: str) -> ConsultationOverview:
        """The consultation with its missing answers, signers, signatures and documents."""
        from desktop.consent import required_signer_roles

        self._session.require("patient.view")
        c = self._store.consultations.get(consultation_id)
        checklist = self._checklists.of(c)
        missing = tuple(still_needed(checklist, c))
        required = (
            required_signer_roles(checklist, c.assessment, c.decision)
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
            newer_checklist=self._newer_checklist(c),
        )

    def _newer_checklist(self, c: Consultation) -> str | None:
        newest = self._checklists.newest()
        if c.state != "draft" or c.checklist_id != newest.id:
            return None
        return newest.version if c.checklist_version != newest.version else None

    def assess(self, consultation_id: str) -> Assessment:
        """Assess a complete checklist and store the result; incomplete -> ValidationError."""
        from desktop.checklist import assess

        self._session.require("consultation.edit")
        with self._store.transaction():
            c = self.draft(consultation_id)
            assessment = assess(self._checklists.of(c), c.answers, self.context(c))
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
        check_length("Override.reason", reason, "The override reason", "reason")
        if len(reason) < MIN_OVERRIDE_REASON:
            raise ValidationError(
                "An override needs a written reason (at least "
                f"{MIN_OVERRIDE_REASON} characters) explaining the clinical judgement.",
                "reason",
            )
        # The author is the signed-in clinician; only a headless command names one itself.
        author = " ".join(author.split()) if user.system else user.display_name
        check_length("Override.author", author, "The clinician's name", "author")
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
        checklist = self._checklists.newest()
        addendum = replace(
            original,
            id=new_id(),
            clinician=valid_clinician(clinician) or original.clinician,
            date=now.date(),
            checklist_id=checklist.id,
            checklist_version=checklist.version,
            answers=carried_answers(checklist, original.answers),
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


def carried_answers(
    checklist: ChecklistDefinition, answers: Mapping[str, AnswerValue]
) -> dict[str, AnswerValue]:
    """The answers (given under another version) that `checklist` can take as they are: its
    own questions, with allowed tokens, that apply; in its question order."""
    kept: dict[str, AnswerValue] = {}
    for q in checklist.questions:
        value = answers.get(q.id)
        if isinstance(value, str) and q.kind == "single" and value in q.values:
            kept[q.id] = value
        elif (
            isinstance(value, tuple | list)
            and q.kind == "multi"
            and len(set(value)) == len(value)
            and all(v in q.values for v in value)
        ):
            kept[q.id] = tuple(value)
    while True:  # drop answers that no longer apply (a condition on a dropped answer)
        applying = {k: v for k, v in kept.items() if Consultations._applies(checklist, k, kept)}
        if applying == kept:
            return kept
        kept = applying


def valid_procedure(p: Procedure) -> Procedure:
    """`p` with tidy text; ValidationError for a needle depth outside 0-3 mm, a session
    number outside 1-50, or text longer than FIELD_LIMITS allows (device, product, areas)."""
    if p.needle_depth_mm is not None and not 0 < p.needle_depth_mm <= 3.0:
        raise ValidationError(
            f"Needle depth {p.needle_depth_mm} mm is outside 0–3 mm; check the value.",
            "needle_depth_mm",
        )
    if not 1 <= p.session_number <= 50:
        raise ValidationError("Session number must be between 1 and 50.", "session_number")
    areas = tuple(a for a in (" ".join(x.split()) for x in p.areas) if a)
    check_count("Procedure.areas", areas, "Areas to be treated", "areas")
    for area in areas:
        check_length("Procedure.area", area, f'The area "{area[:30]}…"', "areas")
    device = check_length("Procedure.device", p.device.strip(), "The device", "device")
    product = check_length("Procedure.product", p.product.strip(), "The product", "product")
    return replace(p, device=device, product=product, areas=areas)


def valid_clinician(name: str) -> str:
    """The clinician's name, tidy; ValidationError when longer than a name can be."""
    return check_length("Consultation.clinician", name.strip(), "The clinician's name", "clinician")
