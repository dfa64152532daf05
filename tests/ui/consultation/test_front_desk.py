"""The front desk in the checklist: never sent to the clinician's examination questions, counts
per section, and controls offered only to the roles that may use them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import ASSESSMENT, CHECKLIST, PROCEDURE
from desktop.ui.main_window import MainWindow
from tests.helpers.answers import EXAMINATION, green_answers
from tests.helpers.clinics import SAM_PASSWORD
from tests.helpers.patients import patient_fields
from tests.helpers.ui import answer, sign_in_as, visible

ADMIN_PASSWORD = "administrator password"


def front_desk(window: MainWindow, clinic: Clinic) -> str:
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    sign_in_as(window, "sam", SAM_PASSWORD)
    window.show_consultation(c.id)
    return c.id


def in_question(widget: QWidget | None, window: MainWindow) -> str | None:
    form = window.consultation_page().checklist
    return next((q for q, w in form.questions.items() if w.isAncestorOf(widget)), None)


def test_next_unanswered_skips_the_examination_for_the_front_desk(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    front_desk(window, clinic)
    page = window.consultation_page()
    page.go_to_step(CHECKLIST)
    form = page.checklist
    visited = []
    for _ in range(len(form.missing()) + 2):
        if not form.next_button.isEnabled():
            break
        form.next_button.click()
        qid = in_question(QApplication.focusWidget(), window)
        assert qid is not None
        visited.append(qid)
        widget = form.questions[qid]
        value = green_answers()[qid]
        if isinstance(value, list):
            assert widget.none_box is not None
            widget.none_box.click()
        else:
            widget.buttons[value].click()
    assert not set(visited) & set(EXAMINATION), visited
    assert set(form.missing()) == set(EXAMINATION)  # what is left is the clinician's
    assert not form.next_button.isEnabled()
    assert "examination" in form.next_button.toolTip()
    assert "clinician answers them" in form.progress.text()


def test_each_outcome_box_counts_only_its_own_section(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    front_desk(window, clinic)
    page = window.consultation_page()
    page.go_to_step(CHECKLIST)
    answer(page.checklist, {q: v for q, v in green_answers().items() if q not in EXAMINATION})
    page.go_to_step(ASSESSMENT)
    view = page.assessment
    assert view.vitiligo.detail.text() == "3 answers still needed"
    assert "Every question of this part is answered" in view.general.detail.text()
    assert "PENDING" in view.general.heading.text()

    page.go_to_step(CHECKLIST)
    page.checklist.questions["G3"].buttons["no"].click()  # still answered: nothing changes
    page.checklist.questions["V9"].buttons["yes"].click()
    page.go_to_step(ASSESSMENT)
    assert view.vitiligo.detail.text() == "3 answers still needed"


def test_a_new_consultation_opens_the_checklist_at_the_first_question_the_user_can_answer(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    front_desk(window, clinic)
    page = window.consultation_page()
    assert page.current_step() == PROCEDURE
    page.procedure.device.setFocus(Qt.FocusReason.OtherFocusReason)
    QTest.keyClick(page.procedure.device, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert page.current_step() == CHECKLIST
    form = page.checklist
    assert in_question(QApplication.focusWidget(), window) == "V1"
    assert form.scroller.verticalScrollBar().value() == 0  # at the top, not at V6 or V7
    assert visible(form.questions["V1"])

    # Front desk answered all they can; the step opens again at the top, not in the exam.
    answer(form, {q: v for q, v in green_answers().items() if q not in EXAMINATION})
    page.go_to_step(PROCEDURE)
    page.procedure.device.setFocus(Qt.FocusReason.OtherFocusReason)
    QTest.keyClick(page.procedure.device, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert in_question(QApplication.focusWidget(), window) not in EXAMINATION
    assert form.scroller.verticalScrollBar().value() == 0


def test_an_administrator_only_account_is_told_up_front_what_it_cannot_do(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    clinic.accounts.create("alex", "Alex Morgan", ("administrator",), ADMIN_PASSWORD)
    sign_in_as(window, "alex", ADMIN_PASSWORD)

    start = window.start
    assert not start.new_button.isEnabled() and not window.new_action.isEnabled()
    assert "Only a front desk or clinician can register" in start.new_button.toolTip()
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is start  # Ctrl+N does nothing for this role

    window.show_patient(patient.id)
    page = window.patient_page()
    form = page.form
    assert visible(form.read_only_notice) and "Read-only" in form.read_only_notice.text()
    assert all(e.isReadOnly() for e in form.edits.values())
    assert not form.save_button.isEnabled() and "register or edit" in form.save_button.toolTip()
    for button in (page.start_button, page.repeat_button, page.record_spot_button):
        assert not button.isEnabled()
        assert button.toolTip().startswith("Only a"), button.toolTip()

    window.show_consultation(c.id)
    cpage = window.consultation_page()
    assert "read-only" in cpage.notice.text() and visible(cpage.notice)
    assert cpage.procedure.device.isReadOnly()
    assert not cpage.checklist.questions["V1"].buttons["no"].isEnabled()
    assert not cpage.discard_button.isEnabled()
    assert not cpage.checklist.next_button.isVisibleTo(cpage)
