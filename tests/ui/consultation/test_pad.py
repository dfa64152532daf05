"""The signature pad: strokes in pad units, dots refused, undo and clear, pen pressure."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.ui.consultation.pad import PAD_HEIGHT, PAD_WIDTH, SignaturePad
from tests.ui.conftest import draw_signature


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


def test_pen_pressure_is_recorded(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    device = QPointingDevice(
        "test pen",
        1,
        QInputDevice.DeviceType.Stylus,
        QPointingDevice.PointerType.Pen,
        QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
        1,
        1,
    )

    def send(kind: QTabletEvent.Type, x: float, pressure: float) -> None:
        pos = QPointF(x, 100)
        event = QTabletEvent(
            kind,
            device,
            pos,
            pad.mapToGlobal(pos),
            pressure,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            Qt.KeyboardModifier.NoModifier,
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton,
        )
        QApplication.sendEvent(pad, event)

    send(QTabletEvent.Type.TabletPress, 100, 0.2)
    for i in range(1, 10):
        send(QTabletEvent.Type.TabletMove, 100 + 30 * i, 0.2 + 0.07 * i)
    send(QTabletEvent.Type.TabletRelease, 420, 0.9)
    (stroke,) = pad.strokes()
    pressures = [p for _x, _y, p in stroke]
    assert pressures[0] == 0.2 and max(pressures) >= 0.8
