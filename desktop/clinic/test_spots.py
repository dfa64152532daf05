"""Test spots and their 4- and 12-week reviews; a depigmented spot reassesses open drafts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.limits import check_length
from desktop.clinic.session import Session
from desktop.errors import NotFound, ValidationError
from desktop.models import Patient, ReviewResult, TestSpot, TestSpotReview, new_id
from desktop.storage import Store

log = logging.getLogger(__name__)

REVIEW_WEEKS = (4, 12)
REVIEW_RESULTS: tuple[ReviewResult, ...] = (
    "no_change",
    "depigmentation",
    "hyperpigmentation",
    "other",
)


@dataclass(frozen=True)
class DueReview:
    """A review not yet recorded: the spot, its patient, the week (4 or 12) and its due date."""

    spot: TestSpot
    patient: Patient
    week: int
    due: date
    overdue: bool


class TestSpots:
    """Record a test spot, review it at 4 and 12 weeks, list the reviews that are due.

    `reassess_drafts(patient_id)` is called when a review finds depigmentation.
    """

    __test__ = False  # not a pytest test class

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
        """Record the 4- or 12-week review (`result` one of REVIEW_RESULTS)."""
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

    def due_reviews(self, today: date | None = None, horizon_days: int = 7) -> list[DueReview]:
        """Test-spot reviews not yet recorded that are due within `horizon_days` or overdue."""
        self._session.require("patient.view")
        today = today or self._clock().date()
        due: list[DueReview] = []
        patients: dict[str, Patient] = {}
        for spot in self._store.test_spots.all():
            for week in REVIEW_WEEKS:
                when = spot.done_on + timedelta(weeks=week)
                if spot.review(week) is None and when <= today + timedelta(days=horizon_days):
                    if spot.patient_id not in patients:
                        patients[spot.patient_id] = self._store.patients.get(spot.patient_id)
                    due.append(DueReview(spot, patients[spot.patient_id], week, when, when < today))
        return sorted(due, key=lambda d: d.due)
