"""The facade: `Clinic` composes one service per concept; every use case goes through it."""

from desktop.clinic.facade import (
    MIN_OVERRIDE_REASON,
    REVIEW_RESULTS,
    REVIEW_WEEKS,
    Clinic,
    DueReview,
    LiveAssessment,
    PatientSearch,
    load_checklist,
    local_now,
    new_id,
)

__all__ = [
    "MIN_OVERRIDE_REASON",
    "REVIEW_RESULTS",
    "REVIEW_WEEKS",
    "Clinic",
    "DueReview",
    "LiveAssessment",
    "PatientSearch",
    "load_checklist",
    "local_now",
    "new_id",
]
