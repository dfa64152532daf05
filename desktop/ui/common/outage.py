"""The database out of reach: a notice in the window (never a modal box) that goes by itself
once a use case works again, and the backoff that paces retrying a save meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken

from desktop.errors import StorageError

log = logging.getLogger(__name__)

RETRY_DELAYS_S: tuple[float, ...] = (2, 4, 8, 15, 30, 60)  # then every 60 s
STILL_TRYING = (
    "Clinic Intake keeps trying; this notice goes by itself once the database answers "
    "again. Drafts not saved yet stay on screen and are saved then."
)

# The notices of the open windows that show a problem now (one database per process: any
# use case that works means it answers again).
_showing: set[OutageNotice] = set()


class OutageNotice(QFrame):
    """A band across the window: the database cannot be used, what to check, and that the
    window keeps trying. It never takes the keyboard and never needs closing: `clear` (the
    next use case that works) hides it. `retry_now` asks the window to try at once."""

    retry_now = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outageNotice")
        self.setAccessibleName("Database problem")
        self.setStyleSheet(
            "QFrame#outageNotice { background: #fdecea; border: 1px solid #8e0000;"
            " border-left: 6px solid #8e0000; border-radius: 4px; }"
            " QLabel { color: #8e0000; background: transparent; border: none; }"
        )
        self.text = QLabel()
        self.text.setObjectName("outageText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel()
        self.hint.setObjectName("outageHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("font-size: 9pt;")
        self.try_button = QPushButton("Try again now")
        self.try_button.setObjectName("outageRetry")
        self.try_button.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # never a Tab stop mid-form
        self.try_button.clicked.connect(self.retry_now)
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.text)
        words.addWidget(self.hint)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addLayout(words, 1)
        row.addWidget(self.try_button, 0, Qt.AlignmentFlag.AlignTop)
        self.problem: StorageError | None = None
        self.since = ""  # when the database first failed since it last answered (HH:MM:SS)
        self.destroyed.connect(lambda _o=None: _showing.discard(self))
        self.hide()

    def show_problem(self, exc: StorageError) -> None:
        """Show `exc` (what is wrong and what to check), and since when it has been so."""
        if self.problem is None:
            self.since = datetime.now().strftime("%H:%M:%S")
            log.warning("the database cannot be used; the window shows a notice and retries")
        self.problem = exc
        self.text.setText(f"✖ {exc.message}")
        self.hint.setText(f"Since {self.since}. {STILL_TRYING}")
        _showing.add(self)
        self.show()

    def clear(self) -> None:
        if self.problem is not None:
            log.info("the database answers again; the notice is gone")
        self.problem = None
        self.since = ""
        _showing.discard(self)
        self.hide()


def notice_of(window: QWidget | None) -> OutageNotice | None:
    """The outage notice of `window` (a top-level window), if it has one."""
    if window is None or not Shiboken.isValid(window):
        return None
    return window.findChild(OutageNotice)


def storage_failed(parent: QWidget | None, exc: StorageError) -> bool:
    """Show `exc` in the outage notice of the window it concerns; False when that window has
    none (a dialog, or no window): the caller shows a message box instead.

    The window is `parent`'s; without a parent (a timer's use case, reported through the
    exception hook), the active window, else the window that has a notice.
    """
    if parent is not None:
        notice = notice_of(parent.window())
    else:
        active = QApplication.activeWindow()
        if isinstance(active, QDialog):
            return False  # someone is working in a dialog: tell them there
        candidates: Sequence[QWidget] = (
            [active] if active is not None else QApplication.topLevelWidgets()
        )
        notice = next(
            (n for w in candidates if w.isVisible() and (n := notice_of(w)) is not None), None
        )
    if notice is None:
        return False
    notice.show_problem(exc)
    return True


def database_answered() -> None:
    """A use case worked: the database answers again, so no notice says otherwise."""
    if not _showing:
        return
    for notice in list(_showing):
        if Shiboken.isValid(notice):
            notice.clear()
        else:
            _showing.discard(notice)


class Backoff(QObject):
    """Paces retrying something that failed (a save while the database is out of reach):
    `schedule` waits the next of RETRY_DELAYS_S (2 s, 4 s, ... then every 60 s) and emits
    `due`; `reset` once it worked forgets the failures."""

    due = Signal()

    def __init__(
        self, parent: QObject | None = None, delays: tuple[float, ...] = RETRY_DELAYS_S
    ) -> None:
        super().__init__(parent)
        self.delays = delays
        self.failures = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.due)

    @property
    def pending(self) -> bool:
        """Whether a retry is waiting (scheduled and not yet run or reset)."""
        return self._timer.isActive()

    def schedule(self) -> float:
        """Retry after the next delay; returns it in seconds."""
        delay = self.delays[min(self.failures, len(self.delays) - 1)]
        self.failures += 1
        self._timer.start(int(delay * 1000))
        return delay

    def stop(self) -> None:
        """No retry waits (one runs now, say); the count of failures is kept."""
        self._timer.stop()

    def reset(self) -> None:
        self._timer.stop()
        self.failures = 0
