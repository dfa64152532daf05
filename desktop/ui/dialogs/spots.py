"""Test-spot dialogs: record a spot, and record its review at 4 or 12 weeks."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.clinic import REVIEW_RESULTS, REVIEW_WEEKS, Clinic
from desktop.models import Consultation, TestSpot
from desktop.ui.common.permissions import refusal
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import (
    ClinicianChoice,
    DateField,
    FieldMessage,
    heading_label,
    hint_label,
)

log = logging.getLogger(__name__)

RESULT_LABELS = {
    "no_change": "&No change at the spot",
    "depigmentation": "De&pigmentation (a new pale or white patch)",
    "hyperpigmentation": "&Hyperpigmentation (darker skin)",
    "other": "&Other (describe in the notes)",
}


def _date_edit(value: date, minimum: date | None = None) -> DateField:
    edit = DateField(value)
    if minimum is not None:
        edit.setMinimumDate(QDate(minimum.year, minimum.month, minimum.day))
    return edit


def _to_date(edit: DateField) -> date:
    return edit.value()


def refuse_up_front(
    clinic: Clinic,
    permission: str,
    buttons: QDialogButtonBox,
    inputs: tuple[QWidget, ...],
    message: FieldMessage,
) -> None:
    """A user who may not save this form sees it greyed out, told why, before typing."""
    why = refusal(clinic.session, permission)
    if not why:
        return
    for w in inputs:
        w.setEnabled(False)
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    if save is not None:
        save.setEnabled(False)
        save.setToolTip(why)
    message.show_message(why)


class RecordSpotDialog(QDialog):
    """Record that a test spot was done, for one of the patient's consultations."""

    def __init__(
        self,
        clinic: Clinic,
        consultations: list[Consultation],
        selected_id: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.spot: TestSpot | None = None
        self.setWindowTitle("Record a test spot")
        self.consultation = QComboBox()
        self.consultation.setAccessibleName("Consultation")
        for c in consultations:
            decision = c.decision or "checklist incomplete"
            self.consultation.addItem(f"{c.date.isoformat()} · {decision} · {c.state}", c.id)
        self.consultation.setCurrentIndex(max(self.consultation.findData(selected_id), 0))
        self.site = QLineEdit()
        self.site.setAccessibleName("Test spot site")
        self.site.setPlaceholderText("e.g. left jawline, below the ear")
        self.done_on = _date_edit(clinic.today())
        self.done_on.setAccessibleName("Date the test spot was done")
        self.message = FieldMessage()
        form = QFormLayout()
        for text, widget in (
            ("&Consultation", self.consultation),
            ("&Site", self.site),
            ("&Done on", self.done_on),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint_label(
                "Use the same device, needle depth and serum on one small, inconspicuous spot, "
                "and photograph it. Reviews fall due at 4 and 12 weeks. A clean test spot does "
                "not prove the full treatment safe."
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())
        refuse_up_front(
            clinic,
            "testspot.record",
            buttons,
            (self.consultation, self.site, self.done_on),
            self.message,
        )

    def _save(self) -> None:
        run(
            self,
            lambda: self.clinic.test_spots.record(
                str(self.consultation.currentData()), self.site.text(), _to_date(self.done_on)
            ),
            on_done=self._recorded,
            on_error=self.message.show_error,
        )

    def _recorded(self, spot: TestSpot) -> None:
        self.spot = spot
        self.accept()


class ReviewDialog(QDialog):
    """Record a test spot's review; depigmentation turns the vitiligo outcome red."""

    def __init__(
        self, clinic: Clinic, spot: TestSpot, week: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.spot = spot
        self.saved = False
        self.setWindowTitle("Test-spot review")
        patient = clinic.patients.get(spot.patient_id)
        self.title = heading_label(f"Test spot of {patient.full_name}", size=1.15)
        info = hint_label(
            f"Site: {spot.site}. Done on {spot.done_on.isoformat()}. Reviews due "
            + " and ".join(
                f"{w} weeks ({(spot.done_on + timedelta(weeks=w)).isoformat()}"
                + (f", recorded: {r.result.replace('_', ' ')})" if (r := spot.review(w)) else ")")
                for w in REVIEW_WEEKS
            )
            + "."
        )
        self.weeks = QButtonGroup(self)
        week_row = QHBoxLayout()
        for w in REVIEW_WEEKS:
            button = QRadioButton(f"{w} &weeks" if w == 4 else f"{w} wee&ks")
            button.setChecked(w == week)
            button.setEnabled(spot.review(w) is None)
            self.weeks.addButton(button, w)
            week_row.addWidget(button)
        week_row.addStretch(1)
        self.results = QButtonGroup(self)
        result_box = QVBoxLayout()
        for i, value in enumerate(REVIEW_RESULTS):
            button = QRadioButton(RESULT_LABELS.get(value, value))
            button.setObjectName(f"result_{value}")
            self.results.addButton(button, i)
            result_box.addWidget(button)
        self.results.buttonToggled.connect(self._result_changed)
        self.reviewer = ClinicianChoice()
        self.reviewer.setObjectName("reviewer")
        self.reviewer.setAccessibleName("Reviewer")
        self.reviewer.setToolTip("The clinician who looked at the spot")
        user = clinic.session.signed_in
        me = user.display_name if user is not None and "clinician" in user.roles else ""
        self.reviewer.set_choices([u.display_name for u in clinic.accounts.clinicians()], me)
        self.on = _date_edit(clinic.today(), spot.done_on)
        self.on.setAccessibleName("Review date")
        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName("Notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(60)
        self.warning = FieldMessage()
        self.message = FieldMessage()
        self.notice = QLabel()
        self.notice.setObjectName("depigmentationNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "QLabel#depigmentationNotice { background: #fdecea; color: #8e0000; padding: 10px;"
            " border: 1px solid #8e0000; border-left: 6px solid #8e0000; font-weight: bold; }"
        )
        self.notice.hide()

        form = QFormLayout()
        form.addRow("Review at", week_row)
        form.addRow("Result", result_box)
        for text, widget in (("Re&viewer", self.reviewer), ("Review &date", self.on)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        notes_label = QLabel("No&tes")
        notes_label.setBuddy(self.notes)
        form.addRow(notes_label, self.notes)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(info)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addWidget(self.message)
        layout.addWidget(self.notice)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())
        refuse_up_front(
            clinic,
            "testspot.review",
            self.buttons,
            (self.reviewer, self.on, self.notes, *self.results.buttons(), *self.weeks.buttons()),
            self.message,
        )

    def _result_changed(self) -> None:
        if self.chosen_result() == "depigmentation":
            self.warning.show_message(
                "Recording depigmentation makes this patient's vitiligo outcome RED: treatment "
                "is deferred and a dermatologist referral is needed."
            )
        else:
            self.warning.show_message("")

    def chosen_result(self) -> str | None:
        button = self.results.checkedButton()
        return REVIEW_RESULTS[self.results.id(button)] if button else None

    def _save(self) -> None:
        if self.saved:
            self.accept()
            return
        result = self.chosen_result()
        week = self.weeks.checkedId()
        if result is None:
            self.message.show_message("Choose what the spot looks like now.")
            return
        if week not in REVIEW_WEEKS:
            self.message.show_message("Both reviews of this test spot are already recorded.")
            return
        reviewed = run(
            self,
            lambda: self.clinic.test_spots.review(
                self.spot.id,
                week,
                result,
                self.reviewer.name(),
                on=_to_date(self.on),
                notes=self.notes.toPlainText(),
            ),
            on_error=self.message.show_error,
        )
        if reviewed.value is None:
            return
        self.spot = reviewed.value
        self.saved = True
        if result != "depigmentation":
            self.accept()
            return
        self.message.show_message("")
        self.warning.show_message("")
        self.notice.setText(
            "✖ Depigmentation recorded. This patient's vitiligo outcome is now RED: do not "
            "treat, refer to a dermatologist. Open drafts for this patient were reassessed; "
            "signed records keep what was signed."
        )
        self.notice.show()
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Ok)
        close = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        close.setText("&Close")
        close.setFocus(Qt.FocusReason.OtherFocusReason)
        for w in (self.reviewer, self.on, self.notes, *self.results.buttons()):
            w.setEnabled(False)
