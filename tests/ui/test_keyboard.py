"""Safe keyboard entry: every form has one Tab stop per input in visual order, dates included."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import CHECKLIST, PROCEDURE, STEPS
from desktop.ui.dialogs.audit import AuditDialog
from desktop.ui.dialogs.password import ChangePasswordDialog
from desktop.ui.dialogs.reason import ReasonDialog
from desktop.ui.dialogs.settings import SettingsDialog
from desktop.ui.dialogs.spots import RecordSpotDialog, ReviewDialog
from desktop.ui.dialogs.users import NewUserDialog, UsersDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import ready, sign_all
from tests.helpers.patients import patient_fields
from tests.helpers.ui import active, focus_names, mnemonic_clashes, tab_walk


def _consultation(window: MainWindow, clinic: Clinic) -> str:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    window.show_consultation(c.id)
    window.consultation_page().go_to_step(PROCEDURE)
    return c.id


def test_tab_from_the_clinician_leaves_the_date_whole_and_typing_goes_to_the_device(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    cid = _consultation(window, clinic)
    page = window.consultation_page()
    f = page.procedure
    expected = [f.clinician, f.on, f.device, f.needle_depth, f.product, f.areas, f.session]
    seen = tab_walk(f.clinician, 6)
    assert seen == expected, focus_names(seen)
    assert tab_walk(f.session, 6, back=True) == expected[::-1]  # Shift+Tab: the same, back

    # What a receptionist types: Clinician, Tab, Tab, the device.
    f.clinician.setFocus(Qt.FocusReason.TabFocusReason)
    for _ in range(2):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    QTest.keyClicks(QApplication.focusWidget(), "Dermapen 4")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    QTest.keyClicks(QApplication.focusWidget(), "0.5")
    page.flush()
    stored = clinic.consultations.get(cid)
    assert stored.procedure.device == "Dermapen 4"
    assert stored.procedure.needle_depth_mm == 0.5
    assert stored.date == clock.now.date()  # the date was not touched
    assert f.date_notice.isHidden() and page.date_badge.isHidden()


def test_a_date_other_than_today_is_shown_prominently_and_audited(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    cid = _consultation(window, clinic)
    page = window.consultation_page()
    f = page.procedure
    f.on.setFocus(Qt.FocusReason.TabFocusReason)  # the year is selected on entry
    QTest.keyClicks(f.on, "20260430")  # year, month and day, typed on purpose
    assert clinic.consultations.get(cid).date == clock.now.date()  # not saved while typing
    QTest.keyClick(f.on, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is f.device
    page.flush()
    assert clinic.consultations.get(cid).date == date(2026, 4, 30)
    assert f.date_notice.isVisibleTo(page) and "2026-04-30, not today" in f.date_notice.text()
    assert page.date_badge.isVisibleTo(page) and "not today" in page.date_badge.text()
    (entry,) = [e for e in clinic.audit.entries(action="update consultation") if "date" in e.detail]
    assert json.loads(entry.detail) == {"date": "2026-04-30", "date_was": "2026-11-25"}

    page.go_to_step(CHECKLIST)  # the header keeps saying so on every step
    assert page.date_badge.isVisibleTo(page)

    page.go_to_step(PROCEDURE)  # typed again, from its label's shortcut: the year comes first
    QTest.keyClick(page, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is f.on
    QTest.keyClicks(f.on, "20261125")
    QTest.keyClick(f.on, Qt.Key.Key_Tab)
    page.flush()
    assert clinic.consultations.get(cid).date == clock.now.date()
    assert f.date_notice.isHidden() and page.date_badge.isHidden()


def test_the_patient_form_takes_a_name_and_a_birth_date_typed_with_tabs(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    page = window.patient_page()
    form = page.form
    assert QApplication.focusWidget() is form.edits["given_name"]
    for text in ("Zoe", "Nunez-Okoro", "1988-03-14"):
        QTest.keyClicks(QApplication.focusWidget(), text)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert form.edits["given_name"].text() == "Zoe"
    assert form.edits["family_name"].text() == "Nunez-Okoro"
    assert form.edits["date_of_birth"].text() == "1988-03-14"
    assert QApplication.focusWidget() is form.edits["phone"]

    e = form.edits
    expected: list[QWidget | None] = [
        page.back_button,
        e["given_name"],
        e["family_name"],
        e["date_of_birth"],
        e["phone"],
        e["email"],
        form.address,
        e["emergency_contact_name"],
        e["emergency_contact_phone"],
        form.fitzpatrick,
        form.notes,
        form.save_button,
    ]
    seen = tab_walk(page.back_button, len(expected) - 1)
    assert seen == expected, focus_names(seen)
    assert tab_walk(form.save_button, len(expected) - 1, back=True) == expected[::-1]
    form.save_button.click()
    assert page.patient is not None
    more = [
        page.history_view,
        page.start_button,
        # "Start from last visit", Open, Addendum and Discard wait for a consultation
        page.spots_view,
    ]
    seen = tab_walk(form.save_button, len(more))
    assert seen[1:] == more, focus_names(seen)


def test_the_dialogs_forms_tab_once_through_each_input_in_order(
    qtbot: QtBot, clinic: Clinic, clock: FakeClock
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, on=clock.now.date() - timedelta(weeks=5))
    spot = clinic.test_spots.record(c.id, "left jawline", c.date)

    record = RecordSpotDialog(clinic, [c], c.id)
    active(qtbot, record)
    save = record.findChild(QDialogButtonBox).buttons()
    chain = tab_walk(record.consultation, 2)
    assert chain == [record.consultation, record.site, record.done_on], focus_names(chain)
    assert tab_walk(record.done_on, 1)[1] in save  # the date is one stop
    record.close()

    review = ReviewDialog(clinic, spot, 4)
    active(qtbot, review)
    first = review.results.buttons()[0]
    chain = tab_walk(first, 3)
    assert chain[1:] == [review.reviewer, review.on, review.notes], focus_names(chain)
    review.close()

    reason = ReasonDialog("d", "Discard", "Why?", "&Discard", lambda _r: None)
    active(qtbot, reason)
    chain = tab_walk(reason.reason, 1)
    assert chain == [reason.reason, reason.act_button], focus_names(chain)
    reason.close()

    password = ChangePasswordDialog(clinic)
    active(qtbot, password)
    chain = tab_walk(password.current, 3)
    assert chain == [
        password.current,
        password.password,
        password.password2,
        password.change_button,
    ], focus_names(chain)
    password.close()

    new_user = NewUserDialog(clinic)
    active(qtbot, new_user)
    a = new_user.account
    chain = tab_walk(a.username, 3)
    assert chain == [a.username, a.display_name, a.password, a.password2], focus_names(chain)
    new_user.close()

    settings = SettingsDialog(clinic)
    active(qtbot, settings)
    chain = tab_walk(settings.name, 3)
    assert chain[:4] == [settings.name, settings.address, settings.phone, settings.paper]
    settings.close()


def test_no_two_alt_shortcuts_share_a_letter_on_any_screen(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock, tmp_path: Path
) -> None:
    """Alt+D must always reach the same field: two labels sharing a letter on one screen send
    typing to whichever Qt picks next (the date typed into the product, say)."""
    clashes: dict[str, dict[str, list[str]]] = {}

    def look(name: str, root: QWidget) -> None:
        QApplication.processEvents()  # widgets added to a shown layout show from the loop
        found = mnemonic_clashes(root)
        if found:
            clashes[name] = found

    look("start screen", window)
    signed = ready(clinic)
    sign_all(clinic, signed)
    clinic.documents.sign(signed)
    draft = ready(clinic, given_name="Zoë", family_name="Ødegård")
    window.new_patient()
    look("new patient", window)
    page = window.patient_page()
    page.form.duplicate_box.show()
    look("new patient, duplicate warning", window)
    window.show_patient(clinic.consultations.get(signed).patient_id)
    page.history_view.selectRow(0)
    page.form.duplicate_box.show()
    look("patient", window)
    for cid in (draft, signed):
        window.show_consultation(cid)
        cpage = window.consultation_page()
        for step, name in enumerate(STEPS):
            cpage.go_to_step(step)
            cpage.signatures.add_optional("witness")
            look(f"{name} ({clinic.consultations.get(cid).state})", window)
    for mode in ("setup", "login", "unlock"):
        window.access.start(clinic, mode)  # type: ignore[arg-type]
        window.stack.setCurrentWidget(window.access)
        look(f"access: {mode}", window)

    c = clinic.consultations.get(draft)
    spot = clinic.test_spots.record(c.id, "left jawline", c.date)
    settings = SettingsDialog(clinic)
    active(qtbot, settings)
    for i in range(settings.tabs.count()):
        settings.tabs.setCurrentIndex(i)
        look(f"settings: {settings.tabs.tabText(i)}", settings)
    dialogs: list[tuple[str, QWidget]] = [
        ("record test spot", RecordSpotDialog(clinic, [c], c.id)),
        ("review test spot", ReviewDialog(clinic, spot, 4)),
        ("reason", ReasonDialog("d", "Discard", "Why?", "&Discard draft", lambda _r: None)),
        ("change password", ChangePasswordDialog(clinic)),
        ("new user", NewUserDialog(clinic)),
        ("users", UsersDialog(clinic)),
        ("audit", AuditDialog(clinic)),
    ]
    for name, dialog in dialogs:
        active(qtbot, dialog)
        if isinstance(dialog, AuditDialog):
            dialog.acknowledge_button.show()
        look(name, dialog)
        dialog.hide()
    # The sealed documents' own buttons (print, open, save) are settled with their rewrite.
    for state in ("draft", "signed"):
        assert clashes.pop(f"Sign & print ({state})", None) in (None, {"a": SAVE_AS})
    assert not clashes, "\n".join(f"{k}: {v}" for k, v in clashes.items())


SAVE_AS = ["Save &as…", "menu &Administration"]
