"""Fixtures for the Qt tests: a main window on the test clinic, and helpers to drive widgets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
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
from desktop.clinic.printing import Printer, PrintJob
from desktop.ui.common.use_case import BackgroundRun
from desktop.ui.consultation.checklist import ChecklistForm
from desktop.ui.consultation.pad import SignaturePad
from desktop.ui.main_window import MainWindow

# The offscreen platform cannot pass window size hints on, raise a window or grab the keyboard
# (a popup list does both), and says so at WARNING level; that is not a fault of ours (xcb has
# no such messages).
OFFSCREEN_NOISE = (
    r"This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)"
)
UI_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if UI_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "clinic-intake.log"


class FakePrinters:
    """The print service a test says this computer has, passed where the system's would be:
    `names` are its printers (the first is the default); jobs sent are kept in `jobs`."""

    vector = True

    def __init__(self, *names: str) -> None:
        self.names = list(names)
        self.asked = 0
        self.jobs: list[tuple[bytes, PrintJob]] = []

    def printers(self) -> list[Printer]:
        self.asked += 1
        return [Printer(name, default=i == 0) for i, name in enumerate(self.names)]

    def submit(self, pdf: bytes, job: PrintJob) -> str:
        self.jobs.append((pdf, job))
        return f"{job.printer}-{len(self.jobs)}"


@pytest.fixture
def printers() -> FakePrinters:
    """No printer, whatever this machine has; a test that needs one adds a name."""
    return FakePrinters()


@pytest.fixture
def window(
    qtbot: QtBot, clinic: Clinic, log_path: Path, printers: FakePrinters
) -> Iterator[MainWindow]:
    w = MainWindow(log_path, clinic=clinic, printers=printers)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()  # window shortcuts (Ctrl+F, Ctrl+N, Ctrl+P) need the active window
    qtbot.waitActive(w)
    yield w
    page = w._patient_page
    if page is not None:  # a test may end with details typed: closing would ask about them
        page.form.discard_changes()
    w.close()
    w.deleteLater()


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
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def close_message_boxes() -> None:
    for box in message_boxes():
        box.close()


def visible(widget: QWidget) -> bool:
    return widget.isVisibleTo(widget.window())


SAM_PASSWORD = "front desk password"


def shown(qtbot: QtBot, dialog: QWidget) -> None:
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
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)
