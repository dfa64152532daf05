"""The administrator's dialogs: the audit viewer (filters, verify, CSV export) and user accounts."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QDialog, QWidget
from pytestqt.qtbot import QtBot

from desktop.audit import ChainReport
from desktop.clinic import Clinic
from desktop.errors import PermissionDenied
from desktop.ui.account_fields import MISMATCH
from desktop.ui.audit_dialog import AuditDialog
from desktop.ui.users_dialog import NewUserDialog, ResetPasswordDialog, RolesDialog, UsersDialog
from tests.conftest import OWNER_PASSWORD, FakeClock, patient_fields

SAM_PASSWORD = "front desk password"


@pytest.fixture
def busy_clinic(clinic: Clinic, clock: FakeClock) -> Clinic:
    """Two days of activity by the owner and by Sam (front desk)."""
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    patient = clinic.patients.register(patient_fields())
    other = clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    clinic.session.logout()
    clock.advance(days=1)
    clinic.session.login("sam", SAM_PASSWORD)
    clinic.patients.get(patient.id)
    clinic.patients.get(other.id)
    clinic.session.logout()
    clinic.session.login("owner", OWNER_PASSWORD)
    clinic.patients.get(patient.id)
    clinic._store.settings.set("test_patient", patient.id)
    return clinic


def shown(qtbot: QtBot, dialog: QWidget) -> None:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)


def choose(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)


def column(dialog: AuditDialog, col: int) -> list[str]:
    model = dialog.model
    return [model.cell(row, col) for row in range(model.rowCount())]


# The audit viewer -----------------------------------------------------------------------


def test_the_audit_viewer_filters_by_action_user_patient_and_date(
    qtbot: QtBot, busy_clinic: Clinic, clock: FakeClock
) -> None:
    clinic = busy_clinic
    patient_id = clinic.settings.get("test_patient")
    dialog = AuditDialog(clinic)
    shown(qtbot, dialog)
    everything = dialog.model.rowCount()
    assert everything == len(clinic.audit.entries())
    assert dialog.model.cell(everything - 1, 3) == "view audit"  # reading the trail is audited
    assert "sam" in [dialog.user.itemData(i) for i in range(dialog.user.count())]

    choose(dialog.action, "login")
    logins = column(dialog, 3)
    assert logins and set(logins) == {"login"}
    assert column(dialog, 2) == ["owner", "sam", "owner"]

    choose(dialog.user, "sam")
    assert column(dialog, 2) == ["sam"] and column(dialog, 3) == ["login"]

    choose(dialog.action, "view patient")
    assert column(dialog, 3) == ["view patient", "view patient"]

    labels = [dialog.patient.itemText(i) for i in range(dialog.patient.count())]
    assert labels == ["All patients", "Ødegård, Zoë (1990-04-02)", "Żółć, Łukasz (1990-04-02)"]
    choose(dialog.patient, patient_id)  # patients are offered by name, filtered by ID
    assert dialog.model.rowCount() == 1
    assert column(dialog, 5) == ["Żółć, Łukasz (1990-04-02)"]
    assert dialog.filters()["patient"] == patient_id

    dialog.clear_button.click()
    assert dialog.model.rowCount() == everything
    assert dialog.filters() == {
        "user": "",
        "action": "",
        "patient": "",
        "since": None,
        "until": None,
    }

    today = clock.now.date()  # the first day's rows drop out of a range starting today
    dialog.use_since.click()
    assert dialog.since.isEnabled()
    dialog.since.setDate(QDate(today.year, today.month, today.day))
    assert set(column(dialog, 1)) == {f"{today.isoformat()} 10:30:00"}
    dialog.use_until.click()
    yesterday = today - timedelta(days=1)
    dialog.until.setDate(QDate(yesterday.year, yesterday.month, yesterday.day))
    assert dialog.model.rowCount() == 0
    assert dialog.count.text().startswith("0 entries")


def test_the_audit_viewer_exports_the_filtered_rows_as_csv(
    qtbot: QtBot, busy_clinic: Clinic, tmp_path: Path
) -> None:
    clinic = busy_clinic
    dialog = AuditDialog(clinic)
    shown(qtbot, dialog)
    dialog.set_filters(action="view patient")
    expected = [int(seq) for seq in column(dialog, 0)]
    assert len(expected) == 3

    out = tmp_path / "audit.csv"
    assert dialog.export_to(out) == out
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["seq"]) for r in rows] == expected
    assert {r["action"] for r in rows} == {"view patient"}
    assert {r["user"] for r in rows} == {"owner", "sam"}
    assert all(len(r["hash"]) == 64 for r in rows)
    assert clinic.audit.entries(action="export")  # the export itself is audited

    assert dialog.export_to(tmp_path / "missing" / "audit.csv") is None
    assert "Could not write" in dialog.message.text()


def test_verify_chain_shows_the_verdict(
    qtbot: QtBot, busy_clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = AuditDialog(busy_clinic)
    shown(qtbot, dialog)
    before = dialog.model.rowCount()
    dialog.verify_button.click()
    assert dialog.verdict.isVisible() and "intact" in dialog.verdict.text()
    assert dialog.model.rowCount() == before + 1  # the check is recorded, and shown

    broken = ChainReport(False, 6, 7, "row 7: its content was altered")
    monkeypatch.setattr(busy_clinic.audit, "verify", lambda: broken)
    dialog.verify()
    assert "BROKEN" in dialog.verdict.text() and "row 7" in dialog.verdict.text()


def test_only_those_allowed_open_the_admin_dialogs(qtbot: QtBot, busy_clinic: Clinic) -> None:
    busy_clinic.session.logout()
    busy_clinic.session.login("sam", SAM_PASSWORD)
    with pytest.raises(PermissionDenied):
        AuditDialog(busy_clinic)
    with pytest.raises(PermissionDenied):
        UsersDialog(busy_clinic)
    busy_clinic.session.logout()
    busy_clinic.session.login("owner", OWNER_PASSWORD)
    assert not busy_clinic.audit.entries(action="view audit", user="sam")


# User accounts --------------------------------------------------------------------------


def test_the_users_dialog_creates_an_account(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = UsersDialog(clinic)
    shown(qtbot, dialog)
    assert [u.username for u in dialog.model.users] == ["owner"]
    dialog.new_button.click()
    new = dialog.child
    assert isinstance(new, NewUserDialog) and new.isVisible()

    QTest.keyClicks(new.account.username, "Kim Lee")  # not a valid user name
    QTest.keyClicks(new.account.display_name, "Kim Lee")
    QTest.keyClicks(new.account.password, "kims own password")
    QTest.keyClicks(new.account.password2, "kims own passwort")
    new.create_button.click()
    assert MISMATCH in new.messages.text()
    new.account.password.setText("kims own password")
    new.account.password2.setText("kims own password")
    new.create_button.click()
    assert "lower-case" in new.messages.text() and new.isVisible()
    assert len(clinic.accounts.list()) == 1

    new.account.username.setText("kim")
    new.account.password.setText("kims own password")
    new.account.password2.setText("kims own password")
    new.roles.checks["front_desk"].setChecked(False)
    new.create_button.click()
    assert "at least one role" in new.messages.text()
    new.roles.checks["clinician"].setChecked(True)
    new.account.password.setText("kims own password")
    new.account.password2.setText("kims own password")
    with qtbot.waitSignal(new.finished):
        QTest.keyClick(new.account.password2, Qt.Key.Key_Return)
    assert dialog.child is None
    assert [u.username for u in dialog.model.users] == ["kim", "owner"]
    user = dialog.selected_user()
    assert user is not None and user.username == "kim" and user.roles == ("clinician",)
    assert "'kim' created" in dialog.status.text()
    assert dialog.model.cell(0, 2) == "Clinician"


def test_the_users_dialog_disables_and_enables_an_account(qtbot: QtBot, clinic: Clinic) -> None:
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    dialog = UsersDialog(clinic)
    shown(qtbot, dialog)

    dialog.select_user("owner")
    dialog.disable_button.click()  # one's own account: refused with the core's message
    assert "your own account" in dialog.message.text()

    dialog.select_user("sam")
    assert dialog.disable_button.text() == "&Disable"
    dialog.disable_button.click()
    row = [u.username for u in dialog.model.users].index("sam")
    assert "Disabled" in dialog.model.cell(row, 3)
    assert dialog.disable_button.text() == "&Enable"
    assert "'sam' disabled" in dialog.status.text()
    assert [u.disabled for u in clinic.accounts.list() if u.username == "sam"] == [True]
    assert [u.username for u in clinic.accounts.list()] == ["owner", "sam"]  # never deleted
    clinic.session.logout()
    with pytest.raises(PermissionDenied, match="disabled"):
        clinic.session.login("sam", SAM_PASSWORD)
    clinic.session.login("owner", OWNER_PASSWORD)

    dialog.disable_button.click()
    assert "Active" in dialog.model.cell(row, 3)
    clinic.session.logout()
    clinic.session.login("sam", SAM_PASSWORD)


def test_the_users_dialog_resets_a_password_and_changes_roles(qtbot: QtBot, clinic: Clinic) -> None:
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    dialog = UsersDialog(clinic)
    shown(qtbot, dialog)
    dialog.select_user("sam")

    dialog.reset_button.click()
    reset = dialog.child
    assert isinstance(reset, ResetPasswordDialog)
    reset.password.setText("short")
    reset.password2.setText("short")
    reset.reset_button.click()
    assert "at least 10" in reset.messages.text()
    reset.password.setText("a brand new password")
    reset.password2.setText("a brand new password")
    with qtbot.waitSignal(reset.finished):
        reset.reset_button.click()
    assert "New password set for 'sam'" in dialog.status.text()

    dialog.roles_button.click()
    roles = dialog.child
    assert isinstance(roles, RolesDialog)
    roles.roles.checks["clinician"].setChecked(True)
    with qtbot.waitSignal(roles.finished):
        roles.save_button.click()
    assert roles.result() == QDialog.DialogCode.Accepted
    user = dialog.selected_user()
    assert user is not None and user.roles == ("front_desk", "clinician")

    clinic.session.logout()
    assert clinic.session.login("sam", "a brand new password").can("consultation.sign")


def test_enter_never_closes_the_admin_dialogs(qtbot: QtBot, busy_clinic: Clinic) -> None:
    users = UsersDialog(busy_clinic)
    shown(qtbot, users)
    users.select_user("sam")
    users.table.setFocus()
    QTest.keyClick(users.table, Qt.Key.Key_Return)  # Enter on a row: change its roles
    qtbot.waitUntil(lambda: isinstance(users.child, RolesDialog))
    assert users.isVisible() and users.child is not None and users.child.isVisible()
    QTest.keyClick(users.child, Qt.Key.Key_Escape)
    assert users.child is None and users.isVisible()

    audit = AuditDialog(busy_clinic)
    shown(qtbot, audit)
    patient_id = busy_clinic.settings.get("test_patient")
    choose(audit.patient, patient_id)
    audit.table.setFocus()
    QTest.keyClick(audit.table, Qt.Key.Key_Return)  # Enter on a row keeps the dialog open
    assert audit.isVisible()
    assert audit.model.rowCount() == len(busy_clinic.audit.entries(patient=patient_id)) == 3


def test_a_long_trail_shows_its_newest_rows_and_offers_every_filter_value(
    qtbot: QtBot, busy_clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop.ui.audit_dialog as audit_dialog

    monkeypatch.setattr(audit_dialog, "ROW_LIMIT", 3)
    dialog = AuditDialog(busy_clinic)
    shown(qtbot, dialog)
    newest = [e.seq for e in busy_clinic.audit.entries()][-3:]
    assert [int(s) for s in column(dialog, 0)] == newest
    assert "the newest 3" in dialog.count.text()
    offered = [dialog.action.itemData(i) for i in range(dialog.action.count())]
    assert "setup" in offered  # the oldest entry's action, long out of view
