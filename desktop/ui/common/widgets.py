"""Small shared widgets and helpers: outcome badges, inline field messages, busy cursor, dates."""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime

from PySide6.QtCore import QAbstractItemModel, QDate, Qt
from PySide6.QtGui import QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFrame,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import IntakeError
from desktop.ui.common.tones import tone

log = logging.getLogger(__name__)


class OutcomeBadge(QFrame):
    """A coloured box with a symbol, a word and an explanation: readable without colour."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outcomeBadge")
        self._title = title
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.25)
        self.heading.setFont(font)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        layout.addWidget(self.heading)
        layout.addWidget(self.detail)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.set_outcome(None, "—", "")

    def set_outcome(self, key: str | None, label: str, text: str) -> None:
        t = tone(key)
        self.key = key
        self.heading.setText(f"{self._title}: {t.symbol} {label.upper()}")
        self.detail.setText(text)
        self.setStyleSheet(
            f"QFrame#outcomeBadge {{ background: {t.bg}; border: 1px solid {t.fg};"
            f" border-left: 6px solid {t.fg}; border-radius: 4px; }}"
            f" QLabel {{ color: {t.fg}; background: transparent; border: none; }}"
        )
        self.setAccessibleName(f"{self._title}: {label}. {text}")


DONE_COLOUR = "#1b5e20"


class FieldMessage(QLabel):
    """An inline message under a form field; hidden while there is nothing to say.

    Problems show in red (or brown for a `warning` label); `show_done` reports success in green.
    """

    def __init__(self, parent: QWidget | None = None, *, warning: bool = False) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._colour = "#6b4100" if warning else "#b00020"
        self.done = False
        self._paint(self._colour)
        self.hide()

    def _paint(self, colour: str) -> None:
        self.setStyleSheet(f"color: {colour}; font-size: 9pt;")

    def show_message(self, text: str) -> None:
        if self.done:
            self.done = False
            self._paint(self._colour)
        self.setText(text)
        self.setVisible(bool(text))

    def show_error(self, exc: IntakeError) -> None:
        """Show an IntakeError's message (it says what to do next)."""
        self.show_message(exc.message)

    def show_done(self, text: str) -> None:
        """Report something that worked ("Certificate saved to …"), in green with a tick."""
        self.show_message(f"✔ {text}")
        self.done = True
        self._paint(DONE_COLOUR)


def hint_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A small grey explanatory label that wraps."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet("color: #5f6b73; font-size: 9pt;")
    return label


def heading_label(text: str, parent: QWidget | None = None, *, size: float = 1.3) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(max(font.pointSizeF(), 9.0) * size)
    label.setFont(font)
    return label


@contextlib.contextmanager
def busy_cursor() -> Iterator[None]:
    """Show a wait cursor for a long action, and let the cursor change paint first."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    QGuiApplication.processEvents()
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


def fmt_date(d: date | None) -> str:
    return d.isoformat() if d else ""


def fmt_datetime(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else ""


def table_view(
    model: QAbstractItemModel,
    name: str,
    parent: QWidget | None = None,
    *,
    stretch: int | None = None,
) -> QTableView:
    """A read-only, row-selecting table: Enter or a double-click emits `activated`.

    Columns fit their contents; the `stretch` column (default: the last) takes the rest of the
    width and elides its text when space runs short, so no horizontal scrolling is needed.
    """
    view = QTableView(parent)
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setTabKeyNavigation(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return view


def selected_row(view: QTableView) -> int | None:
    """The selected row of `view` (its current row when none is selected); None if empty.

    Read it from `on_selection_changed`, never from a `currentChanged`/`currentRowChanged`
    slot: a mouse click moves the current row first and the selection after it, so there the
    selection is still the row before the click.
    """
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    if rows:
        return rows[0].row()
    current = view.currentIndex()
    return current.row() if current.isValid() else None


def on_selection_changed(view: QTableView, slot: Callable[[], object]) -> None:
    """Call `slot()` whenever the user selects another row of `view`, by mouse or by keys,
    once the selection has changed (so `selected_row(view)` names the new row)."""
    view.selectionModel().selectionChanged.connect(lambda _new, _old: slot())


class StatusLine(QLabel):
    """A one-line status under or above a list: a longer text is elided in the middle (a
    file path keeps its start and its file name) and shown whole in the tooltip, so the
    line never wraps and never moves what is below it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setStyleSheet("color: #5f6b73; font-size: 9pt;")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 4)

    def set_status(self, text: str) -> None:
        self._full = " ".join(text.split())
        self.setToolTip(self._full)
        self.setAccessibleName(self._full)
        self._elide()

    def status(self) -> str:
        """The whole text (what shows may be elided)."""
        return self._full

    def _elide(self) -> None:
        width = max(0, self.contentsRect().width())
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width)
        super().setText(shown)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()


def set_tab_order(*widgets: QWidget) -> None:
    """Tab moves through `widgets` in the given order (Shift+Tab back)."""
    for a, b in itertools.pairwise(widgets):
        QWidget.setTabOrder(a, b)


def first_focusable(container: QWidget) -> QWidget | None:
    """The first widget inside `container` that Tab can reach, following the focus chain."""
    widget = container.nextInFocusChain()
    while widget is not None and widget is not container:
        if (
            container.isAncestorOf(widget)
            and widget.isVisibleTo(container)
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        ):
            return widget
        widget = widget.nextInFocusChain()
    return None


class DateField(QDateEdit):
    """A date as YYYY-MM-DD with a calendar: one Tab stop, changed only on purpose.

    Tab and Shift+Tab leave the field instead of walking its year, month and day (use the
    arrow keys or the calendar inside it); with keyboard tracking off, `dateChanged` reports
    a typed date once, when it is complete and the field is left or Enter is pressed.
    """

    def __init__(self, value: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setCalendarPopup(True)
        self.setKeyboardTracking(False)
        if value is not None:
            self.set_value(value)

    def focusNextPrevChild(self, next: bool) -> bool:
        return QWidget.focusNextPrevChild(self, next)

    def value(self) -> date:
        d = self.date()
        return date(d.year(), d.month(), d.day())

    def set_value(self, value: date) -> None:
        self.setDate(QDate(value.year, value.month, value.day))


CHOOSE_CLINICIAN = "Choose the clinician…"


class ClinicianChoice(QComboBox):
    """The responsible clinician, chosen from the clinic's clinician accounts (never typed).

    A name stored before (an old record, a disabled account) stays selectable, marked as such.
    """

    def set_choices(self, names: Sequence[str], current: str) -> None:
        self.blockSignals(True)
        try:
            self.clear()
            self.addItem(CHOOSE_CLINICIAN, "")
            for name in names:
                self.addItem(name, name)
            if current and current not in names:
                self.addItem(f"{current} (no clinician account)", current)
            self.setCurrentIndex(max(self.findData(current), 0))
        finally:
            self.blockSignals(False)

    def name(self) -> str:
        return str(self.currentData() or "")
