"""A signer's panel: name, role, the pad, undo/clear, and Accept (disabled with a reason)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.clinic import Clinic
from desktop.models import Signature, SignerRole
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import FieldMessage, hint_label
from desktop.ui.consultation.flow import ROLE_TITLES
from desktop.ui.consultation.pad import PAD_HEIGHT, PAD_WIDTH, SignaturePad

log = logging.getLogger(__name__)

SHOW_FIRST = (
    "Show the sheet to the signer first (step 4, Preview): their signature stands for what "
    "it shows."
)


class SignerPanel(QGroupBox):
    """One signer: name, role, pad, undo/clear, and Accept (disabled with a reason).

    Several panels show at once, so their fields and buttons have no Alt shortcuts (they
    would share letters); Tab reaches them. Only the clinician's password has one.
    """

    signed = Signal(object)
    removed = Signal(str)
    dismissed = Signal(str)

    def __init__(
        self,
        clinic: Clinic,
        consultation_id: str,
        role: SignerRole,
        default_name: str = "",
        *,
        optional: bool = False,
        shown: Callable[[], str | None] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ROLE_TITLES.get(role, role.title()), parent)
        self.clinic = clinic
        self.consultation_id = consultation_id
        self.role = role
        # The hash of the sheet as the preview showed it (None: not shown yet): a signature
        # is bound to what its signer saw.
        self.shown = shown
        self.signature: Signature | None = None
        self.setObjectName(f"signer_{role}")

        self.name = QLineEdit(default_name)
        self.name.setObjectName(f"signerName_{role}")
        self.name.setAccessibleName(f"Name of the {role}")
        self.name.setPlaceholderText("Full name as it should print")
        self.name.textChanged.connect(self._update)
        name_label = QLabel("Name:")
        name_label.setBuddy(self.name)
        # The clinician signs as the signed-in user and confirms with their password.
        self.password = QLineEdit()
        self.password.setObjectName(f"signerPassword_{role}")
        self.password.setAccessibleName("Your password, to confirm your signature")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Your password")
        self.password.textChanged.connect(self._update)
        self.password_label = QLabel("&Password:")
        self.password_label.setBuddy(self.password)
        self.is_clinician = role == "clinician"
        self.named_clinician = ""  # the clinician step 1 names (the clinician's panel)
        self.not_named = False  # the signed-in clinician is not the one named
        self.pad = SignaturePad()
        self.pad.setObjectName(f"pad_{role}")
        self.pad.setAccessibleName(f"Signature pad for the {role}")
        self.pad.changed.connect(self._update)
        self.undo_button = QPushButton("Undo stroke")
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.pad.clear)
        self.accept_button = QPushButton("Accept signature")
        self.accept_button.setObjectName(f"accept_{role}")
        self.accept_button.clicked.connect(self.accept_signature)
        self.remove_button = QPushButton("Remove signature")
        self.remove_button.clicked.connect(self.remove_signature)
        self.dismiss_button = QPushButton("Not needed")
        self.dismiss_button.setVisible(optional)
        self.dismiss_button.clicked.connect(lambda: self.dismissed.emit(self.role))
        self.status = hint_label("")
        self.status.setObjectName(f"signerStatus_{role}")
        self.message = FieldMessage()

        top = QHBoxLayout()
        top.addWidget(name_label)
        top.addWidget(self.name, 1)
        top.addWidget(self.password_label)
        top.addWidget(self.password)
        if self.is_clinician:
            user = clinic.session.signed_in
            if user is not None:
                self.name.setText(user.display_name)
            self.name.setReadOnly(True)
            self.name.setToolTip("The clinician signs as the signed-in user.")
        else:
            self.password_label.hide()
            self.password.hide()
        buttons = QHBoxLayout()
        for b in (self.undo_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addWidget(self.status, 1)
        for b in (self.dismiss_button, self.remove_button, self.accept_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.pad)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.set_signature(None)

    def set_signature(self, signature: Signature | None) -> None:
        """Show a stored signature (read-only) or an empty pad ready to sign."""
        self.signature = signature
        signed = signature is not None
        self.pad.read_only = signed
        if signature is not None:
            self.name.setText(signature.signer_name)
            self.pad.set_strokes(signature.strokes)
        self.name.setReadOnly(signed or self.is_clinician)
        self.password_label.setVisible(self.is_clinician and not signed)
        self.password.setVisible(self.is_clinician and not signed)
        self.undo_button.setVisible(not signed)
        self.clear_button.setVisible(not signed)
        self.accept_button.setVisible(not signed)
        self.remove_button.setVisible(signed)
        self.message.show_message("")
        self._update()

    def set_locked(self, locked: bool) -> None:
        """A signed consultation: nothing can be changed any more."""
        if locked:
            for b in (self.undo_button, self.clear_button, self.accept_button):
                b.setVisible(False)
            self.remove_button.setVisible(False)
            self.dismiss_button.setVisible(False)
            self.pad.read_only = True
            self.name.setReadOnly(True)
            self.password_label.hide()
            self.password.hide()

    def _update(self) -> None:
        if self.signature is not None:
            self.status.setText(
                f"✔ Signed by {self.signature.signer_name} at "
                f"{self.signature.signed_at.strftime('%H:%M')}"
            )
            self.accept_button.setEnabled(False)
            return
        problem = self.permission_problem()
        if problem is None and self.shown() is None:
            problem = SHOW_FIRST
        problem = problem or self.pad.problem()
        if problem is None and not self.name.text().strip():
            problem = "Type the signer's name first."
        if problem is None and self.is_clinician and not self.password.text():
            problem = "Type your password to confirm your signature."
        self.accept_button.setEnabled(problem is None)
        self.accept_button.setToolTip(problem or "Store this signature")
        self.status.setText(problem or "Ready: press Accept signature.")
        self.undo_button.setEnabled(bool(self.pad.strokes()))
        self.clear_button.setEnabled(bool(self.pad.strokes()))

    def set_named_clinician(self, name: str, not_named: bool) -> None:
        """The clinician step 1 names, and whether the signed-in user is someone else (then
        Accept is disabled: only the named clinician signs as the clinician)."""
        self.named_clinician = name
        self.not_named = not_named
        self._update()

    def permission_problem(self) -> str | None:
        permission = "signature.clinician" if self.is_clinician else "signature.capture"
        named = self.named_clinician
        if self.clinic.session.can(permission):
            if self.is_clinician and self.not_named:
                return f"Only {named}, named on step 1, can sign here (see the notice above)."
            return None
        if self.is_clinician:
            who = f"{named}, named on step 1," if named else "the clinician"
            return f"Only a clinician can sign here: {who} signs in (Lock or Sign out)."
        return "Your role cannot capture signatures."

    def accept_signature(self) -> Signature | None:
        """Store the signature drawn on the pad; the typed password is cleared whatever happens."""
        password = self.password.text()
        self.password.clear()
        stored = run(
            self,
            lambda: self.clinic.documents.add_signature(
                self.consultation_id,
                self.role,
                self.name.text(),
                self.pad.strokes(),
                width=PAD_WIDTH,
                height=PAD_HEIGHT,
                password=password,
                content_sha256=self.shown(),
            ),
            on_done=self._accepted,
            on_error=self.message.show_error,
        )
        return stored.value

    def _accepted(self, signature: Signature) -> None:
        self.set_signature(signature)
        self.signed.emit(signature)

    def remove_signature(self) -> None:
        run(
            self,
            lambda: self.clinic.documents.remove_signature(self.consultation_id, self.role),
            on_done=lambda _none: self._removed(),
            on_error=self.message.show_error,
        )

    def _removed(self) -> None:
        self.set_signature(None)
        self.pad.clear()
        self.removed.emit(self.role)
