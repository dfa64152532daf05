"""The idle lock: it locks an idle window, activity keeps it open, the draft survives."""

from __future__ import annotations

import time

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import PROCEDURE
from desktop.ui.main_window import MainWindow
from tests.helpers.clinics import OWNER_PASSWORD, SAM_PASSWORD
from tests.helpers.patients import patient_fields
from tests.helpers.ui import sign_in


def test_an_idle_window_locks_itself(qtbot: QtBot, window: MainWindow, clinic: Clinic) -> None:
    window._check_idle()
    assert not clinic.session.locked
    window._last_activity = time.monotonic() - clinic.settings.idle_minutes() * 60 - 1
    window._check_idle()
    assert clinic.session.locked
    assert window.stack.currentWidget() is window.access
    assert not window.new_action.isEnabled()


def test_an_idle_window_locks_and_the_draft_survives_a_switch_of_user(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    window.show_consultation(c.id)
    page = window.consultation_page()
    page.go_to_step(PROCEDURE)
    QTest.keyClicks(page.procedure.device, "Dermapen 4")  # typed, not yet saved

    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(window)  # as the running app does: any key or click is activity
    monkeypatch.setattr(window, "idle_limit_seconds", lambda: 0.4)
    window._idle_timer.setInterval(50)
    window.note_activity()
    try:
        qtbot.waitUntil(lambda: clinic.session.locked, timeout=5000)
    finally:
        app.removeEventFilter(window)

    access = window.access
    assert window.stack.currentWidget() is access and access.mode == "unlock"
    assert not page.isVisible()  # patient data is hidden
    assert not window.new_action.isEnabled()
    assert "Dr Ada Lovelace" in access.intro.text()

    access.out.click()  # "Switch user"
    assert clinic.session.signed_in is None and access.mode == "login"
    assert access.username.text() == ""
    sign_in(window, "sam", SAM_PASSWORD)
    # Sam carries on with the open draft (not the start screen), shown for Sam's role.
    assert window.stack.currentWidget() is page and page.consultation is not None
    assert page.consultation.id == c.id
    assert page.procedure.device.text() == "Dermapen 4"
    assert clinic.consultations.get(c.id).procedure.device == "Dermapen 4"  # saved at the lock
    v5 = page.checklist.questions["V5"]  # an examination finding: not for the front desk
    assert not next(iter(v5.buttons.values())).isEnabled()
    assert "open draft" in window.statusBar().currentMessage()

    window.sign_out()  # an ordinary sign-out: the next user starts at the start screen
    sign_in(window, "owner", OWNER_PASSWORD)
    assert window.stack.currentWidget() is window.start
    window.show_consultation(c.id)
    assert window.consultation_page().procedure.device.text() == "Dermapen 4"
    assert next(iter(v5.buttons.values())).isEnabled()


def test_after_switch_user_a_signed_or_discarded_draft_is_not_reopened(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    window.show_consultation(c.id)
    window.lock_screen()
    clinic.session.unlock(OWNER_PASSWORD)  # meanwhile, elsewhere: the draft is set aside
    clinic.repeat_visits.discard(c.id, "Opened for the wrong patient")
    clinic.session.lock()
    window.access.out.click()
    sign_in(window, "sam", SAM_PASSWORD)
    assert window.stack.currentWidget() is window.start


def test_activity_keeps_the_window_unlocked(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(window)
    monkeypatch.setattr(window, "idle_limit_seconds", lambda: 0.5)
    window._idle_timer.setInterval(50)
    window.note_activity()
    try:
        for _ in range(8):  # 0.8 s in all, a key press every 0.1 s
            QTest.keyClick(window.start, "a")
            qtbot.wait(100)
        assert not clinic.session.locked
        qtbot.waitUntil(lambda: clinic.session.locked, timeout=5000)
    finally:
        app.removeEventFilter(window)
