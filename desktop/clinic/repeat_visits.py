"""Repeat visits: a consultation started from the patient's last one, stray drafts discarded."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from desktop.auth import User
from desktop.clinic.audit_log import AuditLog
from desktop.clinic.revisions import check_revision
from desktop.clinic.session import Session
from desktop.errors import Conflict, NotFound, ValidationError
from desktop.models import FIELD_LIMITS, AnswerValue, Consultation, Discard, Procedure
from desktop.storage import Store
from desktop.text import text_problem

if TYPE_CHECKING:
    from desktop.checklist import ChecklistDefinition
    from desktop.clinic.consultations import Consultations

log = logging.getLogger(__name__)

MIN_REASON = 10  # characters of a discard or addendum reason: a sentence, not a shrug
MAX_SESSION = 50


def still_needed(checklist: ChecklistDefinition, c: Consultation) -> tuple[str, ...]:
    """What the checklist still needs before `c` can be assessed, in checklist order: the
    required answers missing, then nothing else but the carried-over answers not yet confirmed
    (question IDs; an unconfirmed answer counts as not given)."""
    from desktop.checklist import missing_required

    missing = set(missing_required(checklist, c.answers)) | set(c.unconfirmed)
    return tuple(q.id for q in checklist.questions if q.id in missing)


def still_unconfirmed(
    user: User,
    checklist: ChecklistDefinition,
    old: Consultation,
    new: Consultation,
    confirmed: Collection[str],
) -> tuple[str, ...]:
    """The carried-over answers of `new` still waiting for confirmation after a save.

    An answer leaves the list when it is confirmed (`confirmed` names it), changed, or no
    longer given (it stopped applying). Confirming an examination finding is the clinician's:
    PermissionDenied for anyone else, and nothing is saved.
    """
    keep: list[str] = []
    for qid in old.unconfirmed:
        value = new.answers.get(qid)
        if value is None or value != old.answers.get(qid):
            continue  # changed or gone: nothing left to confirm
        if qid in confirmed:
            if checklist.has_question(qid) and checklist.question(qid).examination:
                user.require("consultation.examine")
            continue
        keep.append(qid)
    return tuple(keep)


def carry_answers(
    checklist: ChecklistDefinition, answers: Mapping[str, AnswerValue]
) -> tuple[dict[str, AnswerValue], tuple[str, ...]]:
    """The answers of an earlier consultation that `checklist` can take, and the IDs it cannot
    (a question this version no longer asks, a token it no longer offers, or an answer that no
    longer applies): ({question ID: answer}, dropped IDs)."""
    from desktop.checklist import applicable, normalize_answers

    kept: dict[str, AnswerValue] = {}
    dropped = [qid for qid in answers if not checklist.has_question(qid)]
    for q in checklist.questions:  # definition order: a condition names earlier questions only
        if q.id not in answers:
            continue
        try:
            if not applicable(checklist, q.id, kept):
                raise ValidationError(f"{q.id} no longer applies")
            kept = dict(normalize_answers(checklist, {**kept, q.id: answers[q.id]}, partial=True))
        except ValidationError:
            dropped.append(q.id)
    return kept, tuple(dropped)


def next_procedure(last: Procedure) -> Procedure:
    """The procedure of the next session: the same device, depth, product and areas."""
    return replace(last, session_number=min(last.session_number + 1, MAX_SESSION))


def tidy_reason(reason: str, what: str, limit_key: str) -> str:
    """`reason` on one line; ValidationError when it is too short or too long to keep, or
    not clean text (see limits.check_length)."""
    problem = text_problem(reason, multiline=True)
    if problem is not None:
        raise ValidationError(f"The reason {problem}.", "reason")
    text = " ".join(reason.split())
    if len(text) < MIN_REASON:
        raise ValidationError(
            f"Say in a sentence why {what} (at least {MIN_REASON} characters); the reason is "
            "kept with the record and in the audit trail.",
            "reason",
        )
    limit = FIELD_LIMITS[limit_key]
    if len(text) > limit:
        raise ValidationError(
            f"The reason is {len(text)} characters long; keep it within {limit}.", "reason"
        )
    return text


class RepeatVisits:
    """Start a consultation from the patient's last one, and set aside stray drafts.

    A consultation started from the last one carries its procedure (the session number one
    higher), clinician and answers; every carried answer stays unconfirmed (and the assessment
    pending) until someone confirms or changes it (`Consultations.save_draft(confirmed=...)`).
    A discarded draft is kept in the database and the audit trail, hidden from every list,
    and can never change again; a signed consultation cannot be discarded.
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        consultations: Consultations,
        checklist: Callable[[], ChecklistDefinition],
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._consultations = consultations
        self._checklist = checklist

    def latest(self, patient_id: str) -> Consultation | None:
        """The patient's newest consultation, signed or not (discarded drafts aside)."""
        self._session.require("patient.view")
        self._store.patients.get(patient_id)
        return self._store.consultations.latest(patient_id)

    def start_from_last(self, patient_id: str, *, on: date | None = None) -> Consultation:
        """A new draft on `on` (default today) carrying the last consultation's procedure
        (next session number), clinician and answers, each answer awaiting confirmation.

        NotFound when the patient has no earlier consultation.
        """
        self._session.require("consultation.edit")
        with self._store.transaction():
            last = self._store.consultations.latest(patient_id)
            if last is None:
                self._store.patients.get(patient_id)  # NotFound for an unknown patient
                raise NotFound(
                    "This patient has no earlier consultation to start from; start a new one."
                )
            fresh = self._consultations.start(
                patient_id,
                clinician=last.clinician,
                on=on,
                procedure=next_procedure(last.procedure),
            )
            answers, dropped = carry_answers(self._checklist(), last.answers)
            c = replace(fresh, answers=answers, unconfirmed=tuple(answers), copied_from=last.id)
            c = self._consultations.reassessed(c)
            self._store.consultations.save(c)
            self._audit.record(
                "copy consultation",
                f"consultation:{c.id}",
                patient_id,
                copied_from=last.id,
                answers=len(answers),
                dropped=list(dropped),
                session_number=c.procedure.session_number,
            )
        log.info("consultation %s started from %s", c.id, last.id)
        return c

    def discard(self, consultation_id: str, reason: str, *, revision: int | None = None) -> None:
        """Set a draft aside with a written reason (kept and audited, hidden from lists).

        Conflict for a signed or already discarded consultation; StaleRecord when `revision`
        is not the current one; ValidationError for a reason shorter than MIN_REASON.
        """
        user = self._session.require("consultation.edit")
        reason = tidy_reason(reason, "this draft is discarded", "Consultation.discard_reason")
        with self._store.transaction():
            self._discard(user, consultation_id, reason, revision)

    def _discard(self, user: User, consultation_id: str, reason: str, revision: int | None) -> None:
        c = self._store.consultations.get(consultation_id)
        if c.state != "draft":
            raise Conflict(
                "A signed consultation cannot be discarded; record an addendum to correct it."
            )
        if c.discarded:
            raise Conflict("This draft was already discarded.")
        check_revision(self._store, revision, c)
        now = self._clock()
        discarded = replace(
            c,
            discard=Discard(now, user.username, reason),
            revision=c.revision + 1,
            updated=now,
            updated_by=user.username,
        )
        self._store.consultations.save(discarded)
        self._audit.record(
            "discard consultation", f"consultation:{c.id}", c.patient_id, reason=reason
        )
        log.info("draft %s discarded", c.id)

    def discarded(self, patient_id: str) -> list[Consultation]:
        """A patient's discarded drafts, newest first (for the record, never to edit)."""
        self._session.require("patient.view")
        return self._store.consultations.discarded(patient_id)
