"""Compose the consent, aftercare and referral sheets from a versioned template: pure, no I/O."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from desktop.consent_blocks import (
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
    parse_template,
)
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
    Stroke,
    TestSpot,
)

__all__ = [
    "DocumentContent",
    "Template",
    "compose_aftercare",
    "compose_consent",
    "compose_referral",
    "format_date",
    "format_datetime",
    "missing_signer_roles",
    "parse_template",
    "required_signer_roles",
]


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


def _answer_list(answers: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = answers.get(key)
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value)
    return ()


def required_signer_roles(assessment: Assessment) -> tuple[SignerRole, ...]:
    """Who must sign the consent: the patient, or a parent/guardian when K4 fired; a clinician."""
    return ("guardian" if assessment.has("K4") else "patient", "clinician")


def missing_signer_roles(
    assessment: Assessment, signatures: Sequence[Signature]
) -> tuple[SignerRole, ...]:
    present = {s.role for s in signatures if s.strokes and s.signer_name.strip()}
    return tuple(r for r in required_signer_roles(assessment) if r not in present)


def _effective_decision(consultation: Consultation, assessment: Assessment) -> Decision:
    if consultation.override is not None:
        return consultation.override.decision
    return assessment.decision


# ---------------------------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------------------------


class _Sheet:
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
        values = _Values(self.values)
        values.update(extra)
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

    def rules(self, sources: Mapping[int, str]) -> None:
        t, a = self.t, self.a
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
                text=f.text,
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

    def disclosure(self) -> None:
        if not self.a.has("D1"):
            return
        answers = self.c.answers
        markers_map = self.t.mapping("disclosure", "markers")
        names = ["family"] if answers.get("V9") == "yes" else []
        names.extend(_answer_list(answers, "V10"))
        words = [markers_map.get(n, n.replace("_", " ")) for n in names]
        if not words:  # the answers do not say; fall back on the rule's own text
            words = [f.text for f in self.a.fired if f.rule == "D1"]
        joined = words[0] if len(words) == 1 else ""
        if len(words) > 1:
            joined = f"{', '.join(words[:-1])} {self.text('disclosure', 'and')} {words[-1]}"
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
        items = [self._signature(s, roles.get(s.role, s.role)) for s in given]
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

    def _signature(self, s: Signature, role_label: str) -> SignatureBlock:
        strokes = tuple(_clean_stroke(stroke, s.role) for stroke in s.strokes)
        if not all(math.isfinite(v) and v > 0 for v in (s.width, s.height)):
            raise ValidationError(f"The {s.role}'s signature pad size is invalid", field=s.role)
        return SignatureBlock(
            role=s.role,
            role_label=role_label,
            signer_name=s.signer_name,
            signed_at=s.signed_at.isoformat(),
            signed_at_text=format_datetime(s.signed_at),
            strokes=tuple(st for st in strokes if st),
            pad_width=float(s.width),
            pad_height=float(s.height),
        )

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


def _clean_stroke(stroke: Stroke, role: str) -> Stroke:
    points = []
    for point in stroke:
        x, y, pressure = (float(v) for v in point)
        if not all(math.isfinite(v) for v in (x, y, pressure)):
            raise ValidationError(f"The {role}'s signature has an invalid point", field=role)
        points.append((x, y, min(1.0, max(0.0, pressure))))
    return tuple(points)


def _check_document_id(document_id: str) -> None:
    if not document_id.strip():
        raise ValidationError("A document needs an ID", field="document_id")


# Public compose functions live below; their helpers above keep each one short.


def compose_consent(
    template: Template,
    *,
    profile: ClinicProfile,
    patient: Patient,
    consultation: Consultation,
    assessment: Assessment,
    signatures: Sequence[Signature],
    test_spots: Sequence[TestSpot],
    sources: Mapping[int, str],
    document_id: str,
    now: datetime,
) -> DocumentContent:
    """The informed-consent sheet (CLINICAL.md points 1-8); refuses a deferred decision."""
    _check_document_id(document_id)
    s = _Sheet(
        template,
        "consent",
        profile=profile,
        patient=patient,
        consultation=consultation,
        assessment=assessment,
    )
    if s.decision == "defer":
        raise ValidationError(
            "Treatment is deferred, so there is no treatment consent to sign: "
            "print the referral sheet instead.",
            field="decision",
        )
    guardian = assessment.has("K4")
    s.opening()
    s.details(s.visit_rows())
    if guardian:
        s.notice("minor", "warning")
    # 1. procedure
    s.heading("procedure")
    p = consultation.procedure
    depth = "" if p.needle_depth_mm is None else f"{p.needle_depth_mm:g} mm"
    rows = (
        ("device", s.or_missing(p.device, "procedure")),
        ("needle_depth", s.or_missing(depth, "procedure")),
        ("product", s.or_missing(p.product, "procedure")),
        ("areas", s.or_missing(", ".join(p.areas), "procedure")),
        ("session", str(p.session_number)),
    )
    s.add(
        Fields(tuple((s.label("procedure", k), v) for k, v in rows)),
        Paragraph(s.text("procedure", "aim")),
    )
    # 2. expected effects, 3. risks
    for section in ("expected", "risks"):
        s.heading(section)
        s.bullets(section, intro=s.text(section, "text"))
    # 4. vitiligo: explanation, evidence, this patient's outcome and rules
    s.heading("vitiligo")
    s.paragraphs("vitiligo", "text")
    s.evidence()
    s.outcome()
    s.override()
    s.rules(sources)
    s.disclosure()
    if assessment.vitiligo == "amber" or assessment.has("K1") or test_spots:
        s.heading("test_spot", 2)
        if assessment.vitiligo == "amber":
            s.add(Paragraph(s.text("test_spot", "why_vitiligo")))
        if assessment.has("K1"):
            s.add(Paragraph(s.text("test_spot", "why_skin_type")))
        s.bullets("test_spot", "plan")
        s.add(Notice(s.text("test_spot", "caveat"), tone="warning"))
        s.test_spot_results(test_spots)
    # 5. alternatives, 6. photographs, 7. confirmations
    s.heading("alternatives")
    s.bullets("alternatives")
    s.heading("photos")
    choice = "other_use_yes" if consultation.photo_other_use else "other_use_no"
    s.add(
        Paragraph(s.text("photos", "record")),
        Fields(((s.text("photos", "other_use"), s.text("photos", choice)),)),
    )
    s.heading("confirmations")
    intro = s.text("confirmations", "intro_guardian" if guardian else "intro")
    s.bullets("confirmations", intro=intro)
    # 8. signatures and the record
    s.signatures(signatures, required_signer_roles(assessment))
    return s.done(document_id, now)


def compose_aftercare(
    template: Template,
    *,
    profile: ClinicProfile,
    patient: Patient,
    consultation: Consultation,
    assessment: Assessment,
    signatures: Sequence[Signature] = (),
    test_spots: Sequence[TestSpot] = (),
    sources: Mapping[int, str] | None = None,
    document_id: str,
    now: datetime,
) -> DocumentContent:
    """The aftercare sheet, with the vitiligo add-on and autoimmune advice where they apply."""
    del sources  # same arguments as the other sheets; aftercare cites no rules
    _check_document_id(document_id)
    s = _Sheet(
        template,
        "aftercare",
        profile=profile,
        patient=patient,
        consultation=consultation,
        assessment=assessment,
    )
    rows = (
        ("treatment_date", format_date(consultation.date)),
        ("areas", s.or_missing(", ".join(consultation.procedure.areas))),
        ("clinician", s.or_missing(consultation.clinician)),
        ("clinic_phone", s.or_missing(profile.phone)),
    )
    s.opening()
    s.details([(s.label("details", k), v) for k, v in rows])
    for section in ("first_day", "from_day_two", "first_week"):
        s.heading(section)
        s.bullets(section)
    s.heading("warning")
    s.add(Bullets(s.items("warning", "items"), intro=s.text("warning", "text")))
    s.add(Notice(s.text("warning", "urgent"), tone="danger"))
    answers = consultation.answers
    if (
        answers.get("V1") == "yes"
        or assessment.has("A2")
        or assessment.has("D1")
        or bool(test_spots)
    ):
        start = min((t.done_on for t in test_spots), default=consultation.date)
        when = {
            "week4_date": format_date(start + timedelta(weeks=4)),
            "week12_date": format_date(start + timedelta(weeks=12)),
        }
        s.heading("vitiligo")
        s.add(Bullets(s.items("vitiligo", "items", **when), intro=s.text("vitiligo", "text")))
    if answers.get("V9") == "yes" or _answer_list(answers, "V10"):
        s.notice("autoimmune", "info")
    s.signatures([sig for sig in signatures if sig.role == "clinician"])
    return s.done(document_id, now)


def compose_referral(
    template: Template,
    *,
    profile: ClinicProfile,
    patient: Patient,
    consultation: Consultation,
    assessment: Assessment,
    signatures: Sequence[Signature] = (),
    test_spots: Sequence[TestSpot] = (),
    sources: Mapping[int, str],
    document_id: str,
    now: datetime,
) -> DocumentContent:
    """The advisory and referral sheet for a deferred decision (no treatment consent)."""
    _check_document_id(document_id)
    s = _Sheet(
        template,
        "referral",
        profile=profile,
        patient=patient,
        consultation=consultation,
        assessment=assessment,
    )
    if s.decision != "defer":
        raise ValidationError(
            f"The referral sheet is for a deferred decision; this one is '{s.decision}'.",
            field="decision",
        )
    s.opening()
    s.details(s.visit_rows())
    s.heading("why")
    s.add(Paragraph(s.text("why", "text")))
    s.outcome()
    s.override()
    s.rules(sources)
    s.disclosure()
    s.evidence()
    s.test_spot_results(test_spots)
    _referral_advice(s)
    s.heading("letter", 2)
    s.add(Paragraph(s.text("letter", "text")))
    s.heading("watch")
    s.add(Bullets(s.items("watch", "items")), Paragraph(s.text("watch", "action"), "strong"))
    s.heading("return")
    s.add(Paragraph(s.text("return", "text")))
    s.signatures([sig for sig in signatures if sig.role == "clinician"])
    return s.done(document_id, now)


def _referral_advice(s: _Sheet) -> None:
    """Who to see: a dermatologist for vitiligo, the GP or prescriber for clearance, or wait."""
    a = s.a
    advice = s.t.mapping("referral", "advice")
    s.heading("referral")
    said = False
    if a.vitiligo in ("red", "amber"):
        s.add(Paragraph(s.text("referral", "dermatologist"), "strong"))
        said = True
    for severity, intro in (("clearance", "clearance"), ("not_today", "wait")):
        fired = [f for f in a.fired if f.severity == severity]
        if not fired:
            continue
        items = tuple(s.fmt(advice.get(f.rule, f.text)) for f in fired)
        s.add(Bullets(items, intro=s.text("referral", intro)))
        said = True
    if not said:
        s.add(Paragraph(s.text("referral", "general")))
