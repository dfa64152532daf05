"""The audit viewer's filters stay bounded: a patient search, not a list of every patient."""

from __future__ import annotations

from datetime import date

from desktop.clinic import Clinic
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields


def test_the_patient_filter_is_a_search(clinic: Clinic, clock: FakeClock) -> None:
    siobhan = clinic.patients.register(
        patient_fields(given_name="Siobhán", family_name="O'Brien", date_of_birth="1985-11-30")
    )
    for i in range(30):
        clinic.patients.register(patient_fields(given_name=f"Name{i}", family_name="Smith"))
    labels = clinic.audit.find_patients("obrien")
    assert labels == {siobhan.id: "O'Brien, Siobhán (1985-11-30)"}
    assert clinic.audit.find_patients("30.11.1985") == labels
    assert len(clinic.audit.find_patients("smith", limit=5)) == 5
    assert clinic.audit.find_patients(siobhan.id) == labels  # an ID typed whole
    assert clinic.audit.patient_label(siobhan.id) == labels[siobhan.id]
    assert clinic.audit.patient_label("gone") == "gone (no such patient)"
    entries = clinic.audit.entries(patient=siobhan.id)
    assert [e.action for e in entries] == ["create patient"]


def test_users_actions_and_days_filter_through_indexes(clinic: Clinic, clock: FakeClock) -> None:
    clinic.patients.register(patient_fields())
    clock.advance(days=1)
    clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    users, actions = clinic.audit.choices()
    assert users == ["owner"]
    assert actions == sorted(set(actions)) and {"create patient", "setup"} <= set(actions)
    today = clock.now.date()
    assert [e.action for e in clinic.audit.entries(since=today)] == ["create patient"]
    day_before = clinic.audit.entries(since=date(2026, 11, 25), until=date(2026, 11, 25))
    assert day_before and all(e.at.startswith("2026-11-25") for e in day_before)
    assert len(clinic.audit.entries(action="create patient")) == 2
