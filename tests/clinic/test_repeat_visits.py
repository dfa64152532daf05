"""Repeat visits and handover: start from the last consultation, confirm carried answers,
discard stray drafts, addenda with reasons, date changes audited, clinicians from accounts."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database

from desktop.clinic import Clinic
from desktop.clinic.repeat_visits import carry_answers
from desktop.errors import Conflict, NotFound, PermissionDenied, StaleRecord, ValidationError
from desktop.models import Procedure
from desktop.storage import SqliteStore
from desktop.storage.migrations import MIGRATIONS
from tests.helpers.answers import EXAMINATION, stable_vitiligo_answers
from tests.helpers.clinics import as_role
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import sign_all
from tests.helpers.patients import patient_fields

PROCEDURE = Procedure("Dermapen 4", 0.75, "Hyaluronic acid serum", ("cheeks", "forehead"), 2)


def first_visit(clinic: Clinic, clock: FakeClock, *, sign: bool = True) -> str:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace", procedure=PROCEDURE)
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    if sign:
        sign_all(clinic, c.id)
        clinic.documents.sign(c.id)
    clock.advance(days=28)
    return c.id


def audit_rows(clinic: Clinic, action: str) -> list[dict[str, object]]:
    return [
        {"target": e.target, **(json.loads(e.detail) if e.detail else {})}
        for e in clinic.audit.entries(action=action, limit=-1)
    ]


def test_a_second_session_starts_from_the_last_one(clinic: Clinic, clock: FakeClock) -> None:
    last_id = first_visit(clinic, clock)
    last = clinic.consultations.get(last_id)
    c = clinic.repeat_visits.start_from_last(last.patient_id)
    assert c.id != last.id and c.state == "draft" and c.copied_from == last.id
    assert c.date == clock.now.date() and c.clinician == "Dr Ada Lovelace"
    assert c.procedure == replace(PROCEDURE, session_number=3)
    assert dict(c.answers) == dict(last.answers)
    assert set(c.unconfirmed) == set(last.answers)
    assert c.assessment is None and c.signed_at is None and c.override is None
    overview = clinic.consultations.overview(c.id)
    assert set(overview.missing) == set(last.answers)  # every carried answer still needed
    assert overview.required_signers == ()
    assert clinic.consultations.live_assessment(c.id).assessment is None
    assert audit_rows(clinic, "copy consultation")[-1]["copied_from"] == last.id


def test_the_assessment_waits_until_every_carried_answer_is_confirmed(
    clinic: Clinic, clock: FakeClock
) -> None:
    last = clinic.consultations.get(first_visit(clinic, clock))
    c = clinic.repeat_visits.start_from_last(last.patient_id)
    everything = list(c.unconfirmed)
    c = clinic.consultations.save_draft(c.id, confirmed=everything[:-1], revision=c.revision)
    assert c.unconfirmed == (everything[-1],)
    assert c.assessment is None
    assert clinic.consultations.overview(c.id).missing == (everything[-1],)
    with pytest.raises(ValidationError, match="confirm"):
        clinic.consultations.current_assessment(c)
    c = clinic.consultations.save_draft(c.id, confirmed=everything[-1:], revision=c.revision)
    assert c.unconfirmed == ()
    assert c.assessment is not None and c.assessment.decision == last.assessment.decision  # type: ignore[union-attr]
    assert clinic.consultations.overview(c.id).missing == ()


def test_changing_a_carried_answer_confirms_it_and_a_dropped_one_is_not_needed(
    clinic: Clinic, clock: FakeClock
) -> None:
    last = clinic.consultations.get(first_visit(clinic, clock))
    c = clinic.repeat_visits.start_from_last(last.patient_id)
    answers = dict(c.answers)
    answers["G6"] = "yes"  # pregnant since the last visit
    c = clinic.consultations.save_draft(c.id, answers=answers, revision=c.revision)
    assert "G6" not in c.unconfirmed and "G1" in c.unconfirmed
    answers["V1"] = "no"  # the follow-up questions of a diagnosis stop applying
    answers["V8"] = "no"
    for qid in ("V2", "V3", "V4", "V11"):
        del answers[qid]
    c = clinic.consultations.save_draft(c.id, answers=answers, revision=c.revision)
    assert not {"V1", "V2", "V3", "V4", "V11"} & set(c.unconfirmed)
    assert "V8" not in clinic.consultations.overview(c.id).missing


def test_only_a_clinician_confirms_carried_examination_findings(
    staffed: Clinic, clock: FakeClock
) -> None:
    last = staffed.consultations.get(first_visit(staffed, clock))
    c = staffed.repeat_visits.start_from_last(last.patient_id)
    as_role(staffed, "front_desk")
    history = [q for q in c.unconfirmed if q not in EXAMINATION]
    c = staffed.consultations.save_draft(c.id, confirmed=history, revision=c.revision)
    assert set(c.unconfirmed) == set(EXAMINATION)
    with pytest.raises(PermissionDenied):
        staffed.consultations.save_draft(c.id, confirmed=["V7"], revision=c.revision)
    assert staffed.consultations.get(c.id).unconfirmed == c.unconfirmed  # nothing saved
    as_role(staffed, "clinician")
    c = staffed.consultations.save_draft(c.id, confirmed=EXAMINATION, revision=c.revision)
    assert c.unconfirmed == () and c.assessment is not None


def test_a_repeat_visit_needs_an_earlier_consultation(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    with pytest.raises(NotFound, match="no earlier consultation"):
        clinic.repeat_visits.start_from_last(p.id)
    assert clinic.consultations.for_patient(p.id) == []


def test_an_unsigned_last_consultation_is_carried_too(clinic: Clinic, clock: FakeClock) -> None:
    last_id = first_visit(clinic, clock, sign=False)
    last = clinic.consultations.get(last_id)
    c = clinic.repeat_visits.start_from_last(last.patient_id)
    assert c.copied_from == last_id and dict(c.answers) == dict(last.answers)
    assert clinic.consultations.get(last_id).state == "draft"  # left as it was


def test_answers_the_current_checklist_cannot_take_are_left_behind(clinic: Clinic) -> None:
    old = dict(stable_vitiligo_answers())
    old["V3"] = "ages_ago"  # a token this version does not offer
    old["X99"] = "yes"  # a question this version does not ask
    old["V8"] = "no"  # applies only when V1 is not yes
    kept, dropped = carry_answers(clinic.checklist, old)
    assert set(dropped) == {"V3", "X99", "V8"}
    assert "V2" in kept and "V3" not in kept and kept["V10"] == ()


def test_a_discarded_draft_leaves_every_list_but_stays_in_the_record(
    clinic: Clinic, clock: FakeClock
) -> None:
    p = clinic.patients.register(patient_fields())
    keep = clinic.consultations.start(p.id)
    stray = clinic.consultations.start(p.id)
    with pytest.raises(ValidationError, match="at least 10"):
        clinic.repeat_visits.discard(stray.id, "oops", revision=stray.revision)
    with pytest.raises(StaleRecord):
        clinic.repeat_visits.discard(stray.id, "Opened twice by mistake", revision=0)
    clinic.repeat_visits.discard(stray.id, "Opened twice   by mistake", revision=stray.revision)
    today = clock.now.date()
    for listed in (
        clinic.consultations.drafts(),
        clinic.consultations.for_patient(p.id),
        clinic.consultations.on(today),
    ):
        assert [c.id for c in listed] == [keep.id]
    gone = clinic.consultations.get(stray.id)
    assert gone.discard is not None and gone.discard.reason == "Opened twice by mistake"
    assert gone.discard.by == "owner" and gone.state == "draft"
    assert [c.id for c in clinic.repeat_visits.discarded(p.id)] == [stray.id]
    assert audit_rows(clinic, "discard consultation") == [
        {"target": f"consultation:{stray.id}", "reason": "Opened twice by mistake"}
    ]
    with pytest.raises(Conflict, match="discarded"):
        clinic.consultations.save_draft(stray.id, answers={"V1": "no"})
    with pytest.raises(Conflict, match="already"):
        clinic.repeat_visits.discard(stray.id, "Opened twice by mistake")
    # The patient's details change: open drafts are reassessed, the discarded one is left alone.
    clinic.patients.update(p.id, patient_fields(date_of_birth="1991-04-02"))
    assert clinic.repeat_visits.start_from_last(p.id).copied_from == keep.id


def test_the_database_keeps_a_discarded_draft_unchanged(
    disk_clinic: Clinic, tmp_path: Path
) -> None:
    p = disk_clinic.patients.register(patient_fields())
    c = disk_clinic.consultations.start(p.id)
    disk_clinic.repeat_visits.discard(c.id, "Started for the wrong patient")
    raw = sqlite3.connect(tmp_path / "clinic.sqlite")
    try:
        for sql in (
            "UPDATE consultations SET discarded_at = NULL",
            "UPDATE consultations SET answers = '{}'",
            "DELETE FROM consultations",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="discarded draft"):
                raw.execute(sql)
    finally:
        raw.close()


def test_a_signed_consultation_cannot_be_discarded(clinic: Clinic, clock: FakeClock) -> None:
    signed = first_visit(clinic, clock)
    with pytest.raises(Conflict, match="addendum"):
        clinic.repeat_visits.discard(signed, "Not needed any more, really")
    assert clinic.consultations.get(signed).discard is None


def test_an_addendum_needs_its_reason_which_is_kept_and_audited(
    clinic: Clinic, clock: FakeClock
) -> None:
    signed = first_visit(clinic, clock)
    with pytest.raises(ValidationError, match="at least 10"):
        clinic.consultations.start_addendum(signed, reason="typo")
    assert len(clinic.consultations.for_patient(clinic.consultations.get(signed).patient_id)) == 1
    why = "Areas recorded wrongly: forehead only, not the cheeks."
    add = clinic.consultations.start_addendum(signed, reason=why)
    assert clinic.consultations.get(add.id).addendum_reason == why
    row = audit_rows(clinic, "create consultation")[-1]
    assert row == {"target": f"consultation:{add.id}", "amends": signed, "reason": why}


def test_a_date_change_is_audited_and_autosaves_still_coalesce(
    clinic: Clinic, clock: FakeClock
) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id)
    before = len(audit_rows(clinic, "update consultation"))
    for device in ("D", "De", "Der"):  # typing: one row stands for the autosaves
        c = clinic.consultations.save_draft(c.id, procedure=Procedure(device), revision=c.revision)
        clock.advance(seconds=5)
    assert len(audit_rows(clinic, "update consultation")) == before + 1
    moved = date(2026, 4, 30)
    c = clinic.consultations.save_draft(c.id, on=moved, revision=c.revision)
    rows = audit_rows(clinic, "update consultation")
    assert len(rows) == before + 2
    assert rows[-1] == {
        "target": f"consultation:{c.id}",
        "date": "2026-04-30",
        "date_was": clock.now.date().isoformat(),
    }
    clock.advance(seconds=5)
    c = clinic.consultations.save_draft(c.id, on=moved, procedure=Procedure("Derm"))
    assert len(audit_rows(clinic, "update consultation")) == before + 2  # same date: coalesced


def test_front_desk_lists_the_clinicians_to_choose_from(staffed: Clinic) -> None:
    staffed.accounts.create("bob", "Dr Bob Okoro", ("clinician", "administrator"), "b" * 12)
    gone = staffed.accounts.create("old", "Dr Gone Away", ("clinician",), "c" * 12)
    staffed.accounts.set_disabled(gone.id, True)
    as_role(staffed, "front_desk")
    with pytest.raises(PermissionDenied):
        staffed.accounts.list()
    names = [u.display_name for u in staffed.accounts.clinicians()]
    assert names == ["Dr Ada Lovelace", "Dr Bob Okoro", "Staff clinician"]


def test_the_audit_csv_opens_as_utf8_in_a_spreadsheet(clinic: Clinic) -> None:
    clinic.patients.register(patient_fields())
    text = clinic.audit.export_csv()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][0] == "seq"
    encoded = text.encode("utf-8")
    assert encoded.startswith(b"\xef\xbb\xbf") and encoded.count(b"\xef\xbb\xbf") == 1


def test_upgrade_to_0007_keeps_every_consultation(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "old.sqlite"
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="0007_repeat_visits")
    db.execute(
        "INSERT INTO patients (id, given_name, family_name, date_of_birth, search_name,"
        " created, updated) VALUES ('p1', 'Zoe', 'Nunez', '1988-03-14', 'zoe nunez', 'x', 'x')"
    )
    db.execute(
        "INSERT INTO consultations (id, patient_id, date, checklist_id, checklist_version,"
        " answers, created, updated) VALUES ('c1', 'p1', '2026-11-01', 'vitiligo-microneedling',"
        " '2026.11.1', '{\"V1\": \"no\"}', '2026-11-01T10:00:00+01:00',"
        " '2026-11-01T10:00:00+01:00')"
    )
    db.conn.commit()
    db.close()
    store = SqliteStore(path)
    try:
        assert store.applied_migrations()[-1] == "0007_repeat_visits"
        c = store.consultations.get("c1")
        assert dict(c.answers) == {"V1": "no"}
        assert c.unconfirmed == () and c.discard is None and c.addendum_reason == ""
        assert c.copied_from is None and c.date == date(2026, 11, 1)
        assert [d.id for d in store.consultations.drafts()] == ["c1"]
        assert store.consultations.latest("p1") is not None
    finally:
        store.close()
