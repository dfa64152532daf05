"""Running a use case: IntakeError shown (box or inline), other errors crash; the worker variant."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QProgressDialog, QWidget
from pytestqt.qtbot import QtBot
from shiboken6 import Shiboken

from desktop.errors import IntakeError, NotFound, ValidationError
from desktop.ui.common import use_case
from desktop.ui.common.messages import install_excepthook
from desktop.ui.common.use_case import run, run_in_background
from tests.helpers.ui import close_message_boxes, message_boxes


@pytest.fixture
def parent(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_a_use_case_that_succeeds_hands_its_value_on(parent: QWidget) -> None:
    done: list[int] = []
    outcome = run(parent, lambda: 6 * 7, on_done=done.append)
    assert outcome.ok and outcome.value == 42 and outcome.error is None
    assert done == [42]
    assert not message_boxes()


def test_an_intake_error_is_shown_in_a_box_titled_by_its_kind(
    parent: QWidget, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[object] = []

    def refuse() -> None:
        raise ValidationError("Type the date as YYYY-MM-DD (typed: 31.02.1990).", "date")

    caplog.set_level(logging.INFO)
    outcome = run(parent, refuse, on_done=done.append)
    assert not outcome.ok and isinstance(outcome.error, ValidationError)
    assert done == []
    (box,) = message_boxes()
    assert box.windowTitle() == "Please check the details"
    assert box.text().startswith("Type the date as YYYY-MM-DD")
    assert box.parent() is parent.window()
    assert "ValidationError (field date)" in caplog.text
    assert "31.02.1990" not in caplog.text  # what was typed never reaches the log
    close_message_boxes()

    def missing() -> None:
        raise NotFound("No such patient; search again.")

    run(parent, missing)
    (box,) = message_boxes()
    assert box.windowTitle() == "Record not found"
    close_message_boxes()


def test_an_intake_error_goes_inline_where_the_screen_says_so(parent: QWidget) -> None:
    shown: list[str] = []

    def refuse() -> None:
        raise IntakeError("The seal password is wrong; type it again.")

    outcome = run(parent, refuse, on_error=lambda exc: shown.append(exc.message))
    assert shown == ["The seal password is wrong; type it again."]
    assert not outcome.ok and not message_boxes()


def test_anything_else_is_a_bug_and_is_not_swallowed(parent: QWidget) -> None:
    done: list[object] = []

    def broken() -> None:
        raise KeyError("consultation")

    with pytest.raises(KeyError):
        run(parent, broken, on_done=done.append, on_error=done.append)
    assert done == [] and not message_boxes()


def test_busy_shows_the_wait_cursor_while_the_use_case_runs(parent: QWidget) -> None:
    seen: list[Qt.CursorShape | None] = []

    def work() -> None:
        cursor = QGuiApplication.overrideCursor()
        seen.append(cursor.shape() if cursor is not None else None)

    run(parent, work, busy=True)
    run(parent, work)
    assert seen == [Qt.CursorShape.WaitCursor, None]
    assert QGuiApplication.overrideCursor() is None


# The worker variant ---------------------------------------------------------------------


def progress_dialogs(parent: QWidget) -> list[QProgressDialog]:
    return [d for d in parent.findChildren(QProgressDialog) if d.isVisible()]


def test_a_background_use_case_runs_off_the_ui_thread_with_progress(
    qtbot: QtBot, parent: QWidget
) -> None:
    release = threading.Event()
    ui_thread = threading.get_ident()
    ran_on: list[int] = []
    done_on: list[tuple[int, str]] = []

    def work() -> str:
        ran_on.append(threading.get_ident())
        assert release.wait(10)
        return "backup.sqlite"

    job = run_in_background(
        parent,
        work,
        on_done=lambda value: done_on.append((threading.get_ident(), value)),
        progress="Backing up the database…",
    )
    assert job.running
    qtbot.waitUntil(lambda: bool(progress_dialogs(parent)), timeout=5000)
    (dialog,) = progress_dialogs(parent)
    assert dialog.labelText() == "Backing up the database…"
    assert dialog.windowModality() == Qt.WindowModality.WindowModal
    with qtbot.waitSignal(job.finished, timeout=5000):
        release.set()
    assert ran_on and ran_on[0] != ui_thread  # the work ran on a worker thread
    assert done_on == [(ui_thread, "backup.sqlite")]  # the result came back to the UI thread
    assert not job.running and not progress_dialogs(parent)


def test_a_quick_background_use_case_shows_no_progress(qtbot: QtBot, parent: QWidget) -> None:
    done: list[int] = []
    job = run_in_background(parent, lambda: 1, on_done=done.append, progress="Checking…")
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    qtbot.wait(use_case.PROGRESS_DELAY_MS + 100)
    assert done == [1] and not progress_dialogs(parent)


def test_a_background_intake_error_is_shown_on_the_ui_thread(qtbot: QtBot, parent: QWidget) -> None:
    shown: list[tuple[int, str]] = []

    def refuse() -> None:
        raise IntakeError("The backup folder is full; choose another.")

    job = run_in_background(
        parent,
        refuse,
        on_done=lambda _v: shown.append((0, "done")),
        on_error=lambda exc: shown.append((threading.get_ident(), exc.message)),
        progress="Backing up…",
    )
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert shown == [(threading.get_ident(), "The backup folder is full; choose another.")]

    job = run_in_background(parent, refuse, on_done=lambda _v: None, progress="Backing up…")
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    (box,) = message_boxes()
    assert box.text() == "The backup folder is full; choose another."
    close_message_boxes()


def test_a_background_bug_is_logged_and_shown_as_a_crash(
    qtbot: QtBot, parent: QWidget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_path = tmp_path / "clinic-intake.log"

    def broken() -> None:
        time.sleep(0.01)
        raise ZeroDivisionError("division by zero in the worker")

    previous = install_excepthook(log_path)
    try:
        with caplog.at_level(logging.ERROR):
            job = run_in_background(
                parent, broken, on_done=lambda _v: None, progress="Verifying…", pool=QThreadPool()
            )
            with qtbot.waitSignal(job.finished, timeout=5000):
                pass
        (box,) = message_boxes()
        assert box.windowTitle() == "Clinic Intake: unexpected error"
        assert str(log_path) in box.informativeText()
        assert "Traceback" in caplog.text and "division by zero in the worker" in caplog.text
        close_message_boxes()
    finally:
        sys.excepthook = previous


def test_a_background_use_case_outliving_its_window_reports_to_nobody(qtbot: QtBot) -> None:
    window = QWidget()
    window.show()
    release = threading.Event()
    done: list[object] = []
    pool = QThreadPool()
    run_in_background(
        window,
        lambda: release.wait(10),
        on_done=done.append,
        on_error=done.append,
        progress="Sealing…",
        pool=pool,
    )
    Shiboken.delete(window)  # the window closes while the work runs
    release.set()
    assert pool.waitForDone(5000)
    qtbot.wait(50)
    assert done == [] and not message_boxes()
