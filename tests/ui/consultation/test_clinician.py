"""The clinician named on step 1 is the one who signs: the signing steps say so before anyone
signs, and offer to name the signed-in clinician in one click."""

from __future__ import annotations

from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import PREVIEW, PROCEDURE, SIGN, SIGNATURES
from desktop.ui.main_window import MainWindow
from tests.helpers.clinics import OWNER_PASSWORD
from tests.helpers.consultations import ready
from tests.helpers.ui import draw_signature, mnemonic_clashes


def test_a_draft_naming_another_clinician_says_so_and_one_click_names_you(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    clinic.accounts.create("amir", "Dr Amir Haddad", ("clinician",), "amir's own password")
    cid = ready(clinic)
    clinic.consultations.save_draft(cid, clinician="Dr Amir Haddad")
    window.show_consultation(cid)
    page = window.consultation_page()
    page.go_to_step(PREVIEW)  # the sheet is shown to the patient (it names Dr Amir Haddad)
    page.go_to_step(SIGNATURES)
    step = page.signatures
    notice = step.clinician_notice
    # before anyone signs, the step says who is named, who is signed in, and what to do
    assert notice.isVisible()
    text = notice.text.text()
    assert "names Dr Amir Haddad" in text and "signed in as Dr Ada Lovelace" in text
    assert "Dr Amir Haddad signs in" in text and "make yourself the clinician" in text
    assert not mnemonic_clashes(window), mnemonic_clashes(window)
    # the clinician's pad cannot be accepted, and says why
    clinician = step.panels["clinician"]
    draw_signature(clinician.pad)
    QTest.keyClicks(clinician.password, OWNER_PASSWORD)
    assert not clinician.accept_button.isEnabled()
    assert "Only Dr Amir Haddad" in clinician.status.text()
    # the sign step lists it as what is missing
    page.go_to_step(SIGN)
    sign = page.sign_step()
    assert sign.clinician_notice.isVisible()
    assert "named on step 1 (Dr Amir Haddad)" in sign.readiness.text()

    # the patient signs on the sheet naming Dr Amir Haddad; then the clinician is changed
    page.go_to_step(SIGNATURES)
    patient = step.panels["patient"]
    draw_signature(patient.pad)
    patient.accept_button.click()
    assert [s.role for s in clinic.documents.signatures(cid)] == ["patient"]
    assert "must be given again" in notice.text.text()
    updates = len(clinic.audit.entries(action="update consultation"))
    notice.button.click()  # one click
    stored = clinic.consultations.get(cid)
    assert stored.clinician == "Dr Ada Lovelace"
    assert len(clinic.audit.entries(action="update consultation")) == updates + 1
    assert not notice.isVisible()
    assert page.procedure.clinician_name() == "Dr Ada Lovelace"  # step 1 shows it too
    # the patient's signature was on a sheet naming someone else: the page says it is voided
    assert clinic.documents.signatures(cid) == []
    assert "patient signed" in page.notice.text()
    # later typing on step 1 keeps the new clinician
    page.go_to_step(PROCEDURE)
    QTest.keyClicks(page.procedure.device, " 4")
    page.flush()
    assert clinic.consultations.get(cid).clinician == "Dr Ada Lovelace"

    # now the signed-in clinician can sign
    page.go_to_step(PREVIEW)
    page.go_to_step(SIGNATURES)
    clinician = step.panels["clinician"]
    clinician.pad.clear()
    clinician.password.clear()
    draw_signature(clinician.pad)
    QTest.keyClicks(clinician.password, OWNER_PASSWORD)
    assert clinician.accept_button.isEnabled()
    clinician.accept_button.click()
    assert [s.signer_name for s in clinic.documents.signatures(cid)] == ["Dr Ada Lovelace"]


def test_the_named_clinician_signed_in_sees_no_notice(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    cid = ready(clinic)  # names Dr Ada Lovelace, who is signed in
    window.show_consultation(cid)
    page = window.consultation_page()
    page.go_to_step(SIGNATURES)
    assert not page.signatures.clinician_notice.isVisible()
    page.go_to_step(SIGN)
    assert not page.sign_step().clinician_notice.isVisible()
    assert "named on step 1" not in page.sign_step().readiness.text()
