"""Consultations through Clinic: drafts ready to sign, everyone's signature, older checklists."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.clinic import Clinic, load_checklist
from desktop.demo import PAD_H, PAD_W, signature_strokes
from desktop.models import Procedure
from tests.helpers.answers import OLD, green_answers, old_answers, stable_vitiligo_answers
from tests.helpers.clinics import OWNER_PASSWORD
from tests.helpers.patients import patient_fields

STROKES = signature_strokes("Łukasz Żółć")  # pen strokes in pad units (PAD_W x PAD_H)
TEST_PATIENT_STROKES = signature_strokes("Test Patient")


def ready(clinic: Clinic, answers: dict[str, object] | None = None, **patient: str) -> str:
    """A new patient (patient_fields(**patient)) and a draft with complete answers (stable
    vitiligo unless `answers`), by Dr Ada Lovelace: its id."""
    p = clinic.patients.register(patient_fields(**patient))
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(c.id, answers=answers or stable_vitiligo_answers())
    return c.id


def sign_all(clinic: Clinic, cid: str, *, own_hand: bool = False) -> None:
    """Capture every signature the consultation needs: Dr Ada Lovelace as the clinician (with
    the owner's password), Łukasz Żółć for any other role. Each draws STROKES, or with
    `own_hand` the strokes of their own name."""
    for role in clinic.documents.required_signers(cid):
        who = "Dr Ada Lovelace" if role == "clinician" else "Łukasz Żółć"
        clinic.documents.add_signature(
            cid, role, who, signature_strokes(who) if own_hand else STROKES,
            width=PAD_W, height=PAD_H, password=OWNER_PASSWORD,
        )  # fmt: skip


def ready_draft(clinic: Clinic, **patient: str) -> str:
    """A complete draft of a new patient (green answers, a procedure), everyone's signature
    captured on the preview: its id."""
    p = clinic.patients.register(patient_fields(**patient), allow_duplicate=True)
    c = clinic.consultations.start(
        p.id,
        clinician="Dr Ada Lovelace",
        procedure=Procedure(device="Pen", needle_depth_mm=0.5, product="HA", areas=("cheeks",)),
    )
    clinic.consultations.save_draft(c.id, answers=green_answers())
    shown = clinic.documents.preview(c.id).content_sha256
    for role in clinic.documents.required_signers(c.id):
        who = "Dr Ada Lovelace" if role == "clinician" else "Pat Test"
        clinic.documents.add_signature(
            c.id, role, who, TEST_PATIENT_STROKES, width=PAD_W, height=PAD_H,
            password=OWNER_PASSWORD, content_sha256=shown,
        )  # fmt: skip
    return c.id


def start_old(
    clinic: Clinic,
    patient_id: str,
    answers: dict[str, Any],
    *,
    clinician: str = "Dr Ada Lovelace",
    **kw: Any,
) -> str:
    """A draft as started before 2026.12.1 shipped: on 2026.11.1, through the Clinic API, with
    `answers` as that version asks them (old_answers). `kw` goes to consultations.start."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clinic.checklists, "_newest", load_checklist(version=OLD))
        c = clinic.consultations.start(patient_id, clinician=clinician, **kw)
        assert c.checklist_version == OLD
    clinic.consultations.save_draft(c.id, answers=old_answers(answers))
    return c.id
