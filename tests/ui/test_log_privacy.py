"""The log file never names a patient or quotes what was typed about them: IDs only."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.errors import DuplicatePatient, ValidationError
from desktop.ui.common.messages import show_intake_error
from desktop.ui.common.printing import write_pdf
from desktop.ui.main_window import MainWindow
from tests.helpers.consultations import ready, sign_all
from tests.helpers.patients import patient_fields
from tests.helpers.printing import FakePrinters
from tests.helpers.ui import close_message_boxes

SECRETS = ("Łukasz", "Żółć", "Zoë", "Ødegård", "Chen", "lukasz.zolc", "zoe@@odegard", "600 123 456")


def test_the_log_never_names_a_patient(
    qtbot: QtBot,
    window: MainWindow,
    clinic: Clinic,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    fields = patient_fields(email="lukasz.zolc@example.com")
    clinic.patients.register(fields)
    with pytest.raises(DuplicatePatient) as duplicate:  # the message names the patient
        clinic.patients.register(fields)
    show_intake_error(window, duplicate.value)
    with pytest.raises(ValidationError) as typo:  # the message quotes the typed address
        clinic.patients.register(
            patient_fields(given_name="Zoë", family_name="Ødegård", email="zoe@@odegard")
        )
    assert "zoe@@odegard" in typo.value.message
    show_intake_error(window, typo.value)
    close_message_boxes()

    cid = ready(clinic, given_name="Mei", family_name="Chen")
    sign_all(clinic, cid)
    doc = clinic.documents.sign(cid)[0]
    window.show_consultation(cid)
    data = clinic.documents.pdf(doc.id, "export")
    clinic.documents.print_document(doc.id, "ClinicPDF", service=FakePrinters("ClinicPDF"))
    write_pdf(tmp_path / "consent-Chen.pdf", data)

    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    for secret in SECRETS:
        assert secret not in logged, secret
    assert f"document {doc.id} sent to a printer" in logged  # IDs instead of names
    assert "DuplicatePatient" in logged and "field email" in logged
