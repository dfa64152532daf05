"""A name no font prints: a warning under the name as it is typed, never a refusal."""

from __future__ import annotations

from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.main_window import MainWindow
from tests.helpers.ui import message_boxes, type_text

NO_GLYPH = "\ue000"  # private use: no font anywhere draws it


def test_an_unprintable_name_is_warned_about_and_registered_as_written(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    form = window.patient_page().form
    warning = form.print_warnings["family_name"]
    type_text(form.edits["given_name"], "Łukasz")  # Polish letters print: no warning
    type_text(form.edits["family_name"], f"Lee{NO_GLYPH}")
    qtbot.waitUntil(warning.isVisible, timeout=10000)  # checked on a worker thread
    assert "U+E000" in warning.text() and "can be registered" in warning.text()
    assert not form.print_warnings["given_name"].isVisible()
    assert not form.messages["family_name"].isVisible()  # a warning, not an error

    QTest.keyClicks(form.edits["date_of_birth"], "1990-04-02")
    form.save_button.click()
    (patient,) = clinic.patients.search("Lee")
    assert patient.family_name == f"Lee{NO_GLYPH}"  # stored as written
    qtbot.waitUntil(warning.isVisible, timeout=10000)  # still shown on the saved record
    assert not message_boxes()

    form.edits["family_name"].clear()
    type_text(form.edits["family_name"], "Lee")
    qtbot.waitUntil(lambda: not warning.isVisible(), timeout=10000)
