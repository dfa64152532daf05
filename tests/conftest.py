"""Shared fixtures (a clinic with a fixed clock, private user folders); builders: tests/helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from desktop.clinic import Clinic
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.clock import START, FakeClock

pytest_plugins = ["tests.pg_fixtures"]  # PostgreSQL: pg_server, pg_url

# Property tests: "dev" (the default) keeps a local run quick; CI sets HYPOTHESIS_PROFILE=ci.
settings.register_profile("dev", max_examples=40)
settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _private_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's data, state and config folders point into a fresh temporary folder: tests
    never read or write the host's (workstation anchors, logs, settings)."""
    home = tmp_path_factory.mktemp("user")
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def clinic(clock: FakeClock, tmp_path: Path) -> Iterator[Clinic]:
    c = Clinic.in_memory(data_dir=tmp_path / "data", clock=clock, hasher=FAST_HASHER)
    yield signed_in(c)
    c.close()


@pytest.fixture
def disk_clinic(clock: FakeClock, tmp_path: Path) -> Iterator[Clinic]:
    c = Clinic.open(tmp_path / "clinic.sqlite", clock=clock, hasher=FAST_HASHER)
    yield signed_in(c)
    c.close()
