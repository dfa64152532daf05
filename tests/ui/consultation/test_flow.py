"""The consultation flow model, headless: step statuses, the step to open, readiness to sign."""

from __future__ import annotations

import subprocess
import sys

from desktop.checklist import missing_required
from desktop.clinic import Clinic
from desktop.demo import PAD_H, PAD_W
from desktop.ui.consultation.flow import (
    ASSESSMENT,
    CHECKLIST,
    PREVIEW,
    PROCEDURE,
    SIGN,
    SIGNATURES,
    STEPS,
    ConsultationFlow,
)
from tests.helpers.answers import green_answers
from tests.helpers.consultations import STROKES, ready, sign_all
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields


def flow(clinic: Clinic, consultation_id: str) -> ConsultationFlow:
    return ConsultationFlow(clinic.consultations.overview(consultation_id))


def statuses(f: ConsultationFlow) -> list[str]:
    return [f.status(step) for step in range(len(STEPS))]


def test_a_new_consultation_opens_on_the_procedure_and_waits_for_the_checklist(
    clinic: Clinic,
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    f = flow(clinic, c.id)
    unanswered = len(missing_required(clinic.checklist, {}))
    assert f.start_step() == PROCEDURE
    assert statuses(f) == [
        "",
        f"▲ {unanswered} to answer",
        "waiting for the checklist",
        "",
        "",
        "seal the documents",
    ]
    assert f.label(PROCEDURE) == "1  Procedure"
    assert f.label(CHECKLIST) == f"2  Checklist\n     ▲ {unanswered} to answer"
    assert f.assessment is None and f.required_signers == () and f.signatures_done() == (0, 0)
    assert f.readiness(clinic.checklist) == (
        (False, "Checklist complete and assessed"),
        (False, "Responsible clinician named (step 1)"),
    )

    clinic.consultations.save_draft(c.id, answers={"V1": "no"})
    partly = flow(clinic, c.id)
    assert partly.start_step() == CHECKLIST
    assert partly.status(CHECKLIST) == f"▲ {unanswered - 1} to answer"


def test_a_complete_checklist_shows_its_outcome_signers_and_override(clinic: Clinic) -> None:
    cid = ready(clinic)  # stable vitiligo: amber, proceed with caution
    f = flow(clinic, cid)
    assert f.start_step() == ASSESSMENT
    assert f.status(CHECKLIST) == "✔ complete"
    assert f.status(ASSESSMENT) == "▲ AMBER · caution"
    assert f.status(SIGNATURES) == "0 of 2 signed"
    assert f.assessment is not None and f.assessment.vitiligo == "amber"
    decision = clinic.checklist.outcome("decision", "caution").label
    assert f.readiness(clinic.checklist) == (
        (True, "Checklist complete and assessed"),
        (True, "Responsible clinician named (step 1)"),
        (True, f"Decision: {decision}"),
        (False, "Signature: Patient"),
        (False, "Signature: Clinician"),
    )

    # The override is printed on the consent, so it comes before the patient signs it.
    clinic.consultations.override(cid, "proceed", "Stable for six years; letter on file.")
    clinic.documents.add_signature(
        cid, "patient", "Łukasz Żółć", STROKES, width=PAD_W, height=PAD_H
    )
    f = flow(clinic, cid)
    assert f.status(SIGNATURES) == "1 of 2 signed"
    assert f.status(ASSESSMENT) == "▲ AMBER · proceed (override)"
    assert f.signatures_done() == (1, 2)
    lines = dict((text, ok) for ok, text in f.readiness(clinic.checklist))
    proceed = clinic.checklist.outcome("decision", "proceed").label
    assert lines[f"Decision: {proceed} (override)"] is True
    assert lines["Signature: Patient"] is True and lines["Signature: Clinician"] is False


def test_a_minor_needs_the_guardian_in_the_readiness_list(clinic: Clinic) -> None:
    cid = ready(clinic, green_answers(), date_of_birth="2010-06-01")
    f = flow(clinic, cid)
    assert f.required_signers == ("guardian", "clinician")
    texts = [text for _ok, text in f.readiness(clinic.checklist)]
    assert "Signature: Parent or guardian (the patient is under 18)" in texts


def test_a_signed_consultation_opens_on_sign_and_print(clinic: Clinic) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    clinic.documents.sign(cid)
    f = flow(clinic, cid)
    assert f.signed and f.start_step() == SIGN
    assert f.status(CHECKLIST) == ""  # nothing left to answer on a signed record
    assert f.status(SIGN) == "✔ signed: print, open, save"
    assert f.status(SIGNATURES) == "2 of 2 signed"
    assert f.status(PREVIEW) == ""
    assert f.readiness(clinic.checklist) == ()
    assert {d.kind for d in f.overview.documents} == {"consent", "aftercare"}


def test_the_flow_model_loads_without_qt() -> None:
    code = (
        "import sys, desktop.ui.consultation.flow; "
        "qt = sorted(m for m in sys.modules if m.startswith('PySide6')); "
        "assert not qt, qt"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
