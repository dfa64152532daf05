"""Test spots in the workflow: waiting for the 4-week review, late reviews, depigmentation flags."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desktop.clinic import Clinic
from desktop.errors import PermissionDenied, ValidationError
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import sign_all
from tests.helpers.patients import patient_fields


def spot_then_treatment(clinic: Clinic, clock: FakeClock) -> tuple[str, str, str]:
    """A test spot done 35 days ago at an amber consultation, and today's consultation for
    the full treatment: (patient, spot, today's consultation)."""
    p = clinic.patients.register(patient_fields())
    first = clinic.consultations.start(
        p.id, clinician="Dr Ada Lovelace", on=clock.now.date() - timedelta(days=35)
    )
    clinic.consultations.save_draft(first.id, answers=stable_vitiligo_answers())
    spot = clinic.test_spots.record(first.id, "behind the left ear", first.date)
    today = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(today.id, answers=stable_vitiligo_answers())
    return p.id, spot.id, today.id


def test_a_spot_without_its_4_week_review_defers_the_full_treatment(
    clinic: Clinic, clock: FakeClock
) -> None:
    _, _, cid = spot_then_treatment(clinic, clock)
    c = clinic.consultations.get(cid)
    assert c.assessment is not None and c.assessment.has("T2")
    assert (c.assessment.general, c.decision) == ("not_today", "defer")
    # No full-treatment consent can be sealed: the sheets are the referral only.
    assert clinic.documents.kinds(cid) == ("referral",)
    with pytest.raises(ValidationError, match="no treatment consent"):
        clinic.documents.preview(cid, "consent")


def test_a_late_4_week_review_is_accepted_and_ends_the_wait(
    clinic: Clinic, clock: FakeClock
) -> None:
    _, spot_id, cid = spot_then_treatment(clinic, clock)
    before = clinic.consultations.get(cid)
    late = clock.now.date()  # 35 days after the spot: a week late
    spot = clinic.test_spots.review(spot_id, 4, "no_change", "Dr Ada", on=late)
    assert spot.review(4) is not None and spot.review(4).reviewed_on == late  # type: ignore[union-attr]
    after = clinic.consultations.get(cid)
    assert after.revision == before.revision + 1
    assert after.assessment is not None and not after.assessment.has("T2")
    assert (after.assessment.vitiligo, after.decision) == ("amber", "caution")
    assert clinic.documents.kinds(cid) == ("consent", "aftercare")
    sign_all(clinic, cid, own_hand=True)
    docs = clinic.documents.sign(cid)
    assert [d.kind for d in docs] == ["consent", "aftercare"]


def test_a_review_dated_before_its_spot_is_refused(clinic: Clinic, clock: FakeClock) -> None:
    _, spot_id, cid = spot_then_treatment(clinic, clock)
    with pytest.raises(ValidationError, match="before its test spot"):
        clinic.test_spots.review(
            spot_id, 4, "no_change", "Dr Ada", on=clock.now.date() - timedelta(days=40)
        )
    assert clinic.consultations.get(cid).assessment.has("T2")  # type: ignore[union-attr]


def test_recording_a_spot_reassesses_later_drafts(clinic: Clinic, clock: FakeClock) -> None:
    p = clinic.patients.register(patient_fields())
    earlier = clinic.consultations.start(p.id, on=clock.now.date() - timedelta(days=30))
    today = clinic.consultations.start(p.id)
    today = clinic.consultations.save_draft(today.id, answers=stable_vitiligo_answers())
    assert today.assessment is not None and not today.assessment.has("T2")
    clinic.test_spots.record(earlier.id, "left jawline", earlier.date)
    again = clinic.consultations.get(today.id)
    assert again.assessment is not None and again.assessment.has("T2")
    assert [e.action for e in clinic.audit.entries(limit=2)] == ["record test spot", "assess"]


def test_a_depigmented_review_flags_the_patient_and_the_consultations_signed_before_it(
    clinic: Clinic, clock: FakeClock
) -> None:
    pid, spot_id, cid = spot_then_treatment(clinic, clock)
    other = clinic.patients.register(patient_fields(given_name="Anna")).id
    clinic.test_spots.review(spot_id, 4, "no_change", "Dr Ada")
    sign_all(clinic, cid, own_hand=True)
    clinic.documents.sign(cid)
    assert clinic.test_spots.flags([pid, other]) == {}
    open_draft = clinic.consultations.start(pid, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(open_draft.id, answers=stable_vitiligo_answers())
    clock.advance(weeks=7)
    clinic.test_spots.review(spot_id, 12, "depigmentation", "Dr Ada")
    flags = clinic.test_spots.flags([other, pid, pid])
    assert list(flags) == [pid]
    flag = flags[pid]
    assert [s.id for s in flag.spots] == [spot_id]
    assert [c.id for c in flag.consultations] == [cid]
    # The signed consultation stays as it was signed; the open draft is reassessed red.
    signed = clinic.consultations.get(cid)
    assert signed.state == "signed" and not signed.assessment.has("T1")  # type: ignore[union-attr]
    redone = clinic.consultations.get(open_draft.id)
    assert redone.assessment is not None and redone.assessment.has("T1")
    assert redone.decision == "defer"
    # A consultation signed once the loss of colour was known is not listed.
    sign_all(clinic, open_draft.id, own_hand=True)
    clinic.documents.sign(open_draft.id)
    assert [c.id for c in clinic.test_spots.flags([pid])[pid].consultations] == [cid]


def test_flags_need_the_right_to_view_patients(clinic: Clinic) -> None:
    clinic.session.logout()
    with pytest.raises(PermissionDenied):
        clinic.test_spots.flags(["x"])
