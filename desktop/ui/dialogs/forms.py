"""Form pieces shared by the account dialogs: fitted dialogs, inline messages, account fields."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.auth import MIN_PASSWORD
from desktop.errors import IntakeError
from desktop.ui.common.widgets import FieldMessage

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

MISMATCH = "The two passwords differ; type them again."
FIELD_WIDTH = 300


def fit_height(window: QWidget) -> None:
    """Give a window exactly the height its wrapped text needs at its current width.

    Qt sizes a window once, from a size hint that ignores how wrapped labels grow; an inline
    message shown later would otherwise squeeze the fields above it.
    """
    layout = window.layout()
    if layout is None or not window.isVisible():
        return
    layout.activate()
    width = window.width()
    if layout.hasHeightForWidth():
        need = layout.totalHeightForWidth(width)
    else:
        need = layout.totalSizeHint().height()
    need = max(need, layout.totalMinimumSize().height())
    if need != window.height():
        window.resize(width, need)


class FittedDialog(QDialog):
    """A dialog that keeps its height fitted to its content (see `fit_height`)."""

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.fit)

    def fit(self) -> None:
        fit_height(self)

    def refit(self) -> None:
        """Fit again once Qt has laid out a text just changed (from the event loop)."""
        QTimer.singleShot(0, self, self.fit)


class FormDialog(FittedDialog):
    """A modal, fitted form dialog with inline messages: `messages` under fields, `general`
    at the foot for the rest."""

    def __init__(self, name: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setModal(True)
        self.general = FieldMessage()
        self.general.setObjectName(f"{name}Message")
        self.messages = InlineMessages(self.general)


def password_edit(accessible: str, object_name: str) -> QLineEdit:
    """A line edit that hides what is typed."""
    edit = QLineEdit()
    edit.setObjectName(object_name)
    edit.setAccessibleName(accessible)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMinimumWidth(FIELD_WIDTH)
    return edit


class InlineMessages:
    """Messages under form fields, keyed like the core's `ValidationError.field`.

    An error that names no known field goes to the general message at the foot of the form.
    """

    def __init__(self, general: FieldMessage) -> None:
        self.general = general
        self.fields: dict[str, tuple[QWidget, FieldMessage]] = {}

    def add(self, key: str, widget: QWidget) -> QWidget:
        """Register `widget` under `key`; returns the widget with its message underneath."""
        message = FieldMessage()
        message.setObjectName(f"{key}Message")
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        layout.addWidget(message)
        self.fields[key] = (widget, message)
        return box

    def clear(self) -> None:
        self.general.show_message("")
        for widget, message in self.fields.values():
            message.show_message("")
            widget.setAccessibleDescription("")
        fit_height(self.general.window())

    def show_at(self, key: str | None, text: str) -> None:
        """Show `text` under the field `key` (and move the cursor there), else at the foot."""
        if key is not None and key in self.fields:
            widget, message = self.fields[key]
            message.show_message(text)
            widget.setAccessibleDescription(text)
            widget.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.general.show_message(text)
        fit_height(self.general.window())

    def show_error(self, exc: IntakeError) -> None:
        self.show_at(getattr(exc, "field", None), exc.message)

    def text(self) -> str:
        """Every message shown now, one a line (for tests and screen readers)."""
        shown = [m.text() for _, m in self.fields.values() if not m.isHidden()]
        if not self.general.isHidden():
            shown.append(self.general.text())
        return "\n".join(shown)


class PasswordPair:
    """A password typed twice, added to a form with inline messages under each field."""

    def __init__(
        self,
        form: QFormLayout,
        messages: InlineMessages,
        *,
        labels: tuple[str, str] = ("&New password", "Password a&gain"),
        names: tuple[str, str] = ("newPassword", "newPasswordAgain"),
        accessible: str = "New password",
    ) -> None:
        self.messages = messages
        self.password = password_edit(accessible, names[0])
        self.password.setPlaceholderText(f"at least {MIN_PASSWORD} characters")
        self.password2 = password_edit(f"{accessible} again", names[1])
        for key, text, widget in (
            ("password", labels[0], self.password),
            ("password2", labels[1], self.password2),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, messages.add(key, widget))

    def edits(self) -> tuple[QLineEdit, QLineEdit]:
        return (self.password, self.password2)

    def text(self) -> str:
        return self.password.text()

    def matches(self) -> bool:
        """Compare the two; on a mismatch say so inline, clear both and start again."""
        if self.password.text() == self.password2.text():
            return True
        self.clear()
        self.messages.show_at("password2", MISMATCH)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)
        return False

    def clear(self) -> None:
        self.password.clear()
        self.password2.clear()


class AccountFields:
    """User name, full name and a password typed twice, added to a form (setup, new user)."""

    def __init__(self, form: QFormLayout, messages: InlineMessages) -> None:
        self.messages = messages
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setAccessibleName("User name")
        self.username.setPlaceholderText("e.g. ada or a.lovelace")
        self.username.setMinimumWidth(FIELD_WIDTH)
        self.display_name = QLineEdit()
        self.display_name.setObjectName("displayName")
        self.display_name.setAccessibleName("Full name")
        self.display_name.setPlaceholderText("as it appears on signed documents")
        for key, text, widget in (
            ("username", "&User name", self.username),
            ("display_name", "&Full name", self.display_name),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, messages.add(key, widget))
        self.pair = PasswordPair(
            form,
            messages,
            labels=("Pass&word", "Password a&gain"),
            names=("password", "passwordAgain"),
            accessible="Password",
        )
        self.password, self.password2 = self.pair.edits()

    def edits(self) -> tuple[QLineEdit, ...]:
        return (self.username, self.display_name, *self.pair.edits())

    def passwords_match(self) -> bool:
        return self.pair.matches()

    def clear_passwords(self) -> None:
        self.pair.clear()
