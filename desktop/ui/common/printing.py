"""Printing stored PDFs: preview, print dialog, and Save as / Open when no printer exists."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QObject,
    QRect,
    QSize,
    QSizeF,
    Qt,
    QUrl,
)
from PySide6.QtGui import QDesktopServices, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from desktop.errors import IntakeError, StorageError
from desktop.ui.common.printers import Printers, system_printers
from desktop.ui.common.widgets import busy_cursor

log = logging.getLogger(__name__)

MAX_RASTER_DPI = 300  # QPdfDocument renders images only: enough for print, bounded memory
_temp_dir: Path | None = None


def load_pdf(data: bytes, parent: QObject) -> QPdfDocument:
    """A QPdfDocument over `data`; its buffer is parented to the document (kept alive)."""
    document = QPdfDocument(parent)
    buffer = QBuffer(document)
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready:
        raise IntakeError("The PDF could not be read for printing; save it and open it instead.")
    return document


def render_pdf(document: QPdfDocument, printer: QPrinter) -> int:
    """Paint every page of `document` onto `printer` at (up to) its resolution; returns pages."""
    painter = QPainter()
    if not painter.begin(printer):
        raise IntakeError(
            "The printer could not be started. Check that it is switched on, or save the PDF "
            "and print it from the PDF viewer."
        )
    try:
        dpi = min(printer.resolution(), MAX_RASTER_DPI)
        count = document.pageCount()
        for i in range(count):
            if i:
                printer.newPage()
            points = document.pagePointSize(i)
            size = QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72))
            image = document.render(i, size)
            target = painter.viewport()
            fitted = size.scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = target.x() + (target.width() - fitted.width()) // 2
            painter.drawImage(QRect(x, target.y(), fitted.width(), fitted.height()), image)
        return count
    finally:
        painter.end()


class PdfPrintJob(QObject):
    """One PDF to print: keeps the QPrinter and QPdfDocument alive as long as it lives.

    Parent it to a long-lived widget; dialogs it opens are deleted on close while the job
    (and so the printer they use) outlives them.
    """

    def __init__(self, data: bytes, name: str, parent: QObject, *, log_id: str = "") -> None:
        super().__init__(parent)
        self.data = data
        self.name = name  # shown to the user (it may name the patient): never logged
        self.log_id = log_id  # what the log may say about it: the document ID
        self.document = load_pdf(data, self)
        self.printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        self.printer.setDocName(name)
        self.printer.setFullPage(True)
        if self.document.pageCount():
            points = self.document.pagePointSize(0)
            size = QPageSize(
                QSizeF(points), QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.FuzzyMatch
            )
            layout = QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF())
            self.printer.setPageLayout(layout)
        self.dialog: QDialog | None = None
        self.pages_printed = 0

    def paint(self, printer: QPrinter) -> None:
        self.pages_printed = render_pdf(self.document, printer)

    def preview(self, parent: QWidget) -> QPrintPreviewDialog:
        dialog = QPrintPreviewDialog(self.printer, parent)
        dialog.setWindowTitle(f"Print preview: {self.name}")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.paintRequested.connect(self.paint)
        dialog.resize(900, 760)
        self.dialog = dialog
        dialog.open()
        return dialog

    def print_dialog(self, parent: QWidget, printers: Printers = system_printers) -> QDialog:
        """The print dialog, or (no printer installed) a plain message offering Save / Open."""
        if not printers():
            box = no_printer_box(parent, self)
            self.dialog = box
            return box
        dialog = QPrintDialog(self.printer, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._print_now)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog = dialog
        dialog.show()
        return dialog

    def _print_now(self) -> None:
        with busy_cursor():
            self.paint(self.printer)
        log.info("printed document %s: %d pages", self.log_id or "?", self.pages_printed)


def no_printer_box(parent: QWidget, job: PdfPrintJob) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("No printer installed")
    box.setText("No printer is installed on this computer.")
    box.setInformativeText(
        "Save the PDF and print it from another computer, or open it in the PDF viewer and "
        "print from there once a printer is set up."
    )
    save = box.addButton("&Save as PDF…", QMessageBox.ButtonRole.AcceptRole)
    open_ = box.addButton("&Open", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    save.clicked.connect(lambda: save_pdf_as(parent, job.data, job.name))
    open_.clicked.connect(lambda: open_in_viewer(job.data, job.name))
    box.open()
    return box


def save_pdf_as(parent: QWidget, data: bytes, name: str) -> Path | None:
    """Ask where to save, then write the PDF; returns the path or None when cancelled."""
    default = str(Path.home() / f"{name}.pdf")
    chosen, _filter = QFileDialog.getSaveFileName(
        parent, "Save PDF as", default, "PDF documents (*.pdf)"
    )
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() != ".pdf":
        path = path.with_suffix(".pdf")
    write_pdf(path, data)
    return path


def write_pdf(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise StorageError(
            f"The PDF could not be saved to {path}: {exc.strerror}. Choose another folder."
        ) from exc
    log.info("PDF saved in %s", path.parent)  # the file name may name the patient


def temp_pdf(data: bytes, name: str) -> Path:
    """Write to a private temporary folder (0700, removed when the program ends)."""
    global _temp_dir  # noqa: PLW0603 - one private folder per process
    if _temp_dir is None:
        _temp_dir = Path(tempfile.mkdtemp(prefix="clinic-intake-"))
        atexit.register(shutil.rmtree, _temp_dir, True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "document"
    path = _temp_dir / f"{safe}.pdf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def open_in_viewer(data: bytes, name: str) -> Path:
    """Open the PDF in the system's PDF viewer (through a private temporary file)."""
    path = temp_pdf(data, name)
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        raise IntakeError(
            f"No PDF viewer could be started. The file is at {path}; use Save as to keep a copy."
        )
    return path
