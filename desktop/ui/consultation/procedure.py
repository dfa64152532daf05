"""Step 1 of a consultation: the planned procedure, the clinician and the date."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.models import Consultation, Procedure
from desktop.ui.common.widgets import (
    ClinicianChoice,
    DateField,
    FieldMessage,
    hint_label,
    set_tab_order,
)

log = logging.getLogger(__name__)

NOT_SET = "Not set"
NOTICE_STYLE = (
    "QLabel#{name} {{ background: #fff3d6; color: #6b4100; border: 1px solid #6b4100;"
    " border-left: 5px solid #6b4100; border-radius: 4px; padding: 6px; font-weight: bold; }}"
)


def date_notice(on: date, today: date) -> str:
    """What to say about a consultation dated `on`: nothing for today, else a plain warning."""
    if on == today:
        return ""
    when = "in the future" if on > today else "in the past"
    return (
        f"⚠ This consultation is dated {on.isoformat()}, not today ({today.isoformat()}): "
        f"{when}. Check the date; the consent sheet prints it, and the change is audited."
    )


class ProcedureForm(QWidget):
    """Clinician, date, device, needle depth, product, areas, session; `changed` on every edit.

    `clinicians()` lists the names the clinician can be chosen from; `today()` is the clinic's
    date (a consultation dated otherwise is pointed out).
    """

    changed = Signal()

    def __init__(
        self,
        clinicians: Callable[[], list[str]],
        today: Callable[[], date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._clinicians = clinicians
        self._today = today
        self._quiet = False
        self.clinician = ClinicianChoice()
        self.clinician.setObjectName("clinician")
        self.clinician.setToolTip(
            "The clinician responsible for this consultation; prints on the consent sheet. "
            "Clinicians are the accounts with the clinician role."
        )
        self.on = DateField()
        self.on.setObjectName("consultationDate")
        self.date_notice = QLabel()
        self.date_notice.setObjectName("dateNotice")
        self.date_notice.setWordWrap(True)
        self.date_notice.setStyleSheet(NOTICE_STYLE.format(name="dateNotice"))
        self.date_notice.hide()
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
            ("Needle d&epth", self.needle_depth, "Needle depth in millimetres"),
            ("Prod&uct / serum", self.product, "Product or serum"),
            ("T&reatment areas", self.areas, "Treatment areas"),
            ("Sess&ion number", self.session, "Session number"),
        ]
        for text, widget, name in rows:
            widget.setAccessibleName(name)
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
            if widget is self.on:
                form.addRow("", self.date_notice)

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
        self.fields: tuple[QWidget, ...] = tuple(w for _t, w, _n in rows)
        set_tab_order(*self.fields)

        for edit in (self.device, self.product, self.areas):
            edit.textChanged.connect(self._changed)
        self.clinician.currentIndexChanged.connect(self._changed)
        self.needle_depth.valueChanged.connect(self._changed)
        self.session.valueChanged.connect(self._changed)
        self.on.dateChanged.connect(self._date_changed)

    def _changed(self) -> None:
        if not self._quiet:
            self.changed.emit()

    def _date_changed(self) -> None:
        self._show_date_notice()
        self._changed()

    def _show_date_notice(self) -> None:
        text = date_notice(self.consultation_date(), self._today())
        self.date_notice.setText(text)
        self.date_notice.setVisible(bool(text))

    def load(self, c: Consultation) -> None:
        self._quiet = True
        try:
            p = c.procedure
            self.clinician.set_choices(self._clinicians(), c.clinician)
            self.on.set_value(c.date)
            self.device.setText(p.device)
            self.needle_depth.setValue(p.needle_depth_mm or 0.0)
            self.product.setText(p.product)
            self.areas.setText(", ".join(p.areas))
            self.session.setValue(p.session_number)
            self.message.show_message("")
            self._show_date_notice()
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

    def clinician_name(self) -> str:
        return self.clinician.name()

    def entries(self) -> dict[str, str]:
        """Label -> value of every field as shown (for the list of entries not saved)."""
        return {
            "Clinician": self.clinician_name(),
            "Consultation date": self.consultation_date().isoformat(),
            "Device": self.device.text().strip(),
            "Needle depth": self.needle_depth.text(),
            "Product / serum": self.product.text().strip(),
            "Treatment areas": self.areas.text().strip(),
            "Session number": str(self.session.value()),
        }

    def consultation_date(self) -> date:
        return self.on.value()

    def set_read_only(self, read_only: bool) -> None:
        for edit in (self.device, self.product, self.areas):
            edit.setReadOnly(read_only)
        for w in (self.needle_depth, self.session, self.on):
            w.setReadOnly(read_only)
        self.clinician.setEnabled(not read_only)
