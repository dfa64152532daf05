"""The signatures step asks for the signatures the sheets print: a deferred consultation's
referral is signed by the clinician alone."""

from __future__ import annotations

from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import PREVIEW, SIGN, SIGNATURES
from desktop.ui.main_window import MainWindow
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import OWNER_PASSWORD
from tests.helpers.consultations import ready
from tests.helpers.ui import draw_signature


def test_a_deferred_consultation_asks_the_clinician_alone_to_sign(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    cid = ready(clinic, stable_vitiligo_answers() | {"V3": "le_6w"})  # active vitiligo: defer
    window.show_consultation(cid)
    page = window.consultation_page()
    page.go_to_step(PREVIEW)
    page.go_to_step(SIGNATURES)
    step = page.signatures
    assert list(step.panels) == ["clinician"]
    assert "no consent to sign" in step.intro.text() and "signs nothing" in step.intro.text()
    assert not step.add_witness.isEnabled() and not step.add_interpreter.isEnabled()
    assert "clinician's signature only" in step.add_interpreter.toolTip()
    assert page.steps.item(SIGNATURES).text().endswith("0 of 1 signed")
    clinician = step.panels["clinician"]
    draw_signature(clinician.pad)
    QTest.keyClicks(clinician.password, OWNER_PASSWORD)
    clinician.accept_button.click()
    assert page.steps.item(SIGNATURES).text().endswith("1 of 1 signed")
    page.go_to_step(SIGN)
    sign = page.sign_step()
    assert "missing" not in sign.readiness.text()
    sign.sign_button.click()
    qtbot.waitUntil(lambda: clinic.consultations.get(cid).state == "signed", timeout=10_000)
    qtbot.waitUntil(lambda: sign.documents.rowCount() == 1, timeout=10_000)
    assert sign.documents.record(0).kind == "referral"
