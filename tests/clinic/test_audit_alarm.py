"""Evidence that the audit trail was cut or altered stands until an administrator says so."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.clinic import Clinic
from desktop.errors import ValidationError
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields


def cut_last_rows(path: Path, keep: int) -> None:
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE seq > ?", [keep])
    raw.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
    )
    raw.commit()
    raw.close()


def reopen(path: Path, clock: FakeClock, workstation: Path) -> Clinic:
    clinic = Clinic.open(path, clock=clock, hasher=FAST_HASHER, workstation_dir=workstation)
    clinic.session.login("owner", OWNER_PASSWORD)
    return clinic


@pytest.fixture
def trail(tmp_path: Path, clock: FakeClock) -> Path:
    path = tmp_path / "clinic.sqlite"
    clinic = signed_in(
        Clinic.open(path, clock=clock, hasher=FAST_HASHER, workstation_dir=tmp_path / "ws")
    )
    for name in ("Ada", "Bea", "Cai"):
        clinic.patients.register(patient_fields(given_name=name))
    clinic.close()
    return path


def test_a_cut_trail_stays_broken_after_the_next_audited_action(
    trail: Path, clock: FakeClock, tmp_path: Path
) -> None:
    cut_last_rows(trail, keep=3)
    clinic = reopen(trail, clock, tmp_path / "ws")  # signing in is itself audited
    first = clinic.audit.verify()
    assert not first.intact and "removed from the end" in first.reason
    clinic.patients.register(patient_fields(given_name="Dee"))
    again = clinic.audit.verify()
    assert not again.intact and "not acknowledged" in again.reason
    assert clinic.audit.alarm() is not None
    clinic.close()
    # Still standing for the next program that opens the file.
    assert not reopen(trail, clock, tmp_path / "ws").audit.verify().intact


def test_the_alarm_survives_the_loss_of_one_anchor_and_of_the_database_note(
    trail: Path, clock: FakeClock, tmp_path: Path
) -> None:
    cut_last_rows(trail, keep=3)
    Path(f"{trail}.audit-anchor").unlink()  # the anchor beside the database is gone too
    clinic = reopen(trail, clock, tmp_path / "ws")  # this computer's copy still knows
    assert not clinic.audit.verify().intact
    clinic.close()
    raw = sqlite3.connect(trail)
    raw.execute("DELETE FROM settings WHERE key = 'audit_alarm'")
    raw.commit()
    raw.close()
    clinic = reopen(trail, clock, tmp_path / "ws")
    report = clinic.audit.verify()
    assert not report.intact and "removed from the end" in report.reason


def test_an_administrator_acknowledges_the_alarm_and_that_is_audited(
    trail: Path, clock: FakeClock, tmp_path: Path
) -> None:
    cut_last_rows(trail, keep=3)
    clinic = reopen(trail, clock, tmp_path / "ws")
    assert not clinic.audit.verify().intact
    with pytest.raises(ValidationError, match="what was found and done"):
        clinic.audit.acknowledge("ok")
    clinic.audit.acknowledge("Restored nothing; the owner was told about the cut trail.")
    ack = clinic.audit.entries(action="acknowledge audit alarm")
    assert len(ack) == 1 and "removed from the end" in ack[0].detail
    assert clinic.audit.alarm() is None
    assert clinic.audit.verify().intact


def test_the_anchor_is_written_once_per_transaction(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = signed_in(
        Clinic.open(
            tmp_path / "c.sqlite", clock=clock, hasher=FAST_HASHER, workstation_dir=tmp_path / "w"
        )
    )
    writes: list[int] = []
    anchors = clinic.session.audit_log.anchors
    original = anchors.write
    monkeypatch.setattr(anchors, "write", lambda n, h: (writes.append(n), original(n, h)))
    pid = clinic.patients.register(patient_fields()).id
    clinic.consultations.start(pid)
    assert len(writes) == 2  # two use cases, two transactions
    with clinic._store.transaction():
        clinic.session.audit_log.record("test", "one")
        clinic.session.audit_log.record("test", "two")
    assert len(writes) == 3 and writes[-1] == clinic.audit.entries(limit=1)[0].seq
