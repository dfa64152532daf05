"""Printing from the window: our print dialog, the raster fallback, Save a copy, Open."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.clinic.printing import MAX_COPIES, PAPERS, Paper, Printer, PrintError, PrintJob
from desktop.errors import IntakeError, StorageError
from desktop.ui.common.messages import Prompt
from desktop.ui.common.widgets import hint_label

log = logging.getLogger(__name__)

# QPdfDocument renders pages to images only: at most this many dots per inch (a page of text
# reads well at 300; at 600 a pair of sheets took 12 s and a 13 MB job here). Pages are drawn in
# bands: Qt keeps Python's interpreter lock while it draws an image, so a band is what the
# window waits for at worst (tens of ms), not the page.
MAX_RASTER_DPI = 300
BAND_ROWS = 256
_temp_dir: Path | None = None


def load_pdf(data: bytes, parent: QObject | None) -> QPdfDocument:
    """A QPdfDocument over `data`; its buffer is parented to the document (kept alive)."""
    document = QPdfDocument(parent) if parent is not None else QPdfDocument()
    buffer = QBuffer(document)
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready:
        raise IntakeError("The PDF could not be read for printing; save a copy and open it.")
    return document


def render_pages(document: QPdfDocument, printer: QPrinter) -> int:
    """Paint every page of `document` onto `printer` at its resolution (asked to be at most
    MAX_RASTER_DPI), each page scaled to fit the printable area, centred, never cropped;
    returns the number of pages. Runs on a worker thread (QPainter may paint on a QPrinter
    off the UI thread)."""
    if printer.resolution() > MAX_RASTER_DPI:
        printer.setResolution(MAX_RASTER_DPI)  # the printer may keep a higher one
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintError(
            f"The printer {printer.printerName()} could not be started. Check that it is "
            "switched on and connected, or save a copy and print it from a PDF viewer."
        )
    try:
        area = printer.pageLayout().paintRectPixels(printer.resolution())
        count = document.pageCount()
        for i in range(count):
            if i:
                printer.newPage()
            points = document.pagePointSize(i)
            size = QSize(round(points.width()), round(points.height())).scaled(
                area.size(), Qt.AspectRatioMode.KeepAspectRatio
            )
            page = document.render(i, size)  # one page image at a time, in device pixels
            # the painter's origin is the printable area's corner: centre the page in it
            x = (area.width() - size.width()) // 2
            y = (area.height() - size.height()) // 2
            for top in range(0, size.height(), BAND_ROWS):
                rows = min(BAND_ROWS, size.height() - top)
                band = QImage(size.width(), rows, QImage.Format.Format_RGB32)
                band.fill(Qt.GlobalColor.white)  # the page image is transparent but for ink
                on_band = QPainter(band)
                on_band.drawImage(0, 0, page, 0, top, size.width(), rows)
                on_band.end()
                painter.drawImage(x, y + top, band)
        return count
    finally:
        painter.end()


class QtPrintService:
    """The fallback where no print service takes PDF files (Windows): Qt prints through the
    system's printer driver, each page rendered to an image at the printer's resolution.
    Slow (about a second per page) and large: the screens run it on a worker thread."""

    vector = False

    def printers(self) -> list[Printer]:
        states = {
            QPrinter.PrinterState.Idle: "idle",
            QPrinter.PrinterState.Active: "printing",
            QPrinter.PrinterState.Aborted: "aborted",
            QPrinter.PrinterState.Error: "error",
        }
        found = [
            Printer(
                info.printerName(),
                default=info.isDefault(),
                ready=info.state() != QPrinter.PrinterState.Error,
                status=states.get(info.state(), ""),
            )
            for info in QPrinterInfo.availablePrinters()
        ]
        return sorted(found, key=lambda p: not p.default)

    def submit(self, pdf: bytes, job: PrintJob) -> str:
        info = QPrinterInfo.printerInfo(job.printer)
        if info.isNull():
            raise PrintError(f"There is no printer called '{job.printer}' any more.")
        printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
        printer.setDocName(job.title)
        printer.setCopyCount(job.copies)
        size = QPageSize.PageSizeId.Letter if job.paper == "Letter" else QPageSize.PageSizeId.A4
        printer.setPageLayout(
            QPageLayout(
                QPageSize(size), QPageLayout.Orientation.Portrait, printer.pageLayout().margins()
            )
        )
        document = load_pdf(pdf, None)  # made and freed on this (worker) thread
        try:
            pages = render_pages(document, printer)
        finally:
            document.close()
        log.info("%d pages printed through the printer driver", pages)
        return ""


class PrintDialog(QDialog):
    """Where and how to print one sealed document: printer, copies and paper size.

    Lists `printers` (the default first, as the print service gave them). The sheet is
    scaled to fit the chosen paper, so an A4 sheet prints whole on Letter and vice versa.
    """

    def __init__(
        self,
        printers: Sequence[Printer],
        title: str,
        paper: Paper,
        parent: QWidget | None = None,
        *,
        vector: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Print {title}")
        self.setObjectName("printDialog")
        self.printer = QComboBox()
        self.printer.setObjectName("printerChoice")
        self.printer.setAccessibleName("Printer")
        for p in printers:
            state = "" if p.ready else " — not taking jobs"
            self.printer.addItem(f"{p.name}{' (default)' if p.default else ''}{state}", p.name)
        self.copies = QSpinBox()
        self.copies.setObjectName("copies")
        self.copies.setAccessibleName("Copies")
        self.copies.setRange(1, MAX_COPIES)
        self.paper = QComboBox()
        self.paper.setObjectName("paperChoice")
        self.paper.setAccessibleName("Paper size")
        names = {"A4": "A4 (210 × 297 mm)", "Letter": "US Letter (8.5 × 11 in)"}
        for size in PAPERS:
            self.paper.addItem(names[size], size)
        self.paper.setCurrentIndex(max(self.paper.findData(paper), 0))
        form = QFormLayout()
        for text, widget in (
            ("&Printer", self.printer),
            ("&Copies", self.copies),
            ("Paper si&ze", self.paper),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        how = (
            "The sealed original is sent to the printer as it is stored: text stays sharp and "
            "the sheet is scaled to fit the paper, never cropped."
            if vector
            else "The pages are sent to the printer as images at its resolution (this computer "
            "has no print service that takes PDF files); the sheet is scaled to fit the paper."
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&Print")
        ok.setObjectName("printButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{title}</b>"))
        layout.addLayout(form)
        layout.addWidget(hint_label(how))
        layout.addWidget(buttons)

    def chosen(self) -> tuple[str, int, Paper]:
        """(printer name, copies, paper size) as the user set them."""
        paper: Paper = self.paper.currentData()
        return self.printer.currentData(), self.copies.value(), paper


def no_printer_box(
    parent: QWidget, save: Callable[[], object], open_: Callable[[], object]
) -> QMessageBox:
    """Tell the user plainly that no printer exists; offer Save a copy and Open instead."""
    box = Prompt(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("No printer installed")
    box.setText("No printer is installed on this computer.")
    box.setInformativeText(
        "Save a copy of the sealed PDF and print it from another computer, or open it in the "
        "PDF viewer and print from there once a printer is set up."
    )
    save_button = box.addButton("&Save a copy…", QMessageBox.ButtonRole.AcceptRole)
    open_button = box.addButton("&Open", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save_button)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    save_button.clicked.connect(save)
    open_button.clicked.connect(open_)
    box.open()
    return box


def save_copy(parent: QWidget, data: bytes, name: str) -> Path | None:
    """Ask where, then write `data` (the sealed original, byte for byte); None if cancelled."""
    default = str(Path.home() / f"{name}.pdf")
    chosen, _filter = QFileDialog.getSaveFileName(
        parent, "Save a copy of the sealed PDF", default, "PDF documents (*.pdf)"
    )
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() != ".pdf":
        path = path.with_suffix(".pdf")
    write_pdf(path, data)
    return path


def write_pdf(path: Path, data: bytes) -> None:
    """Write the PDF whole or not at all (a temporary file renamed over `path`), readable by
    the user alone (0600, like the database): a sheet names a patient and their health."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(partial, 0o600)  # a part file left by an earlier attempt kept its own mode
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
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
            f"No PDF viewer could be started. The file is at {path}; use Save a copy to keep it."
        )
    return path
