"""User accounts: create, disable and enable, reset a password, change roles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.errors import PermissionDenied
from desktop.ui.dialogs.audit import AuditDialog
from desktop.ui.dialogs.forms import MISMATCH
from desktop.ui.dialogs.users import NewUserDialog, ResetPasswordDialog, RolesDialog, UsersDialog
from tests.helpers.clinics import OWNER_PASSWORD, SAM_PASSWORD
from tests.helpers.ui import shown


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
    QTest.keyClicks(audit.patient, patient_id)
    QTest.keyClick(audit.patient, Qt.Key.Key_Return)  # Enter in the patient search chooses
    assert audit.isVisible() and audit.filters()["patient"] == patient_id
    qtbot.waitUntil(lambda: audit.loading is None)  # the rows are read on a worker thread
    audit.table.setFocus()
    QTest.keyClick(audit.table, Qt.Key.Key_Return)  # Enter on a row keeps the dialog open
    assert audit.isVisible()
    assert audit.model.rowCount() == len(busy_clinic.audit.entries(patient=patient_id)) == 3
