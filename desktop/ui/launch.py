"""Starting the window: icon, database path, opening the clinic after the first paint.

`run_gui` is what the composition root (desktop.app) calls. This module builds the window;
the window never imports it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop import paths
from desktop.ui.common.messages import install_excepthook
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import busy_cursor
from desktop.ui.main_window import MainWindow

if TYPE_CHECKING:
    from desktop.clinic import Clinic

log = logging.getLogger(__name__)

EXIT_AFTER_SHOW = "CLINIC_INTAKE_EXIT_AFTER_SHOW"


class _OnPaint(QObject):
    """Calls `callback` (once, from the event loop) after the watched widget's next paint."""

    def __init__(self, parent: QObject, callback: Callable[[], None]) -> None:
        super().__init__(parent)
        self.callback = callback
        self.armed = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.armed and event.type() == QEvent.Type.Paint:
            self.armed = False
            QTimer.singleShot(0, self.callback)
        return False


# Opening runs on the window's thread: a file held by a restore or move elsewhere is not
# waited for longer than this (the message says to try again once that has finished).
WINDOW_OPEN_WAIT = 0.5


def _painted_then_quit(app: QApplication) -> None:
    """Start-up benchmark: say when the page was painted (wall clock), then quit."""
    sys.stdout.write(f"painted-at {time.time():.6f}\n")
    sys.stdout.flush()
    app.quit()


def app_icon() -> QIcon:
    """The window icon (resources/icons/); an empty icon if the files are missing."""
    from desktop import resources

    icon = QIcon()
    for size in (64, 256):
        path = resources.icon_file(f"clinic-intake-{size}.png")
        if path.is_file():
            icon.addFile(str(path))
    return icon


def _database_path(args: argparse.Namespace) -> Path | str:
    """--db, else this computer's saved choice (Settings), else the default file."""
    target: Path | str | None = getattr(args, "db", None)
    if target is not None:
        return target
    from desktop.clinic.workstation import saved_database

    target = saved_database()
    if target is not None:
        return target
    path = paths.default_db()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    return path


def open_clinic(window: MainWindow, path: Path | str) -> Clinic | None:
    """Open the database behind an already visible window; None (and a message) on failure."""
    with busy_cursor():
        from desktop.clinic import Clinic  # after the window is up: the core's imports cost

        clinic = run(
            window,
            lambda: Clinic.open(path, open_wait=WINDOW_OPEN_WAIT),
            on_error=lambda exc: window.not_opened(path, exc),
        ).value
        if clinic is None:
            return None
        window.attach(clinic, path)
    log.info("database %s opened", path)
    return clinic


def run_gui(args: argparse.Namespace, log_path: Path) -> int:
    """Show the window, open the clinic database, run until closed; returns the exit code.

    `args.db` (a Path or None for the default database) comes from the command line.
    The window paints first and the database opens right after that first paint, so a large
    or slow database never leaves the user looking at nothing. CLINIC_INTAKE_EXIT_AFTER_SHOW
    (startup benchmark): "shown" quits after the first paint, "1" once the data is painted.
    """
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Clinic Intake")
    app.setApplicationDisplayName("Clinic Intake")
    app.setWindowIcon(app_icon())
    install_excepthook(log_path)
    path = _database_path(args)
    window = MainWindow(log_path)
    screen = app.primaryScreen().availableGeometry()
    window.resize(min(1280, screen.width()), min(800, screen.height()))
    exit_after = os.environ.get(EXIT_AFTER_SHOW, "")
    opened: list[Clinic] = []
    started = False

    def open_database() -> None:
        nonlocal started
        if started:
            return
        started = True
        if exit_after == "shown":
            _painted_then_quit(app)
            return
        clinic = open_clinic(window, path)
        if clinic is None:
            return
        opened.append(clinic)
        app.installEventFilter(window)  # any key or click counts as activity (idle lock)
        if exit_after:
            page = window.stack.currentWidget() or window.stack
            page.installEventFilter(_OnPaint(window, lambda: _painted_then_quit(app)))
            page.update()

    def switch_database(target: str) -> None:
        """First run: the user chose the clinic's server; open it in place of the file."""
        from desktop.clinic import Clinic

        with busy_cursor():
            clinic = run(window, lambda: Clinic.open(target, open_wait=WINDOW_OPEN_WAIT)).value
        if clinic is None:
            return
        for old in opened:
            old.close()
        opened[:] = [clinic]
        window.attach(clinic, target)
        log.info("database %s opened", clinic.label)

    def choose_database(failed: Path | str) -> None:
        """The database could not be opened: choose the clinic's server or this computer's
        file (saved for this computer, as in Settings) and open that; Cancel closes."""
        from desktop.ui.dialogs.database import DatabaseDialog

        dialog = DatabaseDialog(failed, window)
        if dialog.exec() != DatabaseDialog.DialogCode.Accepted:
            window.close()
            return
        target = dialog.target or paths.default_db()  # None: the file on this computer
        clinic = open_clinic(window, target)  # on failure, the same question again
        if clinic is not None:
            opened.append(clinic)
            app.installEventFilter(window)

    def open_instead(place: Path | str) -> None:
        """The clinic moved: open its new place, and keep it as this computer's choice."""
        from desktop.clinic.workstation import save_database

        clinic = open_clinic(window, place)  # on failure, the same question again
        if clinic is None:
            return
        opened.append(clinic)
        app.installEventFilter(window)
        run(window, lambda: save_database(place))

    window.database_wanted.connect(choose_database)
    window.open_instead.connect(open_instead)
    window.access.database_chosen.connect(switch_database)
    window.opening.installEventFilter(_OnPaint(window, open_database))
    QTimer.singleShot(500, open_database)  # in case no paint arrives (e.g. started minimised)
    window.show()
    try:
        code = app.exec()
    finally:
        for clinic in opened:
            clinic.close()
    return code if opened or exit_after == "shown" else (code or 2)
