"""The checklist form, generated from the checklist definition (sections, questions, tokens)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.checklist import ChecklistDefinition, Question, applicable
from desktop.models import AnswerValue
from desktop.ui.common.widgets import hint_label

log = logging.getLogger(__name__)

NONE_TOKEN = "__none__"
EXAM_LOCKED = "Only a signed-in clinician can record examination findings."
ONLY_EXAMINATION_LEFT = (
    "Only the clinician's examination findings are left: the clinician answers them."
)
CARRIED = "↻ Carried over from the last visit: is this still true?"
# A single-choice question is one Tab stop: its chosen option, or its first while unanswered.
TAB_STOP = Qt.FocusPolicy.StrongFocus
NO_TAB_STOP = Qt.FocusPolicy(Qt.FocusPolicy.StrongFocus.value & ~Qt.FocusPolicy.TabFocus.value)


class QuestionWidget(QFrame):
    """One question: text, help, and radio buttons (single) or checkboxes (multi).

    A single-choice question is one Tab stop, always the same one: the option chosen, or the
    first option while none is (nothing is chosen until Space, or an arrow key from a chosen
    option). Qt would otherwise send Tab to whichever option last had the cursor, in this
    consultation or an earlier one shown in the same form.
    """

    changed = Signal(str)
    # A carried-over answer confirmed as still true: its ID, and whether the cursor was on the
    # confirming button (which disappears).
    confirmed = Signal(str, bool)

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = question
        self.setObjectName(f"question_{question.id}")
        self._quiet = False
        self.unconfirmed = False
        self.locked = False
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setToolTip(question.help)
        self.help = hint_label(question.help)
        self.extra = hint_label("")
        self.extra.setStyleSheet("color: #0b4f8a; font-size: 9pt;")
        self.extra.hide()
        self.needed = QLabel("▲ Answer needed")
        self.needed.setStyleSheet("color: #6b4100; font-weight: bold; font-size: 9pt;")
        self.needed.hide()
        self.carried = QFrame()
        self.carried.setObjectName("carried")
        self.carried.setStyleSheet(
            "QFrame#carried { background: #fff3d6; border: 1px solid #c99a3c; border-radius: 3px; }"
        )
        self.carried_text = QLabel(CARRIED)
        self.carried_text.setStyleSheet("color: #6b4100; font-size: 9pt;")
        self.confirm_button = QPushButton("✔ Still true")
        self.confirm_button.setObjectName(f"confirm_{question.id}")
        self.confirm_button.setAccessibleName(f"{question.id}: the answer is still true")
        self.confirm_button.setToolTip(
            "Confirm this answer from the last visit for today (or choose another answer)."
        )
        self.confirm_button.clicked.connect(self._confirm)
        carried_row = QHBoxLayout(self.carried)
        carried_row.setContentsMargins(6, 2, 2, 2)
        carried_row.addWidget(self.carried_text, 1)
        carried_row.addWidget(self.confirm_button)
        self.carried.hide()
        self.buttons: dict[str, QAbstractButton] = {}
        self.group: QButtonGroup | None = None
        self.none_box: QCheckBox | None = None

        choices = QWidget()
        labels = [t.label for t in question.tokens]
        across = question.kind == "single" and len(labels) <= 4 and sum(map(len, labels)) <= 70
        grid = QGridLayout(choices)
        grid.setContentsMargins(16, 0, 0, 0)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(2)
        if question.kind == "single":
            self.group = QButtonGroup(self)
            self.group.setExclusive(True)
        for i, token in enumerate(question.tokens):
            button: QAbstractButton
            if question.kind == "single":
                button = QRadioButton(token.label)
                assert self.group is not None
                self.group.addButton(button, i)
            else:
                button = QCheckBox(token.label)
            button.setObjectName(f"{question.id}_{token.value}")
            button.setAccessibleName(f"{question.id}: {token.label}")
            button.setToolTip(question.help)
            button.toggled.connect(lambda on, v=token.value: self._toggled(v, on))
            if question.kind == "single":  # clicking the answer already given confirms it
                button.clicked.connect(lambda _c, b=button: self._clicked_again(b))
                button.installEventFilter(self)  # the cursor leaving: back to the one Tab stop
            self.buttons[token.value] = button
            if across:
                grid.addWidget(button, 0, i)
            elif len(labels) > 6:
                grid.addWidget(button, i // 2, i % 2)
            else:
                grid.addWidget(button, i, 0)
        if question.kind == "multi":
            self.none_box = QCheckBox("None of these")
            self.none_box.setObjectName(f"{question.id}_{NONE_TOKEN}")
            self.none_box.setAccessibleName(f"{question.id}: none of these")
            self.none_box.toggled.connect(lambda on: self._toggled(NONE_TOKEN, on))
            grid.addWidget(self.none_box, grid.rowCount(), 0)
        if across:
            grid.setColumnStretch(len(labels), 1)

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.needed, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(3)
        layout.addLayout(head)
        layout.addWidget(self.help)
        layout.addWidget(self.extra)
        layout.addWidget(self.carried)
        layout.addWidget(choices)
        self._render_title()
        self._set_tab_stop()

    def _render_title(self) -> None:
        q = self.question
        self.title.setText(
            f"<b>{q.id}</b>&nbsp; {_escape(q.text)} "
            "<span style='color:#b00020' title='required'>*</span>"
            + (
                "&nbsp;<i style='color:#5f6b73'>(tick all that apply)</i>"
                if q.kind == "multi"
                else ""
            )
        )
        self.setAccessibleName(f"{q.id}: {q.text} (required)")

    def set_extra(self, text: str) -> None:
        self.extra.setText(text)
        self.extra.setVisible(bool(text))

    # Value ------------------------------------------------------------------------------

    def value(self) -> AnswerValue | None:
        q = self.question
        if q.kind == "single":
            return next((v for v, b in self.buttons.items() if b.isChecked()), None)
        ticked = tuple(v for v, b in self.buttons.items() if b.isChecked())
        if ticked:
            return ticked
        if self.none_box is not None and self.none_box.isChecked():
            return ()
        return None

    def set_value(self, value: object) -> None:
        """Show a stored answer without emitting `changed`."""
        self._quiet = True
        try:
            self.clear()
            if isinstance(value, str) and value in self.buttons:
                self.buttons[value].setChecked(True)
            elif isinstance(value, list | tuple):
                for v in value:
                    if v in self.buttons:
                        self.buttons[v].setChecked(True)
                if not value and self.none_box is not None:
                    self.none_box.setChecked(True)
        finally:
            self._quiet = False
        self._set_tab_stop()

    def clear(self) -> None:
        quiet = self._quiet
        self._quiet = True
        try:
            if self.group is not None:
                self.group.setExclusive(False)
            for b in self.buttons.values():
                b.setChecked(False)
            if self.group is not None:
                self.group.setExclusive(True)
            if self.none_box is not None:
                self.none_box.setChecked(False)
        finally:
            self._quiet = quiet
        self._set_tab_stop()

    def tab_stop(self) -> QAbstractButton | None:
        """The option Tab lands on in a single-choice question: the chosen one, else the first
        (None for a multiple-choice question, whose boxes are each a stop)."""
        if self.group is None:
            return None
        checked = next((b for b in self.buttons.values() if b.isChecked()), None)
        return checked or next(iter(self.buttons.values()), None)

    def _set_tab_stop(self) -> None:
        """Make `tab_stop()` the question's only Tab stop (Qt moves it to whichever option
        gets the cursor; an arrow key moves the cursor without choosing while unanswered)."""
        stop = self.tab_stop()
        if stop is None:
            return
        for button in self.buttons.values():
            button.setFocusPolicy(TAB_STOP if button is stop else NO_TAB_STOP)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut and watched in self.buttons.values():
            # Leaving the question (or moving within it: the option that gets the cursor
            # takes the stop next): Tab will come back to the chosen or the first option.
            self._set_tab_stop()
        return super().eventFilter(watched, event)

    def _toggled(self, token: str, on: bool) -> None:
        if on and self.group is not None:
            self._set_tab_stop()
        if self._quiet:
            return
        if self.question.kind == "multi" and on:
            self._quiet = True
            try:
                if token == NONE_TOKEN:
                    for b in self.buttons.values():
                        b.setChecked(False)
                elif self.none_box is not None:
                    self.none_box.setChecked(False)
            finally:
                self._quiet = False
        elif self.question.kind == "single" and not on:
            return  # the newly checked radio button reports the change
        self.changed.emit(self.question.id)

    def set_missing(self, missing: bool) -> None:
        self.needed.setText("▲ Confirm" if self.unconfirmed else "▲ Answer needed")
        self.needed.setVisible(missing)

    def set_unconfirmed(self, unconfirmed: bool) -> None:
        """Mark the answer as carried over from the last visit and not yet confirmed."""
        self.unconfirmed = unconfirmed
        self.carried.setVisible(unconfirmed)
        self.confirm_button.setEnabled(not self.locked)

    def _confirm(self) -> None:
        if self.unconfirmed and not self.locked:
            had_cursor = self.confirm_button.hasFocus()
            self.set_unconfirmed(False)
            self.confirmed.emit(self.question.id, had_cursor)

    def _clicked_again(self, button: QAbstractButton) -> None:
        if button.isChecked() and self.unconfirmed:
            self._confirm()

    def set_read_only(self, read_only: bool) -> None:
        self.locked = read_only
        for b in self.buttons.values():
            b.setEnabled(not read_only)
        if self.none_box is not None:
            self.none_box.setEnabled(not read_only)
        self.confirm_button.setEnabled(not read_only)

    def focus_first(self) -> None:
        if self.unconfirmed and not self.locked:
            self.confirm_button.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        target = self.tab_stop() or next(iter(self.buttons.values()))
        target.setFocus(Qt.FocusReason.OtherFocusReason)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ChecklistForm(QWidget):
    """Every section and question of the definition; conditional questions show when they apply."""

    answers_changed = Signal(dict)

    def __init__(self, definition: ChecklistDefinition, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.definition = definition
        self.questions: dict[str, QuestionWidget] = {}
        self._answers: dict[str, AnswerValue] = {}
        self._missing: tuple[str, ...] = ()
        self._unconfirmed: set[str] = set()  # carried-over answers shown as "still true?"
        self._confirmed: set[str] = set()  # ...that the user confirmed since they were loaded
        self._exam_notes: list[tuple[QFrame, QLabel]] = []
        self.read_only = False

        self.progress = QLabel()
        self.progress.setObjectName("checklistProgress")
        self.progress.setWordWrap(True)
        self.next_button = QPushButton("Next &unanswered")
        self.next_button.clicked.connect(self.focus_next_missing)
        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.next_button)

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(4, 4, 12, 4)
        body_layout.addWidget(hint_label(f"{definition.title} · version {definition.version}"))
        for section in definition.sections:
            box = QGroupBox(section.title)
            box.setObjectName(f"section_{section.id}")
            box_layout = QVBoxLayout(box)
            exam_frame: QFrame | None = None
            for qid in section.question_ids:
                q = definition.question(qid)
                widget = QuestionWidget(q)
                widget.changed.connect(self._changed)
                widget.confirmed.connect(self._confirmed_one)
                self.questions[qid] = widget
                if q.examination:
                    if exam_frame is None:
                        exam_frame = self._examination_frame()
                        box_layout.addWidget(exam_frame)
                    exam_layout = exam_frame.layout()
                    assert exam_layout is not None
                    exam_layout.addWidget(widget)
                else:
                    exam_frame = None
                    box_layout.addWidget(widget)
            body_layout.addWidget(box)
        body_layout.addStretch(1)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setWidget(body)
        self.scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.scroller, 1)
        self._refresh()

    def _examination_frame(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("examination")
        frame.setStyleSheet(
            "QFrame#examination { background: #eef5fb; border: 1px solid #9cc3e6;"
            " border-left: 5px solid #0b4f8a; border-radius: 4px; }"
        )
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(8, 6, 8, 6)
        title = QLabel(
            "Clinician examination: the clinician answers these after examining the skin"
        )
        title.setStyleSheet("color: #0b4f8a; font-weight: bold;")
        layout.addWidget(title)
        note = QLabel(f"▲ {EXAM_LOCKED}")
        note.setStyleSheet("color: #6b4100;")
        note.hide()
        layout.addWidget(note)
        self._exam_notes.append((frame, note))
        return frame

    # Answers ----------------------------------------------------------------------------

    def answers(self) -> dict[str, AnswerValue]:
        """The answers of the questions that apply, in definition order (unanswered left out)."""
        return dict(self._answers)

    def set_answers(
        self, answers: Mapping[str, AnswerValue], unconfirmed: Collection[str] = ()
    ) -> None:
        """Show stored answers, marking the carried-over ones still `unconfirmed` (no change
        signal)."""
        for qid, widget in self.questions.items():
            widget.set_value(answers.get(qid))
        self.set_unconfirmed(unconfirmed)

    def missing(self) -> tuple[str, ...]:
        """The questions that apply and have no answer yet, or whose answer, carried over from
        the last visit, is not confirmed yet; in definition order."""
        return self._missing

    def set_unconfirmed(self, question_ids: Collection[str]) -> None:
        """Show which answers were carried over and still wait for confirmation (as stored)."""
        self._unconfirmed = set(question_ids)
        self._confirmed.clear()
        for qid, widget in self.questions.items():
            widget.set_unconfirmed(qid in self._unconfirmed)
        self._refresh()

    def confirmed(self) -> tuple[str, ...]:
        """The carried-over answers confirmed here and not yet saved as such."""
        return tuple(sorted(self._confirmed))

    def unconfirmed(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.definition.questions if q.id in self._unconfirmed)

    def _confirmed_one(self, qid: str, had_cursor: bool) -> None:
        self._unconfirmed.discard(qid)
        self._confirmed.add(qid)
        self._refresh()
        if had_cursor:
            # The button with the cursor is gone: "Next unanswered" takes it, never an answer
            # (where a second key press would change it).
            target = self.next_button if self.next_button.isEnabled() else self.scroller
            target.setFocus(Qt.FocusReason.OtherFocusReason)
        self.answers_changed.emit(self.answers())

    def _changed(self, qid: str) -> None:
        if qid in self._unconfirmed:  # a changed answer is a considered one
            self._unconfirmed.discard(qid)
            self.questions[qid].set_unconfirmed(False)
        self._refresh()
        self.answers_changed.emit(self.answers())

    def _refresh(self) -> None:
        """Show the questions that apply, clear those that no longer do, mark what is missing.

        One pass in definition order decides every question: a question's condition refers
        only to questions before it (the definition is validated so), whose answers are known
        by then. `answers()` and `missing()` return what this pass found.
        """
        answers: dict[str, AnswerValue] = {}
        missing: list[str] = []
        for q in self.definition.questions:
            widget = self.questions[q.id]
            shown = applicable(self.definition, q.id, answers)
            if not shown and widget.value() is not None:
                widget.set_value(None)
            widget.setVisible(shown)
            value = widget.value()
            if value is None or not shown:
                self._unconfirmed.discard(q.id)
                widget.set_unconfirmed(False)
            if shown and value is not None:
                answers[q.id] = value
            if shown and (value is None or q.id in self._unconfirmed):
                missing.append(q.id)
            widget.set_missing(q.id in missing and not self.read_only)
        self._answers = answers
        self._missing = tuple(missing)
        total = sum(1 for q in self.definition.questions if not self.questions[q.id].isHidden())
        to_confirm = sum(1 for q in missing if q in self._unconfirmed)
        if missing:
            confirm = f", {to_confirm} of them to confirm" if to_confirm else ""
            self.progress.setText(
                f"{total - len(missing)} of {total} complete · ▲ {len(missing)} still needed"
                f"{confirm} (marked “Answer needed” or “Confirm”). * = required."
            )
        else:
            self.progress.setText(f"✔ All {total} questions answered.")
        self._update_next_button()

    def answerable_missing(self) -> tuple[str, ...]:
        """The questions still needed that the signed-in user can answer or confirm here."""
        return tuple(q for q in self._missing if not self.questions[q].locked)

    def _update_next_button(self) -> None:
        left = self.answerable_missing()
        self.next_button.setEnabled(bool(left) and not self.read_only)
        only_exam = bool(self._missing) and not left and not self.read_only
        self.next_button.setToolTip(ONLY_EXAMINATION_LEFT if only_exam else "")
        if only_exam:
            self.progress.setText(f"{self.progress.text()} {ONLY_EXAMINATION_LEFT}")

    def focus_question(self, qid: str, *, focus: bool = True) -> None:
        widget = self.questions.get(qid)
        if widget is None or not widget.isVisibleTo(self):
            return
        body = self.scroller.widget()
        if body is not None and widget.mapTo(body, QPoint(0, 0)).y() < self.scroller.height() // 2:
            self.scroller.verticalScrollBar().setValue(0)  # near the top: show the title too
        else:
            self.scroller.ensureWidgetVisible(widget, 0, 40)
        if focus:
            widget.focus_first()

    def focus_next_missing(self) -> None:
        """Go to the next question still needed that this user can answer, after the one with
        the cursor (from the top again at the end); examination findings are skipped for a
        user who may not record them."""
        left = self.answerable_missing()
        if not left:
            return
        order = [q.id for q in self.definition.questions]
        here = next(
            (qid for qid, w in self.questions.items() if w.isAncestorOf(self.focusWidget())), None
        )
        if here is not None:
            after = [q for q in left if order.index(q) > order.index(here)]
            left = tuple(after) or left
        self.focus_question(left[0])

    def show_first_needed(self, *, focus: bool) -> None:
        """Scroll to the first question still needed that this user can answer (the top when
        there is none), and put the cursor there when `focus`."""
        left = self.answerable_missing()
        if left and not self.read_only:
            self.focus_question(left[0], focus=focus)
        else:
            self.scroller.verticalScrollBar().setValue(0)

    def set_read_only(self, read_only: bool, *, examination: bool = True) -> None:
        """Lock the form; `examination=False` locks only the clinician's examination findings."""
        self.read_only = read_only
        for widget in self.questions.values():
            exam_locked = widget.question.examination and not examination
            widget.set_read_only(read_only or exam_locked)
        for frame, note in self._exam_notes:
            note.setVisible(not examination and not read_only)
            frame.setToolTip("" if examination else EXAM_LOCKED)
        self.next_button.setVisible(not read_only)
        self._refresh()
