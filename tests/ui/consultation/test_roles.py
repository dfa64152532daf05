"""Screens that read the checklist through its roles: skin type, test-spot advice, strict mode."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import ASSESSMENT, CHECKLIST
from desktop.ui.dialogs.settings import SettingsDialog
from tests.helpers.answers import green_answers, stable_vitiligo_answers
from tests.helpers.patients import patient_fields
from tests.helpers.ui import consultation_page


def test_the_skin_type_question_shows_the_type_on_record(qtbot: QtBot, clinic: Clinic) -> None:
    patient = clinic.patients.register(patient_fields(fitzpatrick="V"))
    page = consultation_page(qtbot, clinic, clinic.consultations.start(patient.id).id)
    page.go_to_step(CHECKLIST)
    extra = page.checklist.questions["G10"].extra
    assert extra.text() == "Patient record: type V." and not extra.isHidden()
    assert all(w.extra.isHidden() for qid, w in page.checklist.questions.items() if qid != "G10")


@pytest.mark.parametrize(
    ("answers", "offered"),
    [
        (green_answers(), False),
        (stable_vitiligo_answers(), True),  # diagnosed vitiligo: amber
        (dict(green_answers(), V10=["thyroid", "lupus"]), True),  # two risk markers: amber
        (dict(green_answers(), G10="V"), True),  # darker skin: pigmentation risk
        (dict(green_answers(), G10="V", V7="yes"), False),  # red: referral, not a test spot
    ],
    ids=["green", "diagnosed", "risk-markers", "skin-type", "red"],
)
def test_a_test_spot_is_offered_after_the_rules_that_advise_one(
    qtbot: QtBot, clinic: Clinic, answers: dict[str, Any], offered: bool
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    clinic.consultations.save_draft(c.id, answers=answers)
    page = consultation_page(qtbot, clinic, c.id)
    page.go_to_step(ASSESSMENT)
    assert page.assessment.spot_row.isHidden() is not offered


def test_strict_mode_names_the_risk_marker_rule(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = SettingsDialog(clinic)
    qtbot.addWidget(dialog)
    (hint,) = [w.text() for w in dialog.findChildren(QLabel) if "turns amber" in w.text()]
    assert "turns amber (rule A2) from 2 risk points" in hint
