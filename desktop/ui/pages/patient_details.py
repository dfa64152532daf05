"""The patient details form: inline validation as you type, what a typed date or phone number
was read as, the duplicate-patient warning, and unsaved changes kept track of."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.checklist.roles import SKIN_TYPE
from desktop.clinic import Clinic
from desktop.clinic.patient_fields import FIELDS, LABELS
from desktop.errors import DuplicatePatient, IntakeError, StaleRecord
from desktop.models import FITZPATRICK_TYPES, Patient
from desktop.ui.common.permissions import refusal
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import FieldMessage, hint_label, set_tab_order

log = logging.getLogger(__name__)

# One-line inputs, in the order the form shows them: the address (several lines) comes
# between these two groups, the skin type and the notes after them.
CONTACT_FIELDS = ("given_name", "family_name", "date_of_birth", "phone", "email")
EMERGENCY_FIELDS = ("emergency_contact_name", "emergency_contact_phone")
NAME_FIELDS = {"given_name": "The given name", "family_name": "The family name"}
PHONE_FIELDS = ("phone", "emergency_contact_phone")
# Each input's label (with its Alt shortcut) and placeholder.
FIELD_LABELS = {
    "given_name": ("&Given name", ""),
    "family_name": ("Fa&mily name", "Leave empty for a person with a single name"),
    "date_of_birth": ("Date of &birth", "YYYY-MM-DD or DD.MM.YYYY"),
    "phone": ("&Phone", "e.g. +44 7700 900123"),
    "email": ("Emai&l", "name@example.com"),
    "address": ("A&ddress", ""),
    "emergency_contact_name": ("Emergenc&y contact", "Name, and who they are (e.g. sister)"),
    "emergency_contact_phone": ("Emergency contact's phone", "e.g. +44 7700 900456"),
}
UNDERSTOOD_STYLE = "color: #0b4f8a; font-size: 9pt;"


@dataclass(frozen=True)
class ChecklistSkinType:
    """The Fitzpatrick type a consultation's checklist recorded: `value` ("IV"), on the
    consultation dated `on`, whose state is `state` (draft or signed)."""

    value: str
    on: date
    state: str

    def where(self) -> str:
        return f"the checklist of {self.on.isoformat()} ({self.state})"


class PatientForm(QWidget):
    """Register or edit one patient; emits `saved` with the stored record.

    Every field of desktop.clinic.patient_fields.FIELDS has an input and an inline message
    under it; under the date of birth and the phone numbers, what the typed text was read as
    (`understood`). `has_unsaved_changes` compares the inputs with the record last loaded.
    """

    saved = Signal(object)
    open_existing = Signal(str)
    _checked = Signal(str, str, str)  # field, the text checked, its warning ("" prints whole)

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.patient: Patient | None = None
        self._touched: set[str] = set()
        self._duplicate_ids: tuple[str, ...] = ()
        self._loaded: dict[str, object] = {}  # the inputs as last loaded or saved
        self._loading = False

        self.edits: dict[str, QLineEdit] = {}
        self.messages: dict[str, FieldMessage] = {}  # one per field, in visual order
        self.print_warnings: dict[str, FieldMessage] = {}
        self.understood: dict[str, QLabel] = {}
        self._checked.connect(self._show_unprintable)
        self.inputs: list[QWidget] = []  # every input in visual order: the Tab order
        self.read_only_notice = FieldMessage(warning=True)
        self.read_only_notice.setObjectName("readOnlyNotice")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for name in CONTACT_FIELDS:
            self._add_line(form, name)
        self.edits["date_of_birth"].textChanged.connect(lambda _t: self._show_understood())

        self.address = QPlainTextEdit()
        self.address.setObjectName("address")
        self.address.setAccessibleName(LABELS["address"])
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(60)
        self.address.textChanged.connect(lambda: self._edited("address"))
        self._add_row(form, FIELD_LABELS["address"][0], self.address, "address")

        for name in EMERGENCY_FIELDS:
            self._add_line(form, name)
        for name in PHONE_FIELDS:
            self.edits[name].textChanged.connect(lambda _t: self._show_understood())

        self.fitzpatrick = QComboBox()
        self.fitzpatrick.setObjectName("fitzpatrick")
        self.fitzpatrick.setAccessibleName("Fitzpatrick skin type")
        # Narrower than its longest description (shown whole in the open list): the form
        # fits its column without a horizontal scroll bar.
        self.fitzpatrick.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.fitzpatrick.setMinimumContentsLength(18)
        self.fitzpatrick.addItem("Not recorded", None)
        for label, value in self._fitzpatrick_items():
            self.fitzpatrick.addItem(label, value)
        self.fitzpatrick.currentIndexChanged.connect(lambda _i: self._skin_type_changed())
        # The type the latest checklist recorded, when the record says otherwise or nothing:
        # the record changes only when someone saves it (one click copies the type here).
        self.checklist_skin: ChecklistSkinType | None = None
        self.skin_note = QWidget()
        self.skin_note.setObjectName("checklistSkinType")
        self.skin_note_text = hint_label("")
        self.skin_note_text.setStyleSheet(UNDERSTOOD_STYLE)
        self.use_skin_type = QPushButton()
        self.use_skin_type.setObjectName("useChecklistSkinType")
        self.use_skin_type.clicked.connect(self._use_checklist_skin_type)
        note = QHBoxLayout(self.skin_note)
        note.setContentsMargins(0, 0, 0, 0)
        note.addWidget(self.skin_note_text, 1)
        note.addWidget(self.use_skin_type, 0, Qt.AlignmentFlag.AlignTop)
        self.skin_note.hide()
        self._add_row(
            form, "S&kin type (Fitzpatrick)", self.fitzpatrick, "fitzpatrick", self.skin_note
        )

        self.notes = QPlainTextEdit()
        self.notes.setObjectName("notes")
        self.notes.setAccessibleName("Notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(72)
        self.notes.textChanged.connect(lambda: self._edited("notes"))
        self._add_row(form, "&Notes", self.notes, "notes")

        self.duplicate_box = QFrame()
        self.duplicate_box.setObjectName("duplicateWarning")
        self.duplicate_box.setStyleSheet(
            "QFrame#duplicateWarning { background: #fff3d6; border: 1px solid #6b4100;"
            " border-radius: 4px; } QLabel { color: #6b4100; }"
        )
        self.duplicate_text = QLabel()
        self.duplicate_text.setWordWrap(True)
        self.open_existing_button = QPushButton("Open e&xisting record")
        self.open_existing_button.clicked.connect(self._open_existing)
        self.different_button = QPushButton("&This is a different person")
        self.different_button.clicked.connect(lambda: self.save(allow_duplicate=True))
        dup_layout = QVBoxLayout(self.duplicate_box)
        dup_layout.addWidget(self.duplicate_text)
        dup_buttons = QHBoxLayout()
        dup_buttons.addWidget(self.open_existing_button)
        dup_buttons.addWidget(self.different_button)
        dup_buttons.addStretch(1)
        dup_layout.addLayout(dup_buttons)
        self.duplicate_box.hide()

        self.form_message = FieldMessage()
        self.save_button = QPushButton("&Save patient")
        self.save_button.setObjectName("savePatient")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save_clicked)
        self.status = hint_label("")
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.read_only_notice)
        layout.addLayout(form)
        layout.addWidget(self.duplicate_box)
        layout.addWidget(self.form_message)
        layout.addLayout(buttons)
        layout.addStretch(1)

        set_tab_order(*self.focus_order())
        self._loaded = self.values()

    def focus_order(self) -> list[QWidget]:
        """The form's Tab order: each input once, top to bottom, then the duplicate warning's
        buttons (when shown) and Save."""
        skin = self.inputs.index(self.fitzpatrick) + 1
        inputs = [*self.inputs[:skin], self.use_skin_type, *self.inputs[skin:]]
        return [*inputs, self.open_existing_button, self.different_button, self.save_button]

    def _add_line(self, form: QFormLayout, name: str) -> None:
        """A one-line input with its message (and, for names, the unprintable-character
        warning; for dates and phones, what was understood)."""
        text, placeholder = FIELD_LABELS[name]
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(LABELS[name])
        edit.textEdited.connect(lambda _t, n=name: self._edited(n))
        edit.editingFinished.connect(lambda n=name: self._left(n))
        self.edits[name] = edit
        extra: QWidget | None = None
        if name in NAME_FIELDS:  # a warning, not an error: the name is stored as written
            extra = self.print_warnings[name] = FieldMessage(warning=True)
            extra.setObjectName(f"{name}_print_warning")
        elif name == "date_of_birth" or name in PHONE_FIELDS:
            extra = self.understood[name] = hint_label("")
            extra.setObjectName(f"{name}_understood")
            extra.setStyleSheet(UNDERSTOOD_STYLE)
            extra.hide()
        self._add_row(form, text, edit, name, extra)

    def _add_row(
        self,
        form: QFormLayout,
        text: str,
        field: QWidget,
        name: str,
        extra: QWidget | None = None,
    ) -> None:
        self.inputs.append(field)
        self.messages[name] = FieldMessage()
        label = QLabel(text)
        label.setBuddy(field)
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(field)
        box.addWidget(self.messages[name])
        if extra is not None:
            box.addWidget(extra)
        form.addRow(label, box)

    def widget(self, name: str) -> QWidget:
        """The input of the field `name` (desktop.clinic.patient_fields.FIELDS)."""
        others: dict[str, QWidget] = {
            "address": self.address,
            "fitzpatrick": self.fitzpatrick,
            "notes": self.notes,
        }
        return self.edits.get(name) or others[name]

    def show_checklist_skin_type(self, recorded: ChecklistSkinType | None) -> None:
        """Say which type the latest checklist recorded where it differs from the type the
        form shows (none recorded, or another), and offer to use it."""
        self.checklist_skin = recorded
        self._show_skin_note()

    def _show_skin_note(self) -> None:
        """Shown while the stored record differs from the checklist's type (choosing the
        type in the form keeps the note, so nothing below it moves before Save)."""
        recorded = self.checklist_skin
        stored = self.patient.fitzpatrick if self.patient is not None else None
        if recorded is None or recorded.value == stored:
            self.skin_note.hide()
            return
        where = recorded.where()
        self.skin_note_text.setText(
            f"Not on the patient's record: {where} recorded type {recorded.value}."
            if stored is None
            else f"{where[0].upper()}{where[1:]} recorded type {recorded.value}."
        )
        chosen = self.fitzpatrick.currentData() == recorded.value
        self.use_skin_type.setText(f"Use type {recorded.value}")
        self.use_skin_type.setToolTip(
            f"Type {recorded.value} is chosen: Save changes records it on the patient."
            if chosen
            else f"Choose type {recorded.value} here; Save changes records it on the patient."
        )
        self.use_skin_type.setEnabled(self.fitzpatrick.isEnabled() and not chosen)
        self.skin_note.show()

    def _use_checklist_skin_type(self) -> None:
        recorded = self.checklist_skin
        if recorded is not None:
            self.fitzpatrick.setCurrentIndex(max(self.fitzpatrick.findData(recorded.value), 0))
            self.fitzpatrick.setFocus(Qt.FocusReason.OtherFocusReason)

    def _skin_type_changed(self) -> None:
        self._edited("fitzpatrick")
        self._show_skin_note()

    def _fitzpatrick_items(self) -> list[tuple[str, str]]:
        """Type and description, taken from the checklist's own skin-type question."""
        q = self.clinic.checklist.role_question(SKIN_TYPE)
        if set(q.values) == set(FITZPATRICK_TYPES):
            return [(t.label, t.value) for t in q.tokens]
        return [(t, t) for t in FITZPATRICK_TYPES]

    # State ------------------------------------------------------------------------------

    def load(self, patient: Patient | None) -> None:
        """Fill the form from a patient, or clear it for a new one."""
        self.patient = patient
        self.checklist_skin = None  # the page says again what this patient's checklists hold
        self._touched.clear()
        self._duplicate_ids = ()
        self.duplicate_box.hide()
        self.form_message.show_message("")
        self._loading = True
        try:
            for name, edit in self.edits.items():
                value = getattr(patient, name) if patient else ""
                edit.setText(value.isoformat() if isinstance(value, date) else str(value))
            index = self.fitzpatrick.findData(patient.fitzpatrick if patient else None)
            self.fitzpatrick.setCurrentIndex(max(index, 0))
            self.address.setPlainText(patient.address if patient else "")
            self.notes.setPlainText(patient.notes if patient else "")
        finally:
            self._loading = False
        for message in self.messages.values():
            message.show_message("")
        self._warn_unprintable()
        self._show_understood()
        self.save_button.setText("&Save changes" if patient else "Regi&ster patient")
        self.status.setText("")
        self._loaded = self.values()

    def values(self) -> dict[str, object]:
        """Every field as typed (desktop.clinic.patient_fields.FIELDS)."""
        fields: dict[str, object] = {n: e.text() for n, e in self.edits.items()}
        fields["fitzpatrick"] = self.fitzpatrick.currentData() or ""
        fields["address"] = self.address.toPlainText()
        fields["notes"] = self.notes.toPlainText()
        return {name: fields[name] for name in FIELDS}

    def has_unsaved_changes(self) -> bool:
        """Whether the inputs differ from the record as last loaded or saved (for a new
        patient: whether anything was typed)."""
        return self.values() != self._loaded

    def discard_changes(self) -> None:
        """Show the record as last loaded or saved again (a new patient: an empty form)."""
        self.load(self.patient)

    def changed_fields(self) -> list[str]:
        """The labels of the fields that differ from the record as loaded, in form order."""
        now = self.values()
        return [LABELS[n] for n in FIELDS if now[n] != self._loaded.get(n)]

    def focus_first(self) -> None:
        self.edits["given_name"].setFocus(Qt.FocusReason.OtherFocusReason)

    def apply_permissions(self) -> None:
        """A user who may not register or edit patients sees the form read-only, told so at
        the top (never a form that only fails at Save)."""
        why = refusal(self.clinic.session, "patient.edit")
        for edit in self.edits.values():
            edit.setReadOnly(bool(why))
        self.address.setReadOnly(bool(why))
        self.notes.setReadOnly(bool(why))
        self.fitzpatrick.setEnabled(not why)
        self._show_skin_note()  # its button follows the skin type field
        self.save_button.setEnabled(not why)
        self.save_button.setToolTip(why)
        self.read_only_notice.show_message(f"Read-only: {why}" if why else "")

    # Inline validation ------------------------------------------------------------------

    def _edited(self, name: str) -> None:
        if self._loading:
            return  # filled by load(), not typed
        if name != "date_of_birth" or len(self.edits[name].text().strip()) >= 8:
            self._touched.add(name)
        self.status.setText("")
        if self._duplicate_ids:
            self._duplicate_ids = ()
            self.duplicate_box.hide()
        self.validate()

    def _left(self, name: str) -> None:
        if self.edits[name].text().strip() or name in self._touched:
            self._touched.add(name)
            self.validate()

    def _shown(self, name: str) -> bool:
        """Whether `name`'s message shows: once the field was typed in (or left); a missing
        name also once the other name field was (the message waits on the given name)."""
        if name in self._touched:
            return True
        return name == "given_name" and "family_name" in self._touched

    def validate(self, *, everything: bool = False) -> dict[str, str]:
        """Show the core's message under each touched field; returns all current problems."""
        errors = self.clinic.patients.field_errors(self.values())
        for name, message in self.messages.items():
            shown = everything or self._shown(name)
            text = errors.get(name, "") if shown else ""
            message.show_message(text)
            self.widget(name).setAccessibleDescription(text)
        self._warn_unprintable()
        return errors

    def _show_understood(self) -> None:
        """Under the date of birth, the date as read ("1 December 2008, age 17"); under each
        phone, the number as read ("+44 20 7946 0011 (GB)") or why it is kept as typed. Read
        with the clinic's date order and phone region; nothing while the field is empty or
        not a date or phone (the message under it says why, once typed)."""
        patients = self.clinic.patients
        for name, label in self.understood.items():
            text = self.edits[name].text().strip()
            if not text:
                seen = ""
            elif name == "date_of_birth":
                seen = patients.understood_date(text)
                seen = f"Read as {seen}" if seen else ""
            else:
                seen = patients.understood_phone(text)
            label.setText(seen)
            label.setVisible(bool(seen))

    def _warn_unprintable(self) -> None:
        """Under each name, the characters no font on this computer prints on a sheet: the
        name is registered as written, but its sheets cannot be signed until they print.

        Asked on a worker thread (the first name beyond ASCII loads the fonts); an answer
        about text since changed is dropped."""
        documents = self.clinic.documents
        for name, what in NAME_FIELDS.items():
            text = self.edits[name].text()
            if text.isascii():
                self._show_unprintable(name, text, "")
                continue

            def check(name: str = name, what: str = what, text: str = text) -> None:
                warning = documents.unprintable(what, text)
                with contextlib.suppress(RuntimeError):  # the form was closed meanwhile
                    self._checked.emit(name, text, warning)

            QThreadPool.globalInstance().start(check)

    def _show_unprintable(self, name: str, text: str, warning: str) -> None:
        if self.edits[name].text() != text:
            return  # typed on since: a newer answer is coming
        self.print_warnings[name].show_message(
            f"{warning} The patient can be registered; their sheets cannot be signed until "
            "these characters print."
            if warning
            else ""
        )

    # Saving -----------------------------------------------------------------------------

    def _save_clicked(self) -> None:
        self.save()

    def save(self, *, allow_duplicate: bool = False) -> Patient | None:
        self._touched.update(self.messages)
        errors = self.validate(everything=True)
        if errors:
            first = next(n for n in self.messages if n in errors)
            self.widget(first).setFocus(Qt.FocusReason.OtherFocusReason)
            self.form_message.show_message("Please correct the fields marked in red.")
            return None
        self.form_message.show_message("")
        existing = self.patient

        def store() -> Patient:
            if existing is None:
                return self.clinic.patients.register(self.values(), allow_duplicate=allow_duplicate)
            return self.clinic.patients.update(
                existing.id,
                self.values(),
                allow_duplicate=allow_duplicate,
                revision=existing.revision,
            )

        return run(self, store, on_done=self._saved, on_error=self._refused).value

    def _refused(self, exc: IntakeError) -> None:
        if isinstance(exc, DuplicatePatient):
            self._show_duplicate(exc)
            return
        if isinstance(exc, StaleRecord):
            self._changed_elsewhere(exc)
            return
        field = getattr(exc, "field", None)
        target = self.messages.get(field) if isinstance(field, str) else None
        (target or self.form_message).show_error(exc)

    def _saved(self, patient: Patient) -> None:
        self._duplicate_ids = ()
        self.duplicate_box.hide()
        self.load(patient)
        self.status.setText(f"Saved at {self.clinic.clock().strftime('%H:%M')}.")
        self.saved.emit(patient)

    def _changed_elsewhere(self, exc: StaleRecord) -> None:
        """Someone saved this patient since it was opened here: show their version, with
        this user's own changes (the fields that differ from what was loaded here) put back
        in their fields to save again, unless the colleague changed the same field (then
        theirs is shown and this user's entry listed, to enter again if still right)."""
        if self.patient is None:
            return
        loaded = dict(self._loaded)
        mine = self.values()
        edited = [name for name in FIELDS if mine[name] != loaded.get(name)]
        self.load(self.clinic.patients.get(self.patient.id))
        theirs = self.values()
        kept: list[str] = []
        both: list[str] = []
        for name in edited:
            if mine[name] == theirs[name]:
                continue  # the same change made there: nothing to do again
            if theirs[name] == loaded.get(name):
                self._put(name, mine[name])
                kept.append(name)
            else:
                both.append(name)
        if kept:
            self._touched.update(kept)
            self.validate()
        self.form_message.show_message(
            conflict_message(exc.changed_by, exc.changed_at, mine, kept, both)
        )

    def _put(self, name: str, value: object) -> None:
        """Show `value` (as `values()` gives it) in the input of field `name`, as if typed."""
        text = str(value)
        if name in self.edits:
            self.edits[name].setText(text)
        elif name == "fitzpatrick":
            self.fitzpatrick.setCurrentIndex(max(self.fitzpatrick.findData(text), 0) if text else 0)
        else:
            edit = self.address if name == "address" else self.notes
            edit.setPlainText(text)

    def _show_duplicate(self, exc: DuplicatePatient) -> None:
        self._duplicate_ids = exc.existing_ids
        others = [self.clinic.patients.get(pid) for pid in exc.existing_ids]
        details = "; ".join(
            f"{p.full_name}, born {p.date_of_birth.isoformat()}"
            + (f", phone {p.phone}" if p.phone else "")
            for p in others[:3]
        )
        self.duplicate_text.setText(f"{exc.message}\nAlready registered: {details}.")
        self.duplicate_box.show()
        self.open_existing_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _open_existing(self) -> None:
        if self._duplicate_ids:
            self._loaded = self.values()  # the registered record was chosen over what was typed
            self.open_existing.emit(self._duplicate_ids[0])


def conflict_message(
    who: str, when: str, mine: dict[str, object], kept: list[str], both: list[str]
) -> str:
    """What to tell a user whose save met a colleague's: `kept` are the fields of theirs put
    back in the form (not saved yet), `both` those the colleague changed as well."""
    lines = [
        f"{who} changed this patient's details at {when}, after you opened them; nothing of "
        f"yours was saved. The form now shows {who}'s version."
    ]
    if kept:
        listed = "; ".join(f"{LABELS[n]}: {_shown(mine[n])}" for n in kept)
        lines.append(
            f"Your changes are back in their fields, not saved yet: {listed}. Check them and "
            "press Save changes."
        )
    if both:
        listed = "; ".join(f"{LABELS[n]}: {_shown(mine[n])}" for n in both)
        lines.append(
            f"{who} changed {_joined([LABELS[n] for n in both])} too, so theirs is shown. You "
            f"had entered {listed}. Enter it again if it is still right."
        )
    if not kept and not both:
        lines.append("Your changes were the same as theirs: nothing needs entering again.")
    return "\n".join(lines)


def _shown(value: object) -> str:
    text = str(value).strip()
    return f"“{text}”" if text else "(left empty)"


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
