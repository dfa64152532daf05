"""The signature pad: strokes in pad units, dots refused, undo and clear, pen pressure."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.ui.consultation.pad import PAD_HEIGHT, PAD_WIDTH, SignaturePad
from tests.helpers.ui import draw_signature


def _pad(qtbot: QtBot) -> SignaturePad:
    pad = SignaturePad()
    qtbot.addWidget(pad)
    pad.resize(600, 200)
    pad.show()
    qtbot.waitExposed(pad)
    return pad


def test_strokes_are_tuples_of_points_in_pad_units(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    draw_signature(pad)
    strokes = pad.strokes()
    assert len(strokes) == 1
    assert len(strokes[0]) >= 10
    for x, y, pressure in strokes[0]:
        assert isinstance(x, float) and isinstance(y, float) and isinstance(pressure, float)
        assert 0 <= x <= PAD_WIDTH and 0 <= y <= PAD_HEIGHT and 0 <= pressure <= 1
    assert pad.problem() is None


def test_empty_and_one_dot_pads_are_not_signatures(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    assert pad.problem() is not None and "empty" in pad.problem()  # type: ignore[operator]
    draw_signature(pad, dot=True)
    assert len(pad.strokes()) == 1
    assert "dot" in (pad.problem() or "")


def test_undo_removes_the_last_stroke_and_clear_empties_the_pad(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    draw_signature(pad)
    draw_signature(pad)
    assert len(pad.strokes()) == 2
    with qtbot.waitSignal(pad.changed):
        pad.undo()
    assert len(pad.strokes()) == 1
    pad.clear()
    assert pad.strokes() == ()


def test_coordinates_do_not_depend_on_the_widget_size(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    pad.resize(900, 300)
    rect = pad.pad_rect()
    point = pad.to_pad(QPointF(rect.x() + rect.width() / 2, rect.y() + rect.height() / 2))
    assert point[:2] == (PAD_WIDTH / 2, PAD_HEIGHT / 2)


PEN = QPointingDevice(
    "test pen",
    1,
    QInputDevice.DeviceType.Stylus,
    QPointingDevice.PointerType.Pen,
    QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
    1,
    1,
)


def pen(
    pad: SignaturePad, kind: QTabletEvent.Type, x: float, pressure: float, *, button: bool = True
) -> None:
    """A tablet event from the pen at (x, 100) in widget pixels, as a driver sends it; without
    `button`, the driver reports no button even while the tip presses."""
    pos = QPointF(x, 100)
    down = button and (pressure > 0 or kind == QTabletEvent.Type.TabletPress)
    button = Qt.MouseButton.LeftButton if down else Qt.MouseButton.NoButton
    event = QTabletEvent(
        kind,
        PEN,
        pos,
        pad.mapToGlobal(pos),
        pressure,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        Qt.KeyboardModifier.NoModifier,
        button,
        button,
    )
    QApplication.sendEvent(pad, event)


def test_pen_pressure_is_recorded(qtbot: QtBot) -> None:
    pad = _pad(qtbot)

    def send(kind: QTabletEvent.Type, x: float, pressure: float) -> None:
        pen(pad, kind, x, pressure)

    send(QTabletEvent.Type.TabletPress, 100, 0.2)
    for i in range(1, 10):
        send(QTabletEvent.Type.TabletMove, 100 + 30 * i, 0.2 + 0.07 * i)
    send(QTabletEvent.Type.TabletRelease, 420, 0.9)
    (stroke,) = pad.strokes()
    pressures = [p for _x, _y, p in stroke]
    assert pressures[0] == 0.2 and max(pressures) >= 0.8


def test_a_pen_that_sends_only_moves_draws_while_it_presses(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    move = QTabletEvent.Type.TabletMove
    pen(pad, move, 60, 0.0)  # hovering: nothing drawn
    assert pad.strokes() == ()
    for i in range(10):  # the tip touches: pressure, but no press event from this driver
        pen(pad, move, 100 + 30 * i, 0.4)
    pen(pad, move, 420, 0.0)  # lifted
    for i in range(3):  # hovering away: still nothing
        pen(pad, move, 450 + 10 * i, 0.0)
    (stroke,) = pad.strokes()
    assert len(stroke) == 10 and {p for _x, _y, p in stroke} == {0.4}
    for i in range(6):  # a driver that reports no button at all, only the pressure
        pen(pad, move, 100 + 40 * i, 0.6, button=False)
    pen(pad, move, 340, 0.0, button=False)
    assert len(pad.strokes()) == 2 and len(pad.strokes()[1]) == 6
    assert pad.problem() is None


TOUCHSCREEN = QTest.createTouchDevice()


def touch(qtbot: QtBot, pad: SignaturePad) -> QTest.QTouchEventSequence:
    """Touch events as the touch screen's driver delivers them (QTest's touch sequence)."""
    return QTest.touchEvent(pad, TOUCHSCREEN)


def test_a_resting_palm_does_not_take_the_fingers_stroke(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    palm = QPoint(500, 170)
    touch(qtbot, pad).press(0, palm, pad).commit()  # the hand rests on the pad first
    finger = [QPoint(100 + 25 * i, 60 + (30 if i % 2 else 0)) for i in range(12)]
    touch(qtbot, pad).stationary(0).press(1, finger[0], pad).commit()
    for p in finger[1:]:
        touch(qtbot, pad).stationary(0).move(1, p, pad).commit()
    touch(qtbot, pad).stationary(0).release(1, finger[-1], pad).commit()
    touch(qtbot, pad).release(0, palm, pad).commit()
    (stroke,) = pad.strokes()  # the finger's writing, and nothing of the palm
    xs = [x for x, _y, _p in stroke]
    assert len(stroke) >= 10 and max(xs) < pad.to_pad(QPointF(palm))[0]
    assert pad.problem() is None

    # A palm landing while the finger writes is ignored too.
    touch(qtbot, pad).press(2, QPoint(100, 120), pad).commit()
    touch(qtbot, pad).move(2, QPoint(200, 100), pad).press(3, palm, pad).commit()
    touch(qtbot, pad).move(2, QPoint(300, 120), pad).move(3, QPoint(505, 172), pad).commit()
    touch(qtbot, pad).release(2, QPoint(300, 120), pad).stationary(3).commit()
    touch(qtbot, pad).release(3, palm, pad).commit()
    assert len(pad.strokes()) == 2
    assert [round(x) for x, _y, _p in pad.strokes()[1]] == [100, 200, 300]
