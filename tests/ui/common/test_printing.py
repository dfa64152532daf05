"""Printing: the render function, the preview dialog, and what happens without a printer."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QTimer
from PySide6.QtGui import QPageSize, QPainter, QPdfWriter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo, QPrintPreviewDialog
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from shiboken6 import Shiboken

from desktop.ui.common import printing as print_support
from desktop.ui.common.printers import system_printers
from desktop.ui.common.printing import PdfPrintJob, load_pdf, render_pdf
from desktop.ui.main_window import MainWindow
from tests.ui.conftest import FakePrinters


def make_pdf(pages: int = 2) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    painter = QPainter(writer)
    for i in range(pages):
        if i:
            writer.newPage()
        painter.drawText(200, 200, f"Consent page {i + 1}")
    painter.end()
    buffer.close()
    return bytes(data.data())


def test_render_paints_every_page_onto_a_printer(qtbot: QtBot, tmp_path: Path) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    document = load_pdf(make_pdf(3), owner)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert render_pdf(document, printer) == 3
    assert out.read_bytes().startswith(b"%PDF")
    assert out.read_bytes().count(b"/Type /Page\n") + out.read_bytes().count(b"/Type/Page") >= 1


def test_print_preview_opens_with_a_referenced_printer(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    job = PdfPrintJob(make_pdf(2), "consent-test", owner)
    dialog = job.preview(owner)
    assert isinstance(dialog, QPrintPreviewDialog)
    assert dialog.printer() is job.printer  # the job keeps the printer alive
    QTimer.singleShot(0, dialog.close)
    qtbot.waitUntil(lambda: not Shiboken.isValid(dialog), timeout=5000)  # deleted on close
    assert job.pages_printed == 2  # the preview painted both pages through render_pdf


def test_without_a_printer_the_user_is_told_plainly_and_offered_save_or_open(
    qtbot: QtBot,
) -> None:
    no_printer = FakePrinters()  # whatever this machine has
    owner = QWidget()
    qtbot.addWidget(owner)
    job = PdfPrintJob(make_pdf(1), "consent-test", owner)
    box = job.print_dialog(owner, no_printer)
    assert no_printer.asked == 1
    assert isinstance(box, QMessageBox)
    assert "No printer is installed" in box.text()
    labels = {b.text() for b in box.buttons()}
    assert {"&Save as PDF…", "&Open"} <= labels
    box.close()
    qtbot.waitUntil(lambda: not Shiboken.isValid(box), timeout=5000)  # deleted on close


def test_with_a_printer_the_print_dialog_opens_on_the_jobs_printer(qtbot: QtBot) -> None:
    one_printer = FakePrinters("ClinicPDF")  # whatever this machine has
    owner = QWidget()
    qtbot.addWidget(owner)
    job = PdfPrintJob(make_pdf(1), "consent-test", owner)
    dialog = job.print_dialog(owner, one_printer)
    assert one_printer.asked == 1
    assert isinstance(dialog, QPrintDialog)
    assert dialog.printer() is job.printer  # the job keeps the printer alive
    assert dialog.isVisible()
    dialog.reject()  # cancelled: nothing is painted
    qtbot.waitUntil(lambda: not Shiboken.isValid(dialog), timeout=5000)  # deleted on close
    assert job.pages_printed == 0


def test_the_app_asks_the_system_for_its_printers_unless_told_otherwise(
    qtbot: QtBot, tmp_path: Path
) -> None:
    names = [info.printerName() for info in QPrinterInfo.availablePrinters()]
    assert system_printers() == names  # the same list, whatever this machine has
    default = inspect.signature(PdfPrintJob.print_dialog).parameters["printers"].default
    assert default is system_printers
    window = MainWindow(tmp_path / "clinic-intake.log")  # as the app builds it
    qtbot.addWidget(window)
    assert window.printers is system_printers


def test_open_writes_a_private_temporary_copy(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(
        print_support.QDesktopServices,
        "openUrl",
        staticmethod(lambda url: opened.append(url.toLocalFile()) or True),
    )
    path = print_support.open_in_viewer(make_pdf(1), "consent Łukasz/../x")
    assert opened == [str(path)]
    assert path.read_bytes().startswith(b"%PDF")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    assert "/" not in path.name.removesuffix(".pdf").replace("_", "")
