"""Test spots and their 4- and 12-week reviews; each change reassesses the patient's open
drafts, and a depigmented spot flags the patient and the signed consultations it concerns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.checklists import Checklists
from desktop.clinic.limits import check_length
from desktop.clinic.session import Session
from desktop.errors import NotFound, ValidationError
from desktop.models import (
    REVIEW_RESULTS,
    Consultation,
    Patient,
    TestSpot,
    TestSpotReview,
    new_id,
)
from desktop.storage import Store

log = logging.getLogger(__name__)

REVIEW_WEEKS = (4, 12)
DUE_AT_MOST = 500  # reviews the start screen lists at once (the earliest due)


@dataclass(frozen=True)
class DueReview:
    """A review not yet recorded: the spot, its patient, the week (4 or 12) and its due date."""

    spot: TestSpot
    patient: Patient
    week: int
    due: date
    overdue: bool


@dataclass(frozen=True)
class SpotFlag:
    """A patient with a test spot that lost pigment at a review.

    `spots`: the depigmented spots (oldest first). `consultations`: the patient's signed
    consultations that it concerns, newest first: those dated on or after the consultation
    at which the earliest of these spots was recorded, whose assessment did not yet hold the
    depigmented test-spot rule (they were signed without knowing). They stay as signed; a
    correction is an addendum.
    """

    patient_id: str
    spots: tuple[TestSpot, ...]
    consultations: tuple[Consultation, ...]


class TestSpots:
    """Record a test spot, review it at 4 and 12 weeks, list the reviews that are due, and
    flag the patients whose test spot lost pigment.

    `reassess_drafts(patient_id)` is called after every spot and review recorded: the rules
    read the spots (a depigmented spot, a 4-week review still missing).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        reassess_drafts: Callable[[str], None],
        checklists: Checklists,
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._reassess_drafts = reassess_drafts
        self._checklists = checklists

    def record(self, consultation_id: str, site: str, done_on: date) -> TestSpot:
        self._session.require("testspot.record")
        site = " ".join(site.split())
        if not site:
            raise ValidationError("Name the test spot's site (e.g. 'left jawline').", "site")
        check_length("TestSpot.site", site, "The test spot's site", "site")
        with self._store.transaction():
            c = self._store.consultations.get(consultation_id)
            if done_on < c.date:
                raise ValidationError(
                    "A test spot cannot be done before its consultation.", "done_on"
                )
            spot = TestSpot(new_id(), c.id, c.patient_id, site, done_on)
            self._store.test_spots.save(spot, self._clock())
            self._audit.record("record test spot", f"spot:{spot.id}", c.patient_id, site=site)
            self._reassess_drafts(c.patient_id)
        return spot

    def review(
        self,
        spot_id: str,
        week: int,
        result: str,
        reviewer: str,
        *,
        on: date | None = None,
        notes: str = "",
    ) -> TestSpot:
        """Record the 4- or 12-week review (`result` one of REVIEW_RESULTS) as done `on` (default
        today; never before the spot). A late review is accepted: its date is when it was done.
        Recording it again for the same week replaces the earlier record. The patient's open
        drafts are reassessed: a depigmented spot makes their vitiligo outcome red, and a
        recorded 4-week review ends the wait for it."""
        self._session.require("testspot.review")
        with self._store.transaction():
            return self._review(spot_id, week, result, reviewer, on, notes)

    def _review(
        self, spot_id: str, week: int, result: str, reviewer: str, on: date | None, notes: str
    ) -> TestSpot:
        spot = self._store.test_spots.get(spot_id)
        if spot is None:
            raise NotFound(f"No test spot with ID {spot_id}.")
        if week not in REVIEW_WEEKS:
            raise ValidationError("Test spots are reviewed at 4 and 12 weeks.", "week")
        if result not in REVIEW_RESULTS:
            raise ValidationError(
                f"Review result '{result}' is unknown; use one of {', '.join(REVIEW_RESULTS)}.",
                "result",
            )
        if not reviewer.strip():
            raise ValidationError("Name the clinician who reviewed the test spot.", "reviewer")
        check_length("TestSpotReview.reviewer", reviewer.strip(), "The reviewer's name", "reviewer")
        check_length("TestSpotReview.notes", notes.strip(), "The review notes", "notes")
        on = on or self._clock().date()
        if on < spot.done_on:
            raise ValidationError("A review cannot be dated before its test spot.", "on")
        review = TestSpotReview(week, result, on, reviewer.strip(), notes.strip())  # type: ignore[arg-type]
        self._store.test_spots.save_review(new_id(), spot_id, review)
        self._audit.record(
            "review test spot", f"spot:{spot_id}", spot.patient_id, week=week, result=result
        )
        if result == "depigmentation":
            log.info("test spot %s depigmented: reassessing open drafts", spot_id)
        self._reassess_drafts(spot.patient_id)
        updated = self._store.test_spots.get(spot_id)
        assert updated is not None
        return updated

    def for_patient(self, patient_id: str) -> list[TestSpot]:
        self._session.require("patient.view")
        return self._store.test_spots.for_patient(patient_id)

    def flags(self, patient_ids: Iterable[str]) -> dict[str, SpotFlag]:
        """The patients among `patient_ids` with a depigmented test spot, each with the spots
        and the signed consultations it concerns (see SpotFlag); others are left out. For the
        start screen and the patient page: reads only the patients asked about."""
        self._session.require("patient.view")
        flags: dict[str, SpotFlag] = {}
        for patient_id in dict.fromkeys(patient_ids):
            spots = [s for s in self._store.test_spots.for_patient(patient_id) if s.depigmented]
            if not spots:
                continue
            consultations = self._store.consultations.for_patient(patient_id)
            by_id = {c.id: c for c in consultations}
            since = min(
                by_id[s.consultation_id].date if s.consultation_id in by_id else s.done_on
                for s in spots
            )
            concerned = tuple(
                c
                for c in consultations
                if c.state == "signed" and c.date >= since and not self._knew(c)
            )
            flags[patient_id] = SpotFlag(patient_id, tuple(spots), concerned)
        return flags

    def _knew(self, c: Consultation) -> bool:
        """Whether `c` was assessed with a depigmented test spot already known."""
        from desktop.checklist.roles import TEST_SPOT_DEPIGMENTED

        if c.assessment is None:
            return False
        checklist = self._checklists.of(c)
        return c.assessment.has(checklist.rule_id(TEST_SPOT_DEPIGMENTED))

    def due_reviews(
        self, today: date | None = None, horizon_days: int = 7, limit: int = DUE_AT_MOST
    ) -> list[DueReview]:
        """Test-spot reviews not yet recorded that are due within `horizon_days` or overdue
        (an overdue review stays until it is recorded), earliest first, at most `limit`.

        A few queries whatever the clinic's history (the start screen shows this list).
        """
        self._session.require("patient.view")
        today = today or self._clock().date()
        until = today + timedelta(days=horizon_days)
        spots = [
            (spot, week)
            for week in REVIEW_WEEKS
            for spot in self._store.test_spots.unreviewed(
                week, until - timedelta(weeks=week), limit
            )
        ]
        patients = self._store.patients.get_many(s.patient_id for s, _ in spots)
        due = []
        for spot, week in spots:
            when = spot.done_on + timedelta(weeks=week)
            patient = patients.get(spot.patient_id)
            if patient is not None:
                due.append(DueReview(spot, patient, week, when, when < today))
        return sorted(due, key=lambda d: (d.due, d.patient.listed_name))[:limit]
