"""The Administration menu: user accounts, audit trail, backup and restore; one's own password."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QMessageBox, QWidget

from desktop.errors import IntakeError, OtherClinic
from desktop.ui.common.messages import Prompt, message_box, show_intake_error
from desktop.ui.common.use_case import PROGRESS_DELAY_MS, BackgroundRun, run, run_in_background

if TYPE_CHECKING:
    from desktop.clinic import Clinic
    from desktop.clinic.backups import RestorePreview

log = logging.getLogger(__name__)
T = TypeVar("T")


class AdminActions(QObject):
    """Actions that open the administrator's dialogs, each enabled by the user's permissions.

    The actions know the window only as the parent of their dialogs; what the window must do
    they announce as signals: `save_drafts` before the database is copied or replaced (the
    open draft goes into a backup; a restore must not lose it), `status` for a line in the
    status bar, `restored` once another database replaced this one (every page showing a
    record must go, and everyone is signed out), `working` while a backup or restore runs on
    a worker thread (nothing else should touch the database meanwhile). The core checks every
    permission again; disabling an action only spares a refusal.
    """

    save_drafts = Signal()
    status = Signal(str)
    restored = Signal()
    working = Signal(bool)  # a backup or restore runs on a worker thread (True) or ended

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.clinic: Clinic | None = None
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
        action = QAction(text, self.parent_widget)
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

    def attach(self, clinic: Clinic) -> None:
        """The clinic whose records the actions administer (the window's, once it is open)."""
        self.clinic = clinic

    def update(self, signed_in: bool) -> None:
        """Enable what the signed-in user may do; everything is off when nobody is."""
        clinic = self.clinic if signed_in else None
        for action, permission in self.permissions.items():
            allowed = clinic is not None and (permission is None or clinic.session.can(permission))
            action.setEnabled(allowed)

    def _clinic(self) -> Clinic:
        if self.clinic is None:
            raise RuntimeError("the Administration menu has no clinic attached yet")
        return self.clinic

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
        clinic, parent = self._clinic(), self.parent_widget
        return run(parent, lambda: make(clinic, parent), on_done=self._show, busy=True).value

    def open_users(self) -> QDialog | None:
        from desktop.ui.dialogs.users import UsersDialog

        return self._open(UsersDialog)

    def open_audit(self) -> QDialog | None:
        from desktop.ui.dialogs.audit import AuditDialog

        return self._open(AuditDialog)

    def change_password(self) -> QDialog | None:
        from desktop.ui.dialogs.password import ChangePasswordDialog

        dialog = ChangePasswordDialog(self._clinic(), self.parent_widget)
        dialog.accepted.connect(lambda: self.status.emit("Your password was changed."))
        return self._show(dialog)

    # Backup and restore -----------------------------------------------------------------

    def choose_backup(self) -> None:
        clinic = self._clinic()
        stamp = clinic.clock().strftime("%Y%m%d-%H%M")
        start = (clinic.data_dir or Path.home()) / f"clinic-backup-{stamp}.sqlite"
        name, _f = QFileDialog.getSaveFileName(
            self.parent_widget,
            "Back up the database",
            str(start),
            "SQLite databases (*.sqlite)",
        )
        if name:
            self.backup_to(Path(name))

    def backup_to(self, dest: Path) -> BackgroundRun[Path]:
        """Write a checked copy of the database to `dest` on a worker thread; say where it
        went, or what failed."""
        clinic = self._clinic()
        self.save_drafts.emit()  # the open draft goes into the copy too
        return self._in_background(
            lambda: clinic.backups.backup(dest),
            lambda written: self.status.emit(
                f"Backup written and checked: {written}. Keep it somewhere safe."
            ),
            None,
            "Backing up the database…",
        )

    def _in_background(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], object],
        on_error: Callable[[IntakeError], object] | None,
        progress: str,
        *,
        delay_ms: int = PROGRESS_DELAY_MS,
    ) -> BackgroundRun[T]:
        self.working.emit(True)
        job = run_in_background(
            self.parent_widget,
            work,
            on_done=on_done,
            on_error=on_error,
            progress=progress,
            delay_ms=delay_ms,
        )
        job.finished.connect(lambda: self.working.emit(False))
        return job

    def choose_restore(self) -> None:
        clinic = self._clinic()
        name, _f = QFileDialog.getOpenFileName(
            self.parent_widget,
            "Restore from a backup",
            str(clinic.data_dir or Path.home()),
            "SQLite databases (*.sqlite *.db);;All files (*)",
        )
        if name:
            src = Path(name)
            # Checked first (on a worker: a large backup takes a while), so the question can
            # say what the restore would do, and a file that cannot be restored is named now.
            self._in_background(
                lambda: clinic.backups.preview_restore(src),
                lambda preview: self.confirm_restore(src, preview),
                lambda exc: show_intake_error(self.parent_widget, exc),
                "Checking the backup…",
            )

    def confirm_restore(self, src: Path, preview: RestorePreview | None = None) -> Prompt:
        """Ask before replacing every record with `src`'s, saying what that would do
        (`preview`); restore once Yes is pressed."""
        buttons = QMessageBox.StandardButton
        box = Prompt(
            QMessageBox.Icon.Question,
            "Restore from a backup",
            f"Replace every record in this database with the contents of {src.name}?\n\n"
            + (_what_restoring_does(preview) if preview is not None else "")
            + "The current database is kept as a backup beside it first. Everyone is signed "
            "out afterwards.",
            buttons.Yes | buttons.Cancel,
            self.parent_widget,
        )
        box.setObjectName("confirmRestore")
        box.setDefaultButton(buttons.Cancel)
        box.setEscapeButton(buttons.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        yes = box.button(buttons.Yes)

        def answered(_result: int) -> None:
            if box.clickedButton() is yes:
                # After the box is gone: the restore signs everyone out and closes dialogs.
                QTimer.singleShot(0, lambda: self.restore_from(src))

        box.finished.connect(answered)
        box.open()
        return box

    def restore_from(self, src: Path, *, other_clinic: bool = False) -> BackgroundRun[Path]:
        """Replace the database with `src` on a worker thread, then sign out.

        The progress dialog shows at once and keeps every other action away until the
        restore ends. A backup of another clinic is restored only after a second, explicit
        confirmation.
        """
        clinic = self._clinic()
        self.save_drafts.emit()

        def refused(exc: IntakeError) -> None:
            if isinstance(exc, OtherClinic) and not other_clinic:
                self._confirm_other_clinic(src, exc)
            else:
                show_intake_error(self.parent_widget, exc)

        def restored(kept: Path) -> None:
            log.info("database restored; previous copy kept")
            self.restored.emit()
            message_box(
                self.parent_widget,
                QMessageBox.Icon.Information,
                "Database restored",
                f"The records now come from {src.name}. The database as it was before is "
                f"kept as {kept.name}. Sign in again to go on.",
            )

        return self._in_background(
            lambda: clinic.backups.restore(src, other_clinic=other_clinic),
            restored,
            refused,
            "Restoring the database from the backup…",
            delay_ms=0,
        )

    def _confirm_other_clinic(self, src: Path, exc: OtherClinic) -> None:
        box = Prompt(
            QMessageBox.Icon.Warning,
            "A backup of another clinic",
            exc.message,
            QMessageBox.StandardButton.Cancel,
            self.parent_widget,
        )
        box.setObjectName("otherClinic")
        replace = box.addButton(
            "&Replace this clinic with it", QMessageBox.ButtonRole.DestructiveRole
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            if box.clickedButton() is replace:
                # After the box is gone: the restore signs everyone out and closes dialogs.
                QTimer.singleShot(0, lambda: self.restore_from(src, other_clinic=True))

        box.finished.connect(answered)
        box.open()


def _what_restoring_does(p: RestorePreview) -> str:
    """The restore question's middle: when the backup was made, and what would be undone."""
    made = (
        f"made {p.made[:16].replace('T', ' at ')}"
        if p.made
        else "made at a time it does not record"
    )
    lines = [
        f"The backup was {made}; it holds {_patients(p.patients)}, this database "
        f"{_patients(p.patients_now)}."
    ]
    if p.changes_since:
        lines.append(
            f"The audit trail recorded {_n(p.changes_since, 'entry', 'entries')} here since "
            "then (sign-ins included): whatever they changed will no longer be in the records. "
            "It stays in the copy kept aside, and the restored trail notes those entries."
        )
    elif p.changes_since == 0:
        lines.append("Nothing was recorded here since then.")
    return "\n".join(lines) + "\n\n"


def _patients(n: int) -> str:
    return _n(n, "patient", "patients")


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"
