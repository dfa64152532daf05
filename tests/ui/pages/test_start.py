"""The start screen: due reviews, search as you type, shortcuts, the demo banner."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.main_window import MainWindow
from tests.conftest import FakeClock, patient_fields, stable_vitiligo_answers


def test_due_and_overdue_test_spot_reviews_are_listed(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, on=clock.now.date() - timedelta(weeks=5))
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    clinic.test_spots.record(c.id, "left jawline", c.date)
    window.show_start()
    model = window.start.due_model
    assert model.rowCount() == 1
    row = [model.index(0, col).data() for col in range(model.columnCount())]
    assert row[0] == "Łukasz Żółć"
    assert "left jawline" in row[1]
    assert row[2] == "4-week"
    assert "OVERDUE" in row[3]
    assert "overdue" in window.start.due_hint.text()
    assert window.start.drafts_model.rowCount() == 1
    views = len(clinic.audit.entries(action="view patient"))
    window.show_start()  # listing names is not opening a record: the audit stays quiet
    drafts = window.start.drafts_model
    assert "Łukasz Żółć" in [drafts.index(0, col).data() for col in range(drafts.columnCount())]
    assert len(clinic.audit.entries(action="view patient")) == views


def test_search_finds_patients_as_you_type(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    clinic.patients.register(patient_fields())
    clinic.patients.register(patient_fields(given_name="Siobhán", family_name="O'Brien"))
    window.show_start()
    QTest.keyClicks(window.start.search, "o'bri")
    qtbot.waitUntil(lambda: window.start.patients.rowCount() == 1, timeout=2000)
    row = [window.start.patients.index(0, col).data() for col in range(3)]
    assert row == ["O'Brien, Siobhán", "1990-04-02", "+48 600 123 456"]
    with qtbot.waitSignal(window.start.open_patient):
        QTest.keyClick(window.start.search, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.patient_page()


def test_a_broad_search_says_to_type_more(qtbot: QtBot, window: MainWindow, clinic: Clinic) -> None:
    clinic._store.patients.ranked_at_most = 2
    for given in ("Anna", "Ben", "Cara"):
        clinic.patients.register(patient_fields(given_name=given, family_name="Smith"))
    window.show_start()
    QTest.keyClicks(window.start.search, "sm")
    qtbot.waitUntil(lambda: "More than 2" in window.start.patients_hint.text(), timeout=2000)
    assert "Type more" in window.start.patients_hint.text()
    names = [window.start.patients.index(r, 0).data() for r in range(3)]
    assert names == ["Smith, Cara", "Smith, Ben", "Smith, Anna"]  # newest registered first
    QTest.keyClicks(window.start.search, "ith ca")
    qtbot.waitUntil(lambda: window.start.patients.rowCount() == 1, timeout=2000)
    assert window.start.patients_hint.text().startswith("1 found")


def test_ctrl_f_focuses_search_and_ctrl_n_opens_a_new_patient(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.new_patient()
    assert window.stack.currentWidget() is window.patient_page()
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.start
    assert window.start.search.hasFocus()
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.patient_page()
    assert window.patient_page().form.edits["given_name"].hasFocus()
    assert window.patient_page().patient is None


def test_the_demo_banner_shows_on_a_demo_database(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    assert not window.start.demo_banner.isVisible()
    clinic._store.settings.set("demo", True)
    window.show_start()
    window.refresh_title()
    assert window.start.demo_banner.isVisible()
    assert "DEMO" in window.windowTitle()
