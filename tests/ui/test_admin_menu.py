"""The Administration menu by role, the idle-lock setting, one's own password, backup/restore."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.errors import PermissionDenied
from desktop.ui.main_window import MainWindow
from desktop.ui.password_dialog import ChangePasswordDialog
from desktop.ui.settings_dialog import SettingsDialog
from tests.conftest import OWNER_PASSWORD, patient_fields
from tests.ui.conftest import close_message_boxes, message_boxes

SAM_PASSWORD = "front desk password"


def admin_state(window: MainWindow) -> dict[str, bool]:
    a = window.admin
    return {
        "users": a.users_action.isEnabled(),
        "audit": a.audit_action.isEnabled(),
        "backup": a.backup_action.isEnabled(),
        "restore": a.restore_action.isEnabled(),
        "settings": window.settings_action.isEnabled(),
        "password": a.password_action.isEnabled(),
    }


def test_the_administration_menu_follows_the_signed_in_users_roles(
    window: MainWindow, clinic: Clinic
) -> None:
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Administration", "&Help"]
    assert set(admin_state(window).values()) == {True}  # the owner administers the clinic

    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    window.sign_out()
    assert set(admin_state(window).values()) == {False}  # nobody signed in: nothing at all
    window.access.username.setText("sam")
    window.access.password.setText(SAM_PASSWORD)
    assert window.access.submit()
    assert admin_state(window) == {
        "users": False,
        "audit": False,
        "backup": False,
        "restore": False,
        "settings": False,
        "password": True,
    }
    with pytest.raises(PermissionDenied):  # the core refuses whatever the menu shows
        clinic.audit.entries()


def test_the_menu_opens_the_users_and_audit_dialogs(window: MainWindow) -> None:
    window.admin.users_action.trigger()
    users = window.admin.dialog
    assert users is not None and users.objectName() == "usersDialog" and users.isVisible()
    users.reject()
    window.admin.audit_action.trigger()
    audit = window.admin.dialog
    assert audit is not None and audit.objectName() == "auditDialog" and audit.isVisible()
    window.lock_screen()  # locking closes them: no patient data stays on screen
    assert not audit.isVisible()


def test_the_idle_lock_minutes_are_a_setting(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = SettingsDialog(clinic)
    qtbot.addWidget(dialog)
    assert dialog.idle.value() == 5  # the default
    assert (dialog.idle.minimum(), dialog.idle.maximum()) == (1, 60)
    settings_rows = len(clinic.audit.entries(action="settings"))
    dialog.idle.setValue(12)
    dialog.save()
    assert clinic.settings.idle_minutes() == 12
    changed = clinic.audit.entries(action="settings")[settings_rows:]
    assert [e.target for e in changed] == ["setting:clinic_profile", "setting:idle_lock_minutes"]


def test_changing_ones_own_password(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = ChangePasswordDialog(clinic)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.current.setText("not my password")
    dialog.password.setText("a new long password")
    dialog.password2.setText("a new long password")
    assert not dialog.submit()
    assert "password" in dialog.messages.text().lower() and dialog.isVisible()
    assert dialog.current.text() == ""  # nothing typed lingers after a refusal

    dialog.current.setText(OWNER_PASSWORD)
    dialog.password.setText("short")
    dialog.password2.setText("short")
    assert not dialog.submit()
    assert "at least 10" in dialog.messages.text()

    dialog.current.setText(OWNER_PASSWORD)
    dialog.password.setText("a new long password")
    dialog.password2.setText("a new long password")
    assert dialog.submit()
    clinic.session.logout()
    with pytest.raises(PermissionDenied):
        clinic.session.login("owner", OWNER_PASSWORD)
    clinic.session.login("owner", "a new long password")


def test_backup_and_restore_from_the_menu(
    qtbot: QtBot, disk_clinic: Clinic, log_path: Path, tmp_path: Path
) -> None:
    clinic = disk_clinic
    kept = clinic.patients.register(patient_fields())
    window = MainWindow(log_path, clinic=clinic)
    qtbot.addWidget(window)
    window.show()
    backup = tmp_path / "copy.sqlite"
    assert window.admin.backup_to(backup) == backup
    assert backup.stat().st_mode & 0o777 == 0o600
    assert "Backup written" in window.statusBar().currentMessage()
    assert window.admin.backup_to(backup) is None  # never overwrites an earlier backup
    (box,) = message_boxes()
    assert "already exists" in box.text()
    close_message_boxes()

    later = clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    window.show_patient(later.id)
    before = window.admin.restore_from(backup)
    assert before is not None and before.exists()  # the database as it was is kept
    assert clinic.session.signed_in is None and window.stack.currentWidget() is window.access
    (box,) = message_boxes()
    assert "Sign in again" in box.text()
    close_message_boxes()
    clinic.session.login("owner", OWNER_PASSWORD)
    assert [p.id for p in clinic.patients.search("")] == [kept.id]
    assert clinic.audit.verify().intact

    assert window.admin.restore_from(tmp_path / "missing.sqlite") is None
    (box,) = message_boxes()
    assert "does not exist" in box.text()
    close_message_boxes()
