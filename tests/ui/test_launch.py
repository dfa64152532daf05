"""The app end to end in a subprocess, and a database that cannot be opened."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.ui.launch import EXIT_AFTER_SHOW, open_clinic
from desktop.ui.main_window import MainWindow
from tests.helpers.paths import ROOT
from tests.helpers.ui import close_message_boxes, message_boxes


def test_the_app_starts_shows_its_window_and_exits_cleanly(tmp_path: Path) -> None:
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", EXIT_AFTER_SHOW: "1"}
    db = tmp_path / "clinic.sqlite"
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert db.is_file()
    assert (db.stat().st_mode & 0o777) == 0o600


def test_a_database_that_cannot_be_opened_is_explained(
    qtbot: QtBot, tmp_path: Path, log_path: Path
) -> None:
    window = MainWindow(log_path)
    qtbot.addWidget(window)
    window.show()
    assert open_clinic(window, tmp_path) is None  # a folder, not a database file
    (box,) = message_boxes()
    assert "folder" in box.text()
    assert box.windowTitle() == "The database cannot be used"
    assert not window.new_action.isEnabled()
    close_message_boxes()
