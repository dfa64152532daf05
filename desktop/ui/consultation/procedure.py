"""Step 1 of a consultation: the planned procedure, the clinician and the date."""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.models import Consultation, Procedure
from desktop.ui.common.widgets import FieldMessage, hint_label, set_tab_order

log = logging.getLogger(__name__)

NOT_SET = "Not set"


class ProcedureForm(QWidget):
    """Device, needle depth, product, areas, session number; emits `changed` on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False
        self.clinician = QLineEdit()
        self.clinician.setObjectName("clinician")
        self.clinician.setPlaceholderText("Responsible clinician (prints on the consent sheet)")
        self.on = QDateEdit()
        self.on.setObjectName("consultationDate")
        self.on.setCalendarPopup(True)
        self.on.setDisplayFormat("yyyy-MM-dd")
        self.device = QLineEdit()
        self.device.setObjectName("device")
        self.device.setPlaceholderText("e.g. Dermapen 4, SkinPen Precision")
        self.needle_depth = QDoubleSpinBox()
        self.needle_depth.setObjectName("needleDepth")
        self.needle_depth.setRange(0.0, 3.0)
        self.needle_depth.setSingleStep(0.25)
        self.needle_depth.setDecimals(2)
        self.needle_depth.setSuffix(" mm")
        self.needle_depth.setSpecialValueText(NOT_SET)
        self.product = QLineEdit()
        self.product.setObjectName("product")
        self.product.setPlaceholderText("Serum or product applied, e.g. hyaluronic acid serum")
        self.areas = QLineEdit()
        self.areas.setObjectName("areas")
        self.areas.setPlaceholderText("Comma-separated, e.g. cheeks, forehead")
        self.session = QSpinBox()
        self.session.setObjectName("sessionNumber")
        self.session.setRange(1, 50)
        self.message = FieldMessage()

        form = QFormLayout()
        rows: list[tuple[str, QWidget, str]] = [
            ("C&linician", self.clinician, "Clinician"),
            ("Consultation &date", self.on, "Consultation date"),
            ("De&vice", self.device, "Device"),
            ("Needle de&pth", self.needle_depth, "Needle depth in millimetres"),
            ("Pro&duct / serum", self.product, "Product or serum"),
            ("Treatment &areas", self.areas, "Treatment areas"),
            ("Sess&ion number", self.session, "Session number"),
        ]
        for text, widget, name in rows:
            widget.setAccessibleName(name)
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(
            hint_label(
                "What is planned today. Everything is saved as you type; the consent sheet prints "
                "these details."
            )
        )
        holder = QWidget()
        holder.setLayout(form)
        holder.setMaximumWidth(720)
        layout.addWidget(holder)
        layout.addWidget(self.message)
        layout.addStretch(1)
        set_tab_order(*(w for _t, w, _n in rows))

        for edit in (self.clinician, self.device, self.product, self.areas):
            edit.textChanged.connect(self._changed)
        self.needle_depth.valueChanged.connect(self._changed)
        self.session.valueChanged.connect(self._changed)
        self.on.dateChanged.connect(self._changed)

    def _changed(self) -> None:
        if not self._quiet:
            self.changed.emit()

    def load(self, c: Consultation) -> None:
        self._quiet = True
        try:
            p = c.procedure
            self.clinician.setText(c.clinician)
            self.on.setDate(QDate(c.date.year, c.date.month, c.date.day))
            self.device.setText(p.device)
            self.needle_depth.setValue(p.needle_depth_mm or 0.0)
            self.product.setText(p.product)
            self.areas.setText(", ".join(p.areas))
            self.session.setValue(p.session_number)
            self.message.show_message("")
        finally:
            self._quiet = False

    def procedure(self) -> Procedure:
        depth = self.needle_depth.value()
        return Procedure(
            device=self.device.text(),
            needle_depth_mm=round(depth, 2) if depth > 0 else None,
            product=self.product.text(),
            areas=tuple(a.strip() for a in self.areas.text().split(",") if a.strip()),
            session_number=self.session.value(),
        )

    def entries(self) -> dict[str, str]:
        """Label -> value of every field as shown (for the list of entries not saved)."""
        return {
            "Clinician": self.clinician.text().strip(),
            "Consultation date": self.consultation_date().isoformat(),
            "Device": self.device.text().strip(),
            "Needle depth": self.needle_depth.text(),
            "Product / serum": self.product.text().strip(),
            "Treatment areas": self.areas.text().strip(),
            "Session number": str(self.session.value()),
        }

    def consultation_date(self) -> date:
        d = self.on.date()
        return date(d.year(), d.month(), d.day())

    def set_read_only(self, read_only: bool) -> None:
        for edit in (self.clinician, self.device, self.product, self.areas):
            edit.setReadOnly(read_only)
        for w in (self.needle_depth, self.session, self.on):
            w.setReadOnly(read_only)
