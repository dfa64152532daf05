"""Recording a test spot from the assessment step: the step shows it was saved."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import ASSESSMENT
from desktop.ui.dialogs.spots import RecordSpotDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.consultations import ready
from tests.helpers.ui import type_text


def open_spot_dialog(qtbot: QtBot) -> RecordSpotDialog:
    def found() -> RecordSpotDialog | None:
        return next(
            (
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, RecordSpotDialog) and w.isVisible()
            ),
            None,
        )

    qtbot.waitUntil(lambda: found() is not None)
    dialog = found()
    assert dialog is not None
    return dialog


def test_a_test_spot_saved_from_the_assessment_shows_there_with_its_review_dates(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    cid = ready(clinic)  # stable vitiligo: amber, a test spot is advised
    window.show_consultation(cid)
    page = window.consultation_page()
    page.go_to_step(ASSESSMENT)
    view = page.assessment
    assert view.spot_row.isVisible() and "A test spot is advised" in view.spot_text.text()
    view.spot_button.click()
    dialog = open_spot_dialog(qtbot)
    type_text(dialog.site, "left jawline")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    (spot,) = clinic.test_spots.for_patient(clinic.consultations.get(cid).patient_id)
    assert spot.site == "left jawline"
    text = view.spot_text.text()
    assert view.spot_row.isVisible()
    assert text.startswith("✔ Test spot recorded: left jawline, done 2026-11-25")
    assert "reviews due 2026-12-23 (4 weeks) and 2027-02-17 (12 weeks)" in text
    assert view.spot_button.text() == "Record another test s&pot…"
    # seen again later, the step still says so
    page.load(cid)
    page.go_to_step(ASSESSMENT)
    assert page.assessment.spot_text.text() == text
