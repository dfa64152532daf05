"""The checklist form, generated from the checklist definition (sections, questions, tokens)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
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


class QuestionWidget(QFrame):
    """One question: text, help, and radio buttons (single) or checkboxes (multi)."""

    changed = Signal(str)

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = question
        self.setObjectName(f"question_{question.id}")
        self._quiet = False
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
        layout.addWidget(choices)
        self._render_title()

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

    def _toggled(self, token: str, on: bool) -> None:
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
        self.needed.setVisible(missing)

    def set_read_only(self, read_only: bool) -> None:
        for b in self.buttons.values():
            b.setEnabled(not read_only)
        if self.none_box is not None:
            self.none_box.setEnabled(not read_only)

    def focus_first(self) -> None:
        checked = next((b for b in self.buttons.values() if b.isChecked()), None)
        target = checked or next(iter(self.buttons.values()))
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
        self._exam_notes: list[tuple[QFrame, QLabel]] = []
        self.read_only = False

        self.progress = QLabel()
        self.progress.setObjectName("checklistProgress")
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

    def set_answers(self, answers: Mapping[str, AnswerValue]) -> None:
        """Show stored answers (no change signal)."""
        for qid, widget in self.questions.items():
            widget.set_value(answers.get(qid))
        self._refresh()

    def missing(self) -> tuple[str, ...]:
        """The questions that apply and have no answer yet, in definition order."""
        return self._missing

    def _changed(self, _qid: str) -> None:
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
            if shown and value is not None:
                answers[q.id] = value
            elif shown:
                missing.append(q.id)
            widget.set_missing(shown and value is None and not self.read_only)
        self._answers = answers
        self._missing = tuple(missing)
        total = len(answers) + len(missing)
        if missing:
            self.progress.setText(
                f"{len(answers)} of {total} answered · ▲ {len(missing)} still needed "
                "(marked “Answer needed”). * = required."
            )
        else:
            self.progress.setText(f"✔ All {total} questions answered.")
        self.next_button.setEnabled(bool(missing))

    def focus_question(self, qid: str) -> None:
        widget = self.questions.get(qid)
        if widget is None or not widget.isVisible():
            return
        self.scroller.ensureWidgetVisible(widget, 0, 40)
        widget.focus_first()

    def focus_next_missing(self) -> None:
        missing = self.missing()
        if missing:
            self.focus_question(missing[0])

    def set_read_only(self, read_only: bool, *, examination: bool = True) -> None:
        """Lock the form; `examination=False` locks only the clinician's examination findings."""
        self.read_only = read_only
        for widget in self.questions.values():
            exam_locked = widget.question.examination and not examination
            widget.set_read_only(read_only or exam_locked)
        for frame, note in self._exam_notes:
            note.setVisible(not examination and not read_only)
            frame.setToolTip("" if examination else EXAM_LOCKED)
        self._refresh()
