"""The facade: `Clinic` composes one service per concept; every use case goes through it."""

from desktop.clinic.checklists import load_checklist
from desktop.clinic.consultations import (
    MIN_OVERRIDE_REASON,
    ConsultationOverview,
    LiveAssessment,
)
from desktop.clinic.documents import ClinicianMismatch, SheetPreview, VerifyReport
from desktop.clinic.facade import Clinic, local_now
from desktop.clinic.patients import PatientSearch
from desktop.clinic.session import system_actor
from desktop.clinic.test_spots import REVIEW_WEEKS, DueReview, SpotFlag
from desktop.clinic.workstation import (
    ServerCheck,
    check_server,
    save_database,
    saved_database,
    without_password,
)
from desktop.models import REVIEW_RESULTS

__all__ = [
    "MIN_OVERRIDE_REASON",
    "REVIEW_RESULTS",
    "REVIEW_WEEKS",
    "Clinic",
    "ClinicianMismatch",
    "ConsultationOverview",
    "DueReview",
    "LiveAssessment",
    "PatientSearch",
    "ServerCheck",
    "SheetPreview",
    "SpotFlag",
    "VerifyReport",
    "check_server",
    "load_checklist",
    "local_now",
    "save_database",
    "saved_database",
    "system_actor",
    "without_password",
]
