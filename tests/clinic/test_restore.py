"""Restore checks a backup before it replaces anything: a hostile backup changes nothing."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.clinic import Clinic
from desktop.errors import OtherClinic, StorageError, ValidationError
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields


@pytest.fixture
def live(tmp_path: Path, clock: FakeClock) -> Clinic:
    clinic = signed_in(Clinic.open(tmp_path / "clinic.sqlite", clock=clock, hasher=FAST_HASHER))
    clinic.patients.register(patient_fields(given_name="Ada"))
    return clinic


def backup_of(clinic: Clinic, tmp_path: Path, name: str = "backup.sqlite") -> Path:
    folder = tmp_path / "backups"
    folder.mkdir(exist_ok=True)
    return clinic.backups.backup(folder / name)


def tamper(path: Path, *sql: str) -> None:
    raw = sqlite3.connect(path)
    raw.executescript(";".join(sql))
    raw.commit()
    raw.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


ALL_ROLES = '\'["front_desk", "clinician", "administrator"]\''
HOSTILE: dict[str, tuple[str, ...]] = {
    "a trigger that makes everyone an administrator": (
        "CREATE TRIGGER escalate AFTER INSERT ON audit BEGIN "
        f"UPDATE users SET roles = {ALL_ROLES}; END",
    ),
    "a trigger that aborts audit inserts": (
        "CREATE TRIGGER jam BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'no'); END",
    ),
    "a view in place of a table": (
        "DROP TABLE test_spot_reviews",
        "CREATE VIEW test_spot_reviews AS SELECT 1 AS id",
    ),
    "a dropped immutability trigger": ("DROP TRIGGER documents_no_update",),
    "an extra table": ("CREATE TABLE notes_to_self (x)",),
    "an extra index": ("CREATE INDEX sneaky ON patients (email)",),
    "a newer schema": (
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('clinic_intake', '0099_future', '2030-01-01')",
    ),
}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_a_hostile_backup_is_refused_and_changes_nothing(
    live: Clinic, tmp_path: Path, attack: str
) -> None:
    backup = backup_of(live, tmp_path)
    tamper(backup, *HOSTILE[attack])
    database = tmp_path / "clinic.sqlite"
    rows_before = len(live.audit.entries(limit=-1))
    with pytest.raises(StorageError, match=r"cannot be restored.*Nothing was changed"):
        live.backups.restore(backup)
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == ["backup.sqlite"]
    assert [p.given_name for p in live.patients.search("")] == ["Ada"]
    assert len(live.audit.entries(limit=-1)) == rows_before
    raw = sqlite3.connect(database)
    names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    raw.close()
    assert "escalate" not in names and "jam" not in names
    assert not any(p.name.startswith(".restore-") for p in tmp_path.iterdir())


def test_a_backup_with_a_broken_audit_chain_is_refused(live: Clinic, tmp_path: Path) -> None:
    backup = backup_of(live, tmp_path)
    tamper(
        backup,
        "DROP TRIGGER audit_no_update",
        "UPDATE audit SET user = 'mallory' WHERE seq = 2",
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
    )
    with pytest.raises(StorageError, match="audit trail is broken"):
        live.backups.restore(backup)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b""),
        lambda p: p.write_text("name,phone\nAda,123\n"),
        lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200),
    ],
    ids=["empty", "csv", "truncated"],
)
def test_files_that_are_no_backup_are_refused(
    live: Clinic, tmp_path: Path, make: Callable[[Path], object]
) -> None:
    bogus = tmp_path / "bogus.sqlite"
    make(bogus)
    with pytest.raises(StorageError, match="cannot be restored"):
        live.backups.restore(bogus)
    assert [p.given_name for p in live.patients.search("")] == ["Ada"]


def test_the_database_in_use_is_not_taken_for_its_own_backup(live: Clinic, tmp_path: Path) -> None:
    in_use = tmp_path / "clinic.sqlite"
    before = digest(in_use)
    for chosen in (in_use, tmp_path / "." / "clinic.sqlite"):
        with pytest.raises(ValidationError, match="is the database in use, not a backup"):
            live.backups.restore(chosen)
    assert digest(in_use) == before
    assert not list(tmp_path.glob("*before-restore*"))


def test_another_clinics_backup_needs_a_confirmation(
    live: Clinic, tmp_path: Path, clock: FakeClock
) -> None:
    other = signed_in(Clinic.open(tmp_path / "other.sqlite", clock=clock, hasher=FAST_HASHER))
    other.patients.register(patient_fields(given_name="Mei", family_name="Chen"))
    foreign = backup_of(other, tmp_path, "other-clinic.sqlite")
    other.close()
    with pytest.raises(OtherClinic, match="another clinic"):
        live.backups.restore(foreign)
    assert [p.given_name for p in live.patients.search("")] == ["Ada"]
    live.backups.restore(foreign, other_clinic=True)
    assert [p.given_name for p in live.patients.search("")] == ["Mei"]


def test_a_copy_taken_with_its_wal_restores_every_row(
    live: Clinic, tmp_path: Path, clock: FakeClock
) -> None:
    # A live copy of a database in WAL mode: the main file and the -wal beside it.
    source = tmp_path / "source" / "clinic.sqlite"
    source.parent.mkdir()
    donor = signed_in(Clinic.open(source, clock=clock, hasher=FAST_HASHER))
    for name in ("Bea", "Cai", "Dov"):
        donor.patients.register(patient_fields(given_name=name))
    copy = tmp_path / "copy" / "clinic.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(source, copy)
    shutil.copyfile(Path(f"{source}-wal"), Path(f"{copy}-wal"))
    donor.close()
    live.backups.restore(copy, other_clinic=True)
    assert sorted(p.given_name for p in live.patients.search("")) == ["Bea", "Cai", "Dov"]
    live.session.logout()
    live.session.login("owner", OWNER_PASSWORD)


def test_a_restore_while_another_window_has_the_database_open_is_refused(
    live: Clinic, tmp_path: Path, clock: FakeClock
) -> None:
    backup = backup_of(live, tmp_path)
    live.patients.register(patient_fields(given_name="Later"))
    window = Clinic.open(tmp_path / "clinic.sqlite", clock=clock, hasher=FAST_HASHER)
    before = digest(tmp_path / "clinic.sqlite")
    with pytest.raises(StorageError, match="open in another window or program"):
        live.backups.restore(backup)
    assert digest(tmp_path / "clinic.sqlite") == before
    window.close()
    live.backups.restore(backup)
    assert sorted(p.given_name for p in live.patients.search("")) == ["Ada"]


def test_backups_and_restores_within_one_second_each_keep_a_file_of_their_own(
    live: Clinic, tmp_path: Path
) -> None:
    """Only a folder was chosen: the name is made here, so it is made unique (-2, -3, ...)
    rather than refused; each file is audited under its own name."""
    folder = tmp_path / "backups"
    folder.mkdir()
    made = [live.backups.backup(folder) for _ in range(3)]  # the clock stands still
    stem = made[0].stem
    assert [p.name for p in made] == [f"{stem}.sqlite", f"{stem}-2.sqlite", f"{stem}-3.sqlite"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in made)
    audited = [e.target for e in live.audit.entries(action="backup")]
    assert audited[-3:] == [f"file:{p.name}" for p in made]
    kept = [live.backups.restore(made[0]) for _ in range(2)]
    assert kept[0] != kept[1] and all(p.is_file() for p in kept)
    assert [p.given_name for p in live.patients.search("")] == ["Ada"]


def test_a_restore_is_previewed_with_its_date_and_what_it_undoes(
    live: Clinic, tmp_path: Path, clock: FakeClock
) -> None:
    backup = backup_of(live, tmp_path)
    clock.advance(days=2)
    live.patients.register(patient_fields(given_name="Later", family_name="Comer"))
    before = digest(tmp_path / "clinic.sqlite")
    preview = live.backups.preview_restore(backup)
    assert preview.made.startswith("2026-11-25")  # the backup's own last entry, not now
    assert (preview.patients, preview.patients_now) == (1, 2)
    assert preview.changes_since is not None and preview.changes_since >= 1
    assert digest(tmp_path / "clinic.sqlite") == before  # a preview changes nothing
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".restore-")]
    with pytest.raises(ValidationError, match="is the database in use"):
        live.backups.preview_restore(tmp_path / "clinic.sqlite")
