"""Step 4 of a consultation: the real consent (or referral) PDF as it will print, unsealed."""

from __future__ import annotations

import logging

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Signal
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.clinic import Clinic, SheetPreview
from desktop.errors import IntakeError
from desktop.models import Consultation, DocumentKind
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import FieldMessage, hint_label

log = logging.getLogger(__name__)

KIND_NAMES: dict[str, str] = {
    "consent": "Consent sheet",
    "aftercare": "Aftercare sheet",
    "referral": "Referral and advice sheet",
}


class ConsentPreview(QWidget):
    """A QPdfView of `clinic.documents.preview`, rebuilt whenever the step is shown."""

    photo_changed = Signal()

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.consultation: Consultation | None = None
        self.shown: SheetPreview | None = None
        self.kind = QComboBox()
        self.kind.setObjectName("previewKind")
        self.kind.setAccessibleName("Document to preview")
        self.kind.currentIndexChanged.connect(lambda _i: self.reload())
        kind_label = QLabel("&Document:")
        kind_label.setBuddy(self.kind)
        self.photo = QCheckBox(
            "The patient also agrees to photo&graphs being used beyond their clinical record"
        )
        self.photo.setObjectName("photoOtherUse")
        self.photo.toggled.connect(self._photo_toggled)
        self.zoom = QComboBox()
        self.zoom.setAccessibleName("Zoom")
        self.zoom.addItem("Fit width", QPdfView.ZoomMode.FitToWidth)
        self.zoom.addItem("Whole page", QPdfView.ZoomMode.FitInView)
        self.zoom.currentIndexChanged.connect(self._zoom_changed)
        self.refresh_button = QPushButton("&Refresh preview")
        self.refresh_button.clicked.connect(self.reload)
        self.message = FieldMessage()
        self.unprintable = FieldMessage(warning=True)
        self.unprintable.setObjectName("unprintableWarning")
        self.caption = hint_label(
            "This is the real document, rendered now and not yet sealed: read it with the "
            "patient before they sign. Signatures appear once captured."
        )
        self.document = QPdfDocument(self)
        self._buffer: QBuffer | None = None
        self.view = QPdfView(self)
        self.view.setObjectName("consentPreview")
        self.view.setAccessibleName("Consent document preview")
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        top = QHBoxLayout()
        top.addWidget(kind_label)
        top.addWidget(self.kind)
        top.addWidget(self.zoom)
        top.addWidget(self.refresh_button)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.photo)
        layout.addWidget(self.caption)
        layout.addWidget(self.message)
        layout.addWidget(self.unprintable)
        layout.addWidget(self.view, 1)

    def show_for(self, consultation: Consultation) -> None:
        self.consultation = consultation
        self.photo.blockSignals(True)
        self.photo.setChecked(bool(getattr(consultation, "photo_other_use", False)))
        self.photo.setEnabled(consultation.state == "draft")
        self.photo.blockSignals(False)
        offered = run(
            self,
            lambda: self.clinic.documents.kinds(consultation.id),
            on_error=self.message.show_error,
        )
        kinds: tuple[DocumentKind, ...] = offered.value or ()
        current = self.kind.currentData()
        self.kind.blockSignals(True)
        self.kind.clear()
        for k in kinds:
            self.kind.addItem(KIND_NAMES.get(k, k), k)
        index = self.kind.findData(current)
        self.kind.setCurrentIndex(max(index, 0))
        self.kind.blockSignals(False)
        self.reload()

    def reload(self) -> None:
        c = self.consultation
        kind = self.kind.currentData()
        if c is None or kind is None:
            return
        run(
            self,
            lambda: self.clinic.documents.preview(c.id, kind),
            on_done=self._show,
            on_error=self._not_rendered,
            busy=True,
        )

    def _not_rendered(self, exc: IntakeError) -> None:
        self.message.show_error(exc)
        self.unprintable.show_message("")
        self.document.close()

    def _show(self, preview: SheetPreview) -> None:
        self.shown = preview  # what the signers see: their signatures are bound to it
        self._load(preview.pdf)
        self.unprintable.show_message(
            f"{preview.warning} They are marked in red (as U+code) on the sheet below; "
            "it cannot be signed and sealed until they print."
            if preview.undrawable
            else ""
        )

    def _load(self, data: bytes) -> None:
        self.message.show_message("")
        old = self._buffer
        self.document.close()
        buffer = QBuffer(self)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._buffer = buffer
        self.document.load(buffer)
        if old is not None:
            old.close()
            old.deleteLater()

    def _zoom_changed(self) -> None:
        self.view.setZoomMode(self.zoom.currentData())

    def page_count(self) -> int:
        return self.document.pageCount()

    def _photo_toggled(self, on: bool) -> None:
        c = self.consultation
        if c is None:
            return
        run(
            self,
            lambda: self.clinic.consultations.set_photo_consent(c.id, on),
            on_done=self._photo_saved,
            on_error=self.message.show_error,
        )

    def _photo_saved(self, consultation: Consultation) -> None:
        self.consultation = consultation
        self.photo_changed.emit()
        self.reload()
