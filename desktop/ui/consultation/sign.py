"""Step 6 of a consultation: check readiness, sign and seal, then print, open or save."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.clinic import Clinic
from desktop.errors import IntakeError
from desktop.models import Consultation, Document
from desktop.ui.common.messages import show_intake_error
from desktop.ui.common.printers import Printers, system_printers
from desktop.ui.common.tables import RecordTableModel, document_columns
from desktop.ui.common.use_case import BackgroundRun, run, run_in_background
from desktop.ui.common.widgets import (
    FieldMessage,
    busy_cursor,
    hint_label,
    selected_row,
    table_view,
)
from desktop.ui.consultation.flow import ConsultationFlow

if TYPE_CHECKING:
    from pathlib import Path

    from desktop.ui.common.printing import PdfPrintJob

log = logging.getLogger(__name__)


class SignStep(QWidget):
    """Readiness, the Sign button, and the sealed documents with print / open / save."""

    signed = Signal(list)
    signing = Signal(bool)  # True while the documents are sealed on a worker thread

    def __init__(
        self,
        clinic: Clinic,
        parent: QWidget | None = None,
        *,
        printers: Printers = system_printers,
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.printers = printers  # asked each time the user prints
        self.consultation: Consultation | None = None
        self._jobs: dict[str, PdfPrintJob] = {}
        self.running: BackgroundRun[list[Document]] | None = None

        self.readiness = QLabel()
        self.readiness.setObjectName("readiness")
        self.readiness.setWordWrap(True)
        self.sign_button = QPushButton("&Sign and seal documents")
        self.sign_button.setObjectName("signButton")
        self.sign_button.clicked.connect(self.sign)
        self.message = FieldMessage()
        self.ready_box = ready_box = QGroupBox("Before signing")
        rl = QVBoxLayout(ready_box)
        rl.addWidget(self.readiness)
        rl.addWidget(
            hint_label(
                "Signing renders the sheets, seals them with the clinic's digital seal and locks "
                "the consultation: it can no longer be changed, only corrected by an addendum."
            )
        )
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.sign_button)
        rl.addLayout(row)

        self.documents = RecordTableModel[Document](document_columns(), self)
        self.documents_view = table_view(self.documents, "Sealed documents", stretch=0)
        self.documents_view.activated.connect(self.preview_document)
        self.documents_view.selectionModel().currentRowChanged.connect(self._show_selected)
        self.viewer_document: QPdfDocument | None = None
        self.viewer = QPdfView(self)
        self.viewer.setObjectName("documentView")
        self.viewer.setAccessibleName("The selected sealed document")
        self.viewer.setPageMode(QPdfView.PageMode.MultiPage)
        self.viewer.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.print_button = QPushButton("&Print…")
        self.print_button.clicked.connect(self.print_document)
        self.preview_button = QPushButton("Print pre&view…")
        self.preview_button.clicked.connect(self.preview_document)
        self.open_button = QPushButton("&Open in PDF viewer")
        self.open_button.clicked.connect(self.open_document)
        self.save_button = QPushButton("Save &as…")
        self.save_button.clicked.connect(self.save_document)
        docs_box = QGroupBox("Sealed documents")
        dl = QVBoxLayout(docs_box)
        self.docs_hint = hint_label("Documents appear here once the consultation is signed.")
        dl.addWidget(self.docs_hint)
        dl.addWidget(self.documents_view, 1)
        buttons = QGridLayout()
        for i, b in enumerate(
            (self.print_button, self.preview_button, self.open_button, self.save_button)
        ):
            buttons.addWidget(b, i // 2, i % 2)
        dl.addLayout(buttons)

        left = QVBoxLayout()
        left.addWidget(ready_box)
        left.addWidget(docs_box, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 4)
        layout.addWidget(self.viewer, 5)

    def show_for(self, flow: ConsultationFlow) -> None:
        consultation = flow.consultation
        self.consultation = consultation
        signed = consultation.state == "signed"
        self.sign_button.setVisible(not signed)
        may_sign = self.clinic.session.can("consultation.sign")
        self.sign_button.setEnabled(may_sign)
        self.message.show_message(
            "" if may_sign or signed else "Only a clinician can sign and seal: ask them to sign in."
        )
        order = {"consent": 0, "referral": 1, "aftercare": 2}
        docs = sorted(flow.overview.documents, key=lambda d: order.get(d.kind, 9))
        self.documents.set_records(docs)
        self.ready_box.setTitle("Status" if signed else "Before signing")
        self.viewer.setVisible(bool(docs))
        if docs:
            self.documents_view.selectRow(0)
            self._show_selected()
        for b in (self.print_button, self.preview_button, self.open_button, self.save_button):
            b.setEnabled(bool(docs))
        self.docs_hint.setText(
            f"{len(docs)} sealed document(s). Each carries the clinic's invisible digital seal."
            if docs
            else "Documents appear here once the consultation is signed."
        )
        self.readiness.setText(self._readiness(flow))

    def _readiness(self, flow: ConsultationFlow) -> str:
        c = flow.consultation
        if flow.signed:
            when = c.signed_at.strftime("%Y-%m-%d %H:%M") if c.signed_at else ""
            return f"<b>✔ Signed and sealed {when}.</b> This record can no longer be changed."
        lines = flow.readiness(self.clinic.checklist)
        return "<br>".join(
            f"<span style='color:{'#1b5e20' if ok else '#8e0000'}'>{'✔' if ok else '✖'}</span> "
            f"{html.escape(text)}{'' if ok else ' — <b>missing</b>'}"
            for ok, text in lines
        )

    # Actions ----------------------------------------------------------------------------

    def sign(self) -> BackgroundRun[list[Document]] | None:
        """Render, seal and store the documents on a worker thread (a progress dialog after a
        moment; the window keeps painting); `signed` is emitted with them once stored."""
        c = self.consultation
        if c is None or self.running is not None:
            return None
        self.message.show_message("")
        self.sign_button.setEnabled(False)
        self.signing.emit(True)
        self.running = run_in_background(
            self,
            lambda: self.clinic.documents.sign(c.id),
            on_done=self._signed,
            on_error=self.message.show_error,
            progress="Signing and sealing the documents…",
        )
        self.running.finished.connect(self._sign_ended)
        return self.running

    def _sign_ended(self) -> None:
        self.running = None
        self.sign_button.setEnabled(self.clinic.session.can("consultation.sign"))
        self.signing.emit(False)

    def _signed(self, docs: list[Document]) -> None:
        if self.consultation is not None:
            log.info("consultation %s signed from the window", self.consultation.id)
        self.signed.emit(docs)

    def _show_selected(self) -> None:
        doc = self.selected_document()
        if doc is None:
            return
        from desktop.ui.common.printing import load_pdf

        run(
            self,
            lambda: load_pdf(self.clinic.documents.pdf(doc.id), self),
            on_done=self._view,
            on_error=lambda exc: self.docs_hint.setText(exc.message),
        )

    def _view(self, document: QPdfDocument) -> None:
        self.viewer.setDocument(document)
        if self.viewer_document is not None:
            self.viewer_document.deleteLater()
        self.viewer_document = document

    def selected_document(self) -> Document | None:
        if not self.documents.rowCount():
            return None
        row = selected_row(self.documents_view)
        return self.documents.record(row if row is not None else 0)

    def _document_name(self, doc: Document) -> str:
        c = self.consultation
        patient = self.clinic.patients.get(c.patient_id).family_name if c else "patient"
        date = c.date.isoformat() if c else ""
        return f"{doc.kind}-{patient}-{date}-{doc.id[:8]}"

    def _job(self, doc: Document) -> PdfPrintJob:
        from desktop.ui.common.printing import PdfPrintJob

        job = self._jobs.get(doc.id)
        if job is None:
            with busy_cursor():
                job = PdfPrintJob(
                    self.clinic.documents.pdf(doc.id, "print"),
                    self._document_name(doc),
                    self,
                    log_id=doc.id,
                )
            self._jobs[doc.id] = job
        return job

    def print_document(self) -> None:
        doc = self.selected_document()
        if doc is None:
            return
        try:
            job = self._job(doc)
            job.print_dialog(self, self.printers)
        except IntakeError as exc:
            show_intake_error(self, exc)

    def preview_document(self) -> None:
        doc = self.selected_document()
        if doc is None:
            return
        try:
            job = self._job(doc)
            job.preview(self)
        except IntakeError as exc:
            show_intake_error(self, exc)

    def open_document(self) -> None:
        from desktop.ui.common.printing import open_in_viewer

        doc = self.selected_document()
        if doc is None:
            return
        run(
            self,
            lambda: open_in_viewer(self.clinic.documents.pdf(doc.id), self._document_name(doc)),
        )

    def save_document(self) -> None:
        from desktop.ui.common.printing import save_pdf_as

        doc = self.selected_document()
        if doc is None:
            return

        def save() -> Path | None:
            data = self.clinic.documents.pdf(doc.id, "export")
            return save_pdf_as(self, data, self._document_name(doc))

        run(self, save, on_done=self._saved)

    def _saved(self, path: Path | None) -> None:
        if path is not None:
            self.docs_hint.setText(f"Saved to {path}")
