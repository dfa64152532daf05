"""Test-spot dialogs: a depigmented review turns the outcome red, with a notice."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.dialogs.spots import ReviewDialog
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import SAM_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields


def test_a_depigmented_test_spot_turns_the_outcome_red_with_a_notice(
    qtbot: QtBot, clinic: Clinic, clock: FakeClock
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, on=clock.now.date() - timedelta(weeks=4))
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    spot = clinic.test_spots.record(c.id, "left jawline", c.date)
    dialog = ReviewDialog(clinic, spot, 4)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.findChild(type(dialog.weeks.button(4)), "result_depigmentation").click()
    assert "RED" in dialog.warning.text()
    assert dialog.reviewer.name() == "Dr Ada Lovelace"  # the signed-in clinician, preselected
    dialog.buttons.accepted.emit()
    assert dialog.notice.isVisible()
    assert "RED" in dialog.notice.text()
    assert clinic.test_spots.for_patient(patient.id)[0].depigmented
    assessment = clinic.consultations.get(c.id).assessment
    assert assessment is not None and assessment.vitiligo == "red"
    dialog.buttons.accepted.emit()  # Close
    assert dialog.result() == 1


def test_the_front_desk_is_told_before_typing_that_it_cannot_review(
    qtbot: QtBot, clinic: Clinic, clock: FakeClock
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, on=clock.now.date() - timedelta(weeks=4))
    spot = clinic.test_spots.record(c.id, "left jawline", c.date)
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    clinic.session.logout()
    clinic.session.login("sam", SAM_PASSWORD)
    dialog = ReviewDialog(clinic, spot, 4)  # from the start screen's list of reviews due
    qtbot.addWidget(dialog)
    dialog.show()
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert not save.isEnabled() and "Only a clinician can review test spots" in save.toolTip()
    assert dialog.message.isVisible() and "Only a clinician" in dialog.message.text()
    assert not dialog.reviewer.isEnabled() and not dialog.notes.isEnabled()
