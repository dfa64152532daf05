"""The live assessment: outcomes in colour and words beside the limited-evidence note, fired
rules with sources, the override; every text from the consultation's own checklist version."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.checklist import ChecklistDefinition
from desktop.checklist.roles import (
    DIAGNOSED_VITILIGO,
    PIGMENTATION_RISK,
    RISK_MARKERS,
    TEST_SPOT_PENDING,
)
from desktop.clinic import MIN_OVERRIDE_REASON, Clinic
from desktop.errors import IntakeError
from desktop.models import DECISIONS, Assessment, Consultation, FiredRule, TestSpot
from desktop.ui.common.permissions import offer
from desktop.ui.common.tones import tone
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import DONE_COLOUR, FieldMessage, OutcomeBadge
from desktop.ui.consultation.flow import ConsultationFlow

log = logging.getLogger(__name__)

GROUP_TITLES = {
    "vitiligo": "Vitiligo rules",
    "general": "General microneedling safety",
    "note": "Disclosures (printed on the consent sheet)",
}
# The rules after which a test spot is advised (unless the vitiligo outcome is red).
TEST_SPOT_ROLES = (DIAGNOSED_VITILIGO, RISK_MARKERS, PIGMENTATION_RISK)
SPOT_ADVICE = "▲ A test spot is advised (same device, depth and serum; review at 4 and 12 weeks)."


def pending_text(flow: ConsultationFlow, definition: ChecklistDefinition, section: str) -> str:
    """What an outcome box says while the checklist is incomplete: how many answers of its own
    section are still needed (a carried-over answer to confirm counts)."""
    left = flow.missing_in(definition, section)
    if not left:
        return (
            "Every question of this part is answered; the outcome shows once the whole "
            "checklist is complete."
        )
    confirm = sum(1 for q in left if q in flow.to_confirm)
    n = len(left)
    text = f"{n} answer{'s' if n != 1 else ''} still needed"
    return text + (f" ({confirm} to confirm)" if confirm else "")


class AssessmentView(QWidget):
    """Step 3 of a consultation: what the checklist concludes, and the clinician's override."""

    go_to_question = Signal(str)
    override_changed = Signal()
    record_test_spot = Signal()
    record_review = Signal(object)  # the test spot whose 4-week review is awaited

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.definition = clinic.checklist  # the shown consultation's own version
        self.consultation: Consultation | None = None
        self.waiting_spot: TestSpot | None = None

        self.vitiligo = OutcomeBadge("Vitiligo")
        self.general = OutcomeBadge("General safety")
        self.decision = OutcomeBadge("Decision")
        # The evidence behind the outcomes is limited: said beside them, not under the sources.
        self.evidence = QFrame()
        self.evidence.setObjectName("evidenceNote")
        self.evidence.setStyleSheet(
            "QFrame#evidenceNote { background: #eceff1; border: 1px solid #90a4ae;"
            " border-radius: 4px; } QLabel { color: #37474f; background: transparent; }"
        )
        self.evidence_title = QLabel("ℹ Limited evidence")
        self.evidence_title.setStyleSheet("font-weight: bold;")
        self.evidence_text = QLabel()
        self.evidence_text.setObjectName("evidenceText")
        self.evidence_text.setWordWrap(True)
        self.evidence_text.setTextFormat(Qt.TextFormat.PlainText)
        self.evidence_text.setStyleSheet("font-size: 9pt;")
        evidence_layout = QVBoxLayout(self.evidence)
        evidence_layout.setContentsMargins(10, 6, 10, 6)
        evidence_layout.setSpacing(2)
        evidence_layout.addWidget(self.evidence_title)
        evidence_layout.addWidget(self.evidence_text, 1)
        badges = QHBoxLayout()
        for b in (self.vitiligo, self.general, self.decision):
            badges.addWidget(b, 4)
        badges.addWidget(self.evidence, 5)
        self.figures = QLabel()
        self.figures.setObjectName("assessmentFigures")
        self.figures.setWordWrap(True)
        self.vida_note = QLabel()
        self.vida_note.setObjectName("vidaNote")
        self.vida_note.setWordWrap(True)
        self.vida_note.setTextFormat(Qt.TextFormat.PlainText)
        self.vida_note.setStyleSheet("color: #5f6b73; font-size: 9pt;")
        self.vida_note.hide()

        self.spot_row = QWidget()
        spot_layout = QHBoxLayout(self.spot_row)
        spot_layout.setContentsMargins(0, 0, 0, 0)
        self.spot_text = QLabel(SPOT_ADVICE)
        self.spot_text.setObjectName("testSpotAdvice")
        self.spot_text.setWordWrap(True)
        self.spot_text.setTextFormat(Qt.TextFormat.PlainText)
        self.spot_button = QPushButton("Record test s&pot…")
        self.spot_button.clicked.connect(self.record_test_spot)
        spot_layout.addWidget(self.spot_text, 1)
        spot_layout.addWidget(self.spot_button)

        # A test spot done before this consultation whose 4-week review is not recorded: the
        # treatment waits for it; the review can be recorded late, dated when it was done.
        self.review_row = QWidget()
        self.review_row.setObjectName("pendingReview")
        review_layout = QHBoxLayout(self.review_row)
        review_layout.setContentsMargins(0, 0, 0, 0)
        self.review_text = QLabel()
        self.review_text.setObjectName("pendingReviewText")
        self.review_text.setWordWrap(True)
        self.review_text.setTextFormat(Qt.TextFormat.PlainText)
        self.review_text.setStyleSheet(f"color: {tone('not_today').fg};")
        self.review_button = QPushButton("Record the &4-week review…")
        self.review_button.setObjectName("recordPendingReview")
        self.review_button.clicked.connect(self._review_waiting_spot)
        review_layout.addWidget(self.review_text, 1)
        review_layout.addWidget(self.review_button)
        self.review_row.hide()

        self.details = QTextBrowser()
        self.details.setObjectName("firedRules")
        self.details.setAccessibleName("Fired rules and their sources")
        self.details.setOpenLinks(False)
        self.details.anchorClicked.connect(self._anchor)

        self.override_box = QGroupBox("Clinician override")
        self.override_state = QLabel()
        self.override_state.setWordWrap(True)
        self.override_decision = QComboBox()
        self.override_decision.setAccessibleName("Override decision")
        self._fill_decisions()
        self.override_reason = QPlainTextEdit()
        self.override_reason.setObjectName("overrideReason")
        self.override_reason.setAccessibleName("Reason for the override")
        self.override_reason.setPlaceholderText(
            f"Why the checklist's decision does not fit this patient (at least "
            f"{MIN_OVERRIDE_REASON} characters; printed on the consent sheet)."
        )
        self.override_reason.setTabChangesFocus(True)
        self.override_reason.setFixedHeight(48)
        self.override_author = QLineEdit()
        self.override_author.setAccessibleName("Clinician making the override")
        self.override_author.setReadOnly(True)
        self.override_author.setToolTip("An override is recorded under the signed-in user's name")
        self.apply_button = QPushButton("Appl&y override")
        self.apply_button.setObjectName("applyOverride")
        self.apply_button.clicked.connect(self.apply_override)
        self.clear_button = QPushButton("Remove o&verride")
        self.clear_button.clicked.connect(self.clear_override)
        self.override_message = FieldMessage()
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for column, (text, widget) in enumerate(
            (("&Decision", self.override_decision), ("C&linician", self.override_author))
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            grid.addWidget(label, 0, column * 2)
            grid.addWidget(widget, 0, column * 2 + 1)
        reason_label = QLabel("&Reason")
        reason_label.setBuddy(self.override_reason)
        grid.addWidget(reason_label, 1, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.override_reason, 1, 1, 1, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.override_form = QWidget()
        self.override_form.setLayout(grid)
        buttons = QHBoxLayout()
        buttons.addWidget(self.override_message, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.apply_button)
        ol = QVBoxLayout(self.override_box)
        ol.addWidget(self.override_state)
        ol.addWidget(self.override_form)
        ol.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(badges)
        layout.addWidget(self.figures)
        layout.addWidget(self.vida_note)
        layout.addWidget(self.spot_row)
        layout.addWidget(self.review_row)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.override_box)

    def _fill_decisions(self) -> None:
        """The override's choices, named as the shown consultation's checklist names them."""
        chosen = self.override_decision.currentData()
        self.override_decision.clear()
        for d in DECISIONS:
            self.override_decision.addItem(self.definition.outcome("decision", d).label, d)
        self.override_decision.setCurrentIndex(max(self.override_decision.findData(chosen), 0))

    # Showing ----------------------------------------------------------------------------

    def show_assessment(self, flow: ConsultationFlow, definition: ChecklistDefinition) -> None:
        """Show the assessment in force (or what is missing) and the override's state, in
        the words of `definition`, the consultation's own checklist version."""
        consultation = flow.consultation
        self.consultation = consultation
        if definition is not self.definition:
            self.definition = definition
            self._fill_decisions()
        self.evidence_text.setText(definition.evidence_note)
        self.evidence.setAccessibleName(f"Limited evidence: {definition.evidence_note}")
        a = flow.assessment
        locked = flow.signed
        if a is None:
            self._show_incomplete(flow)
        else:
            self._show_result(consultation, a)
        may_decide = self.clinic.session.can("consultation.decide")
        self.override_box.setEnabled(a is not None and not locked and may_decide)
        self.override_box.setToolTip(
            "" if may_decide else "Only a clinician can override the checklist's decision."
        )
        self._show_override(consultation, a)
        signed_in = self.clinic.session.signed_in
        self.override_author.setText(signed_in.display_name if signed_in else "")
        if a is not None and consultation.override is None:
            # Start from the decision in force, so an override is always a deliberate change.
            self.override_decision.setCurrentIndex(self.override_decision.findData(a.decision))
        spot_rules = [self.definition.rule_id(role) for role in TEST_SPOT_ROLES]
        advised = a is not None and any(a.has(r) for r in spot_rules) and a.vitiligo != "red"
        done = [
            s
            for s in self.clinic.test_spots.for_patient(consultation.patient_id)
            if s.consultation_id == consultation.id
        ]
        self.spot_row.setVisible(advised or bool(done))
        self._show_spots_done(done)
        offer(self.spot_button, self.clinic.session, "testspot.record")
        self._show_waiting_spot(consultation, a, locked)
        if self.waiting_spot is not None:
            self.spot_row.hide()  # the spot done already is the one to look at, not a new one

    def _show_spots_done(self, done: list[TestSpot]) -> None:
        """The advice, or (once a test spot of this consultation is recorded) the spot and
        its review dates, in green: what was saved, seen where it was asked for."""
        if not done:
            self.spot_text.setText(SPOT_ADVICE)
            self.spot_text.setStyleSheet("")
            self.spot_button.setText("Record test s&pot…")
            return
        lines = [
            f"{s.site}, done {s.done_on.isoformat()}: reviews due "
            f"{(s.done_on + timedelta(weeks=4)).isoformat()} (4 weeks) and "
            f"{(s.done_on + timedelta(weeks=12)).isoformat()} (12 weeks)"
            for s in sorted(done, key=lambda s: s.done_on)
        ]
        head = "✔ Test spot recorded" if len(done) == 1 else f"✔ {len(done)} test spots recorded"
        self.spot_text.setText(f"{head}: " + "; ".join(lines) + ".")
        self.spot_text.setStyleSheet(f"color: {DONE_COLOUR};")
        self.spot_button.setText("Record another test s&pot…")

    def _show_waiting_spot(self, c: Consultation, a: Assessment | None, locked: bool) -> None:
        """When the rule that waits for a test spot's 4-week review fired: the spot, and the
        review to record (the oldest first, when several wait)."""
        d = self.definition
        pending = (
            d.plays(TEST_SPOT_PENDING) and a is not None and a.has(d.rule_id(TEST_SPOT_PENDING))
        )
        waiting = (
            [
                s
                for s in self.clinic.test_spots.for_patient(c.patient_id)
                if s.done_on < c.date and s.review(4) is None
            ]
            if pending and not locked
            else []
        )
        self.waiting_spot = min(waiting, key=lambda s: s.done_on) if waiting else None
        self.review_row.setVisible(self.waiting_spot is not None)
        spot = self.waiting_spot
        if spot is None:
            return
        others = len(waiting) - 1
        self.review_text.setText(
            f"✖ The test spot at {spot.site} (done {spot.done_on.isoformat()}) has no 4-week "
            "review recorded: treatment waits for its result. Record the review, even late, "
            "with the day it was done."
            + (f" {others} more test spot{'s' if others > 1 else ''} wait too." if others else "")
        )
        offer(self.review_button, self.clinic.session, "testspot.review")

    def _review_waiting_spot(self) -> None:
        if self.waiting_spot is not None:
            self.record_review.emit(self.waiting_spot)

    def _show_incomplete(self, flow: ConsultationFlow) -> None:
        missing = flow.missing
        for badge, section in ((self.vitiligo, "vitiligo"), (self.general, "general")):
            badge.set_outcome(None, "pending", pending_text(flow, self.definition, section))
        self.decision.set_outcome(None, "pending", "Complete the checklist to see the decision.")
        self.figures.setText("")
        self.vida_note.hide()
        question = self.definition.question
        unconfirmed = set(flow.to_confirm)
        items = "".join(
            f"<li><a href='q:{qid}'>{qid}</a>: {html.escape(question(qid).text)}"
            + (" <i>(carried over from the last visit: confirm)</i>" if qid in unconfirmed else "")
            + "</li>"
            for qid in missing
        )
        self.details.setHtml(
            "<h3>The checklist is not complete yet</h3>"
            "<p>No outcome is shown until every question that applies is answered. "
            "Still needed (click to go there):</p>"
            f"<ul>{items}</ul>"
        )

    def _show_result(self, c: Consultation, a: Assessment) -> None:
        d = self.definition
        v = d.outcome("vitiligo", a.vitiligo)
        g = d.outcome("general", a.general)
        self.vitiligo.set_outcome(a.vitiligo, v.label, v.text)
        self.general.set_outcome(a.general, g.label, g.text)
        decision = c.decision or a.decision
        dt = d.outcome("decision", decision)
        suffix = " (clinician override)" if c.override else ""
        self.decision.set_outcome(decision, dt.label + suffix, dt.text)
        vida = "not asked" if a.vida is None else f"{a.vida:+d}"
        review = ""
        v3 = c.answers.get(d.vida.question)
        if isinstance(v3, str) and v3 in d.vida.needs_review:
            review = " (this cut-point awaits dermatologist check)"
        self.figures.setText(
            f"VIDA activity score: <b>{vida}</b>{review} · Risk points: <b>{a.risk_points}</b> · "
            f"Age: <b>{a.age}</b> · Strict mode: <b>{'on' if a.strict else 'off'}</b> · "
            f"Checklist {html.escape(a.checklist_id)} {html.escape(a.checklist_version)}"
        )
        self.vida_note.setText(f"VIDA: {d.vida.note}" if a.vida is not None else "")
        self.vida_note.setVisible(a.vida is not None and bool(d.vida.note))
        self.details.setHtml(self._rules_html(a))

    def _rules_html(self, a: Assessment) -> str:
        d = self.definition
        parts: list[str] = []
        if not a.fired:
            parts.append("<p><b>✔ No rule fired.</b> No vitiligo-specific or general concern.</p>")
        for group in ("vitiligo", "general", "note"):
            fired = [f for f in a.fired if f.group == group]
            if not fired:
                continue
            parts.append(f"<h3>{GROUP_TITLES[group]}</h3>")
            parts.extend(self._rule_html(f) for f in fired)
        cited = sorted({n for f in a.fired for n in f.sources})
        if cited:
            refs = "<br>".join(f"[{n}] {html.escape(d.sources.get(n, ''))}" for n in cited)
            parts.append(f"<h3>Sources</h3><p>{refs}</p>")
        tags = " · ".join(f"[{k}] {html.escape(v)}" for k, v in d.basis_tags.items())
        parts.append(f"<p style='color:#5f6b73'>Basis tags: {tags}</p>")
        return "".join(parts)

    def _rule_html(self, f: FiredRule) -> str:
        t = tone(f.severity)
        try:
            title = self.definition.rule(f.rule).title
        except IntakeError:
            title = ""
        word = (
            self.definition.outcome("general", f.severity).label if f.group == "general" else t.word
        )
        refs = ", ".join(f"[{n}]" for n in f.sources) or "no published source: a design choice"
        basis = " / ".join(
            f"{tag} ({self.definition.basis_tags.get(tag, '?')})" for tag in f.basis.split("/")
        )
        return (
            f"<table width='100%' cellspacing='0' cellpadding='6' style='margin-bottom:6px;"
            f" background:{t.bg}; border-left: 4px solid {t.fg};'><tr><td>"
            f"<span style='color:{t.fg}; font-weight:bold'>{t.symbol} {html.escape(word.upper())}"
            f"</span> &nbsp;<b>{html.escape(f.rule)} · {html.escape(title)}</b>"
            f" &nbsp;<span style='color:#37474f'>basis [{html.escape(f.basis)}]</span><br>"
            f"{html.escape(f.text)}<br>"
            f"<span style='color:#5f6b73'>Basis: {html.escape(basis)}. Sources: {refs}</span>"
            "</td></tr></table>"
        )

    def _show_override(self, c: Consultation, a: Assessment | None) -> None:
        o = c.override
        if not self.clinic.session.can("consultation.decide") and o is None:
            self.override_state.setText(
                "Only a clinician can override the checklist's decision (your role cannot)."
            )
        elif a is None:
            self.override_state.setText("An override is possible once the checklist is complete.")
        elif o is None:
            self.override_state.setText(
                "The decision follows the checklist. A clinician may override it with a written "
                "reason; the override, its author and time are stored and printed."
            )
        else:
            label = self.definition.outcome("decision", o.decision).label
            self.override_state.setText(
                f"<b>Overridden to “{html.escape(label)}”</b> by {html.escape(o.author)} on "
                f"{o.at.strftime('%Y-%m-%d %H:%M')}: “{html.escape(o.reason)}”"
            )
        self.override_form.setVisible(o is None)
        self.apply_button.setVisible(o is None)
        self.clear_button.setVisible(o is not None)

    # Actions ----------------------------------------------------------------------------

    def _anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("q:"):
            self.go_to_question.emit(text[2:])

    def apply_override(self) -> None:
        c = self.consultation
        if c is None:
            return
        run(
            self,
            lambda: self.clinic.consultations.override(
                c.id,
                str(self.override_decision.currentData()),
                self.override_reason.toPlainText(),
                self.override_author.text(),
            ),
            on_done=self._overridden,
            on_error=self.override_message.show_error,
        )

    def _overridden(self, _c: Consultation) -> None:
        self.override_message.show_message("")
        self.override_reason.clear()
        self.override_changed.emit()

    def clear_override(self) -> None:
        c = self.consultation
        if c is None:
            return
        run(
            self,
            lambda: self.clinic.consultations.clear_override(c.id),
            on_done=lambda _c: self.override_changed.emit(),
            on_error=self.override_message.show_error,
        )

    def focus_first(self) -> None:
        self.details.setFocus(Qt.FocusReason.OtherFocusReason)
