"""The start screen: today's consultations, open drafts, test-spot reviews due, patient search;
patients with a depigmented test spot marked in every list."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.models import Consultation, Patient
from desktop.ui.common.permissions import offer
from desktop.ui.common.tables import (
    ConsultationRow,
    RecordTableModel,
    consultation_columns,
    due_review_columns,
    patient_columns,
)
from desktop.ui.common.widgets import heading_label, hint_label, selected_row, table_view

if TYPE_CHECKING:
    from desktop.clinic import Clinic, DueReview, PatientSearch

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 150
NEW_PATIENT_TIP = "Register a new patient (Ctrl+N)"


class SearchBox(QLineEdit):
    """The patient search field; Down moves into the results."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


class StartScreen(QWidget):
    """What the front desk sees first."""

    open_patient = Signal(str)
    open_consultation = Signal(str)
    new_patient = Signal()
    review_spot = Signal(object, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic: Clinic | None = None
        self.setObjectName("startScreen")

        self.demo_banner = QLabel(
            "DEMO DATABASE: every patient here is invented. Do not enter real patients."
        )
        self.demo_banner.setObjectName("demoBanner")
        self.demo_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.demo_banner.setStyleSheet(
            "QLabel#demoBanner { background: #5b2c83; color: white; font-weight: bold;"
            " padding: 6px; border-radius: 4px; }"
        )
        self.demo_banner.setAccessibleName("Demo database")
        self.demo_banner.hide()
        self.title = heading_label("Opening the clinic database…")

        self.search = SearchBox()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Find a patient: name, phone or date of birth  (Ctrl+F)")
        self.search.setAccessibleName("Search patients")
        self.search.setClearButtonEnabled(True)
        search_label = QLabel("F&ind patient:")
        search_label.setBuddy(self.search)
        self.new_button = QPushButton("&New patient…")
        self.new_button.setObjectName("newPatientButton")
        self.new_button.setToolTip(NEW_PATIENT_TIP)
        self.new_button.clicked.connect(self.new_patient)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(self._timer.start)
        self.search.returnPressed.connect(self._open_first_result)

        # Patients (of the lists on screen) with a depigmented test spot: marked in each list.
        self.flagged: set[str] = set()
        self.patients = RecordTableModel[Patient](
            patient_columns(lambda p: p.id in self.flagged), self
        )
        self.patient_view = table_view(self.patients, "Patients found", stretch=0)
        self.patient_view.activated.connect(self._patient_activated)
        self.search.down_pressed.connect(self._focus_results)
        self.patients_hint = hint_label("")

        self.today_model = RecordTableModel[ConsultationRow](
            consultation_columns(with_patient=True, with_date=False), self
        )
        self.today_view = table_view(self.today_model, "Today's consultations", stretch=0)
        self.today_view.activated.connect(self._today_activated)
        self.today_hint = hint_label("")

        self.drafts_model = RecordTableModel[ConsultationRow](
            consultation_columns(with_patient=True), self
        )
        self.drafts_view = table_view(self.drafts_model, "Open drafts", stretch=1)
        self.drafts_view.activated.connect(self._draft_activated)
        self.drafts_hint = hint_label("")

        self.due_model: RecordTableModel[DueReview] = RecordTableModel(
            due_review_columns(lambda d: d.patient.id in self.flagged), self
        )
        self.due_view = table_view(self.due_model, "Test-spot reviews due", stretch=1)
        self.due_view.activated.connect(self._due_activated)
        self.due_hint = hint_label("")

        top = QHBoxLayout()
        top.addWidget(search_label)
        top.addWidget(self.search, 1)
        top.addWidget(self.new_button)

        grid = QGridLayout()
        grid.addWidget(self._group("Patients", self.patient_view, self.patients_hint), 0, 0, 3, 1)
        grid.addWidget(self._group("Today's consultations", self.today_view, self.today_hint), 0, 1)
        grid.addWidget(
            self._group("Open drafts (unsigned)", self.drafts_view, self.drafts_hint), 1, 1
        )
        grid.addWidget(
            self._group("Test-spot reviews due (4 and 12 weeks)", self.due_view, self.due_hint),
            2,
            1,
        )
        grid.setColumnStretch(0, 4)
        grid.setColumnStretch(1, 6)

        layout = QVBoxLayout(self)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addLayout(grid, 1)

        self.setEnabled(False)
        QWidget.setTabOrder(self.search, self.new_button)
        QWidget.setTabOrder(self.new_button, self.patient_view)
        QWidget.setTabOrder(self.patient_view, self.today_view)
        QWidget.setTabOrder(self.today_view, self.drafts_view)
        QWidget.setTabOrder(self.drafts_view, self.due_view)

    @staticmethod
    def _group(title: str, view: QTableView, hint: QLabel) -> QGroupBox:
        box = QGroupBox(title)
        inner = QVBoxLayout(box)
        inner.addWidget(hint)
        inner.addWidget(view, 1)
        return box

    # Data -------------------------------------------------------------------------------

    def set_clinic(self, clinic: Clinic) -> None:
        self.clinic = clinic
        self.setEnabled(True)
        self.apply_permissions()
        self.refresh()

    def apply_permissions(self) -> None:
        """Offer "New patient" only to whoever may register patients, saying why otherwise."""
        if self.clinic is not None:
            offer(self.new_button, self.clinic.session, "patient.edit", NEW_PATIENT_TIP)

    def refresh(self) -> None:
        """Reload every list (cheap: a handful of indexed queries)."""
        if self.clinic is None:
            return
        demo = self.clinic.settings.is_demo()
        self.demo_banner.setVisible(demo)
        today = self.clinic.today()
        self.title.setText(f"Today, {today.strftime('%A %d %B %Y')}")
        clinic = self.clinic
        on_today, drafts = clinic.consultations.on(today), clinic.consultations.drafts()
        due = clinic.test_spots.due_reviews()
        listed = [c.patient_id for c in (*on_today, *drafts)] + [d.patient.id for d in due]
        self.flagged = set(clinic.test_spots.flags(listed))
        names: dict[str, str] = {}
        self.today_model.set_records(self._rows(clinic, on_today, names))
        self.drafts_model.set_records(self._rows(clinic, drafts, names))
        self.due_model.set_records(due)
        self._hint(self.today_hint, self.today_model.rowCount(), "consultation", "today")
        self._hint(self.drafts_hint, self.drafts_model.rowCount(), "open draft", "")
        overdue = sum(1 for d in self.due_model.records() if d.overdue)
        self._hint(self.due_hint, self.due_model.rowCount(), "review", "due this week")
        if overdue:
            self.due_hint.setText(f"{self.due_hint.text()}, {overdue} overdue")
        self.run_search()

    def _rows(
        self, clinic: Clinic, consultations: list[Consultation], names: dict[str, str]
    ) -> list[ConsultationRow]:
        missing = {c.patient_id for c in consultations} - names.keys()
        names.update(clinic.patients.names(missing))
        return [
            ConsultationRow(c, names[c.patient_id], flagged=c.patient_id in self.flagged)
            for c in consultations
        ]

    @staticmethod
    def _hint(label: QLabel, count: int, noun: str, suffix: str) -> None:
        if count == 0:
            label.setText(f"No {noun}s {suffix}".strip() + ".")
        else:
            label.setText(f"{count} {noun}{'' if count == 1 else 's'} {suffix}".strip())

    def run_search(self) -> None:
        self._timer.stop()
        if self.clinic is None:
            return
        text = self.search.text().strip()
        result = self.clinic.patients.find(text)
        found = result.patients
        self.flagged |= set(self.clinic.test_spots.flags(p.id for p in found))
        self.patients.set_records(found)
        self.patients_hint.setText(search_hint(text, result))

    def clear_search(self) -> None:
        """Forget the search and its results (a sign-out or a lock: the next person to see
        the screen must not see what was looked up)."""
        self._timer.stop()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.patients.set_records([])
        self.patients_hint.setText("")

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # Activation -------------------------------------------------------------------------

    def _focus_results(self) -> None:
        if self.patients.rowCount():
            self.patient_view.setFocus()
            self.patient_view.selectRow(0)

    def _open_first_result(self) -> None:
        self.run_search()
        if self.patients.rowCount():
            self.open_patient.emit(self.patients.record(0).id)

    def _patient_activated(self) -> None:
        row = selected_row(self.patient_view)
        if row is not None:
            self.open_patient.emit(self.patients.record(row).id)

    def _today_activated(self) -> None:
        row = selected_row(self.today_view)
        if row is not None:
            self.open_consultation.emit(self.today_model.record(row).consultation.id)

    def _draft_activated(self) -> None:
        row = selected_row(self.drafts_view)
        if row is not None:
            self.open_consultation.emit(self.drafts_model.record(row).consultation.id)

    def _due_activated(self) -> None:
        row = selected_row(self.due_view)
        if row is not None:
            due = self.due_model.record(row)
            self.review_spot.emit(due.spot, due.week)


def search_hint(text: str, result: PatientSearch) -> str:
    """What the list under the search field is, worded by how it was made (`result.order`),
    and what to type next."""
    found = result.patients
    n = len(found)
    more = "Type more of the name, or the full date of birth."
    if result.broad:
        if not found:
            return (
                f"“{text}” is too common to search completely, and none of the most recently "
                "registered patients match it: type more of the name or the full date of birth."
            )
        many = f"Too many patients match “{text}” to list them all"
        if result.order == "alphabetical":
            return f"{many}; the first {n} by name are shown. {more}"
        return f"{many}; the {n} most recently registered of them are shown. {more}"
    if result.order == "recent" or not text:
        return "Recently updated patients. Type to search." if found else "No patients yet."
    if not found:
        return f"No patient matches “{text}”. Check the spelling, or register a new patient."
    best = ", best matches first" if n > 1 else ""
    return f"{n} found for “{text}”{best}. Enter opens the first; ↓ moves into the list."
