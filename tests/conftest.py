"""Shared fixtures: a clinic with a fixed clock, answer sets, and the repository root."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from desktop.auth import PasswordHasher
from desktop.clinic import Clinic, system_actor

pytest_plugins = ["tests.pg_fixtures"]  # PostgreSQL: pg_server, pg_url

ROOT = Path(__file__).resolve().parents[1]
TZ = timezone(timedelta(hours=1))

# Property tests: "dev" (the default) keeps a local run quick; CI sets HYPOTHESIS_PROFILE=ci.
settings.register_profile("dev", max_examples=40)
settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


class FakeClock:
    """A settable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


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
    return FakeClock(datetime(2026, 11, 25, 10, 30, tzinfo=TZ))


# argon2id with tiny costs: the same code path, a thousandth of the time.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64)
OWNER_PASSWORD = "correct horse battery"


def signed_in(clinic: Clinic) -> Clinic:
    """Set up the clinic with its owner (administrator and clinician), who is signed in."""
    clinic.accounts.setup("owner", "Dr Ada Lovelace", OWNER_PASSWORD, clinician=True)
    return clinic


def open_as_system(path: Path, clock: FakeClock | None = None) -> Clinic:
    """Open a database as a headless command does: the operating-system user."""
    if clock is None:
        return Clinic.open(path, actor=system_actor(), hasher=FAST_HASHER)
    return Clinic.open(path, clock=clock, actor=system_actor(), hasher=FAST_HASHER)


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


def green_answers() -> dict[str, Any]:
    """A complete checklist (of the newest version) with no finding at all (V1 = no)."""
    return {
        "V1": "no",
        "V5": "none",
        "V6": [],
        "V7": "no",
        "V8": "no",
        "V9": "no",
        "V10": [],
        "V12": "no",
        "G1": "no",
        "G2": "no",
        "G3": "no",
        "G4": "never",
        "G5": "no",
        "G6": "no",
        "G7": "no",
        "G8": "no",
        "G9": "no",
        "G10": "II",
        "G11": "no",
        "G13": "no",
        "G14": "no",
        "G15": "no",
    }


def stable_vitiligo_answers() -> dict[str, Any]:
    """Known, stable vitiligo (V1 = yes, nothing for over a year): amber, caution."""
    answers = green_answers()
    del answers["V8"]
    answers.update({"V1": "yes", "V2": "non_segmental", "V3": "gt_12m", "V4": "no", "V11": []})
    return answers


def patient_fields(**over: Any) -> dict[str, Any]:
    fields = {
        "given_name": "Łukasz",
        "family_name": "Żółć",
        "date_of_birth": "1990-04-02",
        "phone": "+48 600 123 456",
        "email": "lukasz@example.com",
    }
    fields.update(over)
    return fields
