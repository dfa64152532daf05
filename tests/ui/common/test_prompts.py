"""Prompts that commit or discard something: typing that goes on as one appears changes
nothing; Enter, Escape and Alt+letter still answer it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.errors import OtherClinic
from desktop.ui.common import printing
from desktop.ui.common.messages import Prompt, message_box
from desktop.ui.consultation.flow import CHECKLIST
from desktop.ui.main_window import MainWindow
from tests.helpers.answers import OLD, green_answers
from tests.helpers.consultations import start_old
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields
from tests.helpers.ui import answer, close_message_boxes, message_boxes, type_text

# What someone types while the box appears: every letter of every button of these prompts
# (Register, Save, Discard, Cancel, Yes, Move, Reload, Replace, Open, OK), digits, signs, spaces.
TYPING = "O'Brien Siobhan, 12 Long Street: yes, move, reload, replace, open, ok; 0123456789"


def _box(qtbot: QtBot, name: str) -> QMessageBox:
    qtbot.waitUntil(lambda: any(b.objectName() == name for b in message_boxes()))
    (box,) = [b for b in message_boxes() if b.objectName() == name]
    assert isinstance(box, Prompt)
    qtbot.waitUntil(box.isActiveWindow)
    return box


def _gone(qtbot: QtBot, name: str) -> None:
    qtbot.waitUntil(lambda: not any(b.objectName() == name for b in message_boxes()))


def _open(name: str) -> bool:
    return any(b.objectName() == name for b in message_boxes())


def _type_into(box: QMessageBox) -> None:
    """Type as a user does: every key goes to whatever has the cursor in the box (until
    the box is gone, answered by a key)."""
    name = box.objectName()
    for char in TYPING:
        here = QApplication.focusWidget()
        if not _open(name) or here is None:
            break
        QTest.keyClicks(here, char)  # a real key: its code and its text
    QApplication.processEvents()
    QTest.qWait(100)  # a button pressed by a key clicks on a timer (animateClick)


def test_typing_into_the_unsaved_patient_prompt_registers_nothing(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    form = window.patient_page().form
    type_text(form.edits["given_name"], "Siobhán")
    QTest.keyClicks(form.edits["date_of_birth"], "2008-01-12")
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    box = _box(qtbot, "unsavedPatient")
    _type_into(box)
    assert _open("unsavedPatient")
    assert clinic.patients.count() == 0
    assert form.edits["given_name"].text() == "Siobhán"
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)  # Escape: stay
    _gone(qtbot, "unsavedPatient")
    assert window.stack.currentWidget() is window.patient_page()
    assert clinic.patients.count() == 0

    window.new_patient()  # asked again
    box = _box(qtbot, "unsavedPatient")
    _type_into(box)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # Enter: Register
    qtbot.waitUntil(lambda: clinic.patients.count() == 1)
    assert clinic.patients.search("Siobhán")[0].date_of_birth.isoformat() == "2008-01-12"


def test_alt_and_the_underlined_letter_still_answer_a_prompt(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    form = window.patient_page().form
    type_text(form.edits["given_name"], "Zoë")
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    box = _box(qtbot, "unsavedPatient")
    assert box.button(QMessageBox.StandardButton.Discard).text() == "&Discard"
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    _gone(qtbot, "unsavedPatient")
    assert form.edits["given_name"].text() == ""  # discarded: a new, empty form
    assert clinic.patients.count() == 0


def test_typing_into_the_move_checklist_prompt_moves_nothing(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    old = start_old(clinic, clinic.patients.register(patient_fields()).id, green_answers())
    window.show_consultation(old)
    page = window.consultation_page()
    page.ask_upgrade()
    box = _box(qtbot, "moveChecklist")
    _type_into(box)
    assert _open("moveChecklist")
    assert clinic.consultations.get(old).checklist_version == OLD
    close_message_boxes()


def test_typing_into_the_changed_elsewhere_prompt_reloads_nothing(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    pid = clinic.patients.register(patient_fields()).id
    cid = clinic.consultations.start(pid, clinician="Dr Ada Lovelace").id
    window.show_consultation(cid)
    page = window.consultation_page()
    page.go_to_step(CHECKLIST)
    clinic.consultations.save_draft(cid, answers={"G1": "yes"})  # another computer
    answer(page.checklist, {"G10": "IV"})
    box = _box(qtbot, "staleRecord")
    _type_into(box)
    assert _open("staleRecord")
    assert page.checklist.answers().get("G10") == "IV"  # still what was typed here
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    _gone(qtbot, "staleRecord")
    assert page.checklist.answers()["G1"] == "yes"  # reloaded on Enter
    assert "G10" in page.notice.text()


def test_typing_into_the_restore_prompts_restores_nothing(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    restored: list[Path] = []
    monkeypatch.setattr(window.admin, "restore_from", lambda src, **_kw: restored.append(src))
    window.admin.confirm_restore(tmp_path / "backup.sqlite")
    box = _box(qtbot, "confirmRestore")
    _type_into(box)
    assert _open("confirmRestore") and restored == []
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # Enter: Cancel, the default
    _gone(qtbot, "confirmRestore")
    QTest.qWait(50)
    assert restored == []

    window.admin._confirm_other_clinic(tmp_path / "other.sqlite", OtherClinic("Another clinic."))
    box = _box(qtbot, "otherClinic")
    _type_into(box)
    assert _open("otherClinic") and restored == []
    close_message_boxes()


def test_typing_into_the_no_printer_prompt_or_a_message_does_nothing(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    owner.show()
    acted: list[str] = []
    box = printing.no_printer_box(owner, lambda: acted.append("save"), lambda: acted.append("open"))
    box.setObjectName("noPrinter")
    _box(qtbot, "noPrinter")
    _type_into(box)
    assert _open("noPrinter") and acted == []
    box.close()
    note = message_box(owner, QMessageBox.Icon.Warning, "Please check the details", "Read me.")
    _box(qtbot, "messageBox")
    _type_into(note)
    assert _open("messageBox")  # closed only on purpose
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not message_boxes())


def test_every_message_box_of_the_window_is_a_prompt() -> None:
    """A QMessageBox made directly (or by its static helpers) answers to typed letters."""
    found: list[str] = []
    for path in sorted((ROOT / "desktop" / "ui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            direct = isinstance(f, ast.Name) and f.id == "QMessageBox"
            static = (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id == "QMessageBox"
                and f.attr in {"question", "warning", "critical", "information"}
            )
            if direct or static:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], "use desktop.ui.common.messages.Prompt: " + ", ".join(found)


def test_cancel_puts_the_cursor_back_where_typing_was(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    window.new_patient()
    form = window.patient_page().form
    form.edits["family_name"].setFocus()
    type_text(form.edits["family_name"], "O'Brien")
    window.new_patient()
    _box(qtbot, "unsavedPatient")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    _gone(qtbot, "unsavedPatient")
    assert window.focusWidget() is form.edits["family_name"]  # the cursor when it is active
    assert form.edits["family_name"].text() == "O'Brien"
