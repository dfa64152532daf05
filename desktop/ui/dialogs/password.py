"""Change one's own password: the current one, then the new one typed twice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFormLayout, QLabel, QPushButton, QVBoxLayout

from desktop.errors import IntakeError, PermissionDenied
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import set_tab_order
from desktop.ui.dialogs.forms import FormDialog, PasswordPair, password_edit

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from desktop.clinic import Clinic

log = logging.getLogger(__name__)


class ChangePasswordDialog(FormDialog):
    """The signed-in user replaces their password; a wrong current password changes nothing."""

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__("changePasswordDialog", "Change my password", parent)
        self.clinic = clinic
        user = clinic.session.user
        self.current = password_edit("Current password", "currentPassword")
        form = QFormLayout()
        form.addRow("Account", QLabel(f"{user.display_name} ({user.username})"))
        current_label = QLabel("&Current password")
        current_label.setBuddy(self.current)
        form.addRow(current_label, self.messages.add("current", self.current))
        self.pair = PasswordPair(
            form, self.messages, labels=("&New password", "New password a&gain")
        )
        self.password, self.password2 = self.pair.edits()
        self.change_button = QPushButton("C&hange password")
        self.change_button.setObjectName("changePassword")
        self.change_button.setDefault(True)
        self.change_button.clicked.connect(self.submit)
        buttons = QDialogButtonBox()
        buttons.addButton(self.change_button, QDialogButtonBox.ButtonRole.ActionRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(buttons)
        set_tab_order(self.current, self.password, self.password2, self.change_button, cancel)
        self.current.setFocus(Qt.FocusReason.OtherFocusReason)

    def _clear(self) -> None:
        self.current.clear()
        self.pair.clear()

    def submit(self) -> bool:
        self.messages.clear()
        if not self.pair.matches():
            return False
        changed = run(
            self,
            lambda: self.clinic.accounts.change_password(self.current.text(), self.password.text()),
            on_done=lambda _none: self._changed(),
            on_error=self._refused,
            busy=True,
        )
        return changed.ok

    def _changed(self) -> None:
        log.info("password changed by account %s", self.clinic.session.user.id)
        self._clear()
        self.accept()

    def _refused(self, exc: IntakeError) -> None:
        self._clear()
        if isinstance(exc, PermissionDenied):  # the current password is wrong, or locked out
            self.messages.show_at("current", exc.message)
        else:
            self.messages.show_error(exc)
