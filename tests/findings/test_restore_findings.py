"""Restores that must be refused: hostile copies, altered trails, a full disk, endless views."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from desktop.audit import entry_hash
from desktop.clinic import Clinic
from desktop.errors import IntakeError
from tests.helpers.cli import cli, one_line_error
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.patients import patient_fields


def _raw(path: Path, script: str) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()


def test_a_trigger_named_like_an_internal_object_is_refused(
    disk_clinic: Clinic, tmp_path: Path
) -> None:
    backup = disk_clinic.backups.backup(tmp_path / "backup.sqlite")
    _raw(
        backup,
        "CREATE TRIGGER sqliteXgrant AFTER INSERT ON audit BEGIN "
        "UPDATE users SET roles = '[\"administrator\"]'; END;",
    )
    with pytest.raises(IntakeError, match="trigger"):
        disk_clinic.backups.restore(backup)


def _rehash_from(path: Path, seq: int) -> None:
    """Alter audit row `seq` and recompute every later hash: a consistent forged trail."""
    conn = sqlite3.connect(path)
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("UPDATE audit SET user = 'nobody' WHERE seq = ?", [seq])
    prev = conn.execute("SELECT hash FROM audit WHERE seq = ?", [seq - 1]).fetchone()[0]
    rows = conn.execute(
        "SELECT seq, at, user, action, target, patient, detail FROM audit WHERE seq >= ? "
        "ORDER BY seq",
        [seq],
    ).fetchall()
    for row in rows:
        digest = entry_hash(*row, prev)
        conn.execute(
            "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", [prev, digest, row[0]]
        )
        prev = digest
    for _, sql in triggers:
        conn.execute(sql)
    conn.commit()
    conn.close()


def test_a_backup_whose_trail_differs_from_ours_is_refused(
    disk_clinic: Clinic, tmp_path: Path
) -> None:
    backup = disk_clinic.backups.backup(tmp_path / "backup.sqlite")
    disk_clinic.patients.register(patient_fields(given_name="Later"), allow_duplicate=True)
    _rehash_from(backup, 2)  # rows 1.. are the same history here and in the backup
    with pytest.raises(IntakeError):
        disk_clinic.backups.restore(backup)


@pytest.mark.slow
def test_a_backup_with_an_endless_view_is_refused_promptly(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite"
    clinic = signed_in(Clinic.open(db, hasher=FAST_HASHER))
    backup = clinic.backups.backup(tmp_path / "backup.sqlite")
    clinic.close()
    _raw(
        backup,
        "ALTER TABLE _sqlite_migrations RENAME TO _old_migrations;"
        "CREATE VIEW _sqlite_migrations AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL "
        "SELECT x + 1 FROM r) SELECT 'clinic_intake' AS migration_set, '0001_core' AS name "
        "FROM r;",
    )
    try:
        result = cli(db, "restore", str(backup), timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("restore still checking the backup after 30 s")
    assert one_line_error(result)


def test_a_full_temporary_folder_during_restore_says_what_to_do(
    disk_clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from desktop.storage import restore

    backup = disk_clinic.backups.backup(tmp_path / "backup.sqlite")

    def full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(restore.shutil, "copyfile", full)
    with pytest.raises(IntakeError, match="space"):
        disk_clinic.backups.restore(backup)
