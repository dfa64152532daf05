"""The signature pad (mouse, pen with pressure, touch) and a signer's panel around it."""

from __future__ import annotations

import itertools
import logging

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QEventPoint,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTabletEvent,
    QTouchEvent,
)
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)

from desktop import ink
from desktop.models import Point, Stroke

log = logging.getLogger(__name__)

# Strokes are recorded in pad units, whatever the widget's size on screen: 600 x 200.
PAD_WIDTH = 600.0
PAD_HEIGHT = 200.0
DEFAULT_PRESSURE = 0.5
RESTING_UNITS = 3.0  # a touch point that moved less than this (pad units) has not written


def signature_problem(strokes: tuple[Stroke, ...]) -> str | None:
    """Why these strokes are not (yet) a signature, or None when they could be one."""
    return ink.signature_problem(strokes, PAD_WIDTH, PAD_HEIGHT)


class SignaturePad(QWidget):
    """Draws what the signer writes; strokes are (x, y, pressure) points in pad units."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signaturePad")
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        # Pen moves arrive even without a pressed button: some drivers never send a press.
        self.setTabletTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(360, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._strokes: list[list[Point]] = []
        self._current: list[Point] | None = None
        self._touch_id: int | None = None  # the touch point the current stroke follows
        self._pen_pressed = False  # the pen's stroke began with a press (not a pressed move)
        self.read_only = False

    def sizeHint(self) -> QSize:
        return QSize(600, 180)

    # Geometry ---------------------------------------------------------------------------

    def pad_rect(self) -> QRectF:
        """The largest 3:1 rectangle centred in the widget: pad units map onto it."""
        w, h = float(self.width()), float(self.height())
        scale = min(w / PAD_WIDTH, h / PAD_HEIGHT)
        pw, ph = PAD_WIDTH * scale, PAD_HEIGHT * scale
        return QRectF((w - pw) / 2, (h - ph) / 2, pw, ph)

    def to_pad(self, pos: QPointF, pressure: float = DEFAULT_PRESSURE) -> Point:
        r = self.pad_rect()
        x = (pos.x() - r.x()) * PAD_WIDTH / max(r.width(), 1.0)
        y = (pos.y() - r.y()) * PAD_HEIGHT / max(r.height(), 1.0)
        x = min(max(x, 0.0), PAD_WIDTH)
        y = min(max(y, 0.0), PAD_HEIGHT)
        return (round(x, 2), round(y, 2), round(min(max(pressure, 0.0), 1.0), 3))

    def to_widget(self, point: Point) -> QPointF:
        r = self.pad_rect()
        return QPointF(
            r.x() + point[0] * r.width() / PAD_WIDTH, r.y() + point[1] * r.height() / PAD_HEIGHT
        )

    # Strokes ----------------------------------------------------------------------------

    def strokes(self) -> tuple[Stroke, ...]:
        done = [tuple(s) for s in self._strokes if s]
        return tuple(done)

    def set_strokes(self, strokes: tuple[Stroke, ...]) -> None:
        self._strokes = [list(s) for s in strokes]
        self._current = None
        self.update()
        self.changed.emit()

    def clear(self) -> None:
        self.set_strokes(())

    def undo(self) -> None:
        if self._strokes:
            self._strokes.pop()
            self._current = None
            self.update()
            self.changed.emit()

    def problem(self) -> str | None:
        return signature_problem(self.strokes())

    def _begin(self, point: Point) -> None:
        if self.read_only:
            return
        self._current = [point]
        self._strokes.append(self._current)
        self.update()

    def _extend(self, point: Point) -> None:
        if self._current is None:
            return
        if self._current[-1][:2] != point[:2]:
            self._current.append(point)
            self.update()

    def _end(self) -> None:
        self._touch_id = None
        self._pen_pressed = False
        if self._current is not None:
            self._current = None
            self.changed.emit()

    def _drop_current(self) -> None:
        """Forget the stroke in progress (a touch cancelled, a resting palm)."""
        if self._current is not None and self._strokes and self._strokes[-1] is self._current:
            self._strokes.pop()
        self._current = None
        self._touch_id = None
        self.update()

    def _resting(self) -> bool:
        """The current stroke has not moved since it began (a palm or a finger at rest)."""
        c = self._current
        if c is None:
            return False
        x0, y0 = c[0][0], c[0][1]
        return all(abs(x - x0) <= RESTING_UNITS and abs(y - y0) <= RESTING_UNITS for x, y, _ in c)

    # Input ------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(self.to_pad(event.position()))
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._extend(self.to_pad(event.position()))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._extend(self.to_pad(event.position()))
            self._end()
            event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:
        """The pen draws while it presses. Some drivers send no press, only moves whose
        pressure rises above 0 while the tip touches and falls to 0 when it lifts: those
        strokes are drawn too."""
        pressure = event.pressure()
        point = self.to_pad(event.position(), pressure)
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(point)
            self._pen_pressed = True
        elif kind == QEvent.Type.TabletMove:
            if self._current is None and pressure > 0:
                self._begin(point)  # the tip touched without a press event
            elif self._current is not None and pressure <= 0 and not self._pen_pressed:
                self._end()  # lifted: the stroke drawn by pressure alone ends
            else:
                self._extend(point)
        elif kind == QEvent.Type.TabletRelease:
            self._extend(point)
            self._end()
        event.accept()  # no synthesised mouse events for the pen

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (
            QEvent.Type.TouchBegin,
            QEvent.Type.TouchUpdate,
            QEvent.Type.TouchEnd,
            QEvent.Type.TouchCancel,
        ) and isinstance(event, QTouchEvent):
            if kind == QEvent.Type.TouchCancel:
                self._drop_current()
            else:
                self._touch(event)
            event.accept()
            return True
        return super().event(event)

    def _touch(self, event: QTouchEvent) -> None:
        """A stroke follows the one touch point that started it, whatever else touches.

        A hand resting on the pad first (a palm) starts a stroke that never moves: when
        another point then touches down, the stroke follows that one instead and the resting
        one is forgotten. A point that touches down while a stroke is being written is
        ignored (a palm landing mid-signature).
        """
        for p in event.points():
            state = p.state()
            pressure = p.pressure() if p.pressure() > 0 else DEFAULT_PRESSURE
            point = self.to_pad(p.position(), pressure)
            if state == QEventPoint.State.Pressed:
                if self._current is None or (self._touch_id != p.id() and self._resting()):
                    self._drop_current()
                    self._begin(point)
                    self._touch_id = p.id() if self._current is not None else None
            elif p.id() != self._touch_id:
                continue
            elif state == QEventPoint.State.Released:
                self._extend(point)
                self._end()
            elif state == QEventPoint.State.Updated:
                self._extend(point)

    # Painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.pad_rect()
        painter.fillRect(self.rect(), QColor("#f4f6f8"))
        painter.fillRect(r, QColor("#ffffff"))
        border = QColor("#1f6feb") if self.hasFocus() else QColor("#8a949c")
        painter.setPen(QPen(border, 1))
        painter.drawRect(r.adjusted(0.5, 0.5, -0.5, -0.5))
        base_y = r.y() + r.height() * 0.75
        painter.setPen(QPen(QColor("#b0b8bf"), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(r.x() + 20, base_y), QPointF(r.right() - 20, base_y))
        if not self._strokes:
            painter.setPen(QColor("#8a949c"))
            painter.drawText(
                QRectF(r.x(), base_y + 4, r.width(), r.height() * 0.25 - 4),
                Qt.AlignmentFlag.AlignCenter,
                "Sign above the line",
            )
        scale = r.width() / PAD_WIDTH
        ink = QColor("#0b1f5c")
        for stroke in self._strokes:
            if len(stroke) == 1:
                width = (1.5 + 2.5 * stroke[0][2]) * scale
                painter.setPen(QPen(ink, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                painter.drawPoint(self.to_widget(stroke[0]))
                continue
            for a, b in itertools.pairwise(stroke):
                width = (1.5 + 2.5 * (a[2] + b[2]) / 2) * scale
                pen = QPen(ink, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
                painter.setPen(pen)
                path = QPainterPath(self.to_widget(a))
                path.lineTo(self.to_widget(b))
                painter.drawPath(path)
        painter.end()
