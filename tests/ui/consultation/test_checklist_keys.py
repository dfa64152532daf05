"""The checklist from the keyboard: Tab into a single-choice question always lands on the same
option (the first while unanswered, else the one chosen), in every consultation and version."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import CHECKLIST
from desktop.ui.main_window import MainWindow
from tests.helpers.patients import patient_fields
from tests.helpers.ui import focus_names

Key = Qt.Key


def _press(*keys: Key) -> None:
    for key in keys:
        here = QApplication.focusWidget()
        assert here is not None, "nothing has the cursor"
        QTest.keyClick(here, key)


def _open(window: MainWindow, clinic: Clinic, given: str) -> str:
    patient = clinic.patients.register(patient_fields(given_name=given, phone=""))
    c = clinic.consultations.start(patient.id, clinician="Dr Ada Lovelace")
    window.show_consultation(c.id)
    window.consultation_page().go_to_step(CHECKLIST)
    return c.id


def _click(widget: QWidget) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def _typed_run(window: MainWindow) -> list[str]:
    """What a clinician typed in the trial: V1 "No" with the mouse, then only keys. Returns
    the option the cursor was on after each Tab into a single-choice question."""
    form = window.consultation_page().checklist
    q = form.questions
    landed: list[str] = []

    def tab() -> None:
        _press(Key.Key_Tab)
        landed.append(QApplication.focusWidget().objectName())  # type: ignore[union-attr]

    _click(q["V1"].buttons["no"])
    tab()
    _press(Key.Key_Space)  # V5: its first option
    _press(Key.Key_Tab, Key.Key_Down, Key.Key_Down, Key.Key_Down, Key.Key_Down, Key.Key_Space)
    tab()
    _press(Key.Key_Right, Key.Key_Space)  # V7: the second option
    tab()
    _press(Key.Key_Right, Key.Key_Space)  # V8: the second option
    tab()
    _press(Key.Key_Right, Key.Key_Space)  # V9: the second option
    return landed


def test_the_same_keys_give_the_same_answers_in_two_consultations_in_a_row(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    first = _open(window, clinic, "Anna")
    landed_first = _typed_run(window)
    second = _open(window, clinic, "Bea")  # the same form, reused for the next consultation
    landed_second = _typed_run(window)
    one, two = clinic.consultations.get(first), clinic.consultations.get(second)
    assert landed_first == landed_second == ["V5_none", "V7_yes", "V8_yes", "V9_yes"]
    for qid in ("V5", "V7", "V8", "V9"):
        assert one.answers[qid] == two.answers[qid], qid
    assert (two.answers["V7"], two.answers["V8"], two.answers["V9"]) == ("no", "no", "no")


def _focused() -> str:
    here = QApplication.focusWidget()
    return here.objectName() if here is not None else "-"


def test_tab_lands_on_the_chosen_option_and_the_cursor_moved_without_choosing_is_forgotten(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    cid = _open(window, clinic, "Anna")
    q = window.consultation_page().checklist.questions
    _click(q["G1"].buttons["no"])
    _press(Key.Key_Tab)
    assert _focused() == "G2_yes"  # unanswered: its first option, nothing chosen
    assert q["G2"].value() is None
    _press(Key.Key_Right)  # the cursor moves to "No" without choosing it
    assert _focused() == "G2_no" and q["G2"].value() is None
    _press(Key.Key_Tab)
    assert _focused() == "G3_yes"
    _press(Key.Key_Backtab)  # back into the unanswered question: its first option again
    assert _focused() == "G2_yes" and q["G2"].value() is None
    _press(Key.Key_Backtab)  # into an answered one: the option chosen
    assert _focused() == "G1_no"
    _press(Key.Key_Tab, Key.Key_Tab)
    _press(Key.Key_Space)  # G3: Yes, chosen with Space
    assert clinic.consultations.get(cid).answers["G3"] == "yes"

    # Opened again (answers as stored): Tab reaches the stored answer, or the first option.
    window.show_start()
    window.show_consultation(cid)
    page = window.consultation_page()
    page.go_to_step(CHECKLIST)
    _click(q["G1"].buttons["no"])
    landed = []
    for _ in range(3):
        _press(Key.Key_Tab)
        landed.append(_focused())
    assert landed == ["G2_yes", "G3_yes", "G4_never"], landed
    assert q["G2"].value() is None and q["G4"].value() is None


def test_every_single_choice_question_is_one_tab_stop(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    """Whatever happened in the form before, each single-choice question has exactly one
    option Tab can reach: its chosen option, or its first."""
    first = _open(window, clinic, "Anna")
    _typed_run(window)
    for qid in ("G1", "G2", "G4", "G10"):  # the cursor walked over options, some chosen
        widget = window.consultation_page().checklist.questions[qid]
        widget.focus_first()
        _press(Key.Key_Right, Key.Key_Right)
    _open(window, clinic, "Bea")
    form = window.consultation_page().checklist
    assert clinic.consultations.get(first).answers  # the first one kept its answers
    for qid, widget in form.questions.items():
        if widget.group is None:
            continue
        stops = [b for b in widget.buttons.values() if b.focusPolicy() & Qt.FocusPolicy.TabFocus]
        assert stops == [next(iter(widget.buttons.values()))], (qid, focus_names(stops))  # type: ignore[arg-type]


def test_tab_lands_alike_after_switching_checklist_versions(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    from tests.helpers.answers import OLD
    from tests.helpers.consultations import start_old

    def old_draft(given: str) -> str:
        patient = clinic.patients.register(patient_fields(given_name=given, phone=""))
        return start_old(clinic, patient.id, {"V1": "no"})

    def g_keys(cid: str) -> str:
        window.show_consultation(cid)
        page = window.consultation_page()
        assert (page.definition.version == OLD) == (cid in (older, later))
        page.go_to_step(CHECKLIST)
        q = page.checklist.questions
        _click(q["G1"].buttons["no"])
        _press(Key.Key_Tab)
        landed = _focused()
        _press(Key.Key_Right, Key.Key_Space)
        return landed

    older = old_draft("Anna")
    newer = _open(window, clinic, "Bea")
    later = old_draft("Cleo")
    newest = _open(window, clinic, "Dora")
    drafts = (older, newer, later, newest)
    assert [g_keys(c) for c in drafts] == ["G2_yes"] * 4  # each form shown in turn, reused
    for cid in drafts:
        assert clinic.consultations.get(cid).answers["G2"] == "no"
    assert g_keys(newer) == "G2_no"  # opened again: the option chosen
