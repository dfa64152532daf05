"""Accounts, roles, lockout, screen lock and the tamper-evident audit trail, through Clinic."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop.clinic import Clinic, audit_trail
from desktop.errors import Conflict, OtherClinic, PermissionDenied, ValidationError
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.cli import run
from tests.helpers.clinics import (
    FAST_HASHER,
    OWNER_PASSWORD,
    PASSWORDS,
    as_role,
    open_as_system,
    signed_in,
)
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import STROKES
from tests.helpers.patients import patient_fields


def test_a_new_database_has_no_account_and_no_default_password(clock: FakeClock) -> None:
    clinic = Clinic.in_memory(clock=clock, hasher=FAST_HASHER)
    assert clinic.accounts.needs_setup()
    with pytest.raises(PermissionDenied, match="Sign in first"):
        clinic.patients.search("a")
    for username in ("admin", "administrator", "root", "owner"):
        for password in ("admin", "password", "", "1234567890"):
            with pytest.raises(PermissionDenied):
                clinic.session.login(username, password)
    with pytest.raises(ValidationError, match="at least 10"):
        clinic.accounts.setup("owner", "Dr Ada", "short")
    signed_in(clinic)
    assert not clinic.accounts.needs_setup()
    with pytest.raises(Conflict):
        clinic.accounts.setup("second", "Someone Else", "another long password")


def _use_cases(
    c: Clinic, cid: str, pid: str, tmp: Path, password: str
) -> dict[str, Callable[[], Any]]:
    return {
        "register patient": lambda: c.patients.register(patient_fields(given_name="New")),
        "edit patient": lambda: c.patients.update(pid, {"notes": "x"}),
        "view patient": lambda: c.patients.get(pid),
        "search": lambda: c.patients.search("zolc"),
        "start consultation": lambda: c.consultations.start(pid),
        "enter answers": lambda: c.consultations.record_answers(cid, {"G1": "no"}),
        "examination answers": lambda: c.consultations.record_answers(cid, {"V7": "yes"}),
        "override": lambda: c.consultations.override(cid, "proceed", "Seen by dermatology, stable"),
        "patient signature": lambda: c.documents.add_signature(
            cid, "patient", "Ł Ż", STROKES, width=600, height=200
        ),
        "clinician signature": lambda: c.documents.add_signature(
            cid, "clinician", "X", STROKES, width=600, height=200, password=password
        ),
        "record test spot": lambda: c.test_spots.record(cid, "ear", c.today()),
        "users": c.accounts.list,
        "settings": lambda: c.settings.set_strict_mode(False),
        "seal": c.seal.export_certificate,
        "backup": lambda: c.backups.backup(tmp / f"b-{len(list(tmp.iterdir()))}.sqlite"),
        "audit viewer": c.audit.entries,
    }


ALLOWED = {
    "front_desk": {"register patient", "edit patient", "view patient", "search",
                   "start consultation", "enter answers", "patient signature"},
    "clinician": {"register patient", "edit patient", "view patient", "search",
                  "start consultation", "enter answers", "examination answers", "override",
                  "patient signature", "clinician signature", "record test spot"},
    "administrator": {"view patient", "search", "users", "settings", "seal", "backup",
                      "audit viewer"},
}  # fmt: skip


@pytest.mark.parametrize("role", list(ALLOWED))
def test_role_matrix(role: str, tmp_path: Path, clock: FakeClock) -> None:
    clinic = signed_in(Clinic.open(tmp_path / "c.sqlite", clock=clock, hasher=FAST_HASHER))
    for r, password in PASSWORDS.items():
        clinic.accounts.create(r.replace("_", ""), f"Staff {r}", (r,), password)
    pid = clinic.patients.register(patient_fields()).id
    cid = clinic.consultations.start(pid).id
    clinic.consultations.save_draft(
        cid, answers=stable_vitiligo_answers(), clinician="Staff clinician"
    )  # who signs as the clinician in the matrix
    backups = tmp_path / "backups"
    backups.mkdir()
    as_role(clinic, role)
    outcome = {}
    for name, call in _use_cases(clinic, cid, pid, backups, PASSWORDS[role]).items():
        try:
            call()
            outcome[name] = True
        except PermissionDenied as exc:
            assert "may not" in exc.message
            outcome[name] = False
    assert {n for n, ok in outcome.items() if ok} == ALLOWED[role]
    clinic.close()


def test_front_desk_cannot_sign_or_review(staffed: Clinic) -> None:
    pid = staffed.patients.register(patient_fields()).id
    cid = staffed.consultations.start(pid).id
    as_role(staffed, "front_desk")
    for call in (
        lambda: staffed.documents.sign(cid),
        lambda: staffed.consultations.clear_override(cid),
        lambda: staffed.backups.restore(Path("/nonexistent")),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_clinician_signature_needs_the_password_again(staffed: Clinic) -> None:
    pid = staffed.patients.register(patient_fields()).id
    cid = staffed.consultations.start(pid).id
    staffed.consultations.save_draft(cid, answers=stable_vitiligo_answers())
    as_role(staffed, "clinician")
    with pytest.raises(PermissionDenied, match="wrong"):
        staffed.documents.add_signature(cid, "clinician", "X", STROKES, width=600, height=200)
    sig = staffed.documents.add_signature(
        cid, "clinician", "Somebody Else", STROKES, width=600, height=200,
        password=PASSWORDS["clinician"],
    )  # fmt: skip
    assert sig.signer_name == "Staff clinician"  # the signed-in clinician, not a typed name


def test_five_failures_lock_the_account_for_a_growing_delay(
    staffed: Clinic, clock: FakeClock
) -> None:
    staffed.session.logout()
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            staffed.session.login("frontdesk", "wrong password!")
    with pytest.raises(PermissionDenied, match="locked until"):
        staffed.session.login("frontdesk", PASSWORDS["front_desk"])  # right password, still locked
    clock.advance(seconds=59)
    with pytest.raises(PermissionDenied, match="locked"):
        staffed.session.login("frontdesk", PASSWORDS["front_desk"])
    clock.advance(seconds=2)
    with pytest.raises(PermissionDenied, match="wrong"):
        staffed.session.login("frontdesk", "wrong again!!")  # sixth failure: locked for 2 minutes
    clock.advance(seconds=100)
    with pytest.raises(PermissionDenied, match="locked"):
        staffed.session.login("frontdesk", PASSWORDS["front_desk"])
    clock.advance(seconds=25)
    assert staffed.session.login("frontdesk", PASSWORDS["front_desk"]).username == "frontdesk"
    staffed.session.logout()
    with pytest.raises(PermissionDenied, match="wrong"):  # the count started again
        staffed.session.login("frontdesk", "wrong once more")
    assert staffed.session.login("frontdesk", PASSWORDS["front_desk"])


def test_admin_resets_and_disables_but_never_deletes(staffed: Clinic) -> None:
    users = {u.username: u for u in staffed.accounts.list()}
    staffed.accounts.reset_password(users["frontdesk"].id, "a brand new password")
    staffed.accounts.set_disabled(users["clinician"].id, True)
    staffed.session.logout()
    with pytest.raises(PermissionDenied, match="disabled"):
        staffed.session.login("clinician", PASSWORDS["clinician"])
    assert staffed.session.login("frontdesk", "a brand new password")
    staffed.session.logout()
    staffed.session.login("owner", OWNER_PASSWORD)
    with pytest.raises(ValidationError, match="own account"):
        staffed.accounts.set_disabled(staffed.session.user.id, True)
    assert "clinician" in {u.username for u in staffed.accounts.list()}


def test_lock_hides_everything_until_the_same_password(staffed: Clinic) -> None:
    pid = staffed.patients.register(patient_fields()).id
    staffed.session.lock()
    with pytest.raises(PermissionDenied, match="locked"):
        staffed.patients.get(pid)
    with pytest.raises(PermissionDenied):
        staffed.session.unlock(PASSWORDS["clinician"])  # another user's password does not unlock
    staffed.session.unlock(OWNER_PASSWORD)
    assert staffed.patients.get(pid).id == pid


def test_a_draft_survives_a_lock_and_a_switch_of_user(staffed: Clinic) -> None:
    pid = staffed.patients.register(patient_fields()).id
    cid = staffed.consultations.start(pid).id
    staffed.consultations.record_answers(cid, {"V1": "no", "G1": "no"})
    staffed.session.lock()
    staffed.session.logout()  # "switch user"
    as_role(staffed, "front_desk")
    assert cid in {c.id for c in staffed.consultations.drafts()}
    staffed.session.logout()
    staffed.session.login("owner", OWNER_PASSWORD)
    draft = staffed.consultations.get(cid)
    assert dict(draft.answers) == {"V1": "no", "G1": "no"} and draft.created_by == "owner"


def test_audit_records_who_did_what(staffed: Clinic) -> None:
    pid = staffed.patients.register(patient_fields()).id
    staffed.patients.get(pid)
    staffed.session.logout()
    with pytest.raises(PermissionDenied):
        staffed.session.login("owner", "not my password")
    staffed.session.login("owner", OWNER_PASSWORD)
    actions = [(e.user, e.action) for e in staffed.audit.entries()]
    for expected in [
        ("owner", "setup"), ("owner", "create user"), ("owner", "create patient"),
        ("owner", "view patient"), ("owner", "logout"), ("-", "failed login"), ("owner", "login"),
    ]:  # fmt: skip
        assert expected in actions
    mine = staffed.audit.entries(patient=pid)
    assert [e.action for e in mine] == ["create patient", "view patient"]
    csv = staffed.audit.export_csv(patient=pid)
    assert csv.splitlines()[0].startswith("\ufeffseq,time,user,action")  # BOM: UTF-8 in Excel
    assert len(csv.splitlines()) == 3
    assert "Żółć" not in csv  # the trail names IDs, not patients


def test_a_limited_audit_view_shows_the_newest_rows_and_an_export_has_them_all(
    staffed: Clinic,
) -> None:
    pid = staffed.patients.register(patient_fields()).id
    for _ in range(6):
        staffed.patients.get(pid)
    everything = staffed.audit.entries()
    newest = staffed.audit.entries(limit=3)
    assert [e.seq for e in newest] == [e.seq for e in everything[-3:]]  # in chain order
    views = staffed.audit.entries(action="view patient", limit=2)
    assert [e.seq for e in views] == [e.seq for e in everything if e.action == "view patient"][-2:]
    csv = staffed.audit.export_csv(action="view patient")
    assert len(csv.splitlines()) == 1 + 6


def test_the_audit_names_its_patients_for_the_administrator(
    staffed: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = staffed.patients.register(patient_fields())
    second = staffed.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    staffed.patients.get(first.id)
    monkeypatch.setattr(audit_trail, "LABEL_BATCH", 2)  # several batches for three IDs
    assert staffed.audit.patient_labels([first.id, second.id, first.id, "gone", ""]) == {
        second.id: "Ødegård, Zoë (1990-04-02)",
        first.id: "Żółć, Łukasz (1990-04-02)",
        "gone": "gone (no such patient)",
    }
    assert staffed.audit.patient_label(second.id) == "Ødegård, Zoë (1990-04-02)"
    staffed.session.logout()
    staffed.session.login("frontdesk", PASSWORDS["front_desk"])
    with pytest.raises(PermissionDenied):
        staffed.audit.patient_labels([first.id])


@pytest.fixture
def audited_db(tmp_path: Path, clock: FakeClock) -> Path:
    path = tmp_path / "audited.sqlite"
    clinic = signed_in(Clinic.open(path, clock=clock, hasher=FAST_HASHER))
    for i in range(6):
        clinic.patients.register(patient_fields(given_name=f"P{i}"))
    clinic.close()
    return path


def _tamper(path: Path, *sql: str) -> None:
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("DROP TRIGGER audit_no_delete")
    for statement in sql:
        raw.execute(statement)
    raw.commit()
    raw.close()


def test_audit_verify_passes_an_intact_trail(audited_db: Path, tmp_path: Path) -> None:
    result = run("--db", str(audited_db), "audit", "verify", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact: 8 rows" in result.stdout  # setup, login and 6 new patients
    again = run("--db", str(audited_db), "audit", "verify", home=tmp_path)
    assert "intact: 9 rows" in again.stdout  # ... and the first check, recorded after it


def test_triggers_refuse_changes_to_the_audit_trail(audited_db: Path) -> None:
    raw = sqlite3.connect(audited_db)
    for sql in ("UPDATE audit SET user = 'x' WHERE seq = 3", "DELETE FROM audit WHERE seq = 3"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(sql)
    raw.close()


@pytest.mark.parametrize(
    ("attack", "broken"),
    [
        (("UPDATE audit SET user = 'mallory' WHERE seq = 4",), 4),
        (("UPDATE audit SET detail = '{}', action = 'login' WHERE seq = 5",), 5),
        (("DELETE FROM audit WHERE seq = 3",), 4),
        (("DELETE FROM audit WHERE seq = 8",), 8),  # the last row: the anchor tells
        (
            (  # swap two rows' places
                "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (5, 6)",
                "DELETE FROM audit WHERE seq IN (5, 6)",
                "INSERT INTO audit (seq, at, user, action, target, patient, detail, prev_hash, "
                "hash) SELECT 11 - seq, at, user, action, target, patient, detail, prev_hash, "
                "hash FROM t",
            ),
            5,
        ),
        (  # a forged row slipped in between
            (
                "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq >= 4",
                "DELETE FROM audit WHERE seq >= 4",
                "INSERT INTO audit SELECT seq + 1, at, user, action, target, patient, detail, "
                "prev_hash, hash FROM t",
                "INSERT INTO audit SELECT 4, at, user, 'login', target, patient, detail, "
                "prev_hash, hash FROM t WHERE seq = 4",
            ),
            4,
        ),
    ],
)
def test_audit_verify_names_the_first_broken_row(
    audited_db: Path, tmp_path: Path, attack: tuple[str, ...], broken: int
) -> None:
    _tamper(audited_db, *attack)
    result = run("--db", str(audited_db), "audit", "verify", home=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"BROKEN at row {broken}" in result.stdout


def test_autosave_edits_make_one_audit_row_a_minute(clinic: Clinic, clock: FakeClock) -> None:
    pid = clinic.patients.register(patient_fields()).id
    cid = clinic.consultations.start(pid).id
    for answer in ("no", "yes", "unsure", "no"):
        clinic.consultations.record_answers(cid, {"V1": answer})
        clock.advance(seconds=10)
    clock.advance(seconds=30)
    clinic.consultations.record_answers(cid, {"G1": "no"})
    updates = [e for e in clinic.audit.entries(patient=pid) if e.action == "update consultation"]
    assert len(updates) == 2


def test_first_run_setup_names_the_clinic_or_changes_nothing(
    clock: FakeClock, tmp_path: Path
) -> None:
    clinic = Clinic.in_memory(data_dir=tmp_path, clock=clock, hasher=FAST_HASHER)
    try:
        for details, field in (
            ({"name": "  ", "phone": "0123"}, "name"),
            ({"name": "Skin Studio", "fax": "0123"}, "fax"),
        ):
            with pytest.raises(ValidationError) as refused:
                clinic.accounts.setup("owner", "Dr Ada Lovelace", OWNER_PASSWORD, clinic=details)
            assert refused.value.field == field
        with pytest.raises(ValidationError):  # a short password: no clinic profile either
            clinic.accounts.setup(
                "owner", "Dr Ada Lovelace", "short", clinic={"name": "Skin Studio"}
            )
        assert clinic.accounts.needs_setup() and clinic.session.signed_in is None
        assert clinic._store.settings.get("clinic_profile") is None

        clinic.accounts.setup(
            "owner",
            "Dr Ada Lovelace",
            OWNER_PASSWORD,
            clinic={"name": "Skin Studio", "address": "1 Main St", "phone": "0123"},
        )
        profile = clinic.settings.profile()
        assert (profile.name, profile.address, profile.phone) == (
            "Skin Studio",
            "1 Main St",
            "0123",
        )
        assert [e.action for e in clinic.audit.entries()][:3] == ["setup", "login", "settings"]
    finally:
        clinic.close()


def test_a_restore_carries_the_audit_entries_made_after_the_backup(
    disk_clinic: Clinic, clock: FakeClock, tmp_path: Path
) -> None:
    clinic = disk_clinic
    pid = clinic.patients.register(patient_fields()).id
    backup = clinic.backups.backup(tmp_path / "monday.sqlite")
    in_backup = len(clinic.audit.entries(limit=-1)) - 1  # the "backup" row comes after the copy
    clock.advance(minutes=30)
    clinic.patients.get(pid)
    clinic.audit.export_csv(patient=pid)
    lost = clinic.audit.entries(limit=-1)[in_backup:]
    assert [e.action for e in lost] == ["backup", "view patient", "export"]

    clock.advance(minutes=5)
    clinic.backups.restore(backup)
    trail = clinic.audit.entries(limit=-1)
    carried, (safety_copy, restored) = trail[in_backup:-2], trail[-2:]
    assert [(e.at, e.user, e.action, e.target, e.patient) for e in carried] == [
        (e.at, e.user, e.action, e.target, e.patient) for e in lost
    ]
    for copy, original in zip(carried, lost, strict=True):
        assert f'"seq": {original.seq}' in copy.detail and original.hash in copy.detail
    # the copy of the replaced database, made by the restore itself, is carried over too
    assert safety_copy.action == "backup" and "before-restore" in safety_copy.target
    assert restored.action == "restore" and '"carried": 4' in restored.detail
    assert clinic.audit.verify().intact  # one unbroken chain, the anchor moved with it
    assert [p.id for p in clinic.patients.search("")] == [pid]


def test_a_backup_of_another_history_carries_nothing(
    disk_clinic: Clinic, clock: FakeClock, tmp_path: Path
) -> None:
    other = open_as_system(tmp_path / "elsewhere" / "clinic.sqlite", clock)
    other.patients.register(patient_fields(given_name="Mei", family_name="Chen"))
    other.close()
    disk_clinic.patients.register(patient_fields())
    with pytest.raises(OtherClinic, match="another clinic"):
        disk_clinic.backups.restore(tmp_path / "elsewhere" / "clinic.sqlite")
    disk_clinic.backups.restore(tmp_path / "elsewhere" / "clinic.sqlite", other_clinic=True)
    trail = disk_clinic.audit.entries(limit=-1)
    assert not any("carried_from" in e.detail for e in trail)
    assert trail[-1].action == "restore" and '"carried": 0' in trail[-1].detail
