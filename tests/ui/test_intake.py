"""The whole intake through the window: patient, checklist, outcome, override, signatures, sign."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from shiboken6 import Shiboken

from desktop.clinic import Clinic
from desktop.ui.common.printing import PrintDialog
from desktop.ui.consultation.flow import ASSESSMENT, CHECKLIST, PREVIEW, PROCEDURE, SIGN, SIGNATURES
from desktop.ui.main_window import MainWindow
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import OWNER_PASSWORD
from tests.helpers.consultations import ready, sign_all
from tests.helpers.printing import FakePrinters
from tests.helpers.ui import answer, choose, draw_signature, message_boxes, type_text


def test_new_patient_to_signed_documents(qtbot: QtBot, window: MainWindow, clinic: Clinic) -> None:
    # A new patient, typed into the form (Ctrl+N).
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    page = window.patient_page()
    assert window.stack.currentWidget() is page
    form = page.form
    assert form.edits["given_name"].hasFocus()
    for name, text in (
        ("given_name", "Łukasz"),
        ("family_name", "Żółć"),
        ("date_of_birth", "02.04.1990"),
        ("phone", "+48 600 123 456"),
    ):
        type_text(form.edits[name], text)
    form.fitzpatrick.setCurrentIndex(form.fitzpatrick.findData("III"))
    form.save_button.click()
    patient = page.patient
    assert patient is not None and patient.full_name == "Łukasz Żółć"
    assert patient.date_of_birth.isoformat() == "1990-04-02"

    # A consultation: procedure, then the checklist through its generated widgets.
    page.start_button.click()
    cpage = window.consultation_page()
    assert window.stack.currentWidget() is cpage
    consultation = cpage.consultation
    assert consultation is not None
    cpage.go_to_step(PROCEDURE)
    choose(cpage.procedure.clinician, "Dr Ada Lovelace")  # a clinician account, not typed
    QTest.keyClicks(cpage.procedure.device, "Dermapen 4")
    cpage.procedure.needle_depth.setValue(0.5)
    QTest.keyClicks(cpage.procedure.areas, "cheeks, forehead")
    cpage.go_to_step(CHECKLIST)
    answer(cpage.checklist, stable_vitiligo_answers())
    stored = clinic.consultations.get(consultation.id)
    assert stored.procedure.device == "Dermapen 4"
    assert stored.procedure.areas == ("cheeks", "forehead")
    assert stored.assessment is not None and stored.assessment.vitiligo == "amber"

    # The outcome, shown in words and colour, with the fired rules and their sources.
    cpage.go_to_step(ASSESSMENT)
    view = cpage.assessment
    assert "AMBER" in view.vitiligo.heading.text()
    assert "PROCEED WITH CAUTION" in view.decision.heading.text()
    details = view.details.toPlainText()
    assert "A1" in details and "[C/D]" in details
    assert clinic.checklist.sources[19][:25] in details
    assert "AMBER" in cpage.steps.item(ASSESSMENT).text()

    # The clinician overrides, with a reason.
    view.override_decision.setCurrentIndex(view.override_decision.findData("proceed"))
    view.apply_button.click()
    assert "reason" in view.override_message.text()  # too short: refused inline
    QTest.keyClicks(view.override_reason, "Stable for six years; dermatologist letter on file.")
    view.apply_button.click()
    stored = clinic.consultations.get(consultation.id)
    assert stored.override is not None and stored.override.decision == "proceed"
    assert "override" in view.decision.heading.text().lower()
    assert stored.override.author == "Dr Ada Lovelace"  # the signed-in clinician, not typed
    assert view.override_author.isReadOnly()
    assert view.clear_button.isVisible()

    # The consent preview is the real PDF.
    cpage.go_to_step(PREVIEW)
    assert cpage.preview_step().page_count() >= 1

    # Signatures drawn on the pads with mouse events.
    cpage.go_to_step(SIGNATURES)
    panels = cpage.signatures.panels
    assert set(panels) == {"patient", "clinician"}
    draw_signature(panels["patient"].pad)
    panels["patient"].accept_button.click()
    clinician = panels["clinician"]
    draw_signature(clinician.pad)
    assert not clinician.accept_button.isEnabled()  # the password confirms the signature
    QTest.keyClicks(clinician.password, OWNER_PASSWORD)
    clinician.accept_button.click()
    assert {s.role for s in clinic.documents.signatures(consultation.id)} == {
        "patient",
        "clinician",
    }

    # Sign: sealed PDFs are stored, the record locks.
    cpage.go_to_step(SIGN)
    step = cpage.sign_step()
    assert "missing" not in step.readiness.text()
    step.sign_button.click()  # sealed on a worker thread
    qtbot.waitUntil(lambda: clinic.consultations.get(consultation.id).state == "signed")
    qtbot.waitUntil(lambda: step.running is None and step.documents.rowCount() == 2)
    docs = clinic.documents.for_consultation(consultation.id)
    assert {d.kind for d in docs} == {"consent", "aftercare"}
    assert clinic.consultations.get(consultation.id).state == "signed"
    assert step.documents.rowCount() == 2
    assert cpage.checklist.questions["V1"].buttons["yes"].isEnabled() is False
    reader = PdfReader(io.BytesIO(clinic.documents.pdf(docs[0].id)))
    assert len(reader.pages) >= 1
    assert not message_boxes()

    # Ctrl+P prints the selected sealed document; the window was given no printer: it says so.
    QTest.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(message_boxes()) == 1)  # printers are asked for on a worker
    (box,) = message_boxes()
    assert box.text() == "No printer is installed on this computer."
    box.close()
    qtbot.waitUntil(lambda: not message_boxes())

    # Print preview: the stored, sealed PDF page by page, with a Print button.
    step.preview_document()
    preview = step.preview_dialog
    assert preview is not None and preview.isVisible()
    selected = step.selected_document()
    assert selected is not None
    shown = PdfReader(io.BytesIO(clinic.documents.pdf(selected.id)))
    assert preview.document.pageCount() == len(shown.pages)
    preview.close()
    qtbot.waitUntil(lambda: not Shiboken.isValid(preview), timeout=5000)


@pytest.mark.parametrize("printers", [FakePrinters("ClinicPDF")], ids=["one printer"])
def test_ctrl_p_with_a_printer_opens_the_print_dialog_for_the_sealed_consent(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, printers: FakePrinters
) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    consent = next(d for d in clinic.documents.sign(cid) if d.kind == "consent")
    window.show_consultation(cid)
    cpage = window.consultation_page()
    assert cpage.sign_step().selected_document() == consent  # the first sheet is selected

    QTest.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    step = cpage.sign_step()
    qtbot.waitUntil(lambda: isinstance(step.print_dialog, PrintDialog))
    assert printers.asked == 1
    assert cpage.current_step() == SIGN
    assert not message_boxes()  # no "No printer installed" message
    dialog = step.print_dialog
    assert isinstance(dialog, PrintDialog) and dialog.isVisible()
    assert dialog.chosen() == ("ClinicPDF", 1, "A4")
    dialog.reject()  # cancelled: nothing is sent
    qtbot.waitUntil(lambda: not Shiboken.isValid(dialog), timeout=5000)
    assert printers.jobs == []
