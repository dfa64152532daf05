"""Two windows on one consultation: the older one's save is refused, and nothing typed is lost."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import CHECKLIST
from desktop.ui.consultation.page import ConsultationPage
from tests.helpers.answers import green_answers
from tests.helpers.patients import patient_fields
from tests.helpers.ui import answer, consultation_page


def _page(qtbot: QtBot, clinic: Clinic, cid: str) -> ConsultationPage:
    page = consultation_page(qtbot, clinic, cid, width=1200)
    page.go_to_step(CHECKLIST)
    return page


def test_an_older_window_is_told_who_changed_it_and_keeps_the_entries_to_redo(
    qtbot: QtBot, clinic: Clinic
) -> None:
    pid = clinic.patients.register(patient_fields()).id
    cid = clinic.consultations.start(pid, clinician="Dr Ada Lovelace").id
    clinic.consultations.save_draft(cid, answers=green_answers())
    a = _page(qtbot, clinic, cid)
    b = _page(qtbot, clinic, cid)
    answer(a.checklist, {"G1": "yes"})  # window A: an active infection, saved at once
    assert clinic.consultations.get(cid).answers["G1"] == "yes"
    answer(b.checklist, {"G10": "IV"})  # window B still shows G1 = no
    boxes = [w for w in b.findChildren(QMessageBox) if w.objectName() == "staleRecord"]
    assert len(boxes) == 1 and "Dr Ada Lovelace" in boxes[0].text()
    stored = clinic.consultations.get(cid)
    assert stored.answers["G1"] == "yes" and stored.answers["G10"] == "II"
    assert stored.decision == "defer"
    boxes[0].button(QMessageBox.StandardButton.Ok).click()
    assert b.checklist.answers()["G1"] == "yes"  # B now shows the current version
    notice = b.notice.text()
    assert "were not saved" in notice and "G10" in notice and "IV" in notice
    assert "G1 " not in notice  # what B did not change is not listed


def test_a_voided_signature_is_named_on_the_page(qtbot: QtBot, clinic: Clinic) -> None:
    from desktop.demo import PAD_H, PAD_W, signature_strokes

    pid = clinic.patients.register(patient_fields()).id
    cid = clinic.consultations.start(pid, clinician="Dr Ada Lovelace").id
    clinic.consultations.save_draft(cid, answers=green_answers())
    page = _page(qtbot, clinic, cid)
    clinic.documents.add_signature(
        cid, "patient", "Łukasz Żółć", signature_strokes("Ł Ż"), width=PAD_W, height=PAD_H
    )
    page.load(cid)
    page.go_to_step(CHECKLIST)
    answer(page.checklist, {"G3": "yes"})  # the sheet now says something else
    assert "after the patient signed" in page.notice.text()
    assert isinstance(page.notice, QWidget) and page.notice.isVisible()
