"""Driving Qt widgets as a user does: clicks, keys, the pen, message boxes, signing in."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QMenuBar,
    QMessageBox,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot
from shiboken6 import Shiboken

from desktop.clinic import Clinic
from desktop.ui.common.use_case import BackgroundRun
from desktop.ui.consultation.checklist import ChecklistForm
from desktop.ui.consultation.pad import SignaturePad
from desktop.ui.consultation.page import ConsultationPage
from desktop.ui.main_window import MainWindow


def answer(form: ChecklistForm, answers: dict[str, Any]) -> None:
    """Answer through the generated widgets, as a user clicks them."""
    for qid, value in answers.items():
        widget = form.questions[qid]
        assert widget.isVisible(), f"{qid} should be visible"
        if isinstance(value, list):
            if not value:
                box = widget.none_box
                assert box is not None
                if not box.isChecked():
                    box.click()
            for token in value:
                button = widget.buttons[token]
                if not button.isChecked():
                    button.click()
        else:
            widget.buttons[value].click()


def draw_signature(pad: SignaturePad, *, dot: bool = False) -> None:
    """Sign with real mouse events: a zig-zag across the pad, or a single click (a dot)."""
    w, h = pad.width(), pad.height()
    start = QPoint(int(w * 0.15), int(h * 0.6))
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    if not dot:
        for i in range(1, 16):
            x = int(w * (0.15 + 0.045 * i))
            y = int(h * (0.35 if i % 2 else 0.7))
            QTest.mouseMove(pad, QPoint(x, y))
    end = start if dot else QPoint(int(w * 0.85), int(h * 0.5))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def type_text(widget: QWidget, text: str) -> None:
    """Type any text, key by key (QTest.keyClicks handles Latin-1 only)."""
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char)
            QApplication.sendEvent(widget, event)


def message_boxes() -> list[QMessageBox]:
    """The message boxes on screen now."""
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def close_message_boxes() -> None:
    """Close every message box on screen."""
    for box in message_boxes():
        box.close()


def visible(widget: QWidget) -> bool:
    """Whether `widget` shows when its window does."""
    return widget.isVisibleTo(widget.window())


def shown(qtbot: QtBot, dialog: QWidget) -> None:
    """Show `dialog` (closed with the test) and wait until it is on screen."""
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)


def finish(qtbot: QtBot, job: BackgroundRun[Any] | None, timeout: int = 30_000) -> None:
    """Wait until a use case run on a worker thread has been reported on the UI thread.

    A slot of ours hears `finished` (a signal blocker of pytest-qt would still hold the run
    when it deletes itself afterwards: "shared QObject was deleted directly", then a crash).
    """
    assert job is not None
    reported: list[bool] = []
    if Shiboken.isValid(job) and job.running:
        job.finished.connect(lambda: reported.append(True))
    else:
        reported.append(True)  # reported already
    qtbot.waitUntil(lambda: bool(reported), timeout=timeout)


def tab_walk(start: QWidget, presses: int, *, back: bool = False) -> list[QWidget | None]:
    """Put the cursor in `start`, press Tab (Shift+Tab with `back`) `presses` times with real
    key events, and return every widget the cursor was in, `start` first."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    seen = [QApplication.focusWidget()]
    key = Qt.Key.Key_Backtab if back else Qt.Key.Key_Tab
    for _ in range(presses):
        here = QApplication.focusWidget()
        assert here is not None, f"nothing has the cursor after {seen}"
        QTest.keyClick(here, key)
        seen.append(QApplication.focusWidget())
    return seen


def focus_names(widgets: list[QWidget | None]) -> list[str]:
    """Widgets as readable names (their accessible or object name) for assertion messages."""
    return [
        "-" if w is None else (w.accessibleName() or w.objectName() or type(w).__name__)
        for w in widgets
    ]


def active(qtbot: QtBot, widget: QWidget) -> QWidget:
    """Show `widget` as the active window (keys and focus go to it)."""
    qtbot.addWidget(widget)
    with qtbot.waitActive(widget):
        widget.show()
        widget.activateWindow()
    return widget


def _mnemonic(text: str) -> str | None:
    m = re.search(r"&([^&])", text.replace("&&", ""))
    return m.group(1).casefold() if m else None


def mnemonic_clashes(root: QWidget) -> dict[str, list[str]]:
    """Alt+letter shortcuts shown at once in `root`'s window that share a letter (Qt then
    moves to one of them at a time, so typing goes where nobody looked): letter -> texts.

    Counts every visible label with a buddy, button (enabled or not: it may be enabled
    later), group box, tab and the menu bar's menus.
    """
    found: dict[str, list[str]] = {}

    def add(text: str, kind: str = "") -> None:
        letter = _mnemonic(text)
        if letter is not None:
            found.setdefault(letter, []).append(kind + text)

    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root):
            continue
        if (isinstance(w, QLabel) and w.buddy() is not None) or isinstance(w, QAbstractButton):
            add(w.text())
        elif isinstance(w, QGroupBox):
            add(w.title(), "group ")
        elif isinstance(w, QTabWidget):
            for i in range(w.count()):
                add(w.tabText(i), "tab ")
        elif isinstance(w, QMenuBar):
            for action in w.actions():
                add(action.text(), "menu ")
    return {k: v for k, v in found.items() if len(v) > 1}


def choose(combo: QComboBox, value: str) -> None:
    """Select the item of `combo` whose data is `value` (it must be offered)."""
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)


def sign_in(window: MainWindow, username: str, password: str) -> None:
    """On the sign-in screen, type the name and the password (key by key) and submit."""
    assert window.access.mode == "login"
    _submit(window, username, password)


def sign_in_as(window: MainWindow, username: str, password: str) -> None:
    """Sign the current user out, then sign in as `username`."""
    window.sign_out()
    _submit(window, username, password)


def _submit(window: MainWindow, username: str, password: str) -> None:
    access = window.access
    access.username.setText(username)
    QTest.keyClicks(access.password, password)
    assert access.submit(), access.message.text()


def consultation_page(
    qtbot: QtBot, clinic: Clinic, consultation_id: str, *, width: int = 1280
) -> ConsultationPage:
    """The consultation page on its own, `width` x 800, showing the consultation."""
    page = ConsultationPage(clinic)
    qtbot.addWidget(page)
    page.resize(width, 800)
    page.show()
    page.load(consultation_id)
    return page
