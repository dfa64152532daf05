"""Test spots and their 4- and 12-week reviews: a part of the `Clinic` facade."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from desktop.clinic.records import ClinicRecords
from desktop.errors import NotFound, ValidationError
from desktop.models import Patient, ReviewResult, TestSpot, TestSpotReview, new_id

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
    spot: TestSpot
    patient: Patient
    week: int
    due: date
    overdue: bool


class ClinicTestSpots(ClinicRecords):
    """Record a test spot, review it at 4 and 12 weeks, list the reviews that are due."""

    def record_test_spot(self, consultation_id: str, site: str, done_on: date) -> TestSpot:
        self._require("testspot.record")
        c = self.store.get_consultation(consultation_id)
        site = " ".join(site.split())
        if not site:
            raise ValidationError("Name the test spot's site (e.g. 'left jawline').", "site")
        if done_on < c.date:
            raise ValidationError("A test spot cannot be done before its consultation.", "done_on")
        spot = TestSpot(new_id(), c.id, c.patient_id, site, done_on)
        self.store.save_test_spot(spot, self.clock())
        self._audit("record test spot", f"spot:{spot.id}", c.patient_id, site=site)
        return spot

    def review_test_spot(
        self,
        spot_id: str,
        week: int,
        result: str,
        reviewer: str,
        *,
        on: date | None = None,
        notes: str = "",
    ) -> TestSpot:
        self._require("testspot.review")
        spots = self.store.test_spots("id = ?", [spot_id])
        if not spots:
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
        on = on or self.today()
        if on < spots[0].done_on:
            raise ValidationError("A review cannot be dated before its test spot.", "on")
        review = TestSpotReview(week, result, on, reviewer.strip(), notes.strip())  # type: ignore[arg-type]
        self.store.save_test_spot_review(new_id(), spot_id, review)
        self._audit(
            "review test spot", f"spot:{spot_id}", spots[0].patient_id, week=week, result=result
        )
        if result == "depigmentation":
            log.info("test spot %s depigmented: reassessing open drafts", spot_id)
            for draft in self.store.consultations_where(
                "patient_id = ? AND state = 'draft'", [spots[0].patient_id]
            ):
                self.store.save_consultation(self._reassessed(draft))
        return self.store.test_spots("id = ?", [spot_id])[0]

    def test_spots_for(self, patient_id: str) -> list[TestSpot]:
        self._require("patient.view")
        return self.store.test_spots("patient_id = ?", [patient_id])

    def due_reviews(self, today: date | None = None, horizon_days: int = 7) -> list[DueReview]:
        """Test-spot reviews not yet recorded that are due within `horizon_days` or overdue."""
        self._require("patient.view")
        today = today or self.today()
        due: list[DueReview] = []
        patients: dict[str, Patient] = {}
        for spot in self.store.test_spots():
            for week in REVIEW_WEEKS:
                when = spot.done_on + timedelta(weeks=week)
                if spot.review(week) is None and when <= today + timedelta(days=horizon_days):
                    if spot.patient_id not in patients:
                        patients[spot.patient_id] = self.store.get_patient(spot.patient_id)
                    due.append(DueReview(spot, patients[spot.patient_id], week, when, when < today))
        return sorted(due, key=lambda d: d.due)
