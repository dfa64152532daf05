"""Printing from the window: our print dialog, a job on a worker, Save a copy, the fallback."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QTimer
from PySide6.QtGui import QPageSize, QPainter, QPdfWriter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from shiboken6 import Shiboken

from desktop.clinic import Clinic
from desktop.clinic import printing as core_printing
from desktop.clinic.printing import Cups, Printer, PrintError, PrintJob
from desktop.models import Document
from desktop.ui.common import printing as print_support
from desktop.ui.common.printers import system_printers
from desktop.ui.common.printing import PrintDialog, QtPrintService, load_pdf, render_pages
from desktop.ui.consultation.sign import SealedPreview, SignStep
from desktop.ui.main_window import MainWindow
from tests.helpers.consultations import ready, sign_all
from tests.helpers.printing import FakePrinters
from tests.helpers.ui import message_boxes

A4_PT = (595.28, 841.89)
LETTER_PT = (612.0, 792.0)


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


def signed_consent(clinic: Clinic) -> Document:
    cid = ready(clinic)
    sign_all(clinic, cid)
    return next(d for d in clinic.documents.sign(cid) if d.kind == "consent")


def sign_step(qtbot: QtBot, window: MainWindow, clinic: Clinic) -> tuple[SignStep, Document]:
    consent = signed_consent(clinic)
    window.show_consultation(consent.consultation_id)
    step = window.consultation_page().sign_step()
    assert step.selected_document() == consent  # the first sheet is selected
    return step, consent


def open_print_dialog(qtbot: QtBot, step: SignStep) -> PrintDialog:
    step.print_button.click()
    qtbot.waitUntil(lambda: isinstance(step.print_dialog, PrintDialog), timeout=5000)
    dialog = step.print_dialog
    assert isinstance(dialog, PrintDialog) and dialog.isVisible()
    return dialog


# The raster fallback (no print service that takes PDF files) ------------------------------


def test_the_fallback_renders_every_page_whole_onto_the_chosen_paper(
    qtbot: QtBot, tmp_path: Path
) -> None:
    document = load_pdf(make_pdf(3), None)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter))  # an A4 sheet on Letter paper
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert render_pages(document, printer) == 3
    reader = PdfReader(out)
    assert len(reader.pages) == 3
    for page in reader.pages:
        box = page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(LETTER_PT, abs=1)
        # each page is the whole A4 sheet (not cropped, not stretched) as bands of one image
        # width, at the printer's resolution up to MAX_RASTER_DPI, as wide as Letter allows
        images = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
        widths = {int(i["/Width"]) for i in images}
        height = sum(int(i["/Height"]) for i in images)
        (width,) = widths
        assert len(images) == -(-height // print_support.BAND_ROWS)
        assert height / width == pytest.approx(A4_PT[1] / A4_PT[0], rel=0.01)
        dpi = print_support.MAX_RASTER_DPI
        assert 0.8 * LETTER_PT[0] / 72 * dpi < width <= LETTER_PT[0] / 72 * dpi


def test_the_fallback_runs_on_a_worker_thread_and_reports_a_printer_gone(qtbot: QtBot) -> None:
    service = QtPrintService()
    assert service.vector is False
    failure: list[BaseException] = []

    def submit() -> None:
        try:
            service.submit(make_pdf(1), PrintJob("No such printer 42", "consent x"))
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=submit)
    worker.start()
    worker.join(30)
    (exc,) = failure
    assert isinstance(exc, PrintError)
    assert "No such printer 42" in exc.message


def test_the_fallback_lists_what_qt_lists_default_first() -> None:
    names = [info.printerName() for info in QPrinterInfo.availablePrinters()]
    listed = QtPrintService().printers()
    assert sorted(p.name for p in listed) == sorted(names)  # whatever this machine has
    assert [p.default for p in listed] == sorted((p.default for p in listed), reverse=True)


def test_the_app_prints_through_cups_where_it_exists_else_through_qt(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_printing.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert isinstance(system_printers(), Cups)
    window = MainWindow(tmp_path / "clinic-intake.log")  # as the app builds it
    qtbot.addWidget(window)
    assert isinstance(window.printers, Cups)
    monkeypatch.setattr(core_printing.shutil, "which", lambda name: None)  # e.g. Windows
    assert isinstance(system_printers(), QtPrintService)


# The print dialog and a job on a worker ------------------------------------------------------


@pytest.mark.parametrize("printers", [FakePrinters("Front desk", "ClinicPDF")])
def test_printing_sends_the_sealed_original_with_the_choices_made(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, printers: FakePrinters
) -> None:
    step, consent = sign_step(qtbot, window, clinic)
    dialog = open_print_dialog(qtbot, step)
    assert dialog.printer.count() == 2
    assert dialog.printer.itemText(0) == "Front desk (default)"
    assert dialog.chosen() == ("Front desk", 1, "A4")  # the clinic's paper
    assert (dialog.copies.minimum(), dialog.copies.maximum()) == (1, 99)
    dialog.printer.setCurrentIndex(dialog.printer.findData("ClinicPDF"))
    dialog.copies.setValue(2)
    dialog.paper.setCurrentIndex(dialog.paper.findData("Letter"))
    with qtbot.waitSignal(step.printed, timeout=20000) as printed:
        dialog.accept()
    ((pdf, job),) = printers.jobs
    assert pdf == clinic.documents.pdf(consent.id)  # the stored bytes themselves
    assert job == PrintJob("ClinicPDF", f"consent {consent.id}", 2, "Letter")
    assert "Żółć" not in job.title and "Łukasz" not in job.title
    assert printed.args is not None and printed.args[0].job_id == "ClinicPDF-1"
    assert (
        step.docs_hint.status() == "Sent to ClinicPDF as job ClinicPDF-1: 2 copies on Letter paper."
    )
    entry = clinic.audit.entries(action="print")[-1]
    assert (entry.action, entry.target) == ("print", f"document:{consent.id}")
    assert '"printer": "ClinicPDF"' in entry.detail and '"copies": 2' in entry.detail
    assert not message_boxes()


class BlockingPrinters(FakePrinters):
    """A print service whose job takes as long as the window needs to show it is alive: it
    returns only after the UI thread has run its timer `ticks` times meanwhile."""

    def __init__(self, ticks: int) -> None:
        super().__init__("ClinicPDF")
        self.ticks = ticks
        self.ticked = 0
        self.alive = threading.Event()
        self.thread: threading.Thread | None = None

    def tick(self) -> None:
        self.ticked += 1
        if self.ticked >= self.ticks:
            self.alive.set()

    def submit(self, pdf: bytes, job: PrintJob) -> str:
        self.thread = threading.current_thread()
        self.ticked = 0
        self.alive.clear()
        if not self.alive.wait(20):
            raise AssertionError("the UI thread was blocked while the job was being sent")
        return super().submit(pdf, job)


def test_the_window_stays_responsive_while_a_job_is_sent(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = BlockingPrinters(ticks=30)
    step, _consent = sign_step(qtbot, window, clinic)
    monkeypatch.setattr(step, "printers", service)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now
        service.tick()

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    dialog = open_print_dialog(qtbot, step)
    timer.start()
    with qtbot.waitSignal(step.printed, timeout=30000):
        dialog.accept()
    timer.stop()
    assert service.thread is not None
    assert service.thread is not threading.main_thread()  # verify + send ran on a worker
    assert len(service.jobs) == 1
    print(f"longest event-loop gap while printing: {max(gaps) * 1000:.0f} ms")


@pytest.mark.parametrize("printers", [FakePrinters("ClinicPDF")])
def test_a_refused_job_is_shown_and_audited(
    qtbot: QtBot,
    window: MainWindow,
    clinic: Clinic,
    printers: FakePrinters,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(pdf: bytes, job: PrintJob) -> str:
        raise PrintError("The printer ClinicPDF did not take the job (out of paper).")

    monkeypatch.setattr(printers, "submit", refuse)
    step, _consent = sign_step(qtbot, window, clinic)
    open_print_dialog(qtbot, step).accept()
    qtbot.waitUntil(lambda: len(message_boxes()) == 1, timeout=20000)
    (box,) = message_boxes()
    assert box.windowTitle() == "Printing problem"
    assert "out of paper" in box.text()
    assert step.docs_hint.status() == "Not printed."
    actions = [e.action for e in clinic.audit.entries() if e.action.startswith("print")]
    assert actions == ["print", "print failed"]
    box.close()


@pytest.mark.parametrize("printers", [FakePrinters("ClinicPDF")])
def test_a_printer_that_cannot_be_reached_is_said_plainly(
    qtbot: QtBot,
    window: MainWindow,
    clinic: Clinic,
    printers: FakePrinters,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def down() -> list[Printer]:
        raise PrintError("The print service (CUPS) is not running on this computer.")

    monkeypatch.setattr(printers, "printers", down)
    step, _consent = sign_step(qtbot, window, clinic)
    step.print_button.click()
    qtbot.waitUntil(lambda: len(message_boxes()) == 1, timeout=5000)
    (box,) = message_boxes()
    assert "CUPS" in box.text() and "not running" in box.text()
    assert step.print_dialog is None
    box.close()


# Save a copy, Open, no printer ---------------------------------------------------------------


def test_save_a_copy_writes_the_sealed_original_which_verifies(
    qtbot: QtBot,
    window: MainWindow,
    clinic: Clinic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    step, consent = sign_step(qtbot, window, clinic)
    target = tmp_path / "copy"  # no suffix: .pdf is added
    asked: list[str] = []

    def choose(parent: QWidget, caption: str, default: str, filters: str) -> tuple[str, str]:
        asked.append(default)
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    assert step.save_button.text() == "Save a cop&y…"
    step.save_button.click()
    saved = target.with_suffix(".pdf")
    assert saved.read_bytes() == clinic.documents.pdf(consent.id)  # byte for byte
    report = clinic.documents.verify(saved.read_bytes())
    assert report.valid and report.document == consent
    assert asked[0].endswith(f"consent-Łukasz-Żółć-2026-11-25-{consent.id[:8]}.pdf")
    assert str(saved) in step.docs_hint.status()
    assert not list(tmp_path.glob(".*.part"))
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600  # a patient's sheet: the user's alone


def test_a_saved_copy_is_private_whatever_the_umask_or_the_file_it_replaces(
    tmp_path: Path,
) -> None:
    target = tmp_path / "copy.pdf"
    target.write_bytes(b"an older copy")
    target.chmod(0o644)
    leftover = tmp_path / f".copy.pdf.{os.getpid()}.part"  # an earlier attempt, killed
    leftover.write_bytes(b"")
    leftover.chmod(0o666)
    data = b"%PDF-1.7\n% a sealed sheet\n%%EOF\n"
    old = os.umask(0)  # a permissive session
    try:
        print_support.write_pdf(target, data)
    finally:
        os.umask(old)
    assert target.read_bytes() == data
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.pdf"]


def test_a_failed_save_says_what_to_do_and_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "copy.pdf"
    target.mkdir()  # a folder is in the way: the rename fails after the data was written
    with pytest.raises(print_support.StorageError, match="Choose another folder"):
        print_support.write_pdf(target, make_pdf(1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.pdf"]
    with pytest.raises(print_support.StorageError, match="could not be saved"):
        print_support.write_pdf(tmp_path / "missing" / "copy.pdf", make_pdf(1))


def test_without_a_printer_the_user_is_offered_save_a_copy_or_open(
    qtbot: QtBot,
    window: MainWindow,
    clinic: Clinic,
    printers: FakePrinters,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    step, consent = sign_step(qtbot, window, clinic)
    step.print_button.click()
    qtbot.waitUntil(lambda: len(message_boxes()) == 1, timeout=5000)
    assert printers.asked == 1
    (box,) = message_boxes()
    assert box.text() == "No printer is installed on this computer."
    buttons = {b.text(): b for b in box.buttons()}
    assert {"&Save a copy…", "&Open"} <= set(buttons)
    target = tmp_path / "consent.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(target), "PDF"))
    )
    buttons["&Save a copy…"].click()
    qtbot.waitUntil(target.exists)
    assert target.read_bytes() == clinic.documents.pdf(consent.id)
    qtbot.waitUntil(lambda: not Shiboken.isValid(box), timeout=5000)  # deleted on close


def test_open_writes_a_private_temporary_copy_named_without_the_patient(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(
        print_support.QDesktopServices,
        "openUrl",
        staticmethod(lambda url: opened.append(url.toLocalFile()) or True),
    )
    step, consent = sign_step(qtbot, window, clinic)
    step.open_button.click()
    (path_text,) = opened
    path = Path(path_text)
    assert path.name == f"consent-{consent.id}.pdf"
    assert path.read_bytes() == clinic.documents.pdf(consent.id)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700


def test_temporary_names_cannot_leave_the_private_folder() -> None:
    path = print_support.temp_pdf(make_pdf(1), "consent Łukasz/../x")
    assert path.parent.name.startswith("clinic-intake-")
    assert "/" not in path.name.removesuffix(".pdf").replace("_", "")


@pytest.mark.parametrize("printers", [FakePrinters("ClinicPDF")])
def test_print_preview_shows_the_sealed_pages_and_leads_to_the_print_dialog(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, printers: FakePrinters
) -> None:
    step, consent = sign_step(qtbot, window, clinic)
    step.preview_button.click()
    preview = step.preview_dialog
    assert isinstance(preview, SealedPreview) and preview.isVisible()
    stored = PdfReader(__import__("io").BytesIO(clinic.documents.pdf(consent.id)))
    assert preview.document.pageCount() == len(stored.pages)
    print_button = next(
        b for b in preview.findChildren(type(step.print_button)) if "Print" in b.text()
    )
    print_button.click()
    qtbot.waitUntil(lambda: isinstance(step.print_dialog, PrintDialog), timeout=5000)
    qtbot.waitUntil(lambda: not Shiboken.isValid(preview), timeout=5000)
    step.print_dialog.reject()
    assert printers.jobs == []


def test_the_no_printer_box_is_deleted_on_close(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    box = print_support.no_printer_box(owner, lambda: None, lambda: None)
    assert isinstance(box, QMessageBox)
    box.close()
    qtbot.waitUntil(lambda: not Shiboken.isValid(box), timeout=5000)
