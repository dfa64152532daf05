"""Step 6 of a consultation: check readiness, sign and seal, then print, open or save."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.checklist import ChecklistDefinition
from desktop.clinic import Clinic
from desktop.clinic.printing import Paper, Printer, PrintReceipt
from desktop.errors import IntakeError
from desktop.models import Consultation, Document
from desktop.ui.common.messages import show_intake_error
from desktop.ui.common.printers import Printers, system_printers
from desktop.ui.common.tables import RecordTableModel, document_columns
from desktop.ui.common.use_case import BackgroundRun, run, run_in_background
from desktop.ui.common.widgets import (
    FieldMessage,
    StatusLine,
    hint_label,
    on_selection_changed,
    selected_row,
    table_view,
)
from desktop.ui.consultation.clinician import ClinicianNotice
from desktop.ui.consultation.flow import ConsultationFlow
from desktop.ui.consultation.preview import KIND_NAMES

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)


class SignStep(QWidget):
    """Readiness, the Sign button, and the sealed documents with print / open / save.

    Printing sends the sealed original itself to the print service (`printers`, default the
    system's), after verifying it against the database, on a worker thread.
    """

    signed = Signal(list)
    printed = Signal(object)  # the PrintReceipt of a job the print service took
    signing = Signal(bool)  # True while the documents are sealed on a worker thread
    make_me_clinician = Signal()  # name the signed-in clinician on step 1

    def __init__(
        self,
        clinic: Clinic,
        parent: QWidget | None = None,
        *,
        printers: Printers | None = None,
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.printers = (
            printers if printers is not None else system_printers()
        )  # asked each time the user prints
        self.consultation: Consultation | None = None
        self._printing: BackgroundRun[Any] | None = None  # one print at a time
        self.print_dialog: QWidget | None = None
        self.preview_dialog: QDialog | None = None
        self.running: BackgroundRun[list[Document]] | None = None
        # The viewer shows the selected row's sheet: each selection asks for its sheet on a
        # worker, and only the answer to the latest request is shown (a late one is dropped).
        self._request = 0
        self._wanted: str | None = None  # the document asked for last
        self.viewer_shows: Document | None = None  # the document in the viewer

        self.readiness = QLabel()
        self.readiness.setObjectName("readiness")
        self.readiness.setWordWrap(True)
        self.sign_button = QPushButton("&Sign and seal documents")
        self.sign_button.setObjectName("signButton")
        self.sign_button.clicked.connect(self.sign)
        self.message = FieldMessage()
        self.clinician_notice = ClinicianNotice()
        self.clinician_notice.make_me_clinician.connect(self.make_me_clinician)
        self.ready_box = ready_box = QGroupBox("Before signing")
        rl = QVBoxLayout(ready_box)
        rl.addWidget(self.readiness)
        rl.addWidget(self.clinician_notice)
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
        on_selection_changed(self.documents_view, self._show_selected)
        self.viewer_document: QPdfDocument | None = None
        self.viewer_title = QLabel()
        self.viewer_title.setObjectName("viewerTitle")
        self.viewer_title.setTextFormat(Qt.TextFormat.PlainText)
        self.viewer_title.setStyleSheet("font-weight: bold;")
        self._blank = QPdfDocument(self)  # what the viewer shows while a sheet is on its way
        self.viewer = QPdfView(self)
        self.viewer.setObjectName("documentView")
        self.viewer.setAccessibleName("The selected sealed document")
        self.viewer.setPageMode(QPdfView.PageMode.MultiPage)
        self.viewer.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.print_button = QPushButton("&Print…")
        self.print_button.setObjectName("printDocument")
        self.print_button.clicked.connect(self.print_document)
        self.preview_button = QPushButton("Print pre&view…")
        self.preview_button.clicked.connect(self.preview_document)
        self.open_button = QPushButton("&Open in PDF viewer")
        self.open_button.clicked.connect(self.open_document)
        self.save_button = QPushButton("Save a cop&y…")
        self.save_button.setObjectName("saveCopy")
        self.save_button.setToolTip("Save the sealed original, byte for byte: it verifies.")
        self.save_button.clicked.connect(self.save_document)
        docs_box = QGroupBox("Sealed documents")
        dl = QVBoxLayout(docs_box)
        # One line: a longer status is elided (whole in its tooltip), so the list below it
        # never moves under the pointer.
        self.docs_hint = StatusLine()
        self.docs_hint.setObjectName("documentsStatus")
        self.docs_hint.set_status("Documents appear here once the consultation is signed.")
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
        right = QVBoxLayout()
        right.addWidget(self.viewer_title)
        right.addWidget(self.viewer, 1)
        layout.addLayout(right, 5)

    def show_for(self, flow: ConsultationFlow, definition: ChecklistDefinition) -> None:
        """Show the consultation's readiness (decisions named by `definition`, its own
        checklist version) or its sealed documents, the first of them in the viewer."""
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
        self._request += 1  # a sheet still on its way belongs to the list as it was
        self._wanted = None
        self._clear_viewer()
        self.documents.set_records(docs)
        self.ready_box.setTitle("Status" if signed else "Before signing")
        self.viewer.setVisible(bool(docs))
        self.viewer_title.setVisible(bool(docs))
        if docs:
            # The reset list has no current row: selecting the first shows it in the viewer
            # (read, and audited as viewed, once).
            self.documents_view.selectRow(0)
            self._show_selected()
        for b in (self.print_button, self.preview_button, self.open_button, self.save_button):
            b.setEnabled(bool(docs))
        self.docs_hint.set_status(
            f"{len(docs)} sealed document(s). Each carries the clinic's invisible digital seal."
            if docs
            else "Documents appear here once the consultation is signed."
        )
        mismatch = None if signed else self.clinic.documents.clinician_mismatch(consultation.id)
        self.clinician_notice.show_mismatch(
            mismatch,
            others_signed=any(s.role != "clinician" for s in flow.overview.signatures),
            may_edit=self.clinic.session.can("consultation.edit"),
        )
        extra = (
            [(False, f"The clinician who signs is the one named on step 1 ({mismatch.named})")]
            if mismatch is not None and "clinician" not in flow.overview.signed_roles
            else []
        )
        self.readiness.setText(self._readiness(flow, definition, extra))

    def _readiness(
        self,
        flow: ConsultationFlow,
        definition: ChecklistDefinition,
        extra: Sequence[tuple[bool, str]] = (),
    ) -> str:
        c = flow.consultation
        if flow.signed:
            when = c.signed_at.strftime("%Y-%m-%d %H:%M") if c.signed_at else ""
            return f"<b>✔ Signed and sealed {when}.</b> This record can no longer be changed."
        lines = (*flow.readiness(definition), *extra)
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

    def _show_selected(self) -> BackgroundRun[bytes] | None:
        """Show the selected row's sheet: read (and audited as viewed) on a worker. Until it
        arrives the viewer is empty, never showing the sheet of the row selected before."""
        doc = self.selected_document()
        if doc is None or doc.id == self._wanted:
            return None
        self._request += 1
        request = self._request
        self._wanted = doc.id
        self._clear_viewer()
        kind = KIND_NAMES.get(doc.kind, doc.kind)
        self.viewer_title.setText(f"{kind}: opening…")
        return run_in_background(
            self,
            lambda: self.clinic.documents.pdf(doc.id),
            on_done=lambda data: self._view(request, doc, data),
            on_error=lambda exc: self._not_viewed(request, doc, exc),
            progress=f"Opening the {kind.lower()}…",
        )

    def _view(self, request: int, doc: Document, data: bytes) -> None:
        if request != self._request:
            return  # another row was selected meanwhile: its own request shows it
        from desktop.ui.common.printing import load_pdf

        try:
            document = load_pdf(data, self)
        except IntakeError as exc:
            self._not_viewed(request, doc, exc)
            return
        self._clear_viewer()
        self.viewer.setDocument(document)
        self.viewer_document = document
        self.viewer_shows = doc
        kind = KIND_NAMES.get(doc.kind, doc.kind)
        self.viewer_title.setText(f"{kind}, sealed {doc.created.strftime('%Y-%m-%d %H:%M')}")
        self.viewer.setAccessibleName(f"The selected sealed document: {kind}")

    def _not_viewed(self, request: int, doc: Document, exc: IntakeError) -> None:
        if request != self._request:
            return
        self._wanted = None  # selecting the row again tries again
        kind = KIND_NAMES.get(doc.kind, doc.kind)
        self.viewer_title.setText(f"{kind}: not shown")
        self.docs_hint.set_status(exc.message)

    def _clear_viewer(self) -> None:
        self.viewer.setDocument(self._blank)
        if self.viewer_document is not None:
            self.viewer_document.deleteLater()
        self.viewer_document = None
        self.viewer_shows = None
        self.viewer_title.setText("")

    def selected_document(self) -> Document | None:
        if not self.documents.rowCount():
            return None
        row = selected_row(self.documents_view)
        return self.documents.record(row if row is not None else 0)

    def _document_name(self, doc: Document) -> str:
        """A file name for a copy the user saves: 'consent-Łukasz-Żółć-2026-11-30-3b0028f0'
        (a single name alone: 'consent-Suharto-…')."""
        c = self.consultation
        patient = file_part(self.clinic.patients.get(c.patient_id).full_name) if c else ""
        date = c.date.isoformat() if c else ""
        return "-".join(x for x in (doc.kind, patient or "patient", date, doc.id[:8]) if x)

    def print_document(self) -> None:
        """Ask the print service for its printers (on a worker), then show the print dialog."""
        doc = self.selected_document()
        if doc is None or self._printing is not None:
            return
        service = self.printers
        self._printing = run_in_background(
            self,
            service.printers,
            on_done=lambda found: self._choose_printer(doc, found),
            progress="Looking for printers…",
        )
        self._printing.finished.connect(self._printing_done)

    def _printing_done(self) -> None:
        self._printing = None

    def _choose_printer(self, doc: Document, found: Sequence[Printer]) -> None:
        from desktop.ui.common.printing import PrintDialog, no_printer_box

        if not found:
            self.print_dialog = no_printer_box(
                self, lambda: self._save(doc), lambda: self._open(doc)
            )
            return
        paper = self.clinic.settings.profile().paper
        kind = KIND_NAMES.get(doc.kind, doc.kind)
        dialog = PrintDialog(found, kind, paper, self, vector=self.printers.vector)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self._print(doc, *dialog.chosen()))
        self.print_dialog = dialog
        dialog.open()

    def _print(self, doc: Document, printer: str, copies: int, paper: Paper) -> None:
        """Verify and print on a worker thread; the window stays responsive meanwhile."""
        service = self.printers
        kind = KIND_NAMES.get(doc.kind, doc.kind).lower()
        self.docs_hint.set_status(f"Printing the {kind} on {printer}…")
        self._printing = run_in_background(
            self,
            lambda: self.clinic.documents.print_document(
                doc.id, printer, copies=copies, paper=paper, service=service
            ),
            on_done=self._printed,
            on_error=self._print_failed,
            progress=f"Sending the {kind} to {printer}…",
        )
        self._printing.finished.connect(self._printing_done)

    def _printed(self, receipt: PrintReceipt) -> None:
        job = receipt.job
        copies = f"{job.copies} cop{'y' if job.copies == 1 else 'ies'}"
        ident = f" as job {receipt.job_id}" if receipt.job_id else ""
        self.docs_hint.set_status(f"Sent to {job.printer}{ident}: {copies} on {job.paper} paper.")
        self.printed.emit(receipt)

    def _print_failed(self, exc: IntakeError) -> None:
        self.docs_hint.set_status("Not printed.")
        show_intake_error(self, exc)

    def preview_document(self) -> None:
        """The sealed document, page by page as it prints, in a window of its own."""
        doc = self.selected_document()
        if doc is None:
            return
        from desktop.ui.common.printing import load_pdf

        outcome = run(self, lambda: load_pdf(self.clinic.documents.pdf(doc.id), None))
        if outcome.value is None:
            return
        dialog = SealedPreview(outcome.value, KIND_NAMES.get(doc.kind, doc.kind), self)
        dialog.print_requested.connect(self.print_document)
        self.preview_dialog = dialog
        dialog.show()

    def open_document(self) -> None:
        doc = self.selected_document()
        if doc is not None:
            self._open(doc)

    def _open(self, doc: Document) -> None:
        from desktop.ui.common.printing import open_in_viewer

        # the file name shows in the viewer's title and recent files: kind and ID only
        run(
            self,
            lambda: open_in_viewer(self.clinic.documents.pdf(doc.id), f"{doc.kind}-{doc.id}"),
        )

    def save_document(self) -> None:
        """Save a copy: the sealed original, byte for byte (it verifies like the stored one)."""
        doc = self.selected_document()
        if doc is not None:
            self._save(doc)

    def _save(self, doc: Document) -> None:
        from desktop.ui.common.printing import save_copy

        def save() -> Path | None:
            data = self.clinic.documents.pdf(doc.id, "export")
            return save_copy(self, data, self._document_name(doc))

        run(self, save, on_done=self._saved)

    def _saved(self, path: Path | None) -> None:
        if path is not None:
            self.docs_hint.set_status(f"A copy of the sealed original was saved to {path}")


def file_part(name: str) -> str:
    """`name` as part of a file name: letters and digits of any script kept, apostrophes
    and hyphens too, anything else (spaces, slashes, colons) a single hyphen."""
    kept = "".join(c if c.isalnum() or c in "'-" else "-" for c in name)
    return "-".join(part for part in kept.split("-") if part)


class SealedPreview(QDialog):
    """A sealed document shown whole-page, as it prints, with a Print button."""

    print_requested = Signal()

    def __init__(self, document: QPdfDocument, title: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Print preview: {title}")
        self.setObjectName("sealedPreview")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        document.setParent(self)
        self.document = document
        self.view = QPdfView(self)
        self.view.setAccessibleName(f"{title}, as it prints")
        self.view.setDocument(document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        print_button = buttons.addButton("&Print…", QDialogButtonBox.ButtonRole.ActionRole)
        print_button.clicked.connect(self._print)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint_label(
                "The sealed original, page by page. Printing sends this file itself to the "
                "printer, scaled to fit the paper."
            )
        )
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(760, min(900, parent.window().height()))

    def _print(self) -> None:
        self.close()
        self.print_requested.emit()
