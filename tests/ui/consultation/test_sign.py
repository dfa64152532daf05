"""The sign step: the shown document read once, file names for every kind of name."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import ASSESSMENT, SIGN
from desktop.ui.consultation.sign import file_part
from desktop.ui.main_window import MainWindow
from tests.helpers.consultations import ready, sign_all


def test_opening_a_signed_consultation_reads_and_audits_its_first_sheet_once(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    docs = clinic.documents.sign(cid)
    views = len(clinic.audit.entries(action="view"))
    window.show_consultation(cid)  # a signed consultation opens at its documents
    page = window.consultation_page()
    assert page.current_step() == SIGN
    qtbot.waitUntil(lambda: page.sign_step().viewer_document is not None, timeout=5000)
    seen = clinic.audit.entries(action="view")[views:]
    consent = next(d for d in docs if d.kind == "consent")
    assert [e.target for e in seen] == [f"document:{consent.id}"]
    page.go_to_step(ASSESSMENT)
    page.go_to_step(SIGN)  # shown again: read again, once
    assert len(clinic.audit.entries(action="view")[views:]) == 2


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("Łukasz", "Żółć", "Łukasz-Żółć"),
        ("Teuku", "", "Teuku"),  # a single name in the given-name field
        ("", "Suharto", "Suharto"),
        ("美玲", "陈", "陈美玲"),
        ("Anne/Marie", "O'Brien: Jr", "Anne-Marie-O'Brien-Jr"),  # no folder, no drive mark
    ],
)
def test_a_saved_copy_is_named_after_the_patient_whatever_their_name(
    qtbot: QtBot,
    window: MainWindow,
    clinic: Clinic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    given: str,
    family: str,
    expected: str,
) -> None:
    cid = ready(clinic, given_name=given, family_name=family)
    sign_all(clinic, cid)
    consent = next(d for d in clinic.documents.sign(cid) if d.kind == "consent")
    asked: list[str] = []

    def choose(parent: QWidget, caption: str, default: str, filters: str) -> tuple[str, str]:
        asked.append(default)
        return "", filters  # cancelled

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    window.show_consultation(cid)
    window.consultation_page().sign_step().save_button.click()
    assert Path(asked[0]).name == f"consent-{expected}-2026-11-25-{consent.id[:8]}.pdf"
    assert file_part("  ") == ""
