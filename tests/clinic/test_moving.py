"""Moving a clinic between a file and the server (proven), and backups and restores of a server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from desktop.clinic import Clinic
from desktop.errors import ClinicMoved, StorageError
from desktop.storage import integrity_errors
from desktop.storage.restore import check_backup
from tests.helpers.cli import run
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, open_as_system, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import ready, sign_all
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields


def on_server(url: str, clock: FakeClock, folder: Path, *, sign_in: bool = True) -> Clinic:
    c = Clinic.open(url, clock=clock, hasher=FAST_HASHER, workstation_dir=folder / "anchors",
                    data_dir=folder / "data")  # fmt: skip
    if sign_in:
        c.session.login("owner", OWNER_PASSWORD)
    return c


def fill(clinic: Clinic, clock: FakeClock) -> dict[str, object]:
    """Patients, a signed consultation with its sealed PDFs, a draft, a test spot."""
    for i in range(25):
        clinic.patients.register(patient_fields(given_name=f"Extra{i}", family_name="Ödön"))
    cid = ready(clinic)
    sign_all(clinic, cid)
    docs = clinic.documents.sign(cid)
    pdf = clinic.documents.pdf(docs[0].id)
    draft = ready(clinic, given_name="Anna", family_name="Smith-Jones")
    signed = clinic.consultations.get(cid)
    clock.advance(days=30)
    repeat = clinic.repeat_visits.start_from_last(signed.patient_id)  # copied from the signed
    stray = ready(clinic, given_name="Stray", family_name="Draft")
    clinic.repeat_visits.discard(stray, "opened for the wrong patient by mistake")
    clock.advance(minutes=2)
    return {"signed": cid, "draft": draft, "pdf": pdf, "repeat": repeat.id, "stray": stray}


@pytest.fixture
def file_clinic(tmp_path: Path, clock: FakeClock) -> Iterator[Clinic]:
    c = signed_in(
        Clinic.open(
            tmp_path / "clinic.sqlite",
            clock=clock,
            hasher=FAST_HASHER,
            workstation_dir=tmp_path / "anchors",
        )
    )
    yield c
    c.close()


def test_a_file_clinic_moves_to_the_server_and_back_proven_both_ways(
    file_clinic: Clinic, pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    made = fill(file_clinic, clock)
    counts = {t: file_clinic._store.count(t) for t in file_clinic._store.tables()}
    report = file_clinic.backups.move_to(pg_url)
    assert {p.table: p.rows for p in report.tables} == counts
    assert report.documents == 2 and report.chain.intact
    assert report.seal_certificates == 1
    assert any("hash chain intact" in line for line in report.lines())
    assert file_clinic.audit.entries(action="move out")  # the file's trail says where it went

    server = on_server(pg_url, clock, tmp_path / "room")
    assert server.patients.count() == 28
    assert server.consultations.get(str(made["repeat"])).copied_from == made["signed"]
    assert server.consultations.get(str(made["stray"])).discarded
    assert [p.family_name for p in server.patients.search("smith jon")] == ["Smith-Jones"]
    assert server.consultations.get(str(made["signed"])).state == "signed"
    verdict = server.documents.verify(made["pdf"])  # type: ignore[arg-type]
    assert verdict.valid, verdict.reason
    assert server.audit.verify().intact
    assert [e.action for e in server.audit.entries(action="move in")] == ["move in"]
    server.consultations.save_draft(str(made["draft"]), clinician="Dr Grace Hopper")

    back = tmp_path / "back" / "clinic.sqlite"
    report = server.backups.move_to(back)
    assert report.chain.intact and report.documents == 2
    server.close()
    assert integrity_errors(back) == []
    again = Clinic.open(back, clock=clock, hasher=FAST_HASHER, workstation_dir=tmp_path / "a2")
    again.session.login("owner", OWNER_PASSWORD)
    assert again.consultations.get(str(made["draft"])).clinician == "Dr Grace Hopper"
    assert again.documents.verify(made["pdf"]).valid  # type: ignore[arg-type]
    assert again.audit.verify().intact
    again.close()


def test_moving_into_a_server_that_holds_a_clinic_is_refused_and_changes_nothing(
    file_clinic: Clinic, pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    other = signed_in(on_server(pg_url, clock, tmp_path / "other", sign_in=False))
    other.patients.register(patient_fields(given_name="Already", family_name="There"))
    other.close()
    file_clinic.patients.register(patient_fields())
    with pytest.raises(StorageError, match="already holds a clinic"):
        file_clinic.backups.move_to(pg_url)
    server = on_server(pg_url, clock, tmp_path / "other")
    assert [p.given_name for p in server.patients.search("")] == ["Already"]
    server.close()


def test_a_copy_that_differs_from_its_source_is_not_kept(
    file_clinic: Clinic, pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.storage import transfer

    fill(file_clinic, clock)
    real = transfer._table_digest

    def one_row_short(target: object, table: str) -> object:
        digest = real(target, table)  # type: ignore[arg-type]
        if table == "patients":
            digest.count -= 1
        return digest

    monkeypatch.setattr(transfer, "_table_digest", one_row_short)
    with pytest.raises(StorageError, match="copied table patients differs"):
        file_clinic.backups.move_to(pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM patients").fetchone() == (0,)


def test_a_server_backup_passes_every_check_a_restore_makes(
    file_clinic: Clinic, pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    fill(file_clinic, clock)
    file_clinic.backups.move_to(pg_url)
    server = on_server(pg_url, clock, tmp_path / "desk")
    backup = server.backups.backup(tmp_path)
    assert backup.stat().st_mode & 0o777 == 0o600
    facts = check_backup(backup, tmp_path)
    assert facts.chain.intact and facts.clinic_id == server.settings.get("clinic_id")
    facts.path.unlink()
    with sqlite3.connect(backup) as raw:
        assert raw.execute("SELECT count(*) FROM patients").fetchone() == (28,)
    assert server.audit.entries(action="backup")
    server.close()
    # The backup restores into a file clinic too (a clinic leaving the server this way).
    target = Clinic.open(tmp_path / "restored.sqlite", clock=clock, hasher=FAST_HASHER,
                         workstation_dir=tmp_path / "a3")  # fmt: skip
    signed_in(target)
    target.backups.restore(backup, other_clinic=True)
    assert target.patients.count() == 28 and target.audit.verify().intact
    target.close()


def test_a_server_restore_is_refused_while_another_workstation_is_connected(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    desk = signed_in(on_server(pg_url, clock, tmp_path / "desk", sign_in=False))
    early = desk.patients.register(patient_fields(given_name="Early"))
    backup = desk.backups.backup(tmp_path)
    clock.advance(minutes=5)
    late = desk.patients.register(patient_fields(given_name="Late", family_name="Comer"))
    room = on_server(pg_url, clock, tmp_path / "room")
    with pytest.raises(StorageError, match=r"in use by 1 other connection.*Nothing|nothing"):
        desk.backups.restore(backup)
    assert desk.patients.count() == 2  # nothing changed
    room.close()

    kept = desk.backups.restore(backup)
    assert [p.id for p in desk.patients.search("")] == [early.id]
    trail = desk.audit.verify()
    assert trail.intact
    carried = [e for e in desk.audit.entries() if "carried_from" in e.detail]
    assert any(e.action == "create patient" and late.id in e.target for e in carried)
    assert desk.audit.entries(action="restore")
    with sqlite3.connect(kept) as raw:
        assert raw.execute("SELECT count(*) FROM patients").fetchone() == (2,)
    desk.close()
    # Another workstation opens the restored clinic without an alarm of its own making.
    room = on_server(pg_url, clock, tmp_path / "room2")
    assert room.audit.alarm() is None and room.patients.count() == 1
    room.close()


def test_move_to_from_the_command_line_both_ways(pg_url: str, tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite"
    clinic = open_as_system(db)
    clinic.patients.register(patient_fields())
    clinic.close()
    result = run("--db", str(db), "move-to", pg_url, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hash chain intact" in result.stdout and "patients: 1 row, identical" in result.stdout
    assert f"--db {pg_url}" in result.stdout
    back = tmp_path / "back.sqlite"
    result = run("--db", pg_url, "move-to", str(back), home=tmp_path)
    assert result.returncode == 0, result.stderr
    refused = run("--db", str(db), "move-to", pg_url, home=tmp_path)
    assert refused.returncode == 2 and "already moved to" in refused.stderr
    assert (ROOT / "main.py").is_file()


def test_server_backups_within_one_second_each_keep_a_file_of_their_own(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    desk = signed_in(on_server(pg_url, clock, tmp_path / "desk", sign_in=False))
    desk.patients.register(patient_fields())
    folder = tmp_path / "backups"
    folder.mkdir()
    made = [desk.backups.backup(folder) for _ in range(2)]  # the clock stands still
    desk.close()
    assert made[1].name == f"{made[0].stem}-2.sqlite"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in made)
    for backup in made:
        assert integrity_errors(backup) == []


def test_a_move_while_another_window_has_the_file_open_is_refused_and_the_old_file_retired(
    file_clinic: Clinic, clock: FakeClock, tmp_path: Path
) -> None:
    file_clinic.patients.register(patient_fields())
    old = tmp_path / "clinic.sqlite"
    target = tmp_path / "moved" / "clinic.sqlite"
    window = Clinic.open(old, clock=clock, hasher=FAST_HASHER, workstation_dir=tmp_path / "w")
    with pytest.raises(StorageError, match="open in another window or program"):
        file_clinic.backups.move_to(target)
    assert not target.exists()
    window.close()
    file_clinic.backups.move_to(target)
    assert file_clinic.audit.entries(action="move out")
    with pytest.raises(ClinicMoved, match=r"moved out of .*moved to .*new place") as moved_away:
        Clinic.open(old, clock=clock, hasher=FAST_HASHER, workstation_dir=tmp_path / "w")
    assert moved_away.value.place == str(target)
    moved = Clinic.open(target, clock=clock, hasher=FAST_HASHER, workstation_dir=tmp_path / "w")
    moved.session.login("owner", OWNER_PASSWORD)
    assert moved.patients.count() == 1
    moved.close()


def test_a_retired_file_restored_into_a_new_file_is_in_use_again(
    file_clinic: Clinic, clock: FakeClock, tmp_path: Path
) -> None:
    file_clinic.patients.register(patient_fields())
    file_clinic.backups.move_to(tmp_path / "moved.sqlite")
    file_clinic.close()
    fresh = signed_in(
        Clinic.open(tmp_path / "revived" / "clinic.sqlite", clock=clock, hasher=FAST_HASHER,
                    workstation_dir=tmp_path / "w2")
    )  # fmt: skip
    fresh.backups.restore(tmp_path / "clinic.sqlite", other_clinic=True)
    assert fresh.patients.count() == 1
    fresh.patients.register(patient_fields(given_name="Later", family_name="Visit"))
    fresh.close()
    again = Clinic.open(tmp_path / "revived" / "clinic.sqlite", clock=clock, hasher=FAST_HASHER,
                        workstation_dir=tmp_path / "w2")  # fmt: skip
    again.session.login("owner", OWNER_PASSWORD)
    assert again.patients.count() == 2
    again.close()


def test_a_server_clinic_moves_only_when_no_other_workstation_is_connected(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    desk = signed_in(on_server(pg_url, clock, tmp_path / "desk", sign_in=False))
    desk.patients.register(patient_fields())
    room = on_server(pg_url, clock, tmp_path / "room")
    target = tmp_path / "moved.sqlite"
    with pytest.raises(StorageError, match="in use by 1 other connection"):
        desk.backups.move_to(target)
    assert not target.exists()
    room.close()
    desk.backups.move_to(target)
    with pytest.raises(StorageError, match="moved out of"):
        desk.patients.register(patient_fields(given_name="Too", family_name="Late"))
    desk.close()
    with pytest.raises(StorageError, match="moved out of"):
        on_server(pg_url, clock, tmp_path / "room")
    moved = Clinic.open(target, clock=clock, hasher=FAST_HASHER, workstation_dir=tmp_path / "w")
    moved.session.login("owner", OWNER_PASSWORD)
    assert moved.patients.count() == 1
    moved.close()
