"""What an attacker with the database file can do to the audit trail unnoticed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop.clinic import Clinic, system_actor
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.patients import patient_fields


def test_an_emptied_trail_beside_records_is_not_intact(tmp_path: Path) -> None:
    db, home = tmp_path / "clinic.sqlite", tmp_path / "anchors"
    clinic = signed_in(Clinic.open(db, hasher=FAST_HASHER, workstation_dir=home))
    clinic.patients.register(patient_fields())
    clinic.close()
    conn = sqlite3.connect(db)
    conn.executescript(
        "DROP TRIGGER audit_no_delete; DELETE FROM audit; CREATE TRIGGER audit_no_delete "
        "BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    )
    conn.commit()
    conn.close()
    for anchor in [db.with_name(db.name + ".audit-anchor"), *home.glob("*.audit-anchor")]:
        anchor.unlink()
    clinic = Clinic.open(db, actor=system_actor(), hasher=FAST_HASHER, workstation_dir=home)
    try:
        assert not clinic.audit.verify().intact
    finally:
        clinic.close()
