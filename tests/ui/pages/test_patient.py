"""The patient form: inline messages as you type, the duplicate warning, the history."""

from __future__ import annotations

from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.main_window import MainWindow
from tests.conftest import green_answers, patient_fields
from tests.ui.conftest import message_boxes, type_text


def test_inline_messages_appear_under_the_field_as_you_type(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    form = window.patient_page().form
    assert not any(m.isVisible() for m in form.messages.values())  # nothing before typing
    QTest.keyClicks(form.edits["email"], "lukasz@")
    expected = clinic.patients.field_errors({"email": "lukasz@"})["email"]
    assert form.messages["email"].isVisible()
    assert form.messages["email"].text() == expected
    assert not form.messages["given_name"].isVisible()  # untouched fields stay quiet
    QTest.keyClicks(form.edits["email"], "example.com")
    assert not form.messages["email"].isVisible()
    QTest.keyClicks(form.edits["date_of_birth"], "31.02.1990")
    assert "not a date" in form.messages["date_of_birth"].text()
    form.save_button.click()  # saving shows every problem at once, still inline
    assert form.messages["given_name"].isVisible()
    assert clinic.patients.count() == 0
    assert not message_boxes()


def test_duplicate_warning_offers_open_existing_or_a_different_person(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    existing = clinic.patients.register(patient_fields())
    window.new_patient()
    page = window.patient_page()
    form = page.form
    type_text(form.edits["given_name"], "Łukasz")
    type_text(form.edits["family_name"], "Żółć")
    QTest.keyClicks(form.edits["date_of_birth"], "1990-04-02")
    form.save_button.click()
    assert form.duplicate_box.isVisible()
    assert "already registered" in form.duplicate_text.text()
    with qtbot.waitSignal(form.open_existing) as opened:
        form.open_existing_button.click()
    assert opened.args == [existing.id]
    assert window.patient_page().patient is not None
    assert window.patient_page().patient.id == existing.id  # type: ignore[union-attr]

    window.new_patient()
    type_text(form.edits["given_name"], "Łukasz")
    type_text(form.edits["family_name"], "Żółć")
    QTest.keyClicks(form.edits["date_of_birth"], "1990-04-02")
    form.save_button.click()
    form.different_button.click()
    assert clinic.patients.count() == 2
    assert not form.duplicate_box.isVisible()


def test_history_shows_outcomes_decision_and_state(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    patient = clinic.patients.register(patient_fields(fitzpatrick="IV"))
    c = clinic.consultations.start(patient.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(c.id, answers=green_answers() | {"G10": "IV"})
    window.show_patient(patient.id)
    page = window.patient_page()
    assert page.history.rowCount() == 1
    cells = [page.history.index(0, col).data() for col in range(page.history.columnCount())]
    assert "✔ GREEN" in cells
    assert any("CAUTION" in str(x) for x in cells)  # K1: darker skin type
    assert "draft" in cells
    assert page.form.fitzpatrick.currentData() == "IV"
    assert "IV" in page.form.fitzpatrick.currentText() and "rarely burns" in (
        page.form.fitzpatrick.currentText()
    )


def test_a_patient_changed_elsewhere_is_not_overwritten_and_the_edit_is_listed(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    p = clinic.patients.register(patient_fields())
    window.show_patient(p.id)
    form = window.patient_page().form
    clinic.patients.update(p.id, {"phone": "+48 600 000 999"})  # another window, meanwhile
    form.edits["email"].clear()
    type_text(form.edits["email"], "new@example.com")
    form.save_button.click()
    stored = clinic.patients.get(p.id)
    assert stored.phone == "+48 600 000 999" and stored.email == "lukasz@example.com"
    text = form.form_message.text()
    assert "was changed by" in text and "new@example.com" in text
    assert form.edits["phone"].text() == "+48 600 000 999"  # the current record is shown
