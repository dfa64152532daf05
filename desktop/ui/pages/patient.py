"""The patient page: details form, consultation history with outcomes, test spots, and a
banner when a test spot lost pigment."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.checklist import age_on
from desktop.checklist.roles import SKIN_TYPE
from desktop.clinic import Clinic, SpotFlag
from desktop.models import Consultation, Patient, TestSpot
from desktop.ui.common.messages import Prompt
from desktop.ui.common.permissions import offer
from desktop.ui.common.tables import (
    ConsultationRow,
    RecordTableModel,
    consultation_columns,
    test_spot_columns,
)
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import (
    StatusLine,
    heading_label,
    hint_label,
    on_selection_changed,
    selected_row,
    set_tab_order,
    table_view,
)
from desktop.ui.pages.patient_details import ChecklistSkinType, PatientForm

log = logging.getLogger(__name__)


class PatientPage(QWidget):
    """One patient: edit details, start or open consultations, record and review test spots."""

    back = Signal()
    open_consultation = Signal(str)
    open_patient = Signal(str)

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.patient: Patient | None = None
        self.setObjectName("patientPage")

        self.back_button = QPushButton("← Start scr&een")
        self.back_button.clicked.connect(self.back)
        self.title = heading_label("New patient")
        self.subtitle = hint_label("")
        self.contact = QLabel()
        self.contact.setObjectName("patientContact")
        self.contact.setAccessibleName("Address and emergency contact")
        self.contact.setWordWrap(True)
        self.contact.setTextFormat(Qt.TextFormat.PlainText)
        self.contact.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.contact.hide()

        # A test spot that lost pigment: the spots, and the signed consultations it concerns.
        self.flag: SpotFlag | None = None
        self.spot_banner = QFrame()
        self.spot_banner.setObjectName("spotBanner")
        self.spot_banner.setStyleSheet(
            "QFrame#spotBanner { background: #fdecea; border: 1px solid #8e0000;"
            " border-left: 6px solid #8e0000; border-radius: 4px; }"
            " QLabel { color: #8e0000; background: transparent; border: none; }"
        )
        self.spot_banner_text = QLabel()
        self.spot_banner_text.setObjectName("spotBannerText")
        self.spot_banner_text.setWordWrap(True)
        self.spot_banner_text.setTextFormat(Qt.TextFormat.PlainText)
        self._banner_rows = QGridLayout()
        self._banner_rows.setContentsMargins(0, 0, 0, 0)
        self.banner_buttons: list[QPushButton] = []
        banner_layout = QVBoxLayout(self.spot_banner)
        banner_layout.setContentsMargins(10, 6, 10, 6)
        banner_layout.addWidget(self.spot_banner_text)
        banner_layout.addLayout(self._banner_rows)
        self.spot_banner.hide()

        self.form = PatientForm(clinic)
        self.form.saved.connect(self._saved)
        self.form.open_existing.connect(self.open_patient)
        details = QGroupBox("Patient details")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a frame, never a Tab stop
        scroll.setWidget(self.form)
        QVBoxLayout(details).addWidget(scroll)
        details.setMinimumWidth(440)
        details.setMaximumWidth(560)

        self.history = RecordTableModel[ConsultationRow](
            consultation_columns(with_patient=False, history=True), self
        )
        self.history_view = table_view(self.history, "Consultation history", stretch=1)
        self.history_view.activated.connect(self._open_selected)
        self.history_hint = StatusLine()
        self.start_button = QPushButton("Start &consultation")
        self.start_button.setObjectName("startConsultation")
        self.start_button.clicked.connect(self._start_consultation)
        self.repeat_button = QPushButton("Start from last &visit")
        self.repeat_button.setObjectName("startFromLast")
        self.repeat_button.clicked.connect(self._start_from_last)
        self.open_button = QPushButton("&Open")
        self.open_button.clicked.connect(self._open_selected)
        self.addendum_button = QPushButton("Addend&um to signed…")
        self.addendum_button.setObjectName("addendum")
        self.addendum_button.clicked.connect(self._addendum)
        self.discard_button = QPushButton("D&iscard draft…")
        self.discard_button.setObjectName("discardDraft")
        self.discard_button.clicked.connect(self._discard)
        on_selection_changed(self.history_view, self._offer_actions)
        history_box = QGroupBox("Consultations")
        hl = QVBoxLayout(history_box)
        hl.addWidget(self.history_hint)
        hl.addWidget(self.history_view, 1)
        row = QHBoxLayout()
        for button in (
            self.start_button,
            self.repeat_button,
            self.open_button,
            self.addendum_button,
            self.discard_button,
        ):
            row.addWidget(button)
        row.addStretch(1)
        hl.addLayout(row)

        self.spots = RecordTableModel[TestSpot](test_spot_columns(), self)
        self.spots_view = table_view(self.spots, "Test spots", stretch=0)
        self.spots_view.activated.connect(self._review_spot)
        self.spots_hint = StatusLine()
        self.record_spot_button = QPushButton("&Record test spot…")
        self.record_spot_button.clicked.connect(self._record_spot)
        self.review_spot_button = QPushButton("Record revie&w…")
        self.review_spot_button.clicked.connect(self._review_spot)
        spots_box = QGroupBox("Test spots (reviews at 4 and 12 weeks)")
        sl = QVBoxLayout(spots_box)
        sl.addWidget(self.spots_hint)
        sl.addWidget(self.spots_view, 1)
        row = QHBoxLayout()
        row.addWidget(self.record_spot_button)
        row.addWidget(self.review_spot_button)
        row.addStretch(1)
        sl.addLayout(row)

        self.records = QWidget()
        right = QVBoxLayout(self.records)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(history_box, 3)
        right.addWidget(spots_box, 2)

        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addSpacing(12)
        head.addWidget(self.title)
        head.addWidget(self.subtitle, 1)
        body = QHBoxLayout()
        body.addWidget(details)
        body.addWidget(self.records, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.contact)
        layout.addWidget(self.spot_banner)
        layout.addLayout(body, 1)
        self._chain()

    def _chain(self) -> None:
        """One explicit chain, in visual order: Tab visits every input once (the banner's
        buttons, when shown, between the header and the form)."""
        set_tab_order(
            self.back_button,
            *self.banner_buttons,
            *self.form.focus_order(),
            self.history_view,
            self.start_button,
            self.repeat_button,
            self.open_button,
            self.addendum_button,
            self.discard_button,
            self.spots_view,
            self.record_spot_button,
            self.review_spot_button,
        )

    # Loading ----------------------------------------------------------------------------

    def new_patient(self) -> None:
        self.patient = None
        self.form.load(None)
        self.form.apply_permissions()
        self._show_header()
        self.history.set_records([])
        self.spots.set_records([])
        self._show_flag(None)
        self.records.setEnabled(False)
        self.history_hint.set_status("Register the patient first; then start a consultation.")
        self.spots_hint.set_status("")

    def load(self, patient_id: str) -> None:
        self.patient = self.clinic.patients.get(patient_id)
        self.form.load(self.patient)
        self.records.setEnabled(True)
        self._apply_permissions()
        self._show_header()
        self.refresh()

    def focus_first_field(self) -> None:
        self.form.focus_first()

    def _show_header(self) -> None:
        p = self.patient
        if p is None:
            self.title.setText("New patient")
            self.subtitle.setText("Fields are checked as you type.")
            self.contact.hide()
            return
        age = age_on(p.date_of_birth, self.clinic.today())
        self.title.setText(p.full_name)
        recorded = self.form.checklist_skin
        if p.fitzpatrick:
            skin = f" · Fitzpatrick {p.fitzpatrick}"
        elif recorded is not None:
            skin = f" · Fitzpatrick {recorded.value} (checklist of {recorded.on.isoformat()})"
        else:
            skin = ""
        self.subtitle.setText(f"born {p.date_of_birth.isoformat()} (age {age}){skin}")
        text = contact_summary(p)
        self.contact.setText(text)
        self.contact.setVisible(bool(text))

    def refresh(self) -> None:
        if self.patient is None:
            return
        consultations = self.clinic.consultations.for_patient(self.patient.id)
        rows = [
            ConsultationRow(
                c,
                self.patient.full_name,
                tuple(self.clinic.documents.for_consultation(c.id)) if c.state == "signed" else (),
            )
            for c in consultations
        ]
        self.history.set_records(rows)
        self._offer_actions()
        self.form.show_checklist_skin_type(self._checklist_skin_type(consultations))
        self._show_header()
        drafts = sum(1 for c in consultations if c.state == "draft")
        discarded = len(self.clinic.repeat_visits.discarded(self.patient.id))
        set_aside = (
            f" ({discarded} discarded draft{'s' if discarded != 1 else ''} kept in the records)"
            if discarded
            else ""
        )
        self.history_hint.set_status(
            f"{len(rows)} consultation{'s' if len(rows) != 1 else ''}, {drafts} draft"
            f"{'s' if drafts != 1 else ''}{set_aside}. Enter or double-click opens one."
            if rows
            else f"No consultations yet{set_aside}."
        )
        spots = self.clinic.test_spots.for_patient(self.patient.id)
        self.spots.set_records(spots)
        self._show_flag(self.clinic.test_spots.flags([self.patient.id]).get(self.patient.id))
        red = [s for s in spots if s.depigmented]
        self.spots_hint.set_status(
            "✖ Depigmentation was recorded at a test spot: the vitiligo outcome is RED."
            if red
            else (f"{len(spots)} test spot(s)." if spots else "No test spots recorded.")
        )
        self.spots_hint.setStyleSheet(
            "color: #8e0000; font-weight: bold;" if red else "color: #5f6b73; font-size: 9pt;"
        )

    def _show_flag(self, flag: SpotFlag | None) -> None:
        """The banner for a depigmented test spot: the spots, and a row per signed
        consultation it concerns (signed before it was known) to open or correct."""
        self.flag = flag
        self.banner_buttons = []
        while (item := self._banner_rows.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        if flag is None:
            self.spot_banner.hide()
            self._chain()
            return
        lines = ["✖ Depigmentation at a test spot: this patient's vitiligo outcome is RED."]
        lines += [f"• {spot_text(s)}" for s in flag.spots]
        if flag.consultations:
            n = len(flag.consultations)
            lines.append(
                f"{n} consultation{'s were' if n > 1 else ' was'} signed before this was "
                f"known. A signed record stays as it is: correct {'each' if n > 1 else 'it'} "
                "with an addendum."
            )
        else:
            lines.append("No signed consultation was signed without knowing it.")
        self.spot_banner_text.setText("\n".join(lines))
        for row, c in enumerate(flag.consultations):
            label = QLabel(self._consultation_text(c))
            label.setTextFormat(Qt.TextFormat.PlainText)
            open_button = QPushButton("Open")
            open_button.setObjectName(f"flagOpen_{c.id}")
            open_button.setAccessibleName(f"Open the consultation of {c.date.isoformat()}")
            open_button.clicked.connect(lambda _c=False, cid=c.id: self.open_consultation.emit(cid))
            addendum = QPushButton("Addendum…")
            addendum.setObjectName(f"flagAddendum_{c.id}")
            addendum.setAccessibleName(f"Addendum to the consultation of {c.date.isoformat()}")
            addendum.clicked.connect(lambda _c=False, con=c: self._flag_addendum(con))
            offer(addendum, self.clinic.session, "consultation.edit", "Correct it in a new draft.")
            self._banner_rows.addWidget(label, row, 0)
            self._banner_rows.addWidget(open_button, row, 1)
            self._banner_rows.addWidget(addendum, row, 2)
            self.banner_buttons += [open_button, addendum]
        self._banner_rows.setColumnStretch(3, 1)  # the buttons beside their consultation
        self.spot_banner.setAccessibleName(" ".join(lines))
        self.spot_banner.show()
        self._chain()

    def _consultation_text(self, c: Consultation) -> str:
        decision = c.decision
        label = ""
        if decision is not None:
            label = self.clinic.consultations.checklist_for(c).outcome("decision", decision).label
        return f"Consultation of {c.date.isoformat()}, signed" + (f": {label}" if label else "")

    def _flag_addendum(self, c: Consultation) -> None:
        flag = self.flag
        spots = "; ".join(spot_text(s) for s in flag.spots) if flag is not None else ""
        self._start_addendum(
            c,
            f"Test spot result since this consultation: {spots}. The vitiligo outcome is red."
            if spots
            else "",
        )

    # Leaving ----------------------------------------------------------------------------

    def confirm_leave(self, then: Callable[[], object]) -> None:
        """Go on with `then` (leaving this page) unless the patient form holds changes not
        saved; then ask first: Save (and go on once saved), Discard, or Cancel (stay)."""
        form = self.form
        if not form.has_unsaved_changes():
            then()
            return
        p = self.patient
        if p is None:
            text = "The new patient is not registered yet."
        else:
            text = (
                f"Changes to {p.full_name}'s details are not saved: "
                + ", ".join(form.changed_fields())
                + "."
            )
        typing_in = QApplication.focusWidget()
        buttons = QMessageBox.StandardButton
        box = Prompt(
            QMessageBox.Icon.Question,
            "Unsaved patient details",
            text,
            buttons.Save | buttons.Discard | buttons.Cancel,
            self.window(),
        )
        box.setObjectName("unsavedPatient")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(
            "Save them now, discard them, or cancel to stay here and go on editing."
            if p is not None
            else "Register the patient now, discard what was typed, or cancel to stay here "
            "and go on editing."
        )
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setDefaultButton(buttons.Save)
        box.setEscapeButton(buttons.Cancel)
        box.button(buttons.Save).setText("&Save" if p is not None else "&Register")
        box.button(buttons.Discard).setText("&Discard")

        def chosen(button: QAbstractButton) -> None:
            which = box.standardButton(button)
            if which == buttons.Save:
                if form.save() is not None:
                    then()
                # else: the form says what to correct (or that the patient is registered
                # already), and the page stays
            elif which == buttons.Discard:
                log.info("unsaved patient details discarded on leaving the page")
                form.discard_changes()
                then()
            elif typing_in is not None and form.isAncestorOf(typing_in):
                typing_in.setFocus(Qt.FocusReason.OtherFocusReason)  # back where typing was
            else:
                form.focus_first()

        box.buttonClicked.connect(chosen)
        box.open()

    def _apply_permissions(self) -> None:
        """Grey out what the signed-in role may not do, saying why (the core refuses it too)."""
        session = self.clinic.session
        offer(self.record_spot_button, session, "testspot.record")
        offer(self.review_spot_button, session, "testspot.review")
        self.form.apply_permissions()
        self._offer_actions()

    def _offer_actions(self) -> None:
        """Enable the consultation buttons that fit the selected row and the user's role."""
        session = self.clinic.session
        row = self._selected_row()
        c = row.consultation if row is not None else None
        offer(self.start_button, session, "consultation.edit", "A new, empty consultation.")
        offer(self.open_button, session, "patient.view", "Open the selected consultation.")
        if self.open_button.isEnabled() and c is None:
            self.open_button.setEnabled(False)
            self.open_button.setToolTip("Select a consultation in the list first.")
        if (
            offer(
                self.repeat_button,
                session,
                "consultation.edit",
                "A new consultation with the last one's procedure (next session) and answers, "
                "each answer to confirm as still true.",
            )
            and not self.history.rowCount()
        ):
            self.repeat_button.setEnabled(False)
            self.repeat_button.setToolTip("No earlier consultation to start from.")
        for button, state, tip, wrong in (
            (
                self.addendum_button,
                "signed",
                "A signed consultation cannot change; an addendum is a new draft that "
                "corrects it (you say why first).",
                "Select a signed consultation to correct with an addendum.",
            ),
            (
                self.discard_button,
                "draft",
                "Set the selected draft aside (a stray or duplicate): kept in the records and "
                "the audit trail, hidden from lists. You say why first.",
                "Select an unsigned draft to discard; signed consultations are never discarded.",
            ),
        ):
            if offer(button, session, "consultation.edit", tip) and (c is None or c.state != state):
                button.setEnabled(False)
                button.setToolTip(wrong)

    def _saved(self, patient: Patient) -> None:
        self.patient = patient
        self.records.setEnabled(True)
        self._show_header()
        self._apply_permissions()
        self.refresh()

    # Actions ----------------------------------------------------------------------------

    def _checklist_skin_type(self, consultations: list[Consultation]) -> ChecklistSkinType | None:
        """The Fitzpatrick type of the newest consultation whose checklist recorded one
        (`consultations` newest first, each read with its own checklist version)."""
        for c in consultations:
            checklist = self.clinic.consultations.checklist_for(c)
            if not checklist.plays(SKIN_TYPE):
                continue
            value = c.answers.get(checklist.question_id(SKIN_TYPE))
            if isinstance(value, str) and value:
                return ChecklistSkinType(value, c.date, c.state)
        return None

    def _selected_row(self) -> ConsultationRow | None:
        row = selected_row(self.history_view)
        return self.history.record(row) if row is not None else None

    def _start_consultation(self) -> None:
        patient = self.patient
        if patient is None:
            return
        user = self.clinic.session.signed_in
        me = user.display_name if user is not None and "clinician" in user.roles else ""
        self.confirm_leave(
            lambda: run(
                self,
                lambda: self.clinic.consultations.start(patient.id, clinician=me),
                on_done=lambda c: self.open_consultation.emit(c.id),
            )
        )

    def _start_from_last(self) -> None:
        patient = self.patient
        if patient is None:
            return
        self.confirm_leave(
            lambda: run(
                self,
                lambda: self.clinic.repeat_visits.start_from_last(patient.id),
                on_done=lambda c: self.open_consultation.emit(c.id),
            )
        )

    def _open_selected(self) -> None:
        row = self._selected_row()
        if row is not None:
            self.open_consultation.emit(row.consultation.id)

    def _addendum(self) -> None:
        row = self._selected_row()
        if row is None or row.consultation.state != "signed":
            self.history_hint.set_status(
                "Select a signed consultation to correct with an addendum."
            )
            return
        self._start_addendum(row.consultation)

    def _start_addendum(self, original: Consultation, suggested: str = "") -> None:
        """Ask why (`suggested` fills the reason, to edit), then open the new draft."""
        self.confirm_leave(lambda: self._ask_addendum(original, suggested))

    def _ask_addendum(self, original: Consultation, suggested: str) -> None:
        from desktop.ui.dialogs.reason import ReasonDialog

        def start(reason: str) -> None:
            c = self.clinic.consultations.start_addendum(original.id, reason=reason)
            self.open_consultation.emit(c.id)

        dialog = ReasonDialog(
            "addendumDialog",
            "Addendum to a signed consultation",
            f"The consultation of {original.date.isoformat()} is signed and stays as it is. "
            "An addendum is a new draft that corrects it and names it. What needs correcting, "
            "and why?",
            "&Start addendum",
            start,
            self,
        )
        if suggested:
            dialog.reason.setPlainText(suggested)
        dialog.open()

    def _discard(self) -> None:
        row = self._selected_row()
        if row is None or row.consultation.state != "draft":
            self.history_hint.set_status("Select an unsigned draft to discard.")
            return
        draft = row.consultation
        from desktop.ui.dialogs.reason import ReasonDialog

        def discard(reason: str) -> None:
            self.clinic.repeat_visits.discard(draft.id, reason, revision=draft.revision)
            self.refresh()

        ReasonDialog(
            "discardDialog",
            "Discard a draft",
            f"The draft of {draft.date.isoformat()} is set aside: it leaves the lists but is "
            "kept in the database and the audit trail, and can never be changed again. Why is "
            "it not needed?",
            "&Discard draft",
            discard,
            self,
        ).open()

    def _record_spot(self) -> None:
        if self.patient is None:
            return
        from desktop.ui.dialogs.spots import RecordSpotDialog

        consultations = [r.consultation for r in self.history.records()]
        if not consultations:
            self.spots_hint.set_status("A test spot belongs to a consultation: start one first.")
            return
        selected = self._selected_row()
        dialog = RecordSpotDialog(
            self.clinic,
            consultations,
            selected.consultation.id if selected else consultations[0].id,
            self,
        )
        dialog.accepted.connect(self.refresh)
        dialog.open()

    def _review_spot(self) -> None:
        row = selected_row(self.spots_view)
        if row is None:
            self.spots_hint.set_status("Select a test spot to review.")
            return
        from desktop.ui.dialogs.spots import ReviewDialog

        spot = self.spots.record(row)
        week = 4 if spot.review(4) is None else 12
        dialog = ReviewDialog(self.clinic, spot, week, self)
        dialog.finished.connect(lambda _r: self.refresh())
        dialog.open()


def contact_summary(p: Patient) -> str:
    """The address on one line and the emergency contact, for the page header ("" when
    neither is recorded)."""
    parts: list[str] = []
    if p.address:
        parts.append("Address: " + ", ".join(p.address.splitlines()))
    contact = ", ".join(x for x in (p.emergency_contact_name, p.emergency_contact_phone) if x)
    if contact:
        parts.append(f"Emergency contact: {contact}")
    return "   ·   ".join(parts)


def spot_text(s: TestSpot) -> str:
    """A depigmented test spot in words: its site, when it was done, the review(s) that
    found depigmentation."""
    found = [
        f"{r.week}-week review ({r.reviewed_on.isoformat()})"
        for r in s.reviews
        if r.result == "depigmentation"
    ]
    return f"{s.site}, done {s.done_on.isoformat()}: depigmentation at the " + " and ".join(found)
