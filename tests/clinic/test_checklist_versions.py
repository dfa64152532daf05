"""Checklist versions: each consultation keeps its own for ever; drafts may move to the newest."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from desktop.checklist import assessment_from_json
from desktop.clinic import Clinic, load_checklist, sheets
from desktop.clinic.checklists import available_versions
from desktop.errors import Conflict, PermissionDenied, StaleRecord, ValidationError
from desktop.models import (
    ClinicProfile,
    Consultation,
    Override,
    Patient,
    Procedure,
    Signature,
)
from desktop.models import TestSpot as Spot  # aliased: pytest would try to collect "Test*"
from desktop.models import TestSpotReview as SpotReview
from tests.helpers.answers import NEW, NEW_QUESTIONS, OLD, green_answers, old_answers
from tests.helpers.consultations import sign_all, start_old
from tests.helpers.patients import patient_fields

FIXTURE = Path(__file__).parents[1] / "fixtures" / "signed-2026.11.1.json"


# ---------------------------------------------------------------- loading versions


def test_every_version_loads_once_and_an_unknown_one_is_refused() -> None:
    assert available_versions() == (OLD, NEW)
    assert load_checklist().version == NEW
    assert load_checklist(version=OLD) is load_checklist(version=OLD)  # cached
    assert load_checklist(version=NEW) is load_checklist()
    for bad in ("2026.10.9", "../vitiligo-microneedling", "latest"):
        with pytest.raises(ValidationError) as err:
            load_checklist(version=bad)
        assert bad[:10] in str(err.value)
    with pytest.raises(ValidationError, match=r"the versions are 2026\.11\.1, 2026\.12\.1"):
        load_checklist(version="2026.10.9")


def test_each_sheet_template_serves_its_checklist_version() -> None:
    for kind in ("consent", "aftercare", "referral"):
        assert sheets.template(kind, OLD).version == OLD
        assert sheets.template(kind, NEW).version == NEW
        with pytest.raises(ValidationError, match=r"No \w+ sheet template is kept for checklist"):
            sheets.template(kind, "2025.1.1")


def test_new_consultations_use_the_newest_version(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id)
    assert (c.checklist_id, c.checklist_version) == ("vitiligo-microneedling", NEW)
    c = clinic.consultations.save_draft(c.id, answers=green_answers())
    assert c.assessment is not None and c.assessment.checklist_version == NEW
    assert clinic.consultations.overview(c.id).newer_checklist is None


# ---------------------------------------------------------------- old records stay old


def test_a_draft_on_2026_11_1_is_assessed_with_2026_11_1(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    cid = start_old(clinic, p.id, green_answers())
    c = clinic.consultations.get(cid)
    assert c.assessment is not None and c.assessment.checklist_version == OLD
    assert clinic.consultations.checklist_for(c).version == OLD
    assert clinic.consultations.overview(cid).missing == ()
    assert clinic.consultations.overview(cid).newer_checklist == NEW
    # Questions of the later version are not questions of this one.
    with pytest.raises(ValidationError, match="V12: not a question of checklist"):
        clinic.consultations.save_draft(cid, answers=green_answers())


def plain_date(text: str) -> date:
    return date.fromisoformat(text)


def plain_datetime(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def consultation_of(d: dict[str, Any]) -> Consultation:
    o = d["override"]
    return Consultation(
        **{
            **d,
            "date": plain_date(d["date"]),
            "procedure": Procedure(**{**d["procedure"], "areas": tuple(d["procedure"]["areas"])}),
            "answers": {k: tuple(v) if isinstance(v, list) else v for k, v in d["answers"].items()},
            "assessment": assessment_from_json(
                {
                    **d["assessment"],
                    "checklist": {
                        "id": d["assessment"]["checklist_id"],
                        "version": d["assessment"]["checklist_version"],
                    },
                }
            ),
            "override": None if o is None else Override(**{**o, "at": plain_datetime(o["at"])}),
            "created": plain_datetime(d["created"]),
            "updated": plain_datetime(d["updated"]),
            "signed_at": plain_datetime(d["signed_at"]),
        }
    )


def signature_of(d: dict[str, Any]) -> Signature:
    return Signature(
        **{
            **d,
            "strokes": tuple(tuple(tuple(p) for p in s) for s in d["strokes"]),
            "signed_at": datetime.fromisoformat(d["signed_at"]),
        }
    )


def spot_of(d: dict[str, Any]) -> Spot:
    reviews = tuple(
        SpotReview(**{**r, "reviewed_on": plain_date(r["reviewed_on"])}) for r in d["reviews"]
    )
    return Spot(**{**d, "done_on": plain_date(d["done_on"]), "reviews": reviews})


FIXTURE_DATA = json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", sorted(FIXTURE_DATA["cases"]))
def test_sheets_signed_under_2026_11_1_compose_exactly_as_signed(case: str) -> None:
    """Records signed under 2026.11.1 by the code of that release (tests/fixtures) compose
    today to the very content whose hash was stored when they were sealed."""
    data = FIXTURE_DATA["cases"][case]
    assert FIXTURE_DATA["checklist_version"] == OLD
    c = consultation_of(data["consultation"])
    assert (c.checklist_version, c.state) == (OLD, "signed")
    patient = Patient(
        **{
            **data["patient"],
            "date_of_birth": plain_date(data["patient"]["date_of_birth"]),
            "created": plain_datetime(data["patient"]["created"]),
            "updated": plain_datetime(data["patient"]["updated"]),
        }
    )
    profile = ClinicProfile(**{**data["profile"], "logo_png": None})
    assert c.signed_at is not None
    for kind, doc in data["documents"].items():
        _, content = sheets.compose(
            kind,
            profile=profile,
            patient=patient,
            consultation=c,
            signatures=[signature_of(s) for s in data["signatures"]],
            test_spots=[spot_of(s) for s in data["test_spots"]],
            checklist=load_checklist(version=c.checklist_version),
            document_id=doc["document_id"],
            now=c.signed_at,
        )
        assert content.template_version == doc["template_version"] == OLD
        assert content.canonical_json() == doc["canonical_json"]
        assert content.content_sha256() == doc["content_sha256"]


def test_the_2026_11_1_faults_stay_in_its_signed_sheets_and_not_in_new_ones() -> None:
    """What the signed 2026.11.1 sheets said (kept exactly), and what 2026.12.1 says now."""
    signed = FIXTURE_DATA["cases"]["vitiligo_thyroid_old_spot"]["documents"]
    assert "around 30 Jun 2025" in signed["aftercare"]["canonical_json"]
    assert "more likely to develop vitiligo" in signed["aftercare"]["canonical_json"]
    referral = FIXTURE_DATA["cases"]["active_vitiligo"]["documents"]["referral"]
    assert "Stable vitiligo." in referral["canonical_json"]


# ---------------------------------------------------------------- moving a draft


def test_a_draft_moves_to_the_newest_version_keeping_its_answers(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    cid = start_old(clinic, p.id, green_answers() | {"V10": ["thyroid"]})
    before = clinic.consultations.get(cid)
    assert before.assessment is not None
    moved = clinic.consultations.upgrade_checklist(cid, revision=before.revision)
    assert (moved.checklist_version, moved.revision) == (NEW, before.revision + 1)
    assert dict(moved.answers) == dict(before.answers)
    assert moved.assessment is None  # the new questions are not answered yet
    overview = clinic.consultations.overview(cid)
    assert overview.missing == NEW_QUESTIONS
    assert overview.newer_checklist is None
    done = clinic.consultations.record_answers(cid, {"V12": "no", "G14": "no", "G15": "no"})
    assert done.assessment is not None and done.assessment.checklist_version == NEW
    assert done.assessment.fired_ids() == ("D1",)


def test_moving_a_draft_is_audited_naming_the_versions_and_new_questions(
    clinic: Clinic,
) -> None:
    p = clinic.patients.register(patient_fields())
    cid = start_old(clinic, p.id, green_answers())
    clinic.consultations.upgrade_checklist(cid)
    rows = clinic.audit.entries(action="upgrade checklist")
    assert len(rows) == 1 and rows[0].target == f"consultation:{cid}"
    detail = json.loads(rows[0].detail)
    assert detail == {
        "from_version": OLD,
        "to_version": NEW,
        "dropped": [],
        "new_questions": list(NEW_QUESTIONS),
    }


def test_moving_clears_an_override_and_voids_signatures_like_any_change(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    cid = start_old(clinic, p.id, green_answers() | {"V1": "yes", "V2": "segmental",
                    "V3": "gt_12m", "V4": "no", "V11": []} | {"V8": None})  # fmt: skip
    clinic.consultations.override(cid, "proceed", "Dermatologist letter: stable 6 years", "x")
    sign_all(clinic, cid, own_hand=True)
    assert clinic.documents.signatures(cid)
    moved = clinic.consultations.upgrade_checklist(cid)
    assert moved.override is None and moved.assessment is None
    assert clinic.documents.signatures(cid) == []


def test_moving_is_refused_for_signed_and_newest_and_stale_and_without_permission(
    clinic: Clinic, tmp_path: Path
) -> None:
    p = clinic.patients.register(patient_fields())
    newest = clinic.consultations.start(p.id)
    with pytest.raises(Conflict, match="already uses the newest checklist"):
        clinic.consultations.upgrade_checklist(newest.id)
    cid = start_old(clinic, p.id, green_answers())
    c = clinic.consultations.get(cid)
    with pytest.raises(StaleRecord):
        clinic.consultations.upgrade_checklist(cid, revision=c.revision - 1)
    assert clinic.consultations.get(cid).checklist_version == OLD
    sign_all(clinic, cid, own_hand=True)
    clinic.documents.sign(cid)
    signed = clinic.consultations.get(cid)
    with pytest.raises(Conflict, match="stays on it"):
        clinic.consultations.upgrade_checklist(cid)
    assert clinic.consultations.get(cid) == signed
    # The sheets of a consultation signed on 2026.11.1 were made with its own templates.
    assert {d.template_version for d in clinic.documents.for_consultation(cid)} == {OLD}
    clinic.session.logout()
    with pytest.raises(PermissionDenied):
        clinic.consultations.upgrade_checklist(cid)


def test_an_addendum_uses_the_newest_version_and_carries_the_answers(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    cid = start_old(clinic, p.id, green_answers())
    sign_all(clinic, cid, own_hand=True)
    clinic.documents.sign(cid)
    addendum = clinic.consultations.start_addendum(
        cid, reason="The skin type was recorded wrongly."
    )
    assert addendum.checklist_version == NEW and addendum.amends_id == cid
    assert dict(addendum.answers) == old_answers(green_answers()) | {
        "V6": (),
        "V10": (),
    }
    assert addendum.assessment is None
    assert clinic.consultations.overview(addendum.id).missing == NEW_QUESTIONS
