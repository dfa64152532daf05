"""Fixtures for the dialog tests: a clinic with two days of activity by two users."""

from __future__ import annotations

import pytest

from desktop.clinic import Clinic
from tests.helpers.clinics import OWNER_PASSWORD, SAM_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields


@pytest.fixture
def busy_clinic(clinic: Clinic, clock: FakeClock) -> Clinic:
    """Two days of activity by the owner and by Sam (front desk)."""
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    patient = clinic.patients.register(patient_fields())
    other = clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    clinic.session.logout()
    clock.advance(days=1)
    clinic.session.login("sam", SAM_PASSWORD)
    clinic.patients.get(patient.id)
    clinic.patients.get(other.id)
    clinic.session.logout()
    clinic.session.login("owner", OWNER_PASSWORD)
    clinic.patients.get(patient.id)
    clinic._store.settings.set("test_patient", patient.id)
    return clinic
