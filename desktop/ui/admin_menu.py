"""The Administration menu: user accounts, audit trail, backup and restore; one's own password."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QMessageBox

from desktop.errors import IntakeError
from desktop.ui.common.messages import message_box, show_intake_error
from desktop.ui.common.widgets import busy_cursor

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from desktop.clinic import Clinic
    from desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

STATUS_MS = 8000


class AdminActions(QObject):
    """Actions that open the administrator's dialogs, each enabled by the user's permissions.

    The core checks every permission again; disabling an action only spares a refusal.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None
        self.permissions: dict[QAction, str | None] = {}
        self.users_action = self._action("&User accounts…", self.open_users, "users")
        self.audit_action = self._action("&Audit trail…", self.open_audit, "audit.view")
        self.backup_action = self._action("&Back up the database…", self.choose_backup, "backup")
        self.restore_action = self._action(
            "&Restore from a backup…", self.choose_restore, "restore"
        )
        self.password_action = self._action("Change my pass&word…", self.change_password, None)

    def _action(self, text: str, slot: Callable[[], object], permission: str | None) -> QAction:
        action = QAction(text, self.window)
        action.triggered.connect(slot)
        action.setEnabled(False)
        self.permissions[action] = permission
        return action

    def fill_menu(self, menu: QMenu) -> None:
        for action in (self.users_action, self.audit_action):
            menu.addAction(action)
        menu.addSeparator()
        for action in (self.backup_action, self.restore_action):
            menu.addAction(action)

    def update(self, signed_in: bool) -> None:
        """Enable what the signed-in user may do; everything is off when nobody is."""
        clinic = self.window.clinic if signed_in else None
        for action, permission in self.permissions.items():
            allowed = clinic is not None and (permission is None or clinic.session.can(permission))
            action.setEnabled(allowed)

    def _show(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.finished.connect(lambda _r: self._closed(dialog))
        dialog.open()
        return dialog

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _open(self, make: Callable[[Clinic, QWidget], QDialog]) -> QDialog | None:
        """Make a dialog (which reads the records, so may be refused) and show it."""
        try:
            with busy_cursor():
                dialog = make(self.window.clinic, self.window)
        except IntakeError as exc:
            show_intake_error(self.window, exc)
            return None
        return self._show(dialog)

    def open_users(self) -> QDialog | None:
        from desktop.ui.dialogs.users import UsersDialog

        return self._open(UsersDialog)

    def open_audit(self) -> QDialog | None:
        from desktop.ui.dialogs.audit import AuditDialog

        return self._open(AuditDialog)

    def change_password(self) -> QDialog | None:
        from desktop.ui.dialogs.password import ChangePasswordDialog

        dialog = ChangePasswordDialog(self.window.clinic, self.window)
        dialog.accepted.connect(
            lambda: self.window.statusBar().showMessage("Your password was changed.", STATUS_MS)
        )
        return self._show(dialog)

    # Backup and restore -----------------------------------------------------------------

    def choose_backup(self) -> None:
        clinic = self.window.clinic
        stamp = clinic.clock().strftime("%Y%m%d-%H%M")
        start = (clinic.data_dir or Path.home()) / f"clinic-backup-{stamp}.sqlite"
        name, _f = QFileDialog.getSaveFileName(
            self.window, "Back up the database", str(start), "SQLite databases (*.sqlite)"
        )
        if name:
            self.backup_to(Path(name))

    def backup_to(self, dest: Path) -> Path | None:
        """Write a checked copy of the database to `dest`; say where it went, or what failed."""
        self.window.save_open_draft()  # the open draft goes into the copy too
        try:
            with busy_cursor():
                written = self.window.clinic.backups.backup(dest)
        except IntakeError as exc:
            show_intake_error(self.window, exc)
            return None
        self.window.statusBar().showMessage(
            f"Backup written and checked: {written}. Keep it somewhere safe.", STATUS_MS
        )
        return written

    def choose_restore(self) -> None:
        clinic = self.window.clinic
        name, _f = QFileDialog.getOpenFileName(
            self.window,
            "Restore from a backup",
            str(clinic.data_dir or Path.home()),
            "SQLite databases (*.sqlite *.db);;All files (*)",
        )
        if not name:
            return
        answer = QMessageBox.question(
            self.window,
            "Restore from a backup",
            f"Replace every record in this database with the contents of {Path(name).name}?\n\n"
            "The current database is kept as a backup beside it first. Everyone is signed "
            "out afterwards.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.restore_from(Path(name))

    def restore_from(self, src: Path) -> Path | None:
        """Replace the database with `src` (after a confirmation), then sign out."""
        window = self.window
        window.save_open_draft()
        try:
            with busy_cursor():
                kept = window.clinic.backups.restore(src)
        except IntakeError as exc:
            show_intake_error(window, exc)
            return None
        log.info("database restored; previous copy kept")
        window.forget_pages()
        window.sign_out()
        message_box(
            window,
            QMessageBox.Icon.Information,
            "Database restored",
            f"The records now come from {src.name}. The database as it was before is kept "
            f"as {kept.name}. Sign in again to go on.",
        )
        return kept
