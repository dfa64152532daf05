"""Fixtures for the Qt tests: a main window on the test clinic, with the printers a test gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.main_window import MainWindow
from tests.helpers.printing import FakePrinters

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
