"""The sign step: the shown document read once, file names for every kind of name."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QFileDialog, QTableView, QWidget
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.models import Document
from desktop.ui.common.use_case import BackgroundRun
from desktop.ui.consultation.flow import ASSESSMENT, SIGN
from desktop.ui.consultation.preview import KIND_NAMES
from desktop.ui.consultation.sign import SignStep, file_part
from desktop.ui.main_window import MainWindow
from tests.helpers.consultations import ready, sign_all
from tests.helpers.printing import FakePrinters


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
    page.go_to_step(SIGN)  # shown again: read again (on a worker), once
    step = page.sign_step()
    qtbot.waitUntil(lambda: step.viewer_shows is not None, timeout=5000)
    qtbot.waitUntil(lambda: not step.findChildren(BackgroundRun), timeout=5000)
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


def click_row(view: QTableView, row: int) -> None:
    """Click a row of a table with the mouse, as a user does."""
    rect = view.visualRect(view.model().index(row, 0))
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )


def viewer_heading(step: SignStep) -> str:
    """The title printed on the first page of the sheet the viewer shows ('' when none)."""
    document = step.viewer.document()
    if document is None or document.pageCount() == 0:
        return ""
    return document.getAllText(0).text().splitlines()[1]  # under the clinic's name


TITLES = {
    "consent": "Consent to microneedling treatment",
    "aftercare": "Looking after your skin after microneedling",
}


def signed_step(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> tuple[SignStep, list[Document]]:
    cid = ready(clinic)
    sign_all(clinic, cid)
    docs = clinic.documents.sign(cid)
    window.show_consultation(cid)
    step = window.consultation_page().sign_step()
    qtbot.waitUntil(lambda: viewer_heading(step) != "", timeout=5000)
    return step, docs


def test_clicking_a_document_shows_that_sheet_and_print_and_save_act_on_it(
    qtbot: QtBot,
    window: MainWindow,
    clinic: Clinic,
    printers: FakePrinters,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    step, _docs = signed_step(qtbot, window, clinic)
    view = step.documents_view
    assert viewer_heading(step) == TITLES["consent"]
    printers.names.append("ClinicPDF")
    for row in (1, 0, 1):  # aftercare, consent, aftercare: each click, the sheet clicked
        click_row(view, row)
        kind = step.documents.record(row).kind
        qtbot.waitUntil(lambda kind=kind: viewer_heading(step) == TITLES[kind], timeout=3000)
        assert step.viewer_shows == step.selected_document() == step.documents.record(row)
        assert step.viewer_title.text().startswith(KIND_NAMES[kind])
    # what is printed is what is shown
    step.print_button.click()
    qtbot.waitUntil(lambda: step.print_dialog is not None, timeout=5000)
    dialog = step.print_dialog
    assert isinstance(dialog, QDialog)
    dialog.accept()
    qtbot.waitUntil(lambda: bool(printers.jobs), timeout=5000)
    shown = step.viewer_shows
    assert shown is not None and shown.kind == "aftercare"
    assert hashlib.sha256(printers.jobs[0][0]).hexdigest() == shown.sha256
    # and the keys move the sheet with the selection too
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: viewer_heading(step) == TITLES["consent"], timeout=5000)
    assert step.selected_document() == step.viewer_shows


def test_a_sheet_that_arrives_after_another_row_was_chosen_is_not_shown(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    step, docs = signed_step(qtbot, window, clinic)
    aftercare = next(d for d in docs if d.kind == "aftercare")
    gate = threading.Event()
    read = clinic.documents.pdf
    late: list[str] = []

    def slow_for_aftercare(document_id: str, purpose: str = "view") -> bytes:
        if document_id == aftercare.id:
            gate.wait(10)  # the aftercare sheet is slow to come (a busy server)
            late.append(document_id)
        return read(document_id, purpose)

    monkeypatch.setattr(clinic.documents, "pdf", slow_for_aftercare)
    view = step.documents_view
    click_row(view, 1)  # aftercare: on its way, slowly
    assert step.viewer_shows is None and viewer_heading(step) == ""  # never the consent meanwhile
    click_row(view, 0)  # the user changes their mind at once
    qtbot.waitUntil(lambda: step.viewer_shows is not None, timeout=5000)
    assert viewer_heading(step) == TITLES["consent"]
    gate.set()  # now the aftercare sheet arrives, late
    qtbot.waitUntil(lambda: bool(late), timeout=5000)
    qtbot.waitUntil(lambda: not step.findChildren(BackgroundRun), timeout=5000)
    assert step.selected_document() == step.viewer_shows
    assert viewer_heading(step) == TITLES["consent"]


def test_a_long_status_line_never_moves_the_document_list(
    qtbot: QtBot,
    window: MainWindow,
    clinic: Clinic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    step, _docs = signed_step(qtbot, window, clinic)
    view = step.documents_view
    folder = tmp_path / ("a-folder-with-a-rather-long-name-" * 3) / "copies of sealed sheets"
    folder.mkdir(parents=True)
    target = folder / "consent-Łukasz-Żółć-2026-11-25.pdf"

    def choose(parent: QWidget, caption: str, default: str, filters: str) -> tuple[str, str]:
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    rows = [
        view.mapTo(window, view.visualRect(step.documents.index(r, 0)).center()) for r in (0, 1)
    ]
    height = step.docs_hint.height()
    for _ in range(2):
        step.save_button.click()
        qtbot.wait(50)  # let a changed layout settle, as it would on screen
        assert target.is_file()
        assert [
            view.mapTo(window, view.visualRect(step.documents.index(r, 0)).center()) for r in (0, 1)
        ] == rows  # the rows stay where the pointer is
        assert step.docs_hint.height() == height
        assert str(target) in step.docs_hint.status() == step.docs_hint.toolTip()
        shown = step.docs_hint.text()
        assert "\n" not in shown and shown.endswith("2026-11-25.pdf")  # the file name stays
