"""This computer's choice of database: kept without a password; the server tested first."""

from __future__ import annotations

from pathlib import Path

from desktop import paths
from desktop.clinic import check_server, save_database, saved_database
from tests.helpers.clinics import signed_in, workstation
from tests.helpers.clock import FakeClock


def test_the_choice_is_kept_without_any_password(tmp_path: Path) -> None:
    assert saved_database() is None
    save_database("postgresql://desk:s3cret@clinic-server:5432/clinic?sslmode=verify-full")
    text = (paths.config_dir() / "workstation.json").read_text()
    assert "s3cret" not in text
    assert saved_database() == "postgresql://desk@clinic-server:5432/clinic?sslmode=verify-full"
    assert (paths.config_dir() / "workstation.json").stat().st_mode & 0o777 == 0o600
    save_database(tmp_path / "clinic.sqlite")
    assert saved_database() == (tmp_path / "clinic.sqlite").resolve()
    save_database(None)
    assert saved_database() is None


def test_the_connection_test_says_whether_the_clinic_is_set_up(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    fresh = check_server(pg_url)
    assert fresh.ok and not fresh.set_up and "ready to be set up" in fresh.message
    signed_in(workstation(pg_url, clock, tmp_path / "desk")).close()
    set_up = check_server(pg_url)
    assert set_up.ok and set_up.set_up and "1 account(s)" in set_up.message
    refused = check_server(pg_url.rsplit("/", 1)[0] + "/no_such_db")
    assert not refused.ok and "does not exist" in refused.message
    assert not check_server("clinic-server").ok
