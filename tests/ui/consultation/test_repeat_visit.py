"""Repeat visits through the window: start from the last visit, confirm carried answers,
discard a stray draft and start an addendum, each with a reason."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QRadioButton
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.models import Procedure
from desktop.ui.consultation.flow import ASSESSMENT, CHECKLIST, PROCEDURE
from desktop.ui.dialogs.reason import ReasonDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.answers import EXAMINATION, stable_vitiligo_answers
from tests.helpers.clinics import SAM_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import sign_all
from tests.helpers.patients import patient_fields
from tests.helpers.ui import sign_in_as, visible

LAST = Procedure("Dermapen 4", 0.75, "Hyaluronic acid serum", ("cheeks",), 1)


def last_visit(clinic: Clinic, clock: FakeClock) -> tuple[str, str]:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, clinician="Dr Ada Lovelace", procedure=LAST)
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    sign_all(clinic, c.id)
    clinic.documents.sign(c.id)
    clock.advance(days=30)
    return patient.id, c.id


def reason_dialog(name: str) -> ReasonDialog:
    (dialog,) = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, ReasonDialog) and w.objectName() == name and w.isVisible()
    ]
    return dialog


def test_a_second_session_starts_from_the_last_and_waits_for_every_confirmation(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    patient_id, last_id = last_visit(clinic, clock)
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    sign_in_as(window, "sam", SAM_PASSWORD)
    window.show_patient(patient_id)
    page = window.patient_page()
    assert page.repeat_button.isEnabled()
    page.repeat_button.click()

    cpage = window.consultation_page()
    assert window.stack.currentWidget() is cpage
    c = cpage.consultation
    assert c is not None and c.id != last_id and c.copied_from == last_id
    assert cpage.current_step() == CHECKLIST  # carried answers to confirm
    f = cpage.procedure
    assert f.clinician_name() == "Dr Ada Lovelace" and f.device.text() == "Dermapen 4"
    assert f.session.value() == 2 and f.needle_depth.value() == 0.75
    form = cpage.checklist
    carried = set(stable_vitiligo_answers())
    assert set(form.missing()) == carried
    assert all(visible(form.questions[q].carried) for q in carried)
    assert "to confirm" in cpage.steps.item(CHECKLIST).text()
    cpage.go_to_step(ASSESSMENT)
    assert "PENDING" in cpage.assessment.decision.heading.text()
    assert "to confirm" in cpage.assessment.vitiligo.detail.text()

    cpage.go_to_step(CHECKLIST)
    form.questions["V1"].buttons["yes"].click()  # clicking the answer given confirms it
    form.questions["G6"].buttons["yes"].click()  # a changed answer is a confirmed one
    for qid in sorted(carried - {"V1", "G6", *EXAMINATION}):
        button = form.questions[qid].confirm_button
        assert button.isEnabled()
        button.setFocus()
        QTest.keyClick(button, Qt.Key.Key_Space)  # "✔ Still true" from the keyboard
        # The cursor leaves the vanished button for "Next unanswered", never for an answer
        # that a second Space would change.
        assert not isinstance(QApplication.focusWidget(), QRadioButton | QCheckBox)
    stored = clinic.consultations.get(c.id)
    assert set(stored.unconfirmed) == set(EXAMINATION)
    assert stored.answers["G6"] == "yes" and stored.assessment is None
    for qid in EXAMINATION:  # the clinician's: not for the front desk to confirm
        assert not form.questions[qid].confirm_button.isEnabled()
    assert not form.next_button.isEnabled()

    sign_in_as(window, "owner", "correct horse battery")
    window.show_consultation(c.id)
    for qid in EXAMINATION:
        form.questions[qid].confirm_button.click()
    stored = clinic.consultations.get(c.id)
    assert stored.unconfirmed == () and stored.assessment is not None
    assert stored.assessment.general == "not_today"  # pregnant now: G6 changed
    assert "✔ complete" in cpage.steps.item(CHECKLIST).text()


def test_a_stray_draft_is_discarded_with_a_reason_and_leaves_the_lists(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    patient = clinic.patients.register(patient_fields())
    keep = clinic.consultations.start(patient.id)
    stray = clinic.consultations.start(patient.id)
    window.show_consultation(stray.id)
    cpage = window.consultation_page()
    cpage.go_to_step(PROCEDURE)
    cpage.discard_button.click()
    dialog = reason_dialog("discardDialog")
    qtbot.waitUntil(dialog.isActiveWindow)
    assert QApplication.focusWidget() is dialog.reason  # the reason comes first
    QTest.keyClicks(dialog.reason, "dup")
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "at least 10" in dialog.message.text() and dialog.isVisible()
    assert clinic.consultations.get(stray.id).discard is None
    QTest.keyClicks(dialog.reason, "licate: opened twice by mistake")
    dialog.act_button.click()
    assert not dialog.isVisible()
    assert clinic.consultations.get(stray.id).discard is not None

    page = window.patient_page()
    assert window.stack.currentWidget() is page
    assert [r.consultation.id for r in page.history.records()] == [keep.id]
    assert "1 discarded draft kept in the records" in page.history_hint.status()
    window.show_start()
    assert [r.consultation.id for r in window.start.drafts_model.records()] == [keep.id]


def test_a_signed_consultation_offers_an_addendum_that_asks_why_first(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    patient_id, signed_id = last_visit(clinic, clock)
    window.show_patient(patient_id)
    page = window.patient_page()
    page.history_view.selectRow(0)
    assert not page.discard_button.isEnabled()  # signed: never discarded
    assert "never discarded" in page.discard_button.toolTip()
    assert page.addendum_button.isEnabled()
    page.addendum_button.click()
    dialog = reason_dialog("addendumDialog")
    dialog.act_button.click()  # no reason yet: refused, nothing started
    assert "at least 10" in dialog.message.text()
    assert len(clinic.consultations.for_patient(patient_id)) == 1
    QTest.keyClicks(dialog.reason, "Wrong area recorded: forehead, not cheeks.")
    dialog.act_button.click()
    cpage = window.consultation_page()
    assert window.stack.currentWidget() is cpage and cpage.consultation is not None
    assert cpage.consultation.amends_id == signed_id
    assert cpage.consultation.addendum_reason == "Wrong area recorded: forehead, not cheeks."


def test_the_clinician_is_chosen_from_clinician_accounts(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    clinic.accounts.create("bob", "Dr Bob Okoro", ("clinician",), "bob password 1")
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    window.show_consultation(c.id)
    cpage = window.consultation_page()
    cpage.go_to_step(PROCEDURE)
    combo = cpage.procedure.clinician
    offered = [combo.itemText(i) for i in range(combo.count())]
    assert offered == ["Choose the clinician…", "Dr Ada Lovelace", "Dr Bob Okoro"]
    assert not combo.isEditable()
    combo.setFocus()
    QTest.keyClicks(combo, "Dr")  # keyboard search: the first account starting so
    assert combo.currentText() == "Dr Ada Lovelace"
    QTest.keyClick(combo, Qt.Key.Key_Down)
    cpage.flush()
    assert clinic.consultations.get(c.id).clinician == "Dr Bob Okoro"
