"""The consultation: a guided flow of steps, autosaved on every change, shown with the
checklist version the consultation was started (or moved) under."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.checklist import ChecklistDefinition, age_on
from desktop.checklist.roles import SKIN_TYPE
from desktop.clinic import Clinic
from desktop.errors import Conflict, IntakeError, StaleRecord, StorageError
from desktop.models import Consultation, Document, Patient, TestSpot
from desktop.ui.common.messages import Prompt
from desktop.ui.common.outage import Backoff
from desktop.ui.common.permissions import offer, refusal
from desktop.ui.common.printers import Printers, system_printers
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import (
    FieldMessage,
    first_focusable,
    heading_label,
    hint_label,
    set_tab_order,
)
from desktop.ui.consultation.assessment import AssessmentView
from desktop.ui.consultation.checklist import ChecklistForm
from desktop.ui.consultation.flow import (
    ASSESSMENT,
    CHECKLIST,
    PREVIEW,
    SIGN,
    SIGNATURES,
    STEPS,
    ConsultationFlow,
)
from desktop.ui.consultation.procedure import NOTICE_STYLE, ProcedureForm
from desktop.ui.consultation.signatures import SignaturesStep

if TYPE_CHECKING:
    from desktop.clinic import ConsultationOverview
    from desktop.ui.consultation.preview import ConsentPreview
    from desktop.ui.consultation.sign import SignStep

log = logging.getLogger(__name__)

TYPING_SAVE_DELAY_MS = 400
DISCARD_TIP = (
    "Set this draft aside (a stray or duplicate): it is kept in the records, hidden from lists."
)


class ConsultationPage(QWidget):
    """Steps on the left, the current step on the right; every change is saved at once.

    The page shows a `ConsultationFlow` built from one `clinic.consultations.overview(id)`,
    read again after each change: a checklist answer costs one save and one overview.
    """

    back_to_patient = Signal(str)
    home = Signal()
    shown = Signal()  # a consultation (or a fresh state of it) is on screen

    def __init__(
        self,
        clinic: Clinic,
        parent: QWidget | None = None,
        *,
        printers: Printers | None = None,
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.printers = printers if printers is not None else system_printers()
        self.consultation: Consultation | None = None
        self.flow: ConsultationFlow | None = None
        self.patient: Patient | None = None
        # The open consultation's own checklist version, and a form built per version used.
        self.definition: ChecklistDefinition = clinic.checklist
        self._forms: dict[tuple[str, str], ChecklistForm] = {}
        self._removed_roles: set[str] = set()  # signatures the user removed on purpose
        self._saved_entries: dict[str, str] = {}  # the form as last loaded or saved
        self.setObjectName("consultationPage")

        self.back_button = QPushButton("← Pa&tient")
        self.back_button.clicked.connect(self._back)
        self.title = heading_label("Consultation")
        self.subtitle = hint_label("")
        self.save_state = QLabel()
        self.save_state.setObjectName("saveState")
        self.save_state.setAccessibleName("Autosave status")
        self.date_badge = QLabel()
        self.date_badge.setObjectName("dateBadge")
        self.date_badge.setAccessibleName("Consultation date notice")
        self.date_badge.setStyleSheet(NOTICE_STYLE.format(name="dateBadge"))
        self.date_badge.hide()
        self.discard_button = QPushButton("Dis&card draft…")
        self.discard_button.setObjectName("discardDraft")
        self.discard_button.clicked.connect(self.ask_discard)
        # What the user must know before going on: entries not saved, signatures voided.
        self.notice = FieldMessage(warning=True)
        self.notice.setObjectName("consultationNotice")
        self.notice.setAccessibleName("Notice")
        # A draft on an older checklist version: offered the move to the newest.
        self.upgrade_bar = QFrame()
        self.upgrade_bar.setObjectName("upgradeBar")
        self.upgrade_bar.setStyleSheet(
            "QFrame#upgradeBar { background: #eef5fb; border: 1px solid #9cc3e6;"
            " border-left: 5px solid #0b4f8a; border-radius: 4px; }"
            " QLabel { color: #0b4f8a; background: transparent; border: none; }"
        )
        self.upgrade_text = QLabel()
        self.upgrade_text.setWordWrap(True)
        self.upgrade_button = QPushButton()
        self.upgrade_button.setObjectName("moveChecklist")
        self.upgrade_button.clicked.connect(self.ask_upgrade)
        upgrade_row = QHBoxLayout(self.upgrade_bar)
        upgrade_row.setContentsMargins(8, 4, 4, 4)
        upgrade_row.addWidget(self.upgrade_text, 1)
        upgrade_row.addWidget(self.upgrade_button)
        self.upgrade_bar.hide()

        self.steps = QListWidget()
        self.steps.setObjectName("steps")
        self.steps.setAccessibleName("Consultation steps")
        self.steps.setFixedWidth(250)
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.steps.setStyleSheet(
            "QListWidget#steps::item { padding: 6px 6px; border-bottom: 1px solid #e3e7ea; }"
            " QListWidget#steps::item:selected { background: #1f5fa8; color: white; }"
        )
        for i, name in enumerate(STEPS):
            self.steps.addItem(f"{i + 1}  {name}")
        self.steps.currentRowChanged.connect(self._step_changed)

        self.procedure = ProcedureForm(
            lambda: [u.display_name for u in clinic.accounts.clinicians()], clinic.today
        )
        # Typing is saved after a short pause (and at once when leaving the page); choices are
        # saved at once. Each save is one small transaction plus an audit entry.
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(TYPING_SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save)
        # A save the database did not take (out of reach): tried again, sooner then less often,
        # until it is saved; what was typed stays on screen meanwhile.
        self._retry = Backoff(self)
        self._retry.due.connect(self._save)
        self.procedure.changed.connect(self._typed)
        self.checklist = self._form(self.definition)
        self.assessment = AssessmentView(clinic)
        self.assessment.go_to_question.connect(self.go_to_question)
        self.assessment.override_changed.connect(self._reload)
        self.assessment.record_test_spot.connect(self._record_test_spot)
        self.assessment.record_review.connect(self._record_review)
        self.signatures = SignaturesStep(clinic, shown=self._shown_sha256)
        self.signatures.changed.connect(self._reload)
        self.signatures.removed.connect(self._removed_roles.add)
        self.signatures.make_me_clinician.connect(self.make_me_clinician)
        self._preview: ConsentPreview | None = None
        self._sign: SignStep | None = None
        self.stack = QStackedWidget()
        self._placeholders = {PREVIEW: QWidget(), SIGN: QWidget()}
        for i, page in enumerate(
            (
                self.procedure,
                self.checklist,
                self.assessment,
                self._placeholders[PREVIEW],
                self.signatures,
                self._placeholders[SIGN],
            )
        ):
            self.stack.insertWidget(i, page)

        self.prev_button = QPushButton("← &Back")
        self.prev_button.clicked.connect(lambda: self.go_to_step(self.steps.currentRow() - 1))
        self.next_button = QPushButton("&Next →")
        self.next_button.setObjectName("nextStep")
        self.next_button.clicked.connect(lambda: self.go_to_step(self.steps.currentRow() + 1))
        QShortcut(
            QKeySequence("Ctrl+PgDown"), self, lambda: self.go_to_step(self.current_step() + 1)
        )
        QShortcut(QKeySequence("Ctrl+PgUp"), self, lambda: self.go_to_step(self.current_step() - 1))

        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addSpacing(12)
        head.addWidget(self.title)
        head.addWidget(self.subtitle, 1)
        head.addWidget(self.date_badge)
        head.addWidget(self.save_state)
        head.addWidget(self.discard_button)
        nav = QHBoxLayout()
        nav.addWidget(hint_label("Ctrl+PgUp / Ctrl+PgDown: previous / next step"), 1)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.next_button)
        right = QVBoxLayout()
        right.addWidget(self.stack, 1)
        right.addLayout(nav)
        body = QHBoxLayout()
        body.addWidget(self.steps)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.notice)
        layout.addWidget(self.upgrade_bar)
        layout.addLayout(body, 1)
        set_tab_order(self.back_button, self.upgrade_button, self.steps)

    def _form(self, definition: ChecklistDefinition) -> ChecklistForm:
        """The checklist form of `definition`'s version (built once per version)."""
        key = (definition.id, definition.version)
        form = self._forms.get(key)
        if form is None:
            form = ChecklistForm(definition)
            form.answers_changed.connect(lambda _a: self._save())
            self._forms[key] = form
        return form

    def _use_checklist(self, definition: ChecklistDefinition) -> None:
        """Show the form of the open consultation's own checklist version."""
        self.definition = definition
        form = self._form(definition)
        if form is self.checklist:
            return
        self.stack.removeWidget(self.checklist)
        self.stack.insertWidget(CHECKLIST, form)
        self.checklist = form

    # Loading ----------------------------------------------------------------------------

    def load(self, consultation_id: str) -> None:
        """Open a consultation (draft or signed) exactly as stored.

        Raises Conflict while the open draft holds entries the database has not taken yet
        (out of reach): they are saved first, never replaced by what is stored.
        """
        self.flush()
        if self.save_pending():
            raise Conflict(self._unsaved_text())
        if self.consultation is None or self.consultation.id != consultation_id:
            self.notice.show_message("")
            self.flow = None
        overview = self.clinic.consultations.overview(consultation_id)
        c = overview.consultation
        self.patient = self.clinic.patients.get(c.patient_id)
        self.procedure.load(c)
        self._use_checklist(self.clinic.consultations.checklist_for(c))
        self.checklist.set_answers(c.answers, c.unconfirmed)
        fitz = self.patient.fitzpatrick
        skin_type = self.checklist.questions.get(self.definition.question_id(SKIN_TYPE))
        if skin_type is not None:
            skin_type.set_extra(f"Patient record: type {fitz}." if fitz else "")
        signed = c.state == "signed"
        why_not = refusal(self.clinic.session, "consultation.edit")
        locked = signed or bool(why_not)
        self.procedure.set_read_only(locked)
        self.checklist.set_read_only(
            locked, examination=self.clinic.session.can("consultation.examine")
        )
        self.save_state.setText(
            "Signed: read-only" if signed else ("Read-only" if locked else "✔ Saved")
        )
        if why_not and not signed:
            self.notice.show_message(f"This draft is shown read-only. {why_not}")
        self.discard_button.setVisible(not signed)
        offer(self.discard_button, self.clinic.session, "consultation.edit", DISCARD_TIP)
        flow = self._show(overview)
        self._saved_entries = self.entries()
        self.steps.setCurrentRow(-1)
        self.go_to_step(flow.start_step())

    def _show(self, overview: ConsultationOverview) -> ConsultationFlow:
        """Take a fresh overview: the header and the step list follow it."""
        if self.flow is not None and self.flow.consultation.id == overview.consultation.id:
            lost = self.flow.overview.signed_roles - overview.signed_roles - self._removed_roles
            if lost:
                who = " and ".join(sorted(lost))
                self.notice.show_message(
                    f"The sheet changed after the {who} signed, so that signature no longer "
                    "stands: show them the sheet again (step 4, Preview) and ask them to sign "
                    "again."
                )
        self._removed_roles.clear()
        self.flow = flow = ConsultationFlow(overview)
        self.consultation = overview.consultation
        self._show_header()
        self._show_upgrade(overview)
        self._update_steps()
        self.shown.emit()
        return flow

    def _read(self) -> ConsultationFlow | None:
        """Read the open consultation's overview again (after it changed) and show it."""
        if self.consultation is None:
            return None
        return self._show(self.clinic.consultations.overview(self.consultation.id))

    def _show_header(self) -> None:
        c, p = self.consultation, self.patient
        if c is None or p is None:
            return
        kind = "Addendum" if c.amends_id else "Consultation"
        self.title.setText(f"{kind}: {p.full_name}")
        state = "signed" if c.state == "signed" else "draft (autosaved)"
        self.subtitle.setText(
            f"born {p.date_of_birth.isoformat()}, age {age_on(p.date_of_birth, c.date)} · "
            f"{c.date.isoformat()} · checklist {c.checklist_version} · {state}"
        )
        self.subtitle.setToolTip(
            f"Checklist {c.checklist_id}, version {c.checklist_version}: this consultation is "
            "assessed, printed and shown with that version."
        )
        today = self.clinic.today()
        if c.date != today:
            when = "future" if c.date > today else "past"
            self.date_badge.setText(f"⚠ Dated {c.date.isoformat()}: not today ({when})")
            self.date_badge.setToolTip(
                f"Today is {today.isoformat()}. The consent sheet prints the consultation date."
            )
        self.date_badge.setVisible(c.date != today)

    def _reload(self) -> None:
        if self._read() is not None:
            self._refresh_step(self.current_step())

    # Autosave ---------------------------------------------------------------------------

    def _typed(self) -> None:
        self.save_state.setText("… saving")
        self._save_timer.start()

    def _save(self) -> None:
        self._save_timer.stop()
        self._retry.stop()
        c = self.consultation
        if c is None or c.state != "draft":
            return
        run(
            self,
            lambda: self.clinic.consultations.save_draft(
                c.id,
                answers=self.checklist.answers(),
                procedure=self.procedure.procedure(),
                clinician=self.procedure.clinician_name(),
                on=self.procedure.consultation_date(),
                revision=c.revision,
                confirmed=self.checklist.confirmed(),
            ),
            on_done=self._saved,
            on_error=self._not_saved,
        )

    def _saved(self, c: Consultation) -> None:
        self._retry.reset()
        self.checklist.set_unconfirmed(c.unconfirmed)
        self._saved_entries = self.entries()
        self.procedure.message.show_message("")
        self.save_state.setText(f"✔ Saved {self.clinic.clock().strftime('%H:%M:%S')}")
        self.save_state.setToolTip("Every change is saved as you make it.")
        self._read()
        if self.current_step() == ASSESSMENT:
            self._refresh_step(ASSESSMENT)

    def _not_saved(self, exc: IntakeError) -> None:
        self.save_state.setText("✖ Not saved")
        self.save_state.setToolTip(exc.message)
        if isinstance(exc, StaleRecord):
            self._retry.reset()
            self._changed_elsewhere(exc)
            return
        if isinstance(exc, StorageError):
            # Not the user's doing: tried again by itself (the save keeps its revision
            # check, so a colleague's change in between is never overwritten).
            delay = self._retry.schedule()
            self.save_state.setText(f"✖ Not saved · trying again in {delay:.0f} s")
        else:
            self._retry.reset()
        self.procedure.message.show_error(exc)

    def save_pending(self) -> bool:
        """Whether the open draft holds entries the database did not take yet (retried)."""
        return self._retry.pending

    def retry_save(self) -> None:
        """Try the save that waits for the database now."""
        if self._retry.pending:
            self._save()

    def _unsaved_text(self) -> str:
        who = self.patient.full_name if self.patient is not None else "the patient"
        return (
            f"The open draft of {who} is not saved yet: the database did not take it. Clinic "
            "Intake keeps trying and what was typed stays on screen; open another "
            "consultation once it says Saved (or press Try again now)."
        )

    def _changed_elsewhere(self, exc: StaleRecord) -> None:
        """Someone saved this consultation since it was opened here: offer their version,
        and keep what was typed here on screen, to enter again where it still holds."""
        mine = {k: v for k, v in self.entries().items() if self._saved_entries.get(k) != v}
        box = Prompt(
            QMessageBox.Icon.Warning,
            "Changed by someone else",
            exc.message,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("staleRecord")
        box.button(QMessageBox.StandardButton.Ok).setText("&Reload the current version")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: self._reload_keeping(mine, exc.changed_by))
        box.open()

    def entries(self) -> dict[str, str]:
        """What the form shows now, label -> value as read (for the not-saved list)."""
        shown: dict[str, str] = self.procedure.entries()
        questions = {q.id: q for q in self.definition.questions}
        for qid, value in self.checklist.answers().items():
            q = questions.get(qid)
            if q is None or value in (None, ""):
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            text = ", ".join(q.label(str(v)) for v in values) or "none"
            shown[f"{qid} {q.text}"] = text
        return shown

    def _reload_keeping(self, mine: dict[str, str], changed_by: str) -> None:
        """Show the current version; list the entries typed here that it does not hold."""
        if self.consultation is None:
            return
        self.load(self.consultation.id)
        theirs = self.entries()
        lost = [f"{label}: {value}" for label, value in mine.items() if theirs.get(label) != value]
        if lost:
            self.notice.show_message(
                f"Reloaded {changed_by}'s version. These entries of yours were not saved; enter "
                "them again if they are still right:\n• " + "\n• ".join(lost)
            )
        else:
            self.notice.show_message(f"Reloaded {changed_by}'s version; nothing of yours was lost.")

    def flush(self) -> None:
        """Save typing still waiting for its pause, or a save waiting to be tried again
        (leaving the page, locking, closing)."""
        if self._save_timer.isActive() or self._retry.pending:
            self._save()

    # Steps ------------------------------------------------------------------------------

    def current_step(self) -> int:
        return self.steps.currentRow()

    def go_to_step(self, index: int) -> None:
        if 0 <= index < len(STEPS):
            self.steps.setCurrentRow(index)

    def go_to_question(self, qid: str) -> None:
        self.go_to_step(CHECKLIST)
        self.checklist.focus_question(qid)

    def _step_changed(self, index: int) -> None:
        if index < 0:
            return
        self.flush()
        if index == PREVIEW:
            self.preview_step()
        elif index == SIGN:
            self.sign_step()
        focus = QApplication.focusWidget()
        typing = focus is not None and self.stack.isAncestorOf(focus)
        self.stack.setCurrentIndex(index)
        self._refresh_step(index)
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(STEPS) - 1)
        if index == CHECKLIST:
            # Where work goes on: the first question this user can answer (never the
            # examination findings for someone who may not record them).
            self.checklist.show_first_needed(focus=typing)
        elif typing:
            self._focus_step(index)

    def _focus_step(self, index: int) -> None:
        """The cursor was in the step just left (Ctrl+PgDown): put it at the new step's start."""
        page = self.stack.widget(index)
        target = first_focusable(page) if page is not None else None
        (target or self.steps).setFocus(Qt.FocusReason.OtherFocusReason)

    def _refresh_step(self, index: int) -> None:
        flow = self.flow
        if flow is None or self.patient is None:
            return
        if index == ASSESSMENT:
            self.assessment.show_assessment(flow, self.definition)
        elif index == PREVIEW:
            self.preview_step().show_for(flow.consultation)
        elif index == SIGNATURES:
            self.signatures.show_for(flow, self.patient)
        elif index == SIGN:
            self.sign_step().show_for(flow, self.definition)

    def preview_step(self) -> ConsentPreview:
        if self._preview is None:
            from desktop.ui.consultation.preview import ConsentPreview  # QtPdf loads on first use

            self._preview = ConsentPreview(self.clinic)
            self._preview.photo_changed.connect(self._read)
            self._swap(PREVIEW, self._preview)
        return self._preview

    def sign_step(self) -> SignStep:
        if self._sign is None:
            from desktop.ui.consultation.sign import SignStep

            self._sign = SignStep(self.clinic, printers=self.printers)
            self._sign.signed.connect(self._signed)
            self._sign.signing.connect(self._signing)
            self._sign.make_me_clinician.connect(self.make_me_clinician)
            self._swap(SIGN, self._sign)
        return self._sign

    def _swap(self, index: int, widget: QWidget) -> None:
        old = self._placeholders.pop(index)
        self.stack.removeWidget(old)
        old.deleteLater()
        self.stack.insertWidget(index, widget)

    def _update_steps(self) -> None:
        flow = self.flow
        if flow is None:
            return
        for i in range(len(STEPS)):
            item = self.steps.item(i)
            text = flow.label(i)
            item.setText(text)
            item.setToolTip(text.replace("\n", " · "))

    # Moving a draft to the newest checklist ----------------------------------------------

    def _show_upgrade(self, overview: ConsultationOverview) -> None:
        """Offer the move to the newest checklist while the draft is on an older one."""
        newest = overview.newer_checklist
        self.upgrade_bar.setVisible(newest is not None)
        if newest is None:
            return
        c = overview.consultation
        self.upgrade_text.setText(
            f"This draft uses checklist {c.checklist_version}; version {newest} is newer. A "
            "draft may move to it (its answers carry over); once signed it stays on its version."
        )
        self.upgrade_button.setText(f"Move to checklist {newest}…")
        offer(
            self.upgrade_button,
            self.clinic.session,
            "consultation.edit",
            "Carry the answers over to the newest checklist and answer its new questions.",
        )

    def ask_upgrade(self) -> QMessageBox | None:
        """Say what moving the draft to the newest checklist does; move it once confirmed."""
        flow, c = self.flow, self.consultation
        if flow is None or c is None or flow.overview.newer_checklist is None:
            return None
        self.flush()
        newest = self.clinic.checklist
        known = {q.id for q in self.definition.questions}
        added = [q for q in newest.questions if q.id not in known]
        details = [
            "Every answer given carries over unchanged."
            + (
                f" Checklist {newest.version} asks {len(added)} more question"
                f"{'s' if len(added) != 1 else ''} ({', '.join(q.id for q in added)}): the "
                "assessment shows again once they are answered."
                if added
                else ""
            )
        ]
        if c.override is not None:
            details.append("The clinician's override is cleared: a clinician decides again.")
        if flow.overview.signatures:
            details.append(
                "The signatures captured so far no longer stand (the sheets change): sign again."
            )
        buttons = QMessageBox.StandardButton
        box = Prompt(
            QMessageBox.Icon.Question,
            "Move to the newest checklist",
            f"Move this draft from checklist {c.checklist_version} to {newest.version}?",
            buttons.Cancel,
            self.window(),
        )
        box.setObjectName("moveChecklist")
        box.setInformativeText("\n".join(details))
        move = box.addButton(f"&Move to {newest.version}", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(move)
        box.setEscapeButton(buttons.Cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda b: self.upgrade() if b is move else None)
        box.open()
        return box

    def upgrade(self) -> None:
        """Move the open draft to the newest checklist, then go to its first missing question."""
        c = self.consultation
        if c is None:
            return
        self.flush()
        if self.save_pending():  # moved only with every entry saved first
            self.notice.show_message(self._unsaved_text())
            return
        moved = run(
            self,
            lambda: self.clinic.consultations.upgrade_checklist(c.id, revision=c.revision),
            on_error=self._not_moved,
        )
        if not moved.ok:
            return
        self.load(c.id)
        flow = self.flow
        if flow is not None and flow.missing:
            self.go_to_question(flow.missing[0])
        self.notice.show_message("")

    def _not_moved(self, exc: IntakeError) -> None:
        if isinstance(exc, StaleRecord):
            self._changed_elsewhere(exc)
        else:
            self.notice.show_error(exc)

    # Other actions ----------------------------------------------------------------------

    def ask_discard(self) -> None:
        """Ask why this draft should be discarded; discard it once a reason is given."""
        c = self.consultation
        if c is None or c.state != "draft":
            return
        from desktop.ui.dialogs.reason import ReasonDialog

        self.flush()
        dialog = ReasonDialog(
            "discardDialog",
            "Discard this draft",
            "The draft is set aside: it leaves the lists but is kept in the database and the "
            "audit trail, and can never be changed again. Why is it not needed?",
            "&Discard draft",
            self.discard,
            self,
        )
        dialog.open()

    def discard(self, reason: str) -> None:
        """Discard the open draft with `reason`, then go back to the patient."""
        c = self.consultation
        if c is None:
            return
        self._save_timer.stop()
        self.clinic.repeat_visits.discard(c.id, reason, revision=self.consultation_revision())
        self._retry.reset()  # set aside: nothing of it is saved any more
        self.consultation = None
        self.flow = None
        self.back_to_patient.emit(c.patient_id)

    def consultation_revision(self) -> int | None:
        return self.consultation.revision if self.consultation is not None else None

    def make_me_clinician(self) -> None:
        """Name the signed-in clinician on step 1 of the open draft (a save like any other,
        audited), so that they can sign as its clinician."""
        user = self.clinic.session.signed_in
        if self.consultation is None or user is None:
            return
        self.flush()
        c = self.consultation
        if c.state != "draft":
            return
        run(
            self,
            lambda: self.clinic.consultations.save_draft(
                c.id, clinician=user.display_name, revision=c.revision
            ),
            on_done=self._clinician_named,
            on_error=self._not_saved,
        )

    def _clinician_named(self, c: Consultation) -> None:
        self.procedure.load(c)  # step 1 shows the new clinician; later edits keep it
        self._saved(c)
        self._refresh_step(self.current_step())

    def _signing(self, busy: bool) -> None:
        """While the documents are sealed, the consultation stays where it is."""
        for w in (self.steps, self.prev_button, self.next_button, self.back_button):
            w.setEnabled(not busy)
        if not busy:
            self.prev_button.setEnabled(self.current_step() > 0)
            self.next_button.setEnabled(self.current_step() < len(STEPS) - 1)

    def _signed(self, _docs: list[Document]) -> None:
        if self.consultation is not None:
            self.load(self.consultation.id)

    def _record_test_spot(self) -> None:
        c = self.consultation
        if c is None:
            return
        from desktop.ui.dialogs.spots import RecordSpotDialog

        dialog = RecordSpotDialog(self.clinic, [c], c.id, self)
        dialog.finished.connect(lambda _r: self._reload())  # a result may reassess the draft
        dialog.open()

    def _record_review(self, spot: TestSpot) -> None:
        """Record the 4-week review a test spot still waits for (late: dated when done)."""
        from desktop.ui.dialogs.spots import ReviewDialog

        dialog = ReviewDialog(self.clinic, spot, 4, self)
        dialog.finished.connect(lambda _r: self._reload())  # the review reassesses the draft
        dialog.open()

    def _shown_sha256(self) -> str | None:
        """The content hash of the sheet the preview showed for this consultation, if any."""
        preview = self._preview
        if preview is None or preview.shown is None or preview.consultation is None:
            return None
        if self.consultation is None or preview.consultation.id != self.consultation.id:
            return None
        return preview.shown.content_sha256

    def _back(self) -> None:
        if self.consultation is not None:
            self.back_to_patient.emit(self.consultation.patient_id)
        else:
            self.home.emit()

    def has_documents(self) -> bool:
        flow = self.flow
        return flow is not None and flow.signed and bool(flow.overview.documents)

    def print_document(self) -> None:
        self.go_to_step(SIGN)
        self.sign_step().print_document()

    def preview_document(self) -> None:
        self.go_to_step(SIGN)
        self.sign_step().preview_document()

    def focus_current(self) -> None:
        self.steps.setFocus(Qt.FocusReason.OtherFocusReason)
