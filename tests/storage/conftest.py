"""The contract tests here run on both backends: `clinic` is SQLite in memory, then a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.clinic import Clinic
from tests.helpers.clock import FakeClock
from tests.pg_fixtures import BACKENDS, clinic_on


@pytest.fixture(params=BACKENDS)
def clinic(request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path) -> Iterator[Clinic]:
    c = clinic_on(request.param, request, clock, tmp_path)
    yield c
    c.close()
