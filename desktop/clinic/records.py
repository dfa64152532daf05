"""Patients and consultations: the record-keeping part of the `Clinic` facade."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from desktop import resources
from desktop.auth import User
from desktop.clinic.patient_fields import PatientFields, field_errors, validate_patient
from desktop.clinic.session import ClinicSession
from desktop.errors import (
    Conflict,
    DuplicatePatient,
    ValidationError,
)
from desktop.models import (
    DECISIONS,
    AnswerValue,
    Assessment,
    Consultation,
    Decision,
    Override,
    Patient,
    Procedure,
    new_id,
)

if TYPE_CHECKING:
    from desktop.checklist import AssessContext, ChecklistDefinition

# The checklist engine (desktop.checklist) is imported where it is used, not here: the sign-in
# screen needs this module but not the engine, and loading it costs a noticeable part of the
# start-up time.

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MIN_OVERRIDE_REASON = 10


def local_now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


@dataclass(frozen=True)
class PatientSearch:
    """A page of search results; `broad`: more than `ranked_at_most` matched, newest shown."""

    patients: list[Patient]
    broad: bool
    ranked_at_most: int


@dataclass(frozen=True)
class LiveAssessment:
    """What the assessment step shows: the result, or what is still missing."""

    assessment: Assessment | None
    missing: tuple[str, ...]


class ClinicRecords(ClinicSession):
    """Patients and consultations with their checklist, under the signed-in user's rules."""

    _checklist: ChecklistDefinition | None

    @property
    def checklist(self) -> ChecklistDefinition:
        """The checklist definition, read and validated the first time it is needed."""
        if self._checklist is None:
            self._checklist = load_checklist()
        return self._checklist

    def today(self) -> date:
        return self.clock().date()

    # Patients ---------------------------------------------------------------------------

    def patient_field_errors(self, fields: Mapping[str, object]) -> dict[str, str]:
        """Inline messages for a patient form: field name -> what to fix."""
        return field_errors(fields, self.today())

    def find_duplicates(
        self, given_name: str, family_name: str, date_of_birth: date, *, exclude: str = ""
    ) -> list[Patient]:
        self._require("patient.view")
        found = self.store.patients_named(f"{given_name} {family_name}", date_of_birth)
        return [p for p in found if p.id != exclude]

    def register_patient(
        self, fields: Mapping[str, object], *, allow_duplicate: bool = False, demo: bool = False
    ) -> Patient:
        """Register a patient; a same-name, same-birthday patient needs allow_duplicate."""
        self._require("patient.edit")
        valid = validate_patient(fields, self.today())
        self._refuse_duplicate(valid, allow_duplicate)
        now = self.clock()
        patient = Patient(id=new_id(), demo=demo, created=now, updated=now, **vars(valid))
        self.store.save_patient(patient)
        self._audit("create patient", f"patient:{patient.id}", patient.id)
        log.info("patient %s registered", patient.id)
        return patient

    def update_patient(
        self, patient_id: str, fields: Mapping[str, object], *, allow_duplicate: bool = False
    ) -> Patient:
        self._require("patient.edit")
        old = self.store.get_patient(patient_id)
        merged = {k: getattr(old, k) for k in PatientFields.__dataclass_fields__} | dict(fields)
        valid = validate_patient(merged, self.today())
        self._refuse_duplicate(valid, allow_duplicate, exclude=patient_id)
        patient = replace(old, updated=self.clock(), **vars(valid))
        self.store.save_patient(patient)
        changed = sorted(k for k in vars(valid) if getattr(old, k) != getattr(patient, k))
        self._audit("update patient", f"patient:{patient.id}", patient.id, fields=changed)
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

    def get_patient(self, patient_id: str) -> Patient:
        """Open a patient's record (audited as a view)."""
        self._require("patient.view")
        patient = self.store.get_patient(patient_id)
        self._audit("view patient", f"patient:{patient_id}", patient_id)
        return patient

    def patient_names(self, patient_ids: Iterable[str]) -> dict[str, str]:
        """Full names for a list on screen; listing is not opening a record (not audited)."""
        self._require("patient.view")
        return {pid: self.store.get_patient(pid).full_name for pid in set(patient_ids)}

    def search_patients(self, text: str, limit: int = 50) -> list[Patient]:
        """Patients whose name, phone or date of birth start with every typed word."""
        return self.find_patients(text, limit).patients

    def find_patients(self, text: str, limit: int = 50) -> PatientSearch:
        """Like `search_patients`, and says when the search is too broad to rank (see storage)."""
        self._require("patient.view")
        patients, broad = self.store.find_patients(_date_tokens_to_iso(text), limit)
        return PatientSearch(patients, broad, self.store.ranked_at_most)

    def patient_count(self) -> int:
        self._require("patient.view")
        return self.store.count("patients")

    # Consultations ----------------------------------------------------------------------

    def start_consultation(
        self,
        patient_id: str,
        *,
        clinician: str = "",
        on: date | None = None,
        procedure: Procedure | None = None,
    ) -> Consultation:
        user = self._require("consultation.edit")
        patient = self.store.get_patient(patient_id)
        on = on or self.today()
        if on < patient.date_of_birth:
            raise ValidationError("The consultation date is before the patient's birth.", "date")
        now = self.clock()
        consultation = Consultation(
            id=new_id(),
            patient_id=patient_id,
            clinician=clinician.strip(),
            date=on,
            procedure=_valid_procedure(procedure or Procedure()),
            checklist_id=self.checklist.id,
            checklist_version=self.checklist.version,
            answers={},
            strict=bool(self.store.get_setting("strict_mode", False)),
            created=now,
            updated=now,
            created_by=user.username,
        )
        self.store.save_consultation(consultation)
        self._audit("create consultation", f"consultation:{consultation.id}", patient_id)
        log.info("consultation %s started for patient %s", consultation.id, patient_id)
        return consultation

    def get_consultation(self, consultation_id: str) -> Consultation:
        self._require("patient.view")
        return self.store.get_consultation(consultation_id)

    def consultations_for(self, patient_id: str) -> list[Consultation]:
        self._require("patient.view")
        self.store.get_patient(patient_id)
        return self.store.consultations_for(patient_id)

    def open_drafts(self) -> list[Consultation]:
        self._require("patient.view")
        return self.store.consultations_where("state = 'draft'", [])

    def consultations_on(self, day: date) -> list[Consultation]:
        self._require("patient.view")
        return self.store.consultations_where("date = ?", [day.isoformat()])

    def _draft(self, consultation_id: str) -> Consultation:
        c = self.store.get_consultation(consultation_id)
        if c.state != "draft":
            raise Conflict(
                "This consultation is signed and can no longer be changed; record an addendum."
            )
        return c

    def save_draft(
        self,
        consultation_id: str,
        *,
        answers: Mapping[str, object] | None = None,
        procedure: Procedure | None = None,
        clinician: str | None = None,
        on: date | None = None,
    ) -> Consultation:
        """Autosave a draft: answers may be partial; answers that no longer apply are dropped."""
        from desktop.checklist import normalize_answers

        user = self._require("consultation.edit")
        old = c = self._draft(consultation_id)
        if procedure is not None:
            c = replace(c, procedure=_valid_procedure(procedure))
        if clinician is not None:
            c = replace(c, clinician=clinician.strip())
        if on is not None:
            c = replace(c, date=on)
        if answers is not None:
            raw = {k: v for k, v in answers.items() if v is not None and v != ""}
            pruned = {k: v for k, v in raw.items() if self._applies(k, raw)}
            c = replace(c, answers=normalize_answers(self.checklist, pruned, partial=True))
            self._check_examination(user, old.answers, c.answers)
        c = self._reassessed(c)
        self.store.save_consultation(c)
        self._audit("update consultation", f"consultation:{c.id}", c.patient_id)
        if c.assessment is not None and c.assessment != old.assessment:
            self._audit_assessment(c)
        return c

    def _check_examination(
        self, user: User, old: Mapping[str, AnswerValue], new: Mapping[str, AnswerValue]
    ) -> None:
        """Examination findings (V5-V7) are the clinician's to record."""
        exam = [q.id for q in self.checklist.questions if q.examination]
        if any(old.get(q) != new.get(q) for q in exam):
            user.require("consultation.examine")

    def _audit_assessment(self, c: Consultation) -> None:
        a = c.assessment
        if a is not None:
            self._audit(
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
        self._require("consultation.edit")
        c = self._draft(consultation_id)
        merged: dict[str, object] = dict(c.answers)
        for key, value in answers.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return self.save_draft(consultation_id, answers=merged)

    def _applies(self, question_id: str, answers: Mapping[str, object]) -> bool:
        from desktop.checklist import applicable

        try:
            return applicable(self.checklist, question_id, answers)
        except ValidationError:
            return True  # unknown IDs are reported by normalize_answers

    def _context(self, c: Consultation) -> AssessContext:
        from desktop.checklist import AssessContext

        patient = self.store.get_patient(c.patient_id)
        spots = self.store.test_spots("patient_id = ?", [c.patient_id])
        return AssessContext(
            date=c.date,
            date_of_birth=patient.date_of_birth,
            strict=c.strict,
            test_spot_depigmented=any(s.depigmented for s in spots),
        )

    def _reassessed(self, c: Consultation) -> Consultation:
        """Keep the stored assessment in step with the answers (None while incomplete)."""
        from desktop.checklist import assess, missing_required

        if missing_required(self.checklist, c.answers):
            assessment = None
        else:
            assessment = assess(self.checklist, c.answers, self._context(c))
        override = c.override
        if override and (assessment is None or assessment != c.assessment):
            override = None  # the basis of the override changed: the clinician decides again
        return replace(c, assessment=assessment, override=override, updated=self.clock())

    def live_assessment(self, consultation_id: str) -> LiveAssessment:
        from desktop.checklist import missing_required

        self._require("patient.view")
        c = self.store.get_consultation(consultation_id)
        missing = missing_required(self.checklist, c.answers)
        return LiveAssessment(c.assessment if not missing else None, tuple(missing))

    def assess_consultation(self, consultation_id: str) -> Assessment:
        """Assess a complete checklist and store the result; incomplete -> ValidationError."""
        from desktop.checklist import assess

        self._require("consultation.edit")
        c = self._draft(consultation_id)
        assessment = assess(self.checklist, c.answers, self._context(c))
        c = replace(c, assessment=assessment, updated=self.clock())
        self.store.save_consultation(c)
        self._audit_assessment(c)
        return assessment

    def override_decision(
        self, consultation_id: str, decision: str, reason: str, author: str = ""
    ) -> Consultation:
        user = self._require("consultation.decide")
        c = self._draft(consultation_id)
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
        override = Override(decision=dec, reason=reason, author=author.strip(), at=self.clock())
        c = replace(c, override=override, updated=self.clock())
        self.store.save_consultation(c)
        self._audit(
            "override", f"consultation:{c.id}", c.patient_id, decision=decision, reason=reason
        )
        log.info("consultation %s decision overridden", c.id)
        return c

    def clear_override(self, consultation_id: str) -> Consultation:
        self._require("consultation.decide")
        c = replace(self._draft(consultation_id), override=None, updated=self.clock())
        self.store.save_consultation(c)
        self._audit("override", f"consultation:{c.id}", c.patient_id, cleared=True)
        return c


def load_checklist(checklist_id: str = resources.DEFAULT_CHECKLIST) -> ChecklistDefinition:
    from desktop.checklist import parse_definition_text

    name, text = resources.checklist_text(checklist_id)
    return parse_definition_text(text, name)


def _valid_procedure(p: Procedure) -> Procedure:
    if p.needle_depth_mm is not None and not 0 < p.needle_depth_mm <= 3.0:
        raise ValidationError(
            f"Needle depth {p.needle_depth_mm} mm is outside 0–3 mm; check the value.",
            "needle_depth_mm",
        )
    if not 1 <= p.session_number <= 50:
        raise ValidationError("Session number must be between 1 and 50.", "session_number")
    areas = tuple(a for a in (" ".join(x.split()) for x in p.areas) if a)
    return replace(p, device=p.device.strip(), product=p.product.strip(), areas=areas)


def _date_tokens_to_iso(text: str) -> str:
    """Let a search for 02.04.1990 find the ISO-stored date of birth 1990-04-02."""
    from desktop.clinic.patient_fields import parse_date

    out = []
    for token in text.split():
        iso = token
        if any(sep in token for sep in "./") and token[:1].isdigit():
            with contextlib.suppress(ValidationError):
                iso = parse_date(token).isoformat()
        out.append(iso)
    return " ".join(out)
