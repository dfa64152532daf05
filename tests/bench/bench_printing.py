"""Printing a sealed pair to a real CUPS queue: the vector original through lp, next to the
raster path through Qt (the fallback, and how the window printed before) in the same run."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.clinic.printing import Cups, PrintJob, job_title
from desktop.models import Document
from desktop.ui.common.printing import (
    MAX_RASTER_DPI,
    PrintDialog,
    QtPrintService,
    load_pdf,
    render_pages,
)
from desktop.ui.consultation.sign import SignStep
from desktop.ui.main_window import MainWindow
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.consultations import ready, sign_all
from tests.helpers.printing import outputs, printed_file

PRINTER = os.environ.get("CLINIC_TEST_PRINTER", "")
ROUNDS = 5

pytestmark = pytest.mark.skipif(
    not PRINTER, reason="set CLINIC_TEST_PRINTER to a cups-pdf queue to measure printing"
)


def signed_pair(clinic: Clinic) -> list[Document]:
    cid = ready(clinic, given_name="Jane", family_name="Smith-Jones")
    sign_all(clinic, cid)
    return sorted(clinic.documents.sign(cid), key=lambda d: d.kind != "consent")


def ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.0f} ms (min {min(values):.0f}, max {max(values):.0f})"
    )


def test_print_pair_lp_against_qt_raster(qtbot: QtBot, tmp_path: Path) -> None:
    clinic = signed_in(Clinic.open(tmp_path / "bench.sqlite", hasher=FAST_HASHER))
    pair = signed_pair(clinic)
    cups, raster = Cups(), QtPrintService()
    clinic.documents.print_document(pair[0].id, PRINTER, service=cups)  # warm-up: imports

    lp_ms, lp_done_ms = [], []
    for _ in range(ROUNDS):
        before = [outputs(d.kind, d.id) for d in pair]
        t0 = time.perf_counter()
        for d in pair:
            clinic.documents.print_document(d.id, PRINTER, service=cups)
        lp_ms.append((time.perf_counter() - t0) * 1000)
        lp_out = [printed_file(d.kind, d.id, b) for d, b in zip(pair, before, strict=True)]
        lp_done_ms.append((time.perf_counter() - t0) * 1000)

    qt_ms, qt_done_ms = [], []
    for _ in range(ROUNDS):
        before = [outputs(d.kind, d.id) for d in pair]
        t0 = time.perf_counter()
        for d in pair:
            raster.submit(clinic.documents.pdf(d.id), PrintJob(PRINTER, job_title(d)))
        qt_ms.append((time.perf_counter() - t0) * 1000)
        qt_out = [printed_file(d.kind, d.id, b) for d, b in zip(pair, before, strict=True)]
        qt_done_ms.append((time.perf_counter() - t0) * 1000)

    # what the raster path hands to CUPS: Qt's own PDF of page images
    spooled = []
    for d in pair:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(tmp_path / f"{d.kind}-raster.pdf"))
        render_pages(load_pdf(clinic.documents.pdf(d.id), None), printer)
        spooled.append((tmp_path / f"{d.kind}-raster.pdf").stat().st_size)

    sealed = [d.size for d in pair]
    print(
        f"\nprint consent + aftercare to {PRINTER}:"
        f"\n  lp, sealed original: verify + submit {ms(lp_ms)}; until cups-pdf wrote both "
        f"{ms(lp_done_ms)}; sent {sealed} bytes, cups-pdf wrote "
        f"{[p.stat().st_size for p in lp_out]} bytes"
        f"\n  Qt raster (baseline): render + submit {ms(qt_ms)}; until cups-pdf wrote both "
        f"{ms(qt_done_ms)}; Qt's job ({MAX_RASTER_DPI} dpi) {spooled} bytes, cups-pdf wrote "
        f"{[p.stat().st_size for p in qt_out]} bytes"
        f"\n  ratio (submit): {statistics.median(qt_ms) / statistics.median(lp_ms):.0f}x"
    )
    clinic.close()


def longest_gap_while_printing(
    qtbot: QtBot, step: SignStep, document: Document
) -> tuple[float, float]:
    """Print `document` through the window; (longest event-loop gap, whole job) in ms."""
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    step.print_button.click()
    qtbot.waitUntil(lambda: isinstance(step.print_dialog, PrintDialog), timeout=10000)
    dialog = step.print_dialog
    assert isinstance(dialog, PrintDialog)
    dialog.printer.setCurrentIndex(dialog.printer.findData(PRINTER))
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    t0 = time.perf_counter()
    last[0] = t0
    with qtbot.waitSignal(step.printed, timeout=120000):
        dialog.accept()
    total = (time.perf_counter() - t0) * 1000
    timer.stop()
    step.print_dialog = None
    return max(gaps) * 1000, total


def test_window_stays_responsive_while_printing(qtbot: QtBot, tmp_path: Path) -> None:
    clinic = signed_in(Clinic.open(tmp_path / "bench.sqlite", hasher=FAST_HASHER))
    consent = signed_pair(clinic)[0]
    results = {}
    for name, service in (("lp", Cups()), ("Qt raster, on a worker", QtPrintService())):
        window = MainWindow(tmp_path / "log", clinic=clinic, printers=service)
        qtbot.addWidget(window)
        window.show()
        window.show_consultation(consent.consultation_id)
        step = window.consultation_page().sign_step()
        longest_gap_while_printing(qtbot, step, consent)  # warm-up
        runs = [longest_gap_while_printing(qtbot, step, consent) for _ in range(3)]
        results[name] = runs
        window.close()
    # baseline: the raster path on the UI thread, as the window printed before
    t0 = time.perf_counter()
    QtPrintService().submit(clinic.documents.pdf(consent.id), PrintJob(PRINTER, "baseline"))
    blocked = (time.perf_counter() - t0) * 1000
    print("\nlongest event-loop gap while printing the consent through the window (10 ms timer):")
    for name, runs in results.items():
        print(
            f"  {name}: gaps {[round(g) for g, _ in runs]} ms; job {[round(t) for _, t in runs]} ms"
        )
    print(f"  baseline, raster on the UI thread: the window is blocked {blocked:.0f} ms")
    clinic.close()
