"""The patient page: inline messages as you type, what a date or phone was read as, the duplicate
warning, unsaved details asked about, address and emergency contact, the test-spot banner."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.dialogs.reason import ReasonDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.answers import green_answers
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import ready, sign_all
from tests.helpers.patients import patient_fields
from tests.helpers.ui import message_boxes, tab_walk, type_text


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
    assert "changed this patient's details" in text and "new@example.com" in text
    assert form.edits["phone"].text() == "+48 600 000 999"  # the current record is shown
    assert form.edits["email"].text() == "new@example.com"  # with the edit made here


def test_address_and_emergency_contact_are_typed_saved_and_shown(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    page = window.patient_page()
    form = page.form
    type_text(form.edits["given_name"], "Łukasz")
    type_text(form.edits["family_name"], "Żółć")
    QTest.keyClicks(form.edits["date_of_birth"], "1990-04-02")
    QTest.keyClicks(form.address, "12 Long Street")
    QTest.keyClick(form.address, Qt.Key.Key_Return)  # the address keeps its lines
    type_text(form.address, "Łódź 90-001")
    type_text(form.edits["emergency_contact_name"], "Anna Żółć (sister)")
    QTest.keyClicks(form.edits["emergency_contact_phone"], "12")
    message = form.messages["emergency_contact_phone"]
    assert message.isVisible() and "not a phone number" in message.text()
    errors = clinic.patients.field_errors({"emergency_contact_phone": "12"})
    assert message.text() == errors["emergency_contact_phone"]
    QTest.keyClicks(form.edits["emergency_contact_phone"], "3456789")
    assert not message.isVisible()
    QTest.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    (stored,) = clinic.patients.search("zolc")
    assert stored.address == "12 Long Street\nŁódź 90-001"
    assert stored.emergency_contact_name == "Anna Żółć (sister)"
    assert stored.emergency_contact_phone == "123456789"
    assert page.contact.isVisible()
    assert page.contact.text() == (
        "Address: 12 Long Street, Łódź 90-001   ·   Emergency contact: Anna Żółć (sister), "
        "123456789"
    )

    window.show_start()
    window.show_patient(stored.id)  # loaded back into the same inputs
    assert form.address.toPlainText() == "12 Long Street\nŁódź 90-001"
    assert form.edits["emergency_contact_name"].text() == "Anna Żółć (sister)"
    assert form.values() == {
        **{k: getattr(stored, k) for k in ("given_name", "family_name", "phone", "email")},
        "date_of_birth": "1990-04-02",
        "fitzpatrick": "",
        "notes": "",
        "address": stored.address,
        "emergency_contact_name": stored.emergency_contact_name,
        "emergency_contact_phone": stored.emergency_contact_phone,
    }
    assert not form.has_unsaved_changes()

    form.address.setFocus()
    form.address.selectAll()
    type_text(form.address, "x" * 501)  # over the limit: said under the field, not saved
    assert "too long" in form.messages["address"].text()
    QTest.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert clinic.patients.get(stored.id).address == "12 Long Street\nŁódź 90-001"
    assert form.address.hasFocus()  # the first field to correct


def test_a_single_name_is_enough_and_no_name_at_all_is_said_under_the_given_name(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    form = window.patient_page().form
    type_text(form.edits["family_name"], "S")
    QTest.keyClick(form.edits["family_name"], Qt.Key.Key_Backspace)  # typed, then erased
    given = form.messages["given_name"]
    assert given.isVisible() and "A name is required" in given.text()
    assert not form.messages["family_name"].isVisible()
    type_text(form.edits["family_name"], "Suharto")  # one name, in either field: fine
    assert not given.isVisible()
    QTest.keyClicks(form.edits["date_of_birth"], "1961-06-08")
    QTest.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    (stored,) = clinic.patients.search("suharto")
    assert (stored.given_name, stored.family_name) == ("", "Suharto")
    assert window.patient_page().title.text() == "Suharto"


def test_the_date_and_phones_say_how_they_were_read(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    form = window.patient_page().form
    dob = form.understood["date_of_birth"]
    QTest.keyClicks(form.edits["date_of_birth"], "12/01/2008")  # no date order set: either
    assert not dob.isVisible()
    assert "could be 12 January 2008 or 1 December 2008" in form.messages["date_of_birth"].text()
    clinic.settings.set_date_order("month-first")
    form.edits["date_of_birth"].clear()
    QTest.keyClicks(form.edits["date_of_birth"], "12/01/2008")
    assert dob.isVisible() and dob.text() == "Read as 1 December 2008, age 17"
    assert dob.text() == "Read as " + clinic.patients.understood_date("12/01/2008")
    assert not form.messages["date_of_birth"].isVisible()

    phone, contact = form.understood["phone"], form.understood["emergency_contact_phone"]
    QTest.keyClicks(form.edits["phone"], "020 7946 0011")
    assert phone.isVisible() and "Kept as typed" in phone.text()  # no region: how to fix
    assert "phone region in Settings" in phone.text()
    clinic.settings.set_phone_region("GB")
    form.edits["phone"].clear()
    QTest.keyClicks(form.edits["phone"], "020 7946 0011")
    assert phone.text() == "+44 20 7946 0011 (GB)"
    QTest.keyClicks(form.edits["emergency_contact_phone"], "+48 600 123 456")
    assert contact.text() == clinic.patients.understood_phone("+48 600 123 456")
    assert contact.text().startswith("+48 600 123 456 (PL)")
    form.edits["emergency_contact_phone"].clear()
    assert not contact.isVisible()


def _box(qtbot: QtBot) -> QMessageBox:
    qtbot.waitUntil(lambda: any(b.objectName() == "unsavedPatient" for b in message_boxes()))
    boxes = [b for b in message_boxes() if b.objectName() == "unsavedPatient"]
    (box,) = boxes
    return box


def _press(box: QMessageBox, which: QMessageBox.StandardButton) -> None:
    button = box.button(which)
    assert button is not None
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def test_leaving_with_unsaved_details_asks_to_save_discard_or_stay(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    p = clinic.patients.register(patient_fields())
    window.show_patient(p.id)
    page = window.patient_page()
    form = page.form
    form.edits["phone"].selectAll()
    QTest.keyClicks(form.edits["phone"], "+48 600 000 111")
    QTest.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    box = _box(qtbot)
    assert "Changes to Łukasz Żółć's details are not saved: Phone." in box.text()
    _press(box, QMessageBox.StandardButton.Cancel)  # stay: the edit is still there
    assert window.stack.currentWidget() is page
    assert form.edits["phone"].text() == "+48 600 000 111"

    QTest.keyClick(window, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    _press(_box(qtbot), QMessageBox.StandardButton.Discard)
    assert window.stack.currentWidget() is window.start
    assert clinic.patients.get(p.id).phone == "+48 600 123 456"

    window.show_patient(p.id)
    assert form.edits["phone"].text() == "+48 600 123 456"  # the discarded edit is gone
    form.edits["phone"].selectAll()
    QTest.keyClicks(form.edits["phone"], "+48 600 000 222")
    QTest.mouseClick(page.start_button, Qt.MouseButton.LeftButton)  # before a consultation
    assert not clinic.consultations.for_patient(p.id)  # nothing started while asking
    _press(_box(qtbot), QMessageBox.StandardButton.Save)
    assert clinic.patients.get(p.id).phone == "+48 600 000 222"
    assert window.stack.currentWidget() is window.consultation_page()
    assert len(clinic.consultations.for_patient(p.id)) == 1


def test_an_unregistered_patient_is_not_lost_by_a_new_patient_or_closing(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    page = window.patient_page()
    type_text(page.form.edits["given_name"], "Zoë")
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    box = _box(qtbot)
    assert "The new patient is not registered yet." in box.text()
    _press(box, QMessageBox.StandardButton.Save)  # "Register": the date of birth is missing
    assert window.stack.currentWidget() is page
    assert page.form.edits["given_name"].text() == "Zoë"
    assert "Date of birth is required" in page.form.messages["date_of_birth"].text()
    assert clinic.patients.count() == 0

    window.close()  # closing asks too
    box = _box(qtbot)
    assert window.isVisible()
    _press(box, QMessageBox.StandardButton.Discard)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert clinic.patients.count() == 0


def test_a_depigmented_test_spot_shows_a_banner_with_the_consultations_it_concerns(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    signed = ready(clinic)
    sign_all(clinic, signed)
    clinic.documents.sign(signed)
    c = clinic.consultations.get(signed)
    window.show_patient(c.patient_id)
    page = window.patient_page()
    assert not page.spot_banner.isVisible()
    spot = clinic.test_spots.record(signed, "left jawline", c.date)
    clock.advance(weeks=4)
    clinic.test_spots.review(spot.id, 4, "depigmentation", "Dr Ada Lovelace")
    window.show_start()
    window.show_patient(c.patient_id)
    assert page.spot_banner.isVisible()
    text = page.spot_banner_text.text()
    assert "vitiligo outcome is RED" in text
    assert "left jawline, done 2026-11-25: depigmentation at the 4-week review (2026-12-23)" in text
    assert "1 consultation was signed before this was known" in text
    assert "addendum" in text
    open_button, addendum = page.banner_buttons
    # Tab reaches the banner's buttons between the header and the form.
    seen = tab_walk(page.back_button, 3)
    assert seen == [page.back_button, open_button, addendum, page.form.edits["given_name"]]

    QTest.mouseClick(addendum, Qt.MouseButton.LeftButton)
    dialog = page.findChild(ReasonDialog, "addendumDialog")
    assert dialog is not None and dialog.isVisible()
    assert "left jawline" in dialog.reason.toPlainText()  # a suggested reason, to edit
    QTest.mouseClick(dialog.act_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.consultation_page())
    addendum_draft = window.consultation_page().consultation
    assert addendum_draft is not None and addendum_draft.amends_id == signed

    window.show_patient(c.patient_id)
    QTest.mouseClick(page.banner_buttons[0], Qt.MouseButton.LeftButton)  # Open
    assert window.stack.currentWidget() is window.consultation_page()
    assert window.consultation_page().consultation.id == signed  # type: ignore[union-attr]


def test_the_consultation_buttons_follow_the_row_clicked(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    signed = ready(clinic)
    sign_all(clinic, signed)
    clinic.documents.sign(signed)
    patient_id = clinic.consultations.get(signed).patient_id
    clinic.consultations.start(patient_id, clinician="Dr Ada Lovelace")
    window.show_patient(patient_id)
    page = window.patient_page()
    view = page.history_view
    states = [page.history.record(r).consultation.state for r in range(page.history.rowCount())]
    assert sorted(states) == ["draft", "signed"]
    for state in ("draft", "signed", "draft"):
        row = states.index(state)
        rect = view.visualRect(page.history.index(row, 0))
        QTest.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
            rect.center(),
        )  # fmt: skip
        assert page.addendum_button.isEnabled() == (state == "signed"), state
        assert page.discard_button.isEnabled() == (state == "draft"), state


def test_the_skin_type_a_checklist_recorded_shows_where_the_record_has_another_or_none(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    cid = ready(clinic, green_answers() | {"G10": "IV"})
    sign_all(clinic, cid)
    clinic.documents.sign(cid)
    pid = clinic.consultations.get(cid).patient_id
    assert clinic.patients.get(pid).fitzpatrick is None
    window.show_patient(pid)
    page = window.patient_page()
    form = page.form
    assert "Fitzpatrick IV (checklist of 2026-11-25)" in page.subtitle.text()
    assert form.fitzpatrick.currentData() is None  # the record itself is untouched
    assert form.skin_note.isVisible()
    assert form.skin_note_text.text() == (
        "Not on the patient's record: the checklist of 2026-11-25 (signed) recorded type IV."
    )
    # one click chooses it; Save records it, audited like any change of the patient
    save_at = form.save_button.mapTo(window, form.save_button.rect().center())
    form.use_skin_type.click()
    qtbot.wait(50)  # let a changed layout settle, as it would on screen
    assert form.fitzpatrick.currentData() == "IV"
    assert clinic.patients.get(pid).fitzpatrick is None  # chosen, not yet saved
    # the note stays until the record holds the type: Save does not move under the pointer
    assert form.skin_note.isVisible() and not form.use_skin_type.isEnabled()
    assert form.save_button.mapTo(window, form.save_button.rect().center()) == save_at
    form.save_button.click()
    assert clinic.patients.get(pid).fitzpatrick == "IV"
    assert page.subtitle.text().endswith("· Fitzpatrick IV")
    # a later checklist that records another type says so beside the record's
    clock.advance(days=7)
    later = clinic.consultations.start(pid, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(later.id, answers={"G10": "V"})
    window.show_patient(pid)
    assert form.fitzpatrick.currentData() == "IV"
    assert form.skin_note.isVisible()
    assert form.skin_note_text.text() == "The checklist of 2026-12-02 (draft) recorded type V."
    window.new_patient()
    assert not form.skin_note.isVisible()
