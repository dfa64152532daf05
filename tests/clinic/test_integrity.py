"""A record that holds: revisions refuse stale saves, signatures stay bound to what was shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desktop.clinic import Clinic
from desktop.demo import PAD_H, PAD_W
from desktop.errors import Conflict, StaleRecord, ValidationError
from desktop.models import Procedure
from tests.helpers.answers import green_answers, stable_vitiligo_answers
from tests.helpers.clinics import OWNER_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import STROKES, ready, sign_all
from tests.helpers.patients import patient_fields

DEFER = dict(stable_vitiligo_answers(), V3="le_6w")  # active vitiligo: red, defer


def test_every_saved_change_raises_the_revision_and_names_who_saved_it(clinic: Clinic) -> None:
    cid = ready(clinic)
    first = clinic.consultations.get(cid)
    second = clinic.consultations.save_draft(cid, answers={**green_answers(), "G1": "yes"})
    assert second.revision == first.revision + 1
    assert second.updated_by == "owner"
    assert clinic.consultations.get(cid).revision == second.revision


def test_a_save_from_an_older_revision_is_refused_and_changes_nothing(
    clinic: Clinic, clock: FakeClock
) -> None:
    cid = ready(clinic, green_answers())
    loaded_a = loaded_b = clinic.consultations.get(cid)
    # Window A records an active infection.
    clock.advance(minutes=2)
    a = clinic.consultations.save_draft(
        cid, answers={**green_answers(), "G1": "yes"}, revision=loaded_a.revision
    )
    assert a.decision == "defer"
    # Window B still shows the older form and changes only the skin type.
    with pytest.raises(StaleRecord) as refused:
        clinic.consultations.save_draft(
            cid, answers={**green_answers(), "G10": "IV"}, revision=loaded_b.revision
        )
    assert "Dr Ada Lovelace" in refused.value.message and "10:32" in refused.value.message
    assert "nothing was saved" in refused.value.message
    now = clinic.consultations.get(cid)
    assert now.answers["G1"] == "yes" and now.answers["G10"] == "II"
    assert now.decision == "defer" and now.revision == a.revision
    # Reloaded, B's change goes through.
    b = clinic.consultations.save_draft(
        cid, answers={**now.answers, "G10": "IV"}, revision=now.revision
    )
    assert b.answers["G1"] == "yes" and b.answers["G10"] == "IV"


def test_a_stale_patient_edit_is_refused(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    clinic.patients.update(p.id, {"phone": "+48 600 000 001"}, revision=p.revision)
    with pytest.raises(StaleRecord, match="patient record was changed"):
        clinic.patients.update(p.id, {"notes": "allergic to nickel"}, revision=p.revision)
    assert clinic.patients.get(p.id).notes == ""


def test_a_change_to_the_sheet_voids_the_signatures_taken_on_the_older_sheet(
    clinic: Clinic,
) -> None:
    p = clinic.patients.register(patient_fields())
    cid = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace").id
    clinic.consultations.save_draft(cid, answers=DEFER)
    assert clinic.documents.kinds(cid) == ("referral",)
    shown = clinic.documents.preview(cid, "referral")
    # the referral is the clinician's to sign (a deferral has no consent)
    clinic.documents.add_signature(
        cid, "clinician", "Dr Ada Lovelace", STROKES, width=PAD_W, height=PAD_H,
        password=OWNER_PASSWORD, content_sha256=shown.content_sha256,
    )  # fmt: skip
    # The front desk then turns the answers green, deepens the needle and adds eyelids.
    clinic.consultations.save_draft(
        cid,
        answers=green_answers(),
        procedure=Procedure(device="Dermapen 4", needle_depth_mm=2.5, areas=("face", "eyelids")),
    )
    assert clinic.documents.signatures(cid) == []
    voided = clinic.audit.entries(action="void signature")
    assert [v.detail for v in voided] and "clinician" in voided[-1].detail
    assert "changed after they signed" in voided[-1].detail
    # A signature captured against the sheet shown before the change is refused.
    with pytest.raises(Conflict, match="changed since it was shown"):
        clinic.documents.add_signature(
            cid, "patient", "Łukasz Żółć", STROKES, width=PAD_W, height=PAD_H,
            content_sha256=shown.content_sha256,
        )  # fmt: skip
    sign_all(clinic, cid)
    assert len(clinic.documents.sign(cid)) == 2


def test_an_unchanged_sheet_keeps_its_signatures(clinic: Clinic) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    before = clinic.documents.signatures(cid)
    c = clinic.consultations.get(cid)
    clinic.consultations.save_draft(cid, answers=dict(c.answers), revision=c.revision)
    assert clinic.documents.signatures(cid) == before
    clinic.documents.sign(cid)


def test_a_patient_detail_change_voids_the_signatures_on_their_drafts(clinic: Clinic) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    pid = clinic.consultations.get(cid).patient_id
    clinic.patients.update(pid, {"family_name": "Żółć-Nowak"})
    assert clinic.documents.signatures(cid) == []
    with pytest.raises(ValidationError, match="Signatures missing"):
        clinic.documents.sign(cid)


def test_signing_refuses_a_signature_whose_content_changed_outside_a_save(
    clinic: Clinic,
) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    clinic.settings.update_profile(name="Renamed Skin Clinic")  # printed on every sheet
    with pytest.raises(ValidationError, match="must see the sheet again and sign again"):
        clinic.documents.sign(cid)
    assert clinic.documents.signatures(cid) == []
    assert clinic.consultations.get(cid).state == "draft"


def test_the_patient_signs_only_once_a_clinician_is_named(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    cid = clinic.consultations.start(p.id).id
    clinic.consultations.save_draft(cid, answers=stable_vitiligo_answers())
    with pytest.raises(ValidationError, match="Name the clinician"):
        clinic.documents.add_signature(
            cid, "patient", "Łukasz Żółć", STROKES, width=PAD_W, height=PAD_H
        )
    assert clinic.documents.signatures(cid) == []


def test_a_consultation_changed_while_sealing_is_not_stored(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.clinic import sheets

    cid = ready(clinic)
    sign_all(clinic, cid)
    original = sheets.render

    def render_then_change(content: object, profile: object, **kw: object) -> bytes:
        data = original(content, profile, **kw)  # type: ignore[arg-type]
        c = clinic._store.consultations.get(cid)
        clinic._store.consultations.save(replace(c, revision=c.revision + 1))
        return data

    monkeypatch.setattr(sheets, "render", render_then_change)
    with pytest.raises(StaleRecord):
        clinic.documents.sign(cid)
    assert clinic.consultations.get(cid).state == "draft"
    assert clinic.documents.for_consultation(cid) == []
