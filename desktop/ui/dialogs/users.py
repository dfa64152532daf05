"""The administrator's user accounts: create, reset passwords, change roles, disable or enable."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.auth import ROLE_LABELS, ROLES, User
from desktop.errors import IntakeError
from desktop.ui.common.tables import Column, RecordTableModel
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import (
    FieldMessage,
    hint_label,
    selected_row,
    set_tab_order,
    table_view,
)
from desktop.ui.dialogs.forms import AccountFields, FittedDialog, FormDialog, PasswordPair

if TYPE_CHECKING:
    from desktop.clinic import Clinic

log = logging.getLogger(__name__)

ROLE_TEXT: dict[str, str] = {
    "front_desk": "Front &desk: register patients, enter answers, capture signatures",
    "clinician": "&Clinician: examine, decide, sign consent, test spots",
    "administrator": "&Administrator: accounts, settings, seal, backups, audit trail",
}


def roles_text(user: User) -> str:
    return ", ".join(ROLE_LABELS.get(r, r) for r in user.roles)


class UsersModel(RecordTableModel[User]):
    """User accounts, one a row: user name, full name, roles, and whether it is disabled."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            (
                Column("User name", lambda u: u.username),
                Column("Full name", lambda u: u.display_name),
                Column("Roles", roles_text),
                Column(
                    "Status",
                    lambda u: "✖ Disabled" if u.disabled else "✔ Active",
                    lambda u: "red" if u.disabled else None,
                ),
            ),
            parent,
        )

    @property
    def users(self) -> list[User]:
        return self.records()


class RoleBoxes:
    """One checkbox per role, in a group box."""

    def __init__(self, title: str, checked: tuple[str, ...] = ()) -> None:
        self.box = QGroupBox(title)
        self.box.setObjectName("roles")
        layout = QVBoxLayout(self.box)
        self.checks: dict[str, QCheckBox] = {}
        for role in ROLES:
            check = QCheckBox(ROLE_TEXT.get(role, ROLE_LABELS[role]))
            check.setObjectName(f"role_{role}")
            check.setAccessibleName(ROLE_LABELS[role])
            check.setChecked(role in checked)
            layout.addWidget(check)
            self.checks[role] = check

    def roles(self) -> tuple[str, ...]:
        return tuple(r for r, check in self.checks.items() if check.isChecked())

    def set_roles(self, roles: tuple[str, ...]) -> None:
        for role, check in self.checks.items():
            check.setChecked(role in roles)


def _buttons(dialog: QDialog, action: QPushButton) -> tuple[QDialogButtonBox, QPushButton]:
    action.setDefault(True)
    buttons = QDialogButtonBox()
    buttons.addButton(action, QDialogButtonBox.ButtonRole.ActionRole)
    cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
    cancel.setAutoDefault(False)
    buttons.rejected.connect(dialog.reject)
    return buttons, cancel


