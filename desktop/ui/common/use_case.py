"""Running a use case from the window: an IntakeError is shown, anything else is a crash."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from PySide6.QtCore import (
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
    SignalInstance,
    Slot,
)
from PySide6.QtWidgets import QProgressDialog, QWidget

from desktop.errors import IntakeError
from desktop.ui.common.messages import log_shown, show_problem
from desktop.ui.common.outage import database_answered
from desktop.ui.common.widgets import busy_cursor

log = logging.getLogger(__name__)

T = TypeVar("T")
ShowError = Callable[[IntakeError], object]
PROGRESS_DELAY_MS = 400  # a use case done sooner than this never flashes a progress dialog


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """How a use case run at once ended: its value, or the IntakeError shown instead."""

    value: T | None = None
    error: IntakeError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def show_error(parent: QWidget | None, exc: IntakeError, on_error: ShowError | None) -> None:
    """Show `exc` with `on_error` (an inline message, say), else as `messages.show_problem`
    says: the database out of reach in the window's outage notice, the rest in a message box
    over `parent`."""
    if on_error is None:
        show_problem(parent, exc)
    else:
        log_shown(exc)
        on_error(exc)


def run(
    parent: QWidget | None,
    work: Callable[[], T],
    *,
    on_done: Callable[[T], object] | None = None,
    on_error: ShowError | None = None,
    busy: bool = False,
) -> Outcome[T]:
    """Run the use case `work` now, on the UI thread, and show how it ended.

    On success `on_done(value)` runs, and the window's outage notice (if one shows) goes: the
    database answers. An IntakeError is shown instead, by `on_error` when the screen shows
    messages inline, else (`messages.show_problem`) a StorageError in the window's outage
    notice and any other in a window-modal message box over `parent`'s window titled by the
    kind of error (see `messages.TITLES`); the log gets its kind and field, never its text.
    Any other exception is a bug and propagates: from a Qt slot it reaches the exception hook,
    which logs its traceback and shows the crash dialog. `busy` shows the wait cursor while
    `work` runs.

    Code that reacts only through `on_done` and `on_error` moves to a worker thread by calling
    `run_in_background` instead; the returned Outcome serves callers that need the result now.
    """
    try:
        with busy_cursor() if busy else contextlib.nullcontext():
            value = work()
    except IntakeError as exc:
        show_error(parent, exc, on_error)
        return Outcome(error=exc)
    database_answered()
    if on_done is not None:
        on_done(value)
    return Outcome(value)


class _Relay(QObject):
    """Lives on the UI thread; a worker emits through it, so the slots run on the UI thread."""

    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, work: Callable[[], object], relay: _Relay) -> None:
        super().__init__()
        self._work = work
        self._relay = relay

    def run(self) -> None:
        try:
            value = self._work()
        except Exception as exc:  # reported on the UI thread: shown, or logged as a crash
            self._report(self._relay.failed, exc)
        else:
            self._report(self._relay.done, value)

    @staticmethod
    def _report(signal: SignalInstance, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the widget that asked was closed meanwhile: nobody to tell
            log.info("a background use case ended after its window closed")


class BackgroundRun(QObject, Generic[T]):
    """One use case running on a worker thread; `finished` is emitted once it is reported.

    After PROGRESS_DELAY_MS a window-modal progress dialog (without a cancel button: the work
    cannot be interrupted safely) shows `progress` until the use case ends.
    """

    finished = Signal()

    def __init__(
        self,
        parent: QWidget,
        work: Callable[[], T],
        on_done: Callable[[T], object],
        on_error: ShowError | None,
        progress: str,
        pool: QThreadPool,
        delay_ms: int = PROGRESS_DELAY_MS,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._on_done = on_done
        self._on_error = on_error
        self._progress = progress
        self.dialog: QProgressDialog | None = None
        self.running = True
        self._relay = _Relay(self)
        self._relay.done.connect(self._done)
        self._relay.failed.connect(self._failed)
        if delay_ms > 0:
            QTimer.singleShot(delay_ms, self, self._show_progress)
        else:
            self._show_progress()  # before the work starts: input is kept away from the start
        pool.start(_Task(work, self._relay))

    def _show_progress(self) -> None:
        if not self.running:
            return
        dialog = QProgressDialog(self._progress, "", 0, 0, self._parent)
        dialog.setObjectName("progressDialog")
        dialog.setWindowTitle("Clinic Intake")
        dialog.setCancelButton(None)  # no button: the work cannot be interrupted
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.show()
        self.dialog = dialog

    def _end(self) -> None:
        self.running = False
        if self.dialog is not None:
            had_focus = self.dialog.isActiveWindow()
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
            if had_focus:  # keys go back to the window (its shortcuts need it active)
                self._parent.window().activateWindow()

    @Slot(object)
    def _done(self, value: T) -> None:
        self._end()
        database_answered()
        try:
            self._on_done(value)
        finally:
            self._finish()

    @Slot(object)
    def _failed(self, exc: Exception) -> None:
        self._end()
        try:
            if isinstance(exc, IntakeError):
                show_error(self._parent, exc, self._on_error)
            else:
                sys.excepthook(type(exc), exc, exc.__traceback__)  # logged, the crash dialog
        finally:
            self._finish()

    def _finish(self) -> None:
        self.finished.emit()
        self.deleteLater()


def run_in_background(
    parent: QWidget,
    work: Callable[[], T],
    *,
    on_done: Callable[[T], object],
    on_error: ShowError | None = None,
    progress: str,
    pool: QThreadPool | None = None,
    delay_ms: int = PROGRESS_DELAY_MS,
) -> BackgroundRun[T]:
    """Run the use case `work` on a worker thread; report it on the UI thread as `run` does.

    `work` may use the clinic's services: the store serialises every use of its connection
    (long reads and backups take connections of their own). `progress` says what is
    happening ("Backing up the database…"); the window-modal progress dialog shows after
    `delay_ms` (0: at once, for work during which nothing else may touch the clinic) and
    keeps input away from the window until the work ends. The window keeps painting.
    """
    return BackgroundRun(
        parent,
        work,
        on_done,
        on_error,
        progress,
        pool or QThreadPool.globalInstance(),
        delay_ms,
    )
