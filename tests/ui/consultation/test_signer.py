"""A signer's panel: Accept is disabled with a reason until the pad holds a signature."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.signer import SHOW_FIRST, SignerPanel
from tests.helpers.answers import green_answers
from tests.helpers.patients import patient_fields
from tests.helpers.ui import draw_signature


def test_accept_is_disabled_with_a_reason_until_the_pad_holds_a_signature(
    qtbot: QtBot, clinic: Clinic
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, clinician="Dr Test")
    clinic.consultations.save_draft(c.id, answers=green_answers())
    shown = clinic.documents.preview(c.id).content_sha256
    panel = SignerPanel(clinic, c.id, "patient", patient.full_name, shown=lambda: shown)
    qtbot.addWidget(panel)
    panel.resize(700, 320)
    panel.show()
    qtbot.waitExposed(panel)
    assert not panel.accept_button.isEnabled()
    assert "empty" in panel.status.text()
    draw_signature(panel.pad, dot=True)
    assert not panel.accept_button.isEnabled()
    assert "dot" in panel.status.text()
    panel.clear_button.click()
    draw_signature(panel.pad)
    assert panel.accept_button.isEnabled()
    panel.name.clear()
    assert not panel.accept_button.isEnabled()
    panel.name.setText(patient.full_name)
    with qtbot.waitSignal(panel.signed):
        panel.accept_button.click()
    (stored,) = clinic.documents.signatures(c.id)
    assert stored.role == "patient" and stored.strokes == panel.pad.strokes()
    assert "Signed by" in panel.status.text()
    panel.remove_button.click()
    assert clinic.documents.signatures(c.id) == []
    assert panel.pad.strokes() == ()


def test_nobody_signs_before_the_sheet_was_shown(qtbot: QtBot, clinic: Clinic) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, clinician="Dr Test")
    clinic.consultations.save_draft(c.id, answers=green_answers())
    panel = SignerPanel(clinic, c.id, "patient", patient.full_name)  # no preview shown
    qtbot.addWidget(panel)
    panel.resize(700, 320)
    panel.show()
    qtbot.waitExposed(panel)
    draw_signature(panel.pad)
    assert not panel.accept_button.isEnabled()
    assert panel.status.text() == SHOW_FIRST


def test_a_sheet_changed_after_it_was_shown_refuses_the_signature(
    qtbot: QtBot, clinic: Clinic
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, clinician="Dr Test")
    clinic.consultations.save_draft(c.id, answers=green_answers())
    shown = clinic.documents.preview(c.id).content_sha256
    clinic.consultations.save_draft(c.id, answers=green_answers() | {"G10": "V"})
    panel = SignerPanel(clinic, c.id, "patient", patient.full_name, shown=lambda: shown)
    qtbot.addWidget(panel)
    panel.resize(700, 320)
    panel.show()
    qtbot.waitExposed(panel)
    draw_signature(panel.pad)
    panel.accept_button.click()
    assert "changed since it was shown" in panel.message.text()
    assert clinic.documents.signatures(c.id) == []
