"""First-run setup, sign-in, lock and unlock on the access page."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.main_window import MainWindow
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.ui import type_text


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
