"""The sheet being composed: template texts filled in, and the sections sheets share: pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Literal

from desktop.checklist import ChecklistDefinition
from desktop.checklist.roles import AUTOIMMUNE, DISCLOSURE, FAMILY_HISTORY, PIGMENT_SIGNS
from desktop.consent.blocks import (
    BadgeTone,
    Block,
    Bullets,
    DocumentContent,
    Fields,
    Heading,
    Notice,
    Outcome,
    OutcomeRow,
    Paragraph,
    RuleRow,
    Rules,
    SignatureBlock,
    Signatures,
    Table,
    Template,
    format_date,
    format_datetime,
    isolate,
)
from desktop.consent.signatures import signature_block
from desktop.errors import ValidationError
from desktop.models import (
    SIGNER_ROLES,
    Assessment,
    ClinicProfile,
    Consultation,
    Decision,
    DocumentKind,
    Patient,
    Signature,
    SignerRole,
    TestSpot,
)

__all__ = ["Sheet", "answer_list"]


class _Values(dict[str, str]):
    """Placeholder values for str.format_map: an unknown name stays as typed, never raises."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_TONES: dict[str, BadgeTone] = {
    "green": "green",
    "clear": "green",
    "proceed": "green",
    "amber": "amber",
    "caution": "amber",
    "red": "red",
    "not_today": "red",
    "clearance": "red",
    "defer": "red",
    "note": "blue",
}


def answer_list(answers: Mapping[str, object], key: str) -> tuple[str, ...]:
    """A checklist answer as strings: one text, a list of them, or nothing."""
    value = answers.get(key)
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value)
    return ()


def _effective_decision(consultation: Consultation, assessment: Assessment) -> Decision:
    if consultation.override is not None:
        return consultation.override.decision
    return assessment.decision


