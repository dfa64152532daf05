"""The exception hook: IntakeError shows its message; anything else is a logged crash."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.errors import ValidationError
from desktop.ui.common.messages import install_excepthook
from tests.helpers.ui import close_message_boxes, message_boxes


def test_the_exception_hook_shows_intake_errors_and_logs_crashes(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_path = tmp_path / "clinic-intake.log"
    previous = install_excepthook(log_path)
    try:
        sys.excepthook(ValidationError, ValidationError("Type the date as YYYY-MM-DD."), None)
        (box,) = message_boxes()
        assert box.text() == "Type the date as YYYY-MM-DD."
        assert box.windowTitle() == "Please check the details"
        close_message_boxes()
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            with caplog.at_level(logging.ERROR):
                sys.excepthook(RuntimeError, exc, exc.__traceback__)
        (box,) = message_boxes()
        assert str(log_path) in box.informativeText()
        assert "drafts" in box.informativeText()
        assert "Traceback" in caplog.text and "boom" in caplog.text
        close_message_boxes()
    finally:
        sys.excepthook = previous
