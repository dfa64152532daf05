"""Settings, the test-spot review, the exception hook, and sign-in / lock."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.errors import ValidationError
from desktop.ui.error_dialogs import install_excepthook
from desktop.ui.main_window import MainWindow
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.test_spot_dialog import ReviewDialog
from tests.conftest import (
    FAST_HASHER,
    OWNER_PASSWORD,
    FakeClock,
    patient_fields,
    stable_vitiligo_answers,
)
from tests.ui.conftest import close_message_boxes, message_boxes, type_text


def test_settings_edit_the_profile_strict_mode_and_export_the_seal(
    qtbot: QtBot, clinic: Clinic, tmp_path: Path
) -> None:
    dialog = SettingsDialog(clinic)
    qtbot.addWidget(dialog)
    dialog.name.setText("Skin Studio Łódź")
    dialog.paper.setCurrentIndex(dialog.paper.findData("Letter"))
    logo = tmp_path / "logo.png"
    image = QImage(120, 40, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    image.save(str(logo))
    dialog.set_logo_file(logo)
    dialog.set_logo_file(Path(__file__))  # not a PNG: refused inline
    assert "not a PNG" in dialog.message.text()
    dialog.strict.setChecked(True)
    dialog.save()
    profile = clinic.settings.profile()
    assert profile.name == "Skin Studio Łódź" and profile.paper == "Letter"
    assert profile.logo_png == logo.read_bytes()
    assert clinic.settings.get("strict_mode") is True

    pem = tmp_path / "seal.pem"
    assert dialog.export_certificate_to(pem)
    assert pem.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    info = clinic.seal.info()
    assert info is not None
    assert info.fingerprint_sha256[:2].upper() in dialog.seal_details.text()


def test_an_empty_clinic_name_is_refused_inline(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = SettingsDialog(clinic)
    qtbot.addWidget(dialog)
    dialog.name.clear()
    dialog.save()
    assert "name" in dialog.message.text()
    assert not message_boxes()


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
    QTest.keyClicks(dialog.reviewer, "Dr Ada Lovelace")
    dialog.buttons.accepted.emit()
    assert dialog.notice.isVisible()
    assert "RED" in dialog.notice.text()
    assert clinic.test_spots.for_patient(patient.id)[0].depigmented
    assessment = clinic.consultations.get(c.id).assessment
    assert assessment is not None and assessment.vitiligo == "red"
    dialog.buttons.accepted.emit()  # Close
    assert dialog.result() == 1


def test_the_exception_hook_shows_intake_errors_and_logs_crashes(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_path = tmp_path / "clinic-intake.log"
    previous = install_excepthook(log_path)
    try:
        sys.excepthook(ValidationError, ValidationError("Type the date as YYYY-MM-DD."), None)
        (box,) = message_boxes()
        assert box.text() == "Type the date as YYYY-MM-DD."
        assert box.windowTitle() == "Please check the details"
        close_message_boxes()
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            with caplog.at_level(logging.ERROR):
                sys.excepthook(RuntimeError, exc, exc.__traceback__)
        (box,) = message_boxes()
        assert str(log_path) in box.informativeText()
        assert "drafts" in box.informativeText()
        assert "Traceback" in caplog.text and "boom" in caplog.text
        close_message_boxes()
    finally:
        sys.excepthook = previous


def test_first_run_setup_sign_in_lock_and_unlock(
    qtbot: QtBot, clock: FakeClock, tmp_path: Path, log_path: Path
) -> None:
    clinic = Clinic.in_memory(data_dir=tmp_path / "data", clock=clock, hasher=FAST_HASHER)
    try:
        window = MainWindow(log_path, clinic=clinic)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()
        qtbot.waitActive(window)
        access = window.access
        assert window.stack.currentWidget() is access
        assert access.mode == "setup"
        assert not window.new_action.isEnabled()
        assert window.focusWidget() is access.clinic_name, window.focusWidget()  # name first
        QTest.keyClicks(access.username, "owner")
        QTest.keyClicks(access.display_name, "Dr Ada Lovelace")
        QTest.keyClicks(access.password, OWNER_PASSWORD)
        QTest.keyClicks(access.password2, OWNER_PASSWORD + "x")
        access.go.click()
        assert "differ" in access.message.text()
        QTest.keyClicks(access.password, OWNER_PASSWORD)
        QTest.keyClicks(access.password2, OWNER_PASSWORD)
        access.go.click()
        assert "clinic's name" in access.message.text()  # nothing was created
        assert clinic.accounts.needs_setup() and window.stack.currentWidget() is access
        assert access.clinic_name.hasFocus() and access.password2.text() == ""
        type_text(access.clinic_name, "Skin Studio Kraków")
        QTest.keyClicks(access.clinic_phone, "+48 12 345 67 89")
        QTest.keyClicks(access.password, OWNER_PASSWORD)
        QTest.keyClicks(access.password2, OWNER_PASSWORD)
        access.go.click()
        assert window.stack.currentWidget() is window.start, access.message.text()
        assert clinic.settings.profile().name == "Skin Studio Kraków"
        assert clinic.settings.profile().phone == "+48 12 345 67 89"
        assert "Dr Ada Lovelace" in window.user_label.text()

        window.new_patient()
        QTest.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
        assert clinic.session.locked and window.stack.currentWidget() is access
        assert access.mode == "unlock"
        QTest.keyClicks(access.password, "wrong password!")
        QTest.keyClick(access.password, Qt.Key.Key_Return)
        assert "wrong" in access.message.text()
        QTest.keyClicks(access.password, OWNER_PASSWORD)
        QTest.keyClick(access.password, Qt.Key.Key_Return)
        assert not clinic.session.locked
        assert window.stack.currentWidget() is window.patient_page()  # back where it was

        window.sign_out()
        assert clinic.session.signed_in is None and access.mode == "login"
        assert access.username.text() == "owner" and access.password.hasFocus()
        QTest.keyClicks(access.password, OWNER_PASSWORD)
        access.go.click()
        assert window.stack.currentWidget() is window.start
        window.close()
    finally:
        clinic.close()
