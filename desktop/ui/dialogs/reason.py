"""Asking for a reason before an action that keeps one (discarding a draft, an addendum)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.clinic.repeat_visits import MIN_REASON
from desktop.errors import IntakeError
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import FieldMessage, hint_label, set_tab_order
from desktop.ui.dialogs.forms import FittedDialog

log = logging.getLogger(__name__)


class ReasonDialog(FittedDialog):
    """A short text, the reason, and one action that takes it.

    `act(reason)` is the use case; an IntakeError it raises (a reason too short, a record
    changed meanwhile) is shown under the text and the dialog stays open. It closes (accepted)
    once `act` succeeds.
    """

    def __init__(
        self,
        name: str,
        title: str,
        text: str,
        action: str,
        act: Callable[[str], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._act = act
        intro = QLabel(text)
        intro.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("reason")
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText(
            f"At least {MIN_REASON} characters; kept with the record and in the audit trail."
        )
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(80)
        self.message = FieldMessage()
        self.message.setObjectName("reasonMessage")
        self.act_button = QPushButton(action)
        self.act_button.setObjectName("reasonAction")
        self.act_button.setDefault(True)
        self.act_button.clicked.connect(self.submit)
        buttons = QDialogButtonBox()
        buttons.addButton(self.act_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        label = QLabel("&Reason")
        label.setBuddy(self.reason)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        layout.addWidget(self.message)
        layout.addWidget(hint_label("Ctrl+Enter or the button confirms; Esc cancels."))
        layout.addWidget(buttons)
        set_tab_order(self.reason, self.act_button, cancel)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.submit)
        self.resize(520, self.sizeHint().height())
        self.reason.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reason.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> bool:
        """Run the action with the reason typed; True once it succeeded (and the dialog closed)."""
        done = run(
            self,
            lambda: self._act(self.reason.toPlainText()),
            on_done=lambda _r: self.accept(),
            on_error=self._refused,
        )
        return done.ok

    def _refused(self, exc: IntakeError) -> None:
        self.message.show_error(exc)
        self.fit()
        self.reason.setFocus(Qt.FocusReason.OtherFocusReason)
