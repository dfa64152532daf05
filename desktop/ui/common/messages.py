"""Error dialogs and the exception hook: IntakeError says what to do; anything else is a crash."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox, QWidget

from desktop.errors import (
    Conflict,
    IntakeError,
    NotFound,
    PermissionDenied,
    PrintError,
    SignatureError,
    StorageError,
    ValidationError,
)
from desktop.ui.common.outage import storage_failed

log = logging.getLogger(__name__)

_OPEN_BOXES: set[QMessageBox] = set()
ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]

TITLES: tuple[tuple[type[IntakeError], str], ...] = (
    (ValidationError, "Please check the details"),
    (NotFound, "Record not found"),
    (Conflict, "This cannot be changed"),
    (StorageError, "The database cannot be used"),
    (SignatureError, "Signature or seal problem"),
    (PermissionDenied, "Not allowed"),
    (PrintError, "Printing problem"),
)


TYPING_MODIFIERS = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier


def is_typing(event: QKeyEvent) -> bool:
    """Whether `event` is typing (a letter, digit, sign or space, at most with Shift), not a
    command key (Enter, Escape, Tab, arrows) or an Alt/Ctrl shortcut."""
    if event.modifiers() & ~TYPING_MODIFIERS:
        return False
    text = event.text()
    return bool(text) and text.isprintable()


class Prompt(QMessageBox):
    """A message box that typing cannot answer.

    A box that opens while someone is typing receives the rest of what they type. Qt's
    QMessageBox presses a button when its underlined letter is typed without Alt, and Space
    presses the button with the cursor: a stray "r" registered a patient. Here letters,
    digits, signs and Space do nothing. Enter presses the button with the cursor (the
    default one when the box opens), Escape the escape button (Cancel), Alt+letter the
    button of that underlined letter, Tab and the arrow keys move between buttons.
    """

    def showEvent(self, event: QShowEvent) -> None:
        for button in self.findChildren(QAbstractButton):
            button.removeEventFilter(self)
            button.installEventFilter(self)
        super().showEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            and isinstance(event, QKeyEvent)
            and is_typing(event)
        ):
            return True  # typing that went on as the box appeared: nothing happens
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if is_typing(event):
            event.accept()
            return
        super().keyPressEvent(event)


def title_for(exc: IntakeError) -> str:
    return next((title for kind, title in TITLES if isinstance(exc, kind)), "Clinic Intake")


def _active_parent(parent: QWidget | None) -> QWidget | None:
    if parent is not None:
        return parent.window()
    return QApplication.activeWindow()


def message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    *,
    informative: str = "",
    details: str = "",
) -> QMessageBox:
    """A window-modal message box shown without blocking (deleted on close); typing into it
    does nothing (see `Prompt`)."""
    box = Prompt(icon, title, text, QMessageBox.StandardButton.Ok, _active_parent(parent))
    box.setObjectName("messageBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if informative:
        box.setInformativeText(informative)
    if details:
        box.setDetailedText(details)
    box.setDefaultButton(QMessageBox.StandardButton.Ok)
    box.setEscapeButton(QMessageBox.StandardButton.Ok)
    if box.parent() is None:
        # Nothing owns a parentless box but its Python wrapper: keep it until it closes.
        _OPEN_BOXES.add(box)
        box.finished.connect(lambda _r: _OPEN_BOXES.discard(box))
    box.open()
    return box


def log_shown(exc: IntakeError) -> None:
    """Note in the log that `exc` was shown: its kind and field, never its text."""
    # The message may quote what was typed (a name, an e-mail address): the log gets the kind
    # of error and the field only, never patient data.
    log.info("shown to the user: %s (field %s)", type(exc).__name__, getattr(exc, "field", None))


def show_problem(parent: QWidget | None, exc: IntakeError) -> None:
    """Show what went wrong in a use case run from `parent` (None: from a timer or a slot).

    The database out of reach (StorageError) is said once, in the window's outage notice,
    which goes by itself when a use case works again; a box that stays on screen after the
    server is back helps nobody. Where there is no notice (a dialog), and for every other
    IntakeError, a message box says it.
    """
    if isinstance(exc, StorageError) and storage_failed(parent, exc):
        log_shown(exc)
        return
    show_intake_error(parent, exc)


def show_intake_error(parent: QWidget | None, exc: IntakeError) -> QMessageBox:
    """Show a message meant for people: the error's own text says what to do next."""
    log_shown(exc)
    return intake_error_box(parent, exc)


def intake_error_box(parent: QWidget | None, exc: IntakeError) -> QMessageBox:
    """The message box for `exc` (titled by its kind), opened; the caller logs it."""
    icon = QMessageBox.Icon.Critical if isinstance(exc, StorageError) else QMessageBox.Icon.Warning
    return message_box(parent, icon, title_for(exc), exc.message)


def show_crash(parent: QWidget | None, exc: BaseException, log_path: Path) -> QMessageBox:
    text = (
        "Something went wrong inside Clinic Intake. This is a fault in the program, "
        "not something you did."
    )
    informative = (
        "Your consultation drafts are saved automatically, so nothing you entered before "
        "this moment is lost. If it happens again, restart the program and send the log "
        f"file to your support contact:\n{log_path}"
    )
    details = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return message_box(
        parent,
        QMessageBox.Icon.Critical,
        "Clinic Intake: unexpected error",
        text,
        informative=informative,
        details=details,
    )


def install_excepthook(log_path: Path) -> ExceptHook:
    """Route uncaught exceptions (including those raised in Qt slots) to the dialogs above.

    Returns the previous hook so a caller can restore it.
    """
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        if isinstance(exc, IntakeError):
            show_problem(None, exc)
            return
        log.exception("unexpected error", exc_info=(kind, exc, tb))
        if QApplication.instance() is None:
            previous(kind, exc, tb)
            return
        show_crash(None, exc, log_path)

    sys.excepthook = hook
    return previous