class NewUserDialog(FormDialog):
    """Create an account: user name, full name, roles and a password typed twice."""

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__("newUserDialog", "New user account", parent)
        self.clinic = clinic
        self.user: User | None = None
        form = QFormLayout()
        self.account = AccountFields(form, self.messages)
        self.roles = RoleBoxes("Roles (a person may hold several)", ("front_desk",))
        roles_row = self.messages.add("roles", self.roles.box)
        self.create_button = QPushButton("Cr&eate account")
        self.create_button.setObjectName("createUser")
        self.create_button.clicked.connect(self.submit)
        buttons, cancel = _buttons(self, self.create_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(form)
        layout.addWidget(roles_row)
        layout.addWidget(
            hint_label(
                "Give the password to the person in private; they can change it once signed "
                "in. Accounts are never deleted (the audit trail names them): disable instead."
            )
        )
        layout.addWidget(self.general)
        layout.addWidget(buttons)
        set_tab_order(
            *self.account.edits(), *self.roles.checks.values(), self.create_button, cancel
        )
        self.account.username.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> bool:
        self.messages.clear()
        if not self.account.passwords_match():
            return False
        created = run(
            self,
            lambda: self.clinic.accounts.create(
                self.account.username.text(),
                self.account.display_name.text(),
                self.roles.roles(),
                self.account.password.text(),
            ),
            on_done=self._created,
            on_error=self._refused,
            busy=True,
        )
        return created.ok

    def _created(self, user: User) -> None:
        self.user = user
        log.info("account %s created", user.id)
        self.account.clear_passwords()
        self.accept()

    def _refused(self, exc: IntakeError) -> None:
        self.account.clear_passwords()
        self.messages.show_error(exc)


class ResetPasswordDialog(FormDialog):
    """Give an account a new password (typed twice); failed sign-ins are forgotten with it."""

    def __init__(self, clinic: Clinic, user: User, parent: QWidget | None = None) -> None:
        super().__init__("resetPasswordDialog", f"New password for {user.username}", parent)
        self.clinic = clinic
        self.target = user
        form = QFormLayout()
        form.addRow("Account", QLabel(f"{user.display_name} ({user.username})"))
        self.pair = PasswordPair(form, self.messages)
        self.password, self.password2 = self.pair.edits()
        self.reset_button = QPushButton("&Set password")
        self.reset_button.setObjectName("setPassword")
        self.reset_button.clicked.connect(self.submit)
        buttons, cancel = _buttons(self, self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(buttons)
        set_tab_order(self.password, self.password2, self.reset_button, cancel)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> bool:
        self.messages.clear()
        if not self.pair.matches():
            return False
        done = run(
            self,
            lambda: self.clinic.accounts.reset_password(self.target.id, self.pair.text()),
            on_done=lambda _none: self._reset(),
            on_error=self._refused,
            busy=True,
        )
        return done.ok

    def _reset(self) -> None:
        log.info("password reset for account %s", self.target.id)
        self.pair.clear()
        self.accept()

    def _refused(self, exc: IntakeError) -> None:
        self.pair.clear()
        self.messages.show_at("password", exc.message)


class RolesDialog(FittedDialog):
    """Change the roles of an account."""

    def __init__(self, clinic: Clinic, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.target = user
        self.setObjectName("rolesDialog")
        self.setWindowTitle(f"Roles of {user.username}")
        self.setModal(True)
        self.roles = RoleBoxes(f"Roles of {user.display_name}", user.roles)
        self.message = FieldMessage()
        self.message.setObjectName("rolesMessage")
        self.save_button = QPushButton("&Save roles")
        self.save_button.setObjectName("saveRoles")
        self.save_button.clicked.connect(self.submit)
        buttons, cancel = _buttons(self, self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(self.roles.box)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        set_tab_order(*self.roles.checks.values(), self.save_button, cancel)

    def submit(self) -> bool:
        self.message.show_message("")
        changed = run(
            self,
            lambda: self.clinic.accounts.set_roles(self.target.id, self.roles.roles()),
            on_done=self._changed,
            on_error=self._refused,
            busy=True,
        )
        return changed.ok

    def _changed(self, user: User) -> None:
        self.target = user
        self.accept()

    def _refused(self, exc: IntakeError) -> None:
        self.message.show_error(exc)
        self.fit()


class UsersDialog(QDialog):
    """List the accounts; create one, reset a password, change roles, disable or enable.

    Accounts are never deleted: the audit trail names them. The constructor lists the users, so
    it raises PermissionDenied for someone without the "users" permission (the caller shows it).
    The sub-dialogs open without blocking; they are kept in `self.child` while open.
    """

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        clinic.accounts.list()  # PermissionDenied before any widget is made
        super().__init__(parent)
        self.clinic = clinic
        self.child: QDialog | None = None
        self.setObjectName("usersDialog")
        self.setWindowTitle("User accounts")
        self.setSizeGripEnabled(True)
        self.resize(760, 420)

        self.model = UsersModel(self)
        self.table = table_view(self.model, "User accounts", stretch=1)
        self.table.setObjectName("usersTable")
        # Queued: the Enter that activated a row must be over before the roles dialog opens,
        # or the key would reach that dialog's default button as well.
        self.table.activated.connect(
            lambda _i: self.change_roles(), Qt.ConnectionType.QueuedConnection
        )
        self.new_button = QPushButton("&New user…")
        self.new_button.setObjectName("newUser")
        self.new_button.clicked.connect(self.new_user)
        self.reset_button = QPushButton("&Reset password…")
        self.reset_button.setObjectName("resetPassword")
        self.reset_button.clicked.connect(self.reset_password)
        self.roles_button = QPushButton("Change r&oles…")
        self.roles_button.setObjectName("changeRoles")
        self.roles_button.clicked.connect(self.change_roles)
        self.disable_button = QPushButton("&Disable")
        self.disable_button.setObjectName("disableUser")
        self.disable_button.clicked.connect(self.toggle_disabled)
        side = QVBoxLayout()
        for button in (self.new_button, self.reset_button, self.roles_button, self.disable_button):
            button.setAutoDefault(False)
            side.addWidget(button)
        side.addStretch(1)
        self.message = FieldMessage()
        self.message.setObjectName("usersMessage")
        self.status = QLabel()
        self.status.setObjectName("usersStatus")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)  # Enter in the filters or on a row must not close the dialog

        middle = QHBoxLayout()
        middle.addWidget(self.table, 1)
        middle.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint_label(
                "Everyone signs in with an account of their own. Disabling an account stops it "
                "signing in but keeps its name in the records and the audit trail."
            )
        )
        layout.addLayout(middle, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        set_tab_order(
            self.table,
            self.new_button,
            self.reset_button,
            self.roles_button,
            self.disable_button,
            close,
        )
        self.refresh()
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    # The list ---------------------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        """Read the accounts again; keep (or move) the selection to the user name `select`."""
        current = self.selected_user()
        keep = select or (current.username if current else None)
        self.model.set_records(self.clinic.accounts.list())
        usernames = [u.username for u in self.model.users]
        row = usernames.index(keep) if keep in usernames else 0
        if usernames:
            self.table.selectRow(row)
        self._update_buttons()

    def selected_user(self) -> User | None:
        row = selected_row(self.table)
        if row is None or row >= len(self.model.users):
            return None
        return self.model.users[row]

    def select_user(self, username: str) -> None:
        usernames = [u.username for u in self.model.users]
        if username in usernames:
            self.table.selectRow(usernames.index(username))
        self._update_buttons()

    def _update_buttons(self) -> None:
        user = self.selected_user()
        for button in (self.reset_button, self.roles_button, self.disable_button):
            button.setEnabled(user is not None)
        disabled = user is not None and user.disabled
        self.disable_button.setText("&Enable" if disabled else "&Disable")
        self.disable_button.setAccessibleName(
            f"{'Enable' if disabled else 'Disable'} {user.username}" if user else "Disable"
        )

    def _say(self, text: str) -> None:
        self.message.show_message("")
        self.status.setText(text)

    # Actions ----------------------------------------------------------------------------

    def _open_child(self, dialog: QDialog, done: str) -> None:
        self.child = dialog

        def finished(result: int) -> None:
            self.child = None
            if result == QDialog.DialogCode.Accepted:
                made = getattr(dialog, "user", None) or getattr(dialog, "target", None)
                self.refresh(select=made.username if made is not None else None)
                self._say(done.format(user=made.username if made is not None else ""))
            dialog.deleteLater()
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

        dialog.finished.connect(finished)
        dialog.open()

    def new_user(self) -> NewUserDialog:
        dialog = NewUserDialog(self.clinic, self)
        self._open_child(dialog, "Account '{user}' created.")
        return dialog

    def reset_password(self) -> ResetPasswordDialog | None:
        user = self.selected_user()
        if user is None:
            return None
        dialog = ResetPasswordDialog(self.clinic, user, self)
        self._open_child(dialog, "New password set for '{user}'.")
        return dialog

    def change_roles(self) -> RolesDialog | None:
        user = self.selected_user()
        if user is None:
            return None
        dialog = RolesDialog(self.clinic, user, self)
        self._open_child(dialog, "Roles of '{user}' changed.")
        return dialog

    def toggle_disabled(self) -> User | None:
        """Disable the selected account, or enable it again if it is disabled."""
        user = self.selected_user()
        if user is None:
            return None
        return self.set_disabled(user, not user.disabled)

    def set_disabled(self, user: User, disabled: bool) -> User | None:
        def done(updated: User) -> None:
            self.refresh(select=updated.username)
            word = "disabled: it can no longer sign in" if disabled else "enabled again"
            self._say(f"Account '{updated.username}' {word}.")

        return run(
            self,
            lambda: self.clinic.accounts.set_disabled(user.id, disabled),
            on_done=done,
            on_error=self._refused,
            busy=True,
        ).value

    def _refused(self, exc: IntakeError) -> None:
        self.status.setText("")
        self.message.show_error(exc)
