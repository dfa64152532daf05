"""Clinics for the tests: quick password hashing, the owner and staff accounts, opening."""

from __future__ import annotations

from pathlib import Path

from desktop.auth import PasswordHasher
from desktop.clinic import Clinic, system_actor
from tests.helpers.clock import FakeClock

# argon2id with tiny costs: the same code path, a thousandth of the time.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64)
OWNER_PASSWORD = "correct horse battery"
SAM_PASSWORD = "front desk password"  # Sam Reyes, the front desk, where a test adds her
PASSWORDS = {  # one account per role, named after it without the underscore ("frontdesk")
    "front_desk": "front desk password",
    "clinician": "clinician password",
    "administrator": "administrator password",
}


def signed_in(clinic: Clinic) -> Clinic:
    """Set up the clinic with its owner (administrator and clinician), who is signed in."""
    clinic.accounts.setup("owner", "Dr Ada Lovelace", OWNER_PASSWORD, clinician=True)
    return clinic


def open_as_system(path: Path, clock: FakeClock | None = None) -> Clinic:
    """Open a database as a headless command does: the operating-system user."""
    if clock is None:
        return Clinic.open(path, actor=system_actor(), hasher=FAST_HASHER)
    return Clinic.open(path, clock=clock, actor=system_actor(), hasher=FAST_HASHER)


def workstation(url: str, clock: FakeClock, folder: Path) -> Clinic:
    """One computer of the clinic opening the database at `url`, its own files in `folder`."""
    return Clinic.open(url, clock=clock, hasher=FAST_HASHER,
                       workstation_dir=folder / "anchors", data_dir=folder / "data")  # fmt: skip


def as_role(clinic: Clinic, role: str) -> Clinic:
    """Sign out, then in as the account of `role` (made with its password of PASSWORDS)."""
    clinic.session.logout()
    clinic.session.login(role.replace("_", ""), PASSWORDS[role])
    return clinic
