"""The SQLite store: migrations, search, damage, durability messages, backup and restore."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from desktop.clinic import Clinic
from desktop.errors import DuplicatePatient, StorageError
from desktop.storage import (
    MIGRATION_SET,
    SCHEMA,
    fold,
    integrity_errors,
    parse_query,
)
from desktop.storage import (
    SqliteStore as Store,
)
from desktop.storage.migrations import MIGRATIONS
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import open_as_system
from tests.helpers.clock import FakeClock
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields

FIXTURES = ROOT / "tests" / "fixtures"
ALL_MIGRATIONS = [
    "0001_core",
    "0002_signed_documents",
    "0003_accounts_audit",
    "0004_integrity",
    "0005_seal_in_database",
    "0006_front_desk",
    "0007_repeat_visits",
]


def test_migrations_from_empty_create_every_table(tmp_path: Path) -> None:
    store = Store(tmp_path / "new.sqlite")
    assert store.applied_migrations() == ALL_MIGRATIONS
    tables = set(store.db.table_names())
    assert {"patients", "patient_keys", "consultations", "settings", "signatures"} <= tables
    assert "patients_fts" not in tables
    assert {"documents", "test_spots", "test_spot_reviews"} <= tables
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()
    assert (tmp_path / "new.sqlite").stat().st_mode & 0o777 == 0o600


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    Store(tmp_path / "db.sqlite").close()
    store = Store(tmp_path / "db.sqlite")
    assert store.applied_migrations() == ALL_MIGRATIONS
    store.close()


def test_upgrade_from_schema_0001_keeps_every_row(tmp_path: Path, clock: FakeClock) -> None:
    old = tmp_path / "old.sqlite"
    shutil.copy(FIXTURES / "schema-0001.sqlite", old)
    raw = sqlite3.connect(old)
    before = {
        t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("patients", "consultations")
    }
    raw.close()
    assert before["patients"] >= 3 and before["consultations"] >= 2
    clinic = open_as_system(old, clock)
    assert clinic._store.applied_migrations() == ALL_MIGRATIONS
    assert clinic.patients.count() == before["patients"]
    found = clinic.patients.search("zolc")
    assert [p.family_name for p in found] == ["Żółć"]
    consultations = clinic.consultations.for_patient(found[0].id)
    assert len(consultations) == 1 and consultations[0].assessment is not None
    assert consultations[0].assessment.vitiligo == "amber"
    clinic.close()


def test_fold_and_query_building() -> None:
    assert fold("Żółć") == "zolc"
    assert fold("Zoë Ødegård") == "zoe odegard"
    assert fold("Straße") == "strasse"
    assert fold("Siobhán O’Brien") == fold("siobhan o'brien") == "siobhan obrien"
    assert fold("Smith-Jones") == fold("Smith – Jones") == "smith jones"
    assert fold("An\u200dna\u00ad Smi\u200bth") == "anna smith"  # ZWJ, soft hyphen, ZWSP
    today = date(2026, 11, 25)
    words = [t.word for t in parse_query("o'brien smith-jones", day_first=None, today=today)]
    assert words == ["obrien", "smithjones"]
    assert parse_query("   ", day_first=None, today=today) == []
    assert parse_query("- ' *", day_first=None, today=today) == []
    (phone,) = parse_query("020 7946 0011", day_first=None, today=today)
    assert phone.word == "02079460011"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("o'brien", "O'Brien"),
        ("O'Bri", "O'Brien"),
        ("smith-jones", "Smith-Jones"),
        ("smith jon", "Smith-Jones"),
        ("Żółć", "Żółć"),
        ("zolc", "Żółć"),
        ("ZOLC luk", "Żółć"),
        ("odegard", "Ødegård"),
        ("Αλέξ", "Παπαδόπουλος"),
        ("αλεξανδρος", "Παπαδόπουλος"),
        ("0770", "O'Brien"),
        ("1988-07", "Smith-Jones"),
        ("12.07.1988", "Smith-Jones"),
    ],
)
def test_search_with_awkward_names(clinic: Clinic, query: str, expected: str) -> None:
    clinic.patients.register(patient_fields())
    clinic.patients.register(
        patient_fields(given_name="Siobhán", family_name="O'Brien", phone="07700 900123", email="")
    )
    clinic.patients.register(
        patient_fields(given_name="Anna", family_name="Smith-Jones", date_of_birth="1988-07-12")
    )
    clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    clinic.patients.register(patient_fields(given_name="Αλέξανδρος", family_name="Παπαδόπουλος"))
    found = [p.family_name for p in clinic.patients.search(query)]
    assert found == [expected]


def test_search_survives_fts_syntax_in_input(clinic: Clinic) -> None:
    clinic.patients.register(patient_fields())
    for nasty in ['"', "AND", "OR NOT", "(", "*", "near(", "^x", ":", "a:b"]:
        clinic.patients.search(nasty)  # must not raise


def test_damaged_file_is_reported_clearly(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "clinic.sqlite"
    clinic = open_as_system(path, clock)
    for i in range(300):
        clinic.patients.register(patient_fields(given_name=f"Name{i}", family_name=f"Family{i}"))
    clinic.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 20 * 4096
    for offset in range(4096 * 3, len(data) - 4096, 4096):
        data[offset + 8 : offset + 200] = b"\xa5" * 192  # scribble over page contents
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError) as err:
        Store(path)
    assert "damaged" in str(err.value) and "restore" in str(err.value)


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list")
    with pytest.raises(StorageError, match="not a clinic database"):
        Store(path)
    assert path.read_text() == "shopping list"


def test_read_only_database_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite"
    Store(path).close()
    store = Store(path)
    store.db.conn.close()
    store.db.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(StorageError, match="read-only"):
        store.settings.set("strict_mode", True)


def test_full_disk_says_what_to_do(tmp_path: Path) -> None:
    store = Store(tmp_path / "clinic.sqlite")
    store.db.execute("PRAGMA max_page_count = 40")
    with pytest.raises(StorageError, match="full"):
        for i in range(2000):
            store.settings.set(f"k{i}", "x" * 500)
    store.db.execute("PRAGMA max_page_count = 100000")
    # The failed transaction rolled back; the file is intact and still usable.
    assert integrity_errors(tmp_path / "clinic.sqlite") == []
    store.settings.set("after", 1)
    assert store.settings.get("after") == 1


def test_backup_restore_round_trip_keeps_every_row(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "clinic.sqlite"
    clinic = open_as_system(path, clock)
    ids = [
        clinic.patients.register(patient_fields(given_name=f"P{i}", family_name="Ödön")).id
        for i in range(12)
    ]
    c = clinic.consultations.start(ids[0], clinician="Dr Ada")
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    backup = clinic.backups.backup(tmp_path)
    assert backup.stat().st_mode & 0o777 == 0o600
    assert integrity_errors(backup) == []

    # Work done after the backup is undone by the restore; the pre-restore copy keeps it.
    late = clinic.patients.register(patient_fields(given_name="Late", family_name="Comer"))
    clock.advance(minutes=5)
    kept = clinic.backups.restore(backup)
    assert {p.id for p in clinic.patients.search("odon")} == set(ids)
    assert clinic.patients.search("late comer") == []
    restored = clinic.consultations.get(c.id)
    assert restored.assessment is not None and restored.assessment.vitiligo == "amber"
    clinic.close()
    old = Store(kept)
    assert old.patients.get(late.id).given_name == "Late"
    old.close()


def test_restore_refuses_a_bad_source_and_changes_nothing(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "clinic.sqlite"
    clinic = open_as_system(path, clock)
    clinic.patients.register(patient_fields())
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for bad in (junk, other, tmp_path / "missing.sqlite"):
        with pytest.raises(Exception) as err:
            clinic.backups.restore(bad)
        assert "Nothing was changed" in str(err.value) or "does not exist" in str(err.value)
    assert clinic.patients.count() == 1
    assert not [p for p in tmp_path.iterdir() if "before-restore" in p.name]
    clinic.close()


def test_backup_refuses_to_overwrite(tmp_path: Path, disk_clinic: Clinic) -> None:
    target = tmp_path / "b.sqlite"
    target.write_text("keep me")
    with pytest.raises(Exception, match="already exists"):
        disk_clinic.backups.backup(target)
    assert target.read_text() == "keep me"


def test_migrations_are_named_and_ordered() -> None:
    names = [m.name for m in MIGRATIONS._migrations]
    assert names == sorted(names) == ALL_MIGRATIONS == list(SCHEMA)
    assert MIGRATIONS.name == MIGRATION_SET


def test_an_up_to_date_database_opens_without_sqlite_utils(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    Store(path).close()
    code = (
        "import sys; from pathlib import Path; from desktop.storage import SqliteStore as Store;"
        f"Store(Path({str(path)!r})).close();"
        "assert 'sqlite_utils' not in sys.modules, 'sqlite_utils was imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr


def test_upgrade_from_schema_0004_keeps_every_row_and_finds_what_staff_type(
    tmp_path: Path, clock: FakeClock
) -> None:
    old = tmp_path / "clinic.sqlite"
    shutil.copy(FIXTURES / "schema-0004.sqlite", old)
    raw = sqlite3.connect(old)
    before = raw.execute("SELECT id, given_name, family_name, phone FROM patients").fetchall()
    trail = raw.execute("SELECT count(*) FROM audit").fetchone()[0]
    raw.close()
    assert len(before) == 4 and trail >= 5
    clinic = open_as_system(old, clock)
    assert clinic._store.applied_migrations() == ALL_MIGRATIONS
    assert "patients_fts" not in clinic._store.db.table_names()
    assert clinic.patients.count() == 4
    for pid, given, family, phone in before:  # what is shown and printed is unchanged
        p = clinic._store.patients.get(pid)
        assert (p.given_name, p.family_name, p.phone) == (given, family, phone)
    for typed, family in [
        ("obrien", "O'Brien"),
        ("smithjones", "Smith-Jones"),
        ("美玲", "陈"),
        ("020 7946 0011", "O'Brien"),  # stored as +44 20 7946 0011: now an E.164 key
        ("07700900123", "Smith-Jones"),  # no region yet: its digits as typed
        ("zolc 1990", "Żółć"),
    ]:
        assert [p.family_name for p in clinic.patients.search(typed)] == [family], typed
    assert clinic._store.patients.get(before[1][0]).phone_e164 == "+442079460011"
    with pytest.raises(DuplicatePatient):
        clinic.patients.register(
            patient_fields(given_name="Siobhan", family_name="O’Brien", date_of_birth="1985-11-30")
        )
    (draft,) = clinic.consultations.for_patient(before[0][0])
    assert draft.answers == {"V1": "no"}
    assert clinic.audit.verify().intact
    # The upgraded file backs up and restores (its schema is what the migrations make).
    backup = clinic.backups.backup(tmp_path / "backup.sqlite")
    clinic.backups.restore(backup)
    assert clinic.patients.count() == 4
    clinic.close()


def test_damage_outside_the_small_tables_is_found_when_read_and_by_every_backup(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Opening checks only what opening reads (a full check grows with the clinic); a damaged
    patient index is reported the moment it is read, and a backup refuses to copy it."""
    path = tmp_path / "clinic.sqlite"
    clinic = open_as_system(path, clock)
    for i in range(300):
        clinic.patients.register(patient_fields(given_name=f"Name{i}", family_name=f"Family{i}"))
    root = clinic._store.rows("SELECT rootpage FROM sqlite_master WHERE name = 'patient_keys'")
    clinic.close()
    page = root[0]["rootpage"]
    data = bytearray(path.read_bytes())
    data[(page - 1) * 4096 : page * 4096 - 100] = b"\xa5" * (4096 - 100)
    path.write_bytes(bytes(data))
    clinic = open_as_system(path, clock)  # opens: the damage is not where opening reads
    with pytest.raises(StorageError, match="damaged"):
        clinic.patients.search("name1")
    assert clinic._store.integrity_problems()
    with pytest.raises(StorageError, match="integrity check"):
        clinic.backups.backup(tmp_path / "backup.sqlite")
    assert not (tmp_path / "backup.sqlite").exists()
    clinic.close()
