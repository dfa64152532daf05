"""The contract tests here run on both backends: `clinic` is SQLite in memory, then a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.clinic import Clinic
from tests.helpers.clinics import PASSWORDS
from tests.helpers.clock import FakeClock
from tests.pg_fixtures import BACKENDS, clinic_on


@pytest.fixture(params=BACKENDS)
def clinic(request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path) -> Iterator[Clinic]:
    c = clinic_on(request.param, request, clock, tmp_path)
    yield c
    c.close()


@pytest.fixture
def staffed(clinic: Clinic) -> Clinic:
    """The owner plus one account per role (PASSWORDS), the owner signed in."""
    for role, password in PASSWORDS.items():
        clinic.accounts.create(role.replace("_", ""), f"Staff {role}", (role,), password)
    return clinic
