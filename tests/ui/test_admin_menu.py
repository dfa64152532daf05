"""The Administration menu by role, the dialogs it opens, backup and restore."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.errors import PermissionDenied
from desktop.ui.admin_menu import AdminActions
from desktop.ui.main_window import MainWindow
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, SAM_PASSWORD, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields
from tests.helpers.ui import close_message_boxes, finish, message_boxes


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


def test_backup_and_restore_from_the_menu(
    qtbot: QtBot, disk_clinic: Clinic, log_path: Path, tmp_path: Path
) -> None:
    clinic = disk_clinic
    kept = clinic.patients.register(patient_fields())
    window = MainWindow(log_path, clinic=clinic)
    qtbot.addWidget(window)
    window.show()
    backup = tmp_path / "copy.sqlite"
    finish(qtbot, window.admin.backup_to(backup))  # on a worker thread
    assert backup.stat().st_mode & 0o777 == 0o600
    assert "Backup written" in window.statusBar().currentMessage()
    finish(qtbot, window.admin.backup_to(backup))  # never overwrites an earlier backup
    (box,) = message_boxes()
    assert "already exists" in box.text()
    close_message_boxes()

    later = clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    window.show_patient(later.id)
    job = window.admin.restore_from(backup)
    assert job.dialog is not None and job.dialog.isVisible()  # at once: hands off meanwhile
    finish(qtbot, job)
    assert [p for p in tmp_path.iterdir() if "before-restore" in p.name]  # the old one is kept
    assert clinic.session.signed_in is None and window.stack.currentWidget() is window.access
    (box,) = message_boxes()
    assert "Sign in again" in box.text()
    close_message_boxes()
    clinic.session.login("owner", OWNER_PASSWORD)
    assert [p.id for p in clinic.patients.search("")] == [kept.id]
    assert clinic.audit.verify().intact

    finish(qtbot, window.admin.restore_from(tmp_path / "missing.sqlite"))
    (box,) = message_boxes()
    assert "does not exist" in box.text()
    close_message_boxes()


def test_the_actions_announce_what_the_window_must_do(
    qtbot: QtBot, disk_clinic: Clinic, tmp_path: Path
) -> None:
    parent = QWidget()  # any widget will do: the actions never reach into a window
    qtbot.addWidget(parent)
    admin = AdminActions(parent)
    admin.attach(disk_clinic)
    admin.update(True)
    assert admin.backup_action.isEnabled()
    heard: list[str] = []
    admin.save_drafts.connect(lambda: heard.append("save drafts"))
    admin.status.connect(heard.append)
    admin.restored.connect(lambda: heard.append("restored"))
    admin.working.connect(lambda busy: heard.append(f"working {busy}"))

    backup = tmp_path / "copy.sqlite"
    finish(qtbot, admin.backup_to(backup))
    assert heard[:2] == ["save drafts", "working True"]  # before the copy is taken
    assert heard[2].startswith("Backup written and checked:")
    assert heard[3:] == ["working False"]

    heard.clear()
    finish(qtbot, admin.restore_from(backup))
    assert heard == ["save drafts", "working True", "restored", "working False"]
    (box,) = message_boxes()
    assert "Sign in again" in box.text()
    close_message_boxes()
    admin.update(False)
    assert not any(a.isEnabled() for a in admin.permissions)


def test_another_clinics_backup_is_restored_only_after_a_second_confirmation(
    qtbot: QtBot, disk_clinic: Clinic, log_path: Path, tmp_path: Path, clock: FakeClock
) -> None:
    other = signed_in(Clinic.open(tmp_path / "other.sqlite", clock=clock, hasher=FAST_HASHER))
    other.patients.register(patient_fields(given_name="Mei", family_name="Chen"))
    foreign = other.backups.backup(tmp_path / "other-backup.sqlite")
    other.close()
    ours = disk_clinic.patients.register(patient_fields())
    window = MainWindow(log_path, clinic=disk_clinic)
    qtbot.addWidget(window)
    window.show()
    finish(qtbot, window.admin.restore_from(foreign))
    (box,) = [b for b in message_boxes() if b.objectName() == "otherClinic"]
    assert "another clinic" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()  # changes nothing
    assert [p.id for p in disk_clinic.patients.search("")] == [ours.id]
    finish(qtbot, window.admin.restore_from(foreign))
    (box,) = [b for b in message_boxes() if b.objectName() == "otherClinic"]
    replace = next(b for b in box.buttons() if "Replace" in b.text())
    with qtbot.waitSignal(window.admin.restored, timeout=10000):
        replace.click()
    close_message_boxes()
    disk_clinic.session.login("owner", OWNER_PASSWORD)
    assert [p.given_name for p in disk_clinic.patients.search("")] == ["Mei"]


def test_choosing_a_backup_checks_it_first_and_the_question_says_what_restoring_does(
    qtbot: QtBot,
    disk_clinic: Clinic,
    log_path: Path,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QFileDialog

    clinic = disk_clinic
    clinic.patients.register(patient_fields())
    window = MainWindow(log_path, clinic=clinic)
    qtbot.addWidget(window)
    window.show()
    backup = tmp_path / "copy.sqlite"
    finish(qtbot, window.admin.backup_to(backup))
    clock.advance(days=3)
    clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    chosen = [backup]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(chosen[0]), ""))

    window.admin.choose_restore()
    qtbot.waitUntil(lambda: any(b.objectName() == "confirmRestore" for b in message_boxes()))
    (box,) = [b for b in message_boxes() if b.objectName() == "confirmRestore"]
    text = box.text()
    assert "made 2026-11-25" in text and "it holds 1 patient, this database 2 patients" in text
    assert "The audit trail recorded" in text and "here since then" in text
    close_message_boxes()

    chosen[0] = clinic.data_dir / "clinic.sqlite"  # type: ignore[operator]  # the one in use
    window.admin.choose_restore()
    qtbot.waitUntil(lambda: bool(message_boxes()))
    (box,) = message_boxes()
    assert "is the database in use" in box.text() and box.objectName() != "confirmRestore"
    close_message_boxes()
    assert clinic.patients.count() == 2