class Sheet:
    """State shared while one sheet is composed: its template, values and blocks so far."""

    def __init__(
        self,
        template: Template,
        kind: DocumentKind,
        *,
        profile: ClinicProfile,
        patient: Patient,
        consultation: Consultation,
        assessment: Assessment,
        checklist: ChecklistDefinition,
    ) -> None:
        if template.kind != kind:
            raise ValidationError(
                f"{template.source or template.id}: a {template.kind} template cannot make "
                f"the {kind} sheet",
                field="template",
            )
        self.t = template
        self.profile = profile
        self.patient = patient
        self.c = consultation
        self.a = assessment
        self.checklist = checklist
        self.decision = _effective_decision(consultation, assessment)
        self.blocks: list[Block] = []
        self.values = _Values(
            clinic_name=profile.name,
            clinic_phone=profile.phone or "-",
            clinic_address=profile.address,
            patient_name=patient.full_name,
            consultation_date=format_date(consultation.date),
            clinician=consultation.clinician,
            checklist=f"{assessment.checklist_id} {assessment.checklist_version}",
        )

    def fmt(self, text: str, **extra: str) -> str:
        """The template text with its placeholders filled (right-to-left values isolated)."""
        values = _Values({k: isolate(v) for k, v in self.values.items()})
        values.update({k: isolate(v) for k, v in extra.items()})
        return text.format_map(values)

    def text(self, section: str, name: str, **extra: str) -> str:
        return self.fmt(self.t.text(section, name), **extra)

    def items(self, section: str, name: str, **extra: str) -> tuple[str, ...]:
        return tuple(self.fmt(i, **extra) for i in self.t.items(section, name))

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def heading(self, section: str, level: int = 1) -> None:
        self.add(Heading(self.text(section, "heading"), level))

    def paragraphs(self, section: str, name: str, **extra: str) -> None:
        self.add(*(Paragraph(p) for p in self.items(section, name, **extra)))

    def bullets(self, section: str, name: str = "items", intro: str = "") -> None:
        self.add(Bullets(self.items(section, name), intro=intro))

    def notice(self, section: str, tone: Literal["info", "warning", "danger"]) -> None:
        self.add(Notice(self.text(section, "text"), self.text(section, "title"), tone))

    # -- shared pieces -------------------------------------------------------------------------

    def opening(self) -> None:
        if self.profile.demo or self.patient.demo:
            self.add(Notice(self.text("demo", "text"), tone="demo"))
        self.add(Paragraph(self.text("intro", "text")))

    def details(self, extra_rows: Sequence[tuple[str, str]] = ()) -> None:
        p = self.patient
        rows = [
            (self.label("details", "name"), p.full_name),
            (self.label("details", "date_of_birth"), format_date(p.date_of_birth)),
        ]
        rows.extend(extra_rows)
        self.heading("details")
        self.add(Fields(tuple(rows)))

    def or_missing(self, value: str, section: str = "details") -> str:
        return value if value.strip() else self.label(section, "not_recorded")

    def visit_rows(self) -> list[tuple[str, str]]:
        rows = (
            ("age", str(self.a.age)),
            ("phone", self.or_missing(self.patient.phone)),
            ("consultation_date", format_date(self.c.date)),
            ("clinician", self.or_missing(self.c.clinician)),
        )
        return [(self.label("details", k), v) for k, v in rows]

    def outcome(self) -> None:
        t, a = self.t, self.a
        rows = []
        for group, token in (
            ("vitiligo", a.vitiligo),
            ("general", a.general),
            ("decision", self.decision),
        ):
            rows.append(
                OutcomeRow(
                    label=t.label("outcome", "labels", group),
                    badge=t.label("outcome", "badges", token, token.replace("_", " ").upper()),
                    tone=_TONES.get(token, "grey"),
                    meaning=self.fmt(t.label("outcome", "values", f"{group}.{token}", "")),
                )
            )
        self.heading("outcome", 2)
        self.add(Outcome(tuple(rows)))

    def override(self) -> None:
        o = self.c.override
        if o is None:
            return
        words = self.t.mapping("outcome", "badges")
        text = self.text(
            "override",
            "text",
            assessed_decision=words.get(self.a.decision, self.a.decision),
            override_decision=words.get(o.decision, o.decision),
            override_author=o.author,
            override_at=format_datetime(o.at),
            override_reason=o.reason,
        )
        self.add(Notice(text, self.text("override", "title"), "warning"))

    def rules(self) -> None:
        t, a = self.t, self.a
        sources = self.checklist.sources
        self.add(Heading(self.text("rules", "heading"), 2))
        if not a.fired:
            self.add(Paragraph(self.text("rules", "none")))
            return
        self.add(Paragraph(self.text("rules", "text")))
        cols = t.mapping("rules", "columns")
        rows = tuple(
            RuleRow(
                rule=f.rule,
                severity=t.label("rules", "severity", f.severity),
                tone=_TONES.get(f.severity, "grey"),
                basis=f.basis,
                text=self.rule_text(f.rule, f.text),
                sources=tuple(f.sources),
            )
            for f in a.fired
        )
        columns = (cols["rule"], cols["level"], cols["basis"], cols["text"], cols["sources"])
        self.add(Rules(columns, rows), Paragraph(self.text("rules", "legend"), "small"))
        cited = sorted({n for f in a.fired for n in f.sources})
        if cited:
            unknown = self.text("rules", "unknown_source")
            listed = tuple(f"[{n}] {sources.get(n, unknown)}" for n in cited)
            self.add(Bullets(listed, intro=self.text("rules", "sources_heading"), style="small"))

    def rule_text(self, rule_id: str, stored: str) -> str:
        """What the sheet says about a fired rule: the definition's patient text (format 2
        definitions), else the text stored with the assessment (format 1 sheets print it)."""
        d = self.checklist
        if d.has_rule(rule_id):
            rule = d.rule(rule_id)
            if rule.patient_text is not None:
                return rule.patient_text
        return stored

    def marker_names(self) -> list[str]:
        """The vitiligo risk markers in the answers, as keys of a template's markers map:
        "family", "pigment_signs" (versions that ask it) and each autoimmune condition."""
        d, answers = self.checklist, self.c.answers
        names = ["family"] if answers.get(d.question_id(FAMILY_HISTORY)) == "yes" else []
        if d.plays(PIGMENT_SIGNS) and answers.get(d.question_id(PIGMENT_SIGNS)) == "yes":
            names.append("pigment_signs")
        names.extend(answer_list(answers, d.question_id(AUTOIMMUNE)))
        return names

    def markers(self, section: str, fallback: Sequence[str] = ()) -> str:
        """The markers in words, joined ("a, b and c"), from the `section`'s markers map."""
        markers_map = self.t.mapping(section, "markers")
        words = [markers_map.get(n, n.replace("_", " ")) for n in self.marker_names()]
        if not words:  # the answers do not say
            words = list(fallback)
        if len(words) > 1:
            return f"{', '.join(words[:-1])} {self.text(section, 'and')} {words[-1]}"
        return words[0] if words else ""

    def disclosure(self) -> None:
        rule = self.checklist.rule_id(DISCLOSURE)
        if not self.a.has(rule):
            return
        # Without marker answers, the rule's own text stands in for them.
        joined = self.markers("disclosure", [f.text for f in self.a.fired if f.rule == rule])
        text = self.text("disclosure", "text", markers=joined)
        self.add(Notice(text, self.text("disclosure", "title"), "info"))

    def evidence(self) -> None:
        self.notice("evidence", "info")

    def test_spot_results(self, spots: Sequence[TestSpot]) -> None:
        if not spots:
            return
        t = self.t
        cols = t.mapping("test_spot", "columns")
        results = t.mapping("test_spot", "results")
        not_yet = self.text("test_spot", "not_yet")

        def review(spot: TestSpot, week: int) -> str:
            r = spot.review(week)
            if r is None:
                return not_yet
            words = results.get(r.result, r.result)
            note = f": {r.notes}" if r.notes.strip() else ""
            return f"{words}{note} ({format_date(r.reviewed_on)}, {r.reviewer})"

        rows = tuple(
            (s.site, format_date(s.done_on), review(s, 4), review(s, 12))
            for s in sorted(spots, key=lambda s: (s.done_on, s.site, s.id))
        )
        self.add(Heading(self.text("test_spot", "results_heading"), 2))
        self.add(Table((cols["site"], cols["done"], cols["week4"], cols["week12"]), rows))

    def signatures(
        self, signatures: Sequence[Signature], required: Sequence[SignerRole] = ()
    ) -> None:
        if not signatures and not required:
            return
        roles = self.t.mapping("signatures", "roles")
        order = {r: i for i, r in enumerate(SIGNER_ROLES)}
        given = sorted(signatures, key=lambda s: (order.get(s.role, 99), s.signed_at.isoformat()))
        items = [signature_block(s, roles.get(s.role, s.role)) for s in given]
        have = {s.role for s in given}
        unsigned = self.text("signatures", "unsigned")
        for role in required:
            if role not in have:
                items.append(
                    SignatureBlock(
                        role, roles.get(role, role), "", "", "", (), 600.0, 200.0, caption=unsigned
                    )
                )
        items.sort(key=lambda b: order.get(b.role, 99))
        self.heading("signatures")
        self.add(Paragraph(self.text("signatures", "text")), Signatures(tuple(items)))

    def label(self, section: str, key: str) -> str:
        return self.t.label(section, "labels", key)

    def record(self, document_id: str, now: datetime) -> None:
        t, a = self.t, self.a
        self.heading("record", 2)
        rows = (
            ("checklist", f"{a.checklist_id}, version {a.checklist_version}"),
            ("template", f"{t.id}, version {t.version}"),
            ("document", document_id),
            ("issued", format_datetime(now)),
        )
        self.add(
            Fields(tuple((self.label("record", k), v) for k, v in rows)),
            Paragraph(self.text("record", "note"), "small"),
        )

    def done(self, document_id: str, now: datetime) -> DocumentContent:
        self.record(document_id, now)
        return DocumentContent(
            kind=self.t.kind,
            title=self.fmt(self.t.title),
            document_id=document_id,
            template_id=self.t.id,
            template_version=self.t.version,
            checklist_id=self.a.checklist_id,
            checklist_version=self.a.checklist_version,
            demo=self.profile.demo or self.patient.demo,
            blocks=tuple(self.blocks),
            patient_name=self.patient.full_name,
            issued=now.isoformat(),
            language=self.t.language,
        )
