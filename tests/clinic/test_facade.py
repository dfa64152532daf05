"""The facade: patients, drafts, assessments, overrides, test spots, through Clinic only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from desktop.clinic import Clinic
from desktop.errors import DuplicatePatient, NotFound, ValidationError
from desktop.models import Procedure
from tests.helpers.answers import green_answers, stable_vitiligo_answers
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("given_name", "\U0001f600", "must contain letters"),
        ("family_name", "123", "must contain letters"),
        ("date_of_birth", "", "Date of birth is required"),
        ("date_of_birth", "31.02.1990", "not a date"),
        ("date_of_birth", "1990/4/2", "not a date"),
        ("date_of_birth", "2027-01-01", "in the future"),
        ("date_of_birth", "1890-01-01", "older than 120"),
        ("phone", "call me", "not a phone number"),
        ("phone", "123", "not a phone number"),
        ("email", "lukasz@", "not an email address"),
        ("email", "a b@example.com", "not an email address"),
        ("fitzpatrick", "VII", "not a type"),
    ],
)
def test_patient_validation_names_the_field(
    clinic: Clinic, field: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        clinic.patients.register(patient_fields(**{field: value}))
    assert err.value.field == field
    assert clinic.patients.count() == 0  # bad input changes nothing


def test_field_errors_lists_every_problem_for_inline_messages(clinic: Clinic) -> None:
    errors = clinic.patients.field_errors(
        {"given_name": "", "family_name": "X", "date_of_birth": "soon", "email": "nope"}
    )
    assert set(errors) == {"date_of_birth", "email"}  # one name is enough (a mononym)
    nameless = clinic.patients.field_errors({"given_name": " ", "family_name": ""})
    assert "A name is required" in nameless["given_name"]
    assert clinic.patients.field_errors(patient_fields()) == {}


def test_register_normalises_and_accepts_day_first_dates(clinic: Clinic) -> None:
    p = clinic.patients.register(
        patient_fields(given_name="  Zoë  ", date_of_birth="02.04.1990", fitzpatrick="iv")
    )
    assert p.given_name == "Zoë"
    assert p.date_of_birth == date(1990, 4, 2)
    assert p.fitzpatrick == "IV"
    assert clinic.patients.get(p.id) == p


def test_duplicate_name_and_birthday_warns_then_can_be_confirmed(clinic: Clinic) -> None:
    first = clinic.patients.register(patient_fields())
    with pytest.raises(DuplicatePatient) as err:
        clinic.patients.register(patient_fields(given_name="łukasz", family_name="ZÓŁĆ"))
    assert err.value.existing_ids == (first.id,)
    assert "already registered" in err.value.message
    assert clinic.patients.count() == 1
    clinic.patients.register(patient_fields(), allow_duplicate=True)
    assert clinic.patients.count() == 2
    # A different birthday and another phone: a different person, no warning.
    clinic.patients.register(patient_fields(date_of_birth="1991-04-02", phone="+48 600 999 999"))


def test_update_patient_keeps_id_and_reindexes_search(clinic: Clinic, clock: FakeClock) -> None:
    p = clinic.patients.register(patient_fields())
    clock.advance(days=1)
    q = clinic.patients.update(p.id, {"family_name": "Nowak", "phone": ""})
    assert q.id == p.id and q.family_name == "Nowak" and q.phone == ""
    assert q.updated and p.updated and q.updated > p.updated
    assert [x.id for x in clinic.patients.search("nowak")] == [p.id]
    assert clinic.patients.search("zolc") == []
    with pytest.raises(ValidationError):
        clinic.patients.update(p.id, {"email": "broken"})
    assert clinic.patients.get(p.id).email == p.email
    with pytest.raises(NotFound):
        clinic.patients.update("nope", {"family_name": "X"})


def test_draft_accepts_partial_answers_and_stays_unassessed(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id, clinician="Dr Ada")
    assert c.state == "draft" and c.checklist_id == "vitiligo-microneedling"
    c = clinic.consultations.save_draft(c.id, answers={"V1": "yes", "V3": "le_6w"})
    assert dict(c.answers) == {"V1": "yes", "V3": "le_6w"}
    assert c.assessment is None
    live = clinic.consultations.live_assessment(c.id)
    assert live.assessment is None and "V2" in live.missing and "G1" in live.missing
    with pytest.raises(ValidationError, match="V3"):
        clinic.consultations.save_draft(c.id, answers={"V1": "yes", "V3": "soon"})
    assert dict(clinic.consultations.get(c.id).answers) == {"V1": "yes", "V3": "le_6w"}


def test_answers_that_no_longer_apply_are_dropped_from_the_draft(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id)
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    c = clinic.consultations.record_answers(c.id, {"V1": "no", "V8": "no"})
    assert "V2" not in c.answers and "V3" not in c.answers and "V11" not in c.answers
    assert c.assessment is not None and c.assessment.vitiligo == "green"


def test_complete_answers_are_assessed_and_stored_with_checklist_version(
    clinic: Clinic,
) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id, clinician="Dr Ada")
    c = clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    assert c.assessment is not None
    assert (c.assessment.vitiligo, c.assessment.decision) == ("amber", "caution")
    assert c.assessment.checklist_id == "vitiligo-microneedling"
    assert c.assessment.checklist_version == clinic.checklist.version
    assert c.assessment.age == 36
    stored = clinic.consultations.get(c.id)
    assert stored.assessment == c.assessment
    assert clinic.consultations.assess(c.id) == c.assessment


def test_assess_an_incomplete_checklist_names_what_is_missing(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id)
    clinic.consultations.save_draft(c.id, answers={"V1": "no"})
    with pytest.raises(ValidationError, match="V5"):
        clinic.consultations.assess(c.id)


def test_override_needs_a_reason_and_an_author(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id)
    with pytest.raises(ValidationError, match="Complete the checklist"):
        clinic.consultations.override(c.id, "proceed", "a long enough reason", "Dr Ada")
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    with pytest.raises(ValidationError, match="written reason"):
        clinic.consultations.override(c.id, "proceed", "ok", "Dr Ada")
    with pytest.raises(ValidationError, match="unknown"):
        clinic.consultations.override(c.id, "maybe", "Stable for 5 years, seen by derm", "Dr Ada")
    c = clinic.consultations.override(
        c.id, "proceed", "Stable for 5 years, seen by derm", "Someone"
    )
    assert c.decision == "proceed" and c.assessment and c.assessment.decision == "caution"
    assert c.override and c.override.author == "Dr Ada Lovelace"  # the signed-in clinician
    assert clinic.consultations.get(c.id).override == c.override


def test_changing_the_outcome_clears_a_stale_override(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id)
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    clinic.consultations.override(c.id, "proceed", "Stable for 5 years, seen by derm", "Dr Ada")
    same = clinic.consultations.record_answers(c.id, {"V2": "non_segmental"})
    assert same.override is not None
    changed = clinic.consultations.record_answers(c.id, {"V7": "yes"})
    assert changed.override is None and changed.decision == "defer"


def test_test_spot_depigmentation_turns_the_patient_red(clinic: Clinic, clock: FakeClock) -> None:
    p = clinic.patients.register(patient_fields())
    first = clinic.consultations.start(p.id, clinician="Dr Ada")
    clinic.consultations.save_draft(first.id, answers=stable_vitiligo_answers())
    spot = clinic.test_spots.record(first.id, "left jawline", clock.now.date())
    due = clinic.test_spots.due_reviews(clock.now.date() + timedelta(weeks=4))
    assert [(d.week, d.patient.id, d.overdue) for d in due] == [(4, p.id, False)]
    assert clinic.test_spots.due_reviews(clock.now.date() + timedelta(weeks=5))[0].overdue
    clinic.test_spots.review(spot.id, 4, "depigmentation", "Dr Ada", on=due[0].due)
    redone = clinic.consultations.get(first.id)
    assert redone.assessment and redone.assessment.vitiligo == "red"
    assert redone.assessment.has("T1")
    later = clinic.consultations.start(p.id, on=due[0].due)
    later = clinic.consultations.save_draft(later.id, answers=stable_vitiligo_answers())
    assert later.assessment and later.assessment.vitiligo == "red"
    # The 4-week review is recorded; the 12-week one is still due.
    assert [
        d.week for d in clinic.test_spots.due_reviews(clock.now.date() + timedelta(weeks=13))
    ] == [12]


def test_test_spot_review_input_is_checked(clinic: Clinic, clock: FakeClock) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id)
    with pytest.raises(ValidationError, match="site"):
        clinic.test_spots.record(c.id, "  ", clock.now.date())
    spot = clinic.test_spots.record(c.id, "behind left ear", clock.now.date())
    for week, result, reviewer in ((6, "no_change", "A"), (4, "fine", "A"), (4, "no_change", "")):
        with pytest.raises(ValidationError):
            clinic.test_spots.review(spot.id, week, result, reviewer)
    assert clinic.test_spots.for_patient(p.id)[0].reviews == ()


def test_procedure_values_are_checked(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    with pytest.raises(ValidationError, match="Needle depth"):
        clinic.consultations.start(p.id, procedure=Procedure(needle_depth_mm=5.0))
    c = clinic.consultations.start(
        p.id, procedure=Procedure("Dermapen 4", 0.5, " serum ", ("cheeks", " ", "forehead"), 2)
    )
    assert c.procedure.areas == ("cheeks", "forehead") and c.procedure.product == "serum"
    with pytest.raises(ValidationError, match="Session number"):
        clinic.consultations.save_draft(c.id, procedure=Procedure(session_number=0))


def test_strict_mode_is_taken_from_settings_into_new_consultations(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    clinic.settings.set_strict_mode(True)
    c = clinic.consultations.start(p.id)
    answers = green_answers() | {"V10": ["thyroid"]}
    c = clinic.consultations.save_draft(c.id, answers=answers)
    assert c.strict and c.assessment and c.assessment.has("A2")
    clinic.settings.set_strict_mode(False)
    d = clinic.consultations.start(p.id)
    d = clinic.consultations.save_draft(d.id, answers=answers)
    assert d.assessment and d.assessment.has("D1") and not d.assessment.has("A2")


def test_lists_for_the_start_screen(clinic: Clinic, clock: FakeClock) -> None:
    p = clinic.patients.register(patient_fields())
    today = clinic.consultations.start(p.id)
    clinic.consultations.start(p.id, on=clock.now.date() - timedelta(days=3))
    assert [c.id for c in clinic.consultations.on(clock.now.date())] == [today.id]
    assert len(clinic.consultations.drafts()) == 2
    assert len(clinic.consultations.for_patient(p.id)) == 2
    with pytest.raises(NotFound):
        clinic.consultations.for_patient("missing")


def test_record_ids_are_random_version_4_uuids() -> None:
    import uuid

    from desktop.models import new_id

    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_a_search_too_broad_to_rank_lists_the_newest_matches(clinic: Clinic) -> None:
    clinic._store.patients.ranked_at_most = 3
    smiths = [
        clinic.patients.register(patient_fields(given_name=given, family_name="Smith")).id
        for given in ("Anna", "Ben", "Cara", "Dev", "Eve")
    ]
    clinic.patients.register(patient_fields(given_name="Mei", family_name="Chen"))
    broad = clinic.patients.find("smi", limit=2)
    assert broad.broad and broad.ranked_at_most == 3
    assert [p.id for p in broad.patients] == smiths[::-1][:2]  # newest registered first
    assert broad.order == "newest" and clinic.patients.find("").order == "recent"
    narrow = clinic.patients.find("smith eve")
    assert not narrow.broad and [p.id for p in narrow.patients] == [smiths[4]]
    assert narrow.order == "ranked"
    assert not clinic.patients.find("chen").broad
    assert [p.id for p in clinic.patients.search("smi")] == smiths[::-1]  # the same, as a list


def test_a_common_word_sparse_among_the_newest_lists_its_first_matches_alphabetically(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.storage import key_search

    monkeypatch.setattr(key_search, "SIZED_AT_MOST", 2)  # "smi" counts as a very common word
    monkeypatch.setattr(key_search, "NEWEST_AT_MOST", 2)  # and its matches are older than that
    smiths = [
        clinic.patients.register(patient_fields(given_name=given, family_name="Smith")).id
        for given in ("Eve", "Cara", "Anna")
    ]
    for given in ("Mei", "Li"):
        clinic.patients.register(patient_fields(given_name=given, family_name="Chen"))
    broad = clinic.patients.find("smi", limit=2)
    assert broad.broad and broad.order == "alphabetical"
    assert [p.id for p in broad.patients] == [smiths[2], smiths[1]]  # Smith Anna, Smith Cara


def test_two_very_common_words_match_as_a_name_in_either_order(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.storage import key_search

    monkeypatch.setattr(key_search, "SIZED_AT_MOST", 5)  # each word alone has 6 index entries
    monkeypatch.setattr(key_search, "NEWEST_AT_MOST", 1)
    others = [("Anna", f) for f in ("Nowak", "Kim", "Lee", "Park")]
    for given, family in others + [(g, "Smith") for g in ("Ben", "Cy", "Di", "Ed")]:
        clinic.patients.register(patient_fields(given_name=given, family_name=family))
    wanted = clinic.patients.register(patient_fields(given_name="Anna", family_name="Smith"))
    swapped = clinic.patients.register(  # the same name to the duplicate check: confirmed
        patient_fields(given_name="Smith", family_name="Anna", date_of_birth="1970-01-01"),
        allow_duplicate=True,
    )
    for typed in ("anna smith", "smith anna", "anna smi"):
        found = clinic.patients.find(typed)
        assert {p.id for p in found.patients} == {wanted.id, swapped.id}, typed
        assert not found.broad


def test_common_words_that_are_not_a_name_are_intersected_through_the_index(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.storage import key_search

    monkeypatch.setattr(key_search, "SIZED_AT_MOST", 2)  # "anna" and "1990" are both common
    monkeypatch.setattr(key_search, "NEWEST_AT_MOST", 1)
    for i, born in enumerate(["1990-01-01", "1991-01-01", "1990-02-02", "1992-03-03"]):
        clinic.patients.register(
            patient_fields(given_name="Anna", family_name=f"N{i}x", date_of_birth=born)
        )
    for born in ("1990-05-05", "1990-06-06"):
        clinic.patients.register(
            patient_fields(given_name="Ben", family_name=f"B{born}", date_of_birth=born)
        )
    found = clinic.patients.find("anna 1990")
    assert sorted(p.family_name for p in found.patients) == ["N0x", "N2x"]
    assert not found.broad and found.order == "ranked"
    monkeypatch.setattr(key_search, "INTERSECTED_AT_MOST", 2)  # now too common to intersect
    found = clinic.patients.find("anna 1990")
    assert found.broad and found.order == "newest"  # among the newest patient: none


def test_overview_gives_the_steps_status_in_one_call(clinic: Clinic) -> None:
    pid = clinic.patients.register(patient_fields()).id
    cid = clinic.consultations.start(pid).id
    first = clinic.consultations.overview(cid)
    assert first.missing and first.required_signers == () and first.signatures == ()
    clinic.consultations.save_draft(cid, answers=green_answers())
    done = clinic.consultations.overview(cid)
    assert done.missing == () and done.consultation.assessment is not None
    assert "patient" in done.required_signers and "clinician" in done.required_signers
    assert done.documents == ()
