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


def test_a_moved_database_offers_to_choose_the_clinics_new_place(
    qtbot: QtBot, tmp_path: Path, log_path: Path
) -> None:
    from desktop.clinic import Clinic, system_actor
    from tests.helpers.clinics import FAST_HASHER

    old = tmp_path / "clinic.sqlite"
    clinic = Clinic.open(old, actor=system_actor(), hasher=FAST_HASHER)
    clinic.backups.move_to(tmp_path / "new" / "clinic.sqlite")
    clinic.close()
    window = MainWindow(log_path)
    qtbot.addWidget(window)
    window.show()
    assert open_clinic(window, old) is None
    (box,) = message_boxes()
    assert "moved out of" in box.text() and "new place" in box.text()
    go = next(b for b in box.buttons() if "new place" in b.text())
    with qtbot.waitSignal(window.open_instead) as instead:
        go.click()
    assert instead.args == [tmp_path / "new" / "clinic.sqlite"]
    assert window.isVisible()  # not closed: the clinic opens at its new place

    assert open_clinic(window, old) is None
    (box,) = message_boxes()
    choose = next(b for b in box.buttons() if "database" in b.text().lower())
    with qtbot.waitSignal(window.database_wanted) as wanted:
        choose.click()
    assert wanted.args == [old]


def test_closing_the_not_opened_message_closes_the_window(
    qtbot: QtBot, tmp_path: Path, log_path: Path
) -> None:
    window = MainWindow(log_path)
    qtbot.addWidget(window)
    window.show()
    assert open_clinic(window, tmp_path) is None
    (box,) = message_boxes()
    next(b for b in box.buttons() if b.text() == "Close").click()
    qtbot.waitUntil(lambda: not window.isVisible())
