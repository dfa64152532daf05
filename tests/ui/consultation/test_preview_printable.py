"""The preview marks characters no font prints and names them above the sheet."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import PREVIEW
from desktop.ui.main_window import MainWindow
from tests.helpers.consultations import ready

NO_GLYPH = "\ue000"  # private use: no font anywhere draws it


def test_the_preview_warns_about_characters_that_cannot_print(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    cid = ready(clinic, family_name=f"Lee{NO_GLYPH}")
    window.show_consultation(cid)
    page = window.consultation_page()
    page.go_to_step(PREVIEW)
    preview = page.preview_step()
    qtbot.waitUntil(lambda: preview.page_count() > 0, timeout=10000)
    assert preview.unprintable.isVisible()
    assert "U+E000" in preview.unprintable.text()
    assert "cannot be signed and sealed" in preview.unprintable.text()
    assert not preview.message.isVisible()  # the sheet is shown, not refused

    plain = ready(clinic, given_name="Ann", family_name="Lee")
    window.show_consultation(plain)
    page = window.consultation_page()
    page.go_to_step(PREVIEW)
    preview = page.preview_step()
    qtbot.waitUntil(lambda: preview.page_count() > 0, timeout=10000)
    assert not preview.unprintable.isVisible()
