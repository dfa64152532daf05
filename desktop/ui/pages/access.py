"""Sign-in, first-run setup and unlock: the page shown whenever nobody may see patient data."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import IntakeError
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import FieldMessage, heading_label, hint_label

if TYPE_CHECKING:
    from desktop.clinic import Clinic

log = logging.getLogger(__name__)

Mode = Literal["setup", "login", "unlock"]


class AccessPage(QWidget):
    """One centred card: set up the first account, sign in, or unlock a locked screen."""

    granted = Signal()
    sign_out = Signal()
    database_chosen = Signal(str)  # first run: this computer now uses the clinic's server
    switch_user = Signal()  # from the lock screen: someone else carries on with the open work

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accessPage")
        self.clinic: Clinic | None = None
        self.mode: Mode = "login"

        self.title = heading_label("Sign in")
        self.intro = hint_label("")
        self.clinic_name = QLineEdit()
        self.clinic_name.setObjectName("clinicName")
        self.clinic_name.setAccessibleName("Clinic name")
        self.clinic_name.setPlaceholderText("as it should head every document")
        self.clinic_address = QLineEdit()
        self.clinic_address.setObjectName("clinicAddress")
        self.clinic_address.setAccessibleName("Clinic address")
        self.clinic_address.setPlaceholderText("street, town, postcode (optional)")
        self.clinic_phone = QLineEdit()
        self.clinic_phone.setObjectName("clinicPhone")
        self.clinic_phone.setAccessibleName("Clinic phone")
        self.clinic_phone.setPlaceholderText("optional")
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setAccessibleName("User name")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("displayName")
        self.display_name.setAccessibleName("Full name")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password2 = QLineEdit()
        self.password2.setObjectName("passwordAgain")
        self.password2.setAccessibleName("Password again")
        self.password2.setEchoMode(QLineEdit.EchoMode.Password)
        self.clinician = QCheckBox("I am also a &clinician (I examine patients and sign consent)")
        self.clinician.setChecked(True)
        self.message = FieldMessage()
        self.go = QPushButton("&Sign in")
        self.go.setObjectName("accessButton")
        self.go.setDefault(True)
        self.go.clicked.connect(self.submit)
        self.out = QPushButton("S&witch user")
        self.out.setToolTip(
            "Sign out so that a colleague can sign in and carry on with the open draft"
        )
        self.out.clicked.connect(self._switch_user)
        self.use_server = QPushButton("Use the clinic's ser&ver instead…")
        self.use_server.setObjectName("useServer")
        self.use_server.setToolTip(
            "A clinic with several computers keeps its records on one server; choose it here"
        )
        self.use_server.clicked.connect(self.choose_server)
        for edit in (
            self.clinic_name,
            self.clinic_address,
            self.clinic_phone,
            self.username,
            self.display_name,
            self.password,
            self.password2,
        ):
            edit.returnPressed.connect(self.submit)
        self.demo_box = QLabel()
        self.demo_box.setObjectName("demoAccounts")
        self.demo_box.setWordWrap(True)
        self.demo_box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo_box.setStyleSheet(
            "QLabel#demoAccounts { background: #f1e9f8; color: #3b1c57; padding: 8px;"
            " border: 1px solid #5b2c83; border-radius: 4px; }"
        )

        self.form = QFormLayout()
        self._rows: dict[str, tuple[QLabel, QWidget]] = {}
        for key, text, widget in (
            ("clinic_name", "Clinic &name", self.clinic_name),
            ("clinic_address", "Clinic add&ress", self.clinic_address),
            ("clinic_phone", "Clinic phon&e", self.clinic_phone),
            ("username", "&User name", self.username),
            ("display_name", "Full na&me", self.display_name),
            ("password", "&Password", self.password),
            ("password2", "Password a&gain", self.password2),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            self.form.addRow(label, widget)
            self._rows[key] = (label, widget)

        card = QFrame()
        card.setObjectName("accessCard")
        card.setStyleSheet(
            "QFrame#accessCard { background: palette(base); border: 1px solid #b0b8bf;"
            " border-radius: 6px; }"
        )
        card.setFixedWidth(520)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.addWidget(self.title)
        inner.addWidget(self.intro)
        inner.addLayout(self.form)
        inner.addWidget(self.clinician)
        inner.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.addWidget(self.out)
        buttons.addWidget(self.use_server)
        buttons.addStretch(1)
        buttons.addWidget(self.go)
        inner.addLayout(buttons)
        inner.addWidget(self.demo_box)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def choose_server(self) -> None:
        """First run: keep this clinic's records on its server (a connection test first)."""
        from desktop.ui.dialogs.database import DatabaseDialog

        dialog = DatabaseDialog(parent=self)
        dialog.server.setChecked(True)
        if dialog.exec() == DatabaseDialog.DialogCode.Accepted and dialog.target:
            self.database_chosen.emit(dialog.target)

    def _switch_user(self) -> None:
        self.username.clear()
        self.switch_user.emit()

    def _show_row(self, key: str, shown: bool) -> None:
        label, widget = self._rows[key]
        label.setVisible(shown)
        widget.setVisible(shown)

    def start(self, clinic: Clinic, mode: Mode) -> None:
        """Show the card for `mode` and put the cursor where typing starts."""
        self.clinic = clinic
        self.mode = mode
        self.message.show_message("")
        self.password.clear()
        self.password2.clear()
        setup, unlock = mode == "setup", mode == "unlock"
        self._show_row("username", not unlock)
        for key in ("clinic_name", "clinic_address", "clinic_phone", "display_name"):
            self._show_row(key, setup)
        self._show_row("password2", setup)
        self.clinician.setVisible(setup)
        self.use_server.setVisible(setup)
        self.out.setVisible(unlock)
        if setup:
            self.title.setText("Set up this clinic")
            self.intro.setText(
                "Name the clinic, then create the first account: an administrator, who can "
                "add colleagues' accounts later. There is no default password; choose at "
                "least 10 characters."
            )
            self.go.setText("Create account and &sign in")
        elif unlock:
            user = clinic.session.signed_in
            name = user.display_name if user else ""
            self.title.setText("Screen locked")
            self.intro.setText(
                f"{name} locked the screen (or it locked itself after a few idle minutes). "
                "Type the password to carry on where you left off, or switch user: the open "
                "draft is saved either way."
            )
            self.go.setText("&Unlock")
        else:
            self.title.setText("Sign in")
            self.intro.setText("Patient records are for clinic staff only.")
            self.go.setText("&Sign in")
        accounts = clinic.settings.demo_accounts() if mode == "login" else []
        self.demo_box.setVisible(bool(accounts))
        if accounts:
            self.demo_box.setText(
                "DEMO DATABASE. Demo accounts (user name / password): "
                + "; ".join(f"{u} / {p}" for u, p in accounts)
            )
        typed_name = bool(self.username.text().strip()) and mode == "login"
        target = self.password if unlock or typed_name else self.username
        if setup:
            target = self.clinic_name
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> bool:
        """Set up, sign in or unlock with what was typed; True once access is granted."""
        clinic = self.clinic
        if clinic is None:
            return False
        if self.mode == "setup" and self.password.text() != self.password2.text():
            self.message.show_message("The two passwords differ; type them again.")
            self.password.clear()
            self.password2.clear()
            self.password.setFocus()
            return False
        granted = run(self, lambda: self._enter(clinic), on_error=self._refused, busy=True)
        if not granted.ok:
            return False
        self.password.clear()
        self.password2.clear()
        self.message.show_message("")
        self.granted.emit()
        return True

    def _enter(self, clinic: Clinic) -> None:
        if self.mode == "setup":
            clinic.accounts.setup(
                self.username.text(),
                self.display_name.text(),
                self.password.text(),
                clinician=self.clinician.isChecked(),
                clinic={
                    "name": self.clinic_name.text(),
                    "address": self.clinic_address.text(),
                    "phone": self.clinic_phone.text(),
                },
            )
        elif self.mode == "unlock":
            clinic.session.unlock(self.password.text())
        else:
            clinic.session.login(self.username.text(), self.password.text())

    def _refused(self, exc: IntakeError) -> None:
        self.message.show_error(exc)
        self.password.clear()
        self.password2.clear()
        field = {"name": self.clinic_name, "display_name": self.display_name}.get(
            getattr(exc, "field", None) or "", self.password
        )
        field.setFocus()
