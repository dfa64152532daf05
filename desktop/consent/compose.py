"""Compose the consent, aftercare and referral sheets from a versioned template: pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from desktop.checklist import ChecklistDefinition
from desktop.checklist.roles import (
    AUTOIMMUNE,
    DIAGNOSIS,
    DISCLOSURE,
    FAMILY_HISTORY,
    GUARDIAN,
    PIGMENTATION_RISK,
    RISK_MARKERS,
)
from desktop.consent.blocks import (
    Bullets,
    DocumentContent,
    Fields,
    Notice,
    Paragraph,
    Template,
    format_date,
    format_datetime,
    parse_template,
)
from desktop.consent.sheet import Sheet, answer_list
from desktop.consent.signatures import missing_signer_roles, required_signer_roles
from desktop.errors import ValidationError
from desktop.models import (
    Assessment,
    ClinicProfile,
    Consultation,
    Patient,
    Signature,
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


def _check_document_id(document_id: str) -> None:
    if not document_id.strip():
        raise ValidationError("A document needs an ID", field="document_id")


# Public compose functions live below; the sections they share are in consent_sheet.py.


def compose_consent(
    template: Template,
    *,
    profile: ClinicProfile,
    patient: Patient,
    consultation: Consultation,
    assessment: Assessment,
    signatures: Sequence[Signature],
    test_spots: Sequence[TestSpot],
    checklist: ChecklistDefinition,
    document_id: str,
    now: datetime,
) -> DocumentContent:
    """The informed-consent sheet (CLINICAL.md points 1-8); refuses a deferred decision.

    `checklist` is the definition version that made `assessment`: its role map says which
    fired rules and answers the sheet looks for, and its sources table is cited.
    """
    _check_document_id(document_id)
    s = Sheet(
        template,
        "consent",
        profile=profile,
        patient=patient,
        consultation=consultation,
        assessment=assessment,
        checklist=checklist,
    )
    if s.decision == "defer":
        raise ValidationError(
            "Treatment is deferred, so there is no treatment consent to sign: "
            "print the referral sheet instead.",
            field="decision",
        )
    guardian = assessment.has(checklist.rule_id(GUARDIAN))
    skin_type = assessment.has(checklist.rule_id(PIGMENTATION_RISK))
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
    s.rules()
    s.disclosure()
    if assessment.vitiligo == "amber" or skin_type or test_spots:
        s.heading("test_spot", 2)
        if assessment.vitiligo == "amber":
            s.add(Paragraph(s.text("test_spot", "why_vitiligo")))
        if skin_type:
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
    s.signatures(signatures, required_signer_roles(checklist, assessment, s.decision))
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
    checklist: ChecklistDefinition,
    document_id: str,
    now: datetime,
) -> DocumentContent:
    """The aftercare sheet, with the vitiligo add-on and autoimmune advice where they apply."""
    _check_document_id(document_id)
    s = Sheet(
        template,
        "aftercare",
        profile=profile,
        patient=patient,
        consultation=consultation,
        assessment=assessment,
        checklist=checklist,
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
    add_on = (
        answers.get(checklist.question_id(DIAGNOSIS)) == "yes"
        or assessment.has(checklist.rule_id(RISK_MARKERS))
        or assessment.has(checklist.rule_id(DISCLOSURE))
        or bool(test_spots)
    )
    if template.format >= 2:
        _aftercare_vitiligo(s, add_on, now)
        s.signatures([sig for sig in signatures if sig.role == "clinician"])
        return s.done(document_id, now)
    # Format 1 templates (checklist 2026.11.1): as those sheets were signed, so that they
    # re-render exactly; the reviews were counted from the earliest test spot then.
    if add_on:
        start = min((t.done_on for t in test_spots), default=consultation.date)
        when = {
            "week4_date": format_date(start + timedelta(weeks=4)),
            "week12_date": format_date(start + timedelta(weeks=12)),
        }
        s.heading("vitiligo")
        s.add(Bullets(s.items("vitiligo", "items", **when), intro=s.text("vitiligo", "text")))
    if answers.get(checklist.question_id(FAMILY_HISTORY)) == "yes" or answer_list(
        answers, checklist.question_id(AUTOIMMUNE)
    ):
        s.notice("autoimmune", "info")
    s.signatures([sig for sig in signatures if sig.role == "clinician"])
    return s.done(document_id, now)


def _aftercare_vitiligo(s: Sheet, add_on: bool, now: datetime) -> None:
    """The vitiligo add-on and the risk-marker notice of a format 2 aftercare sheet.

    The photo reviews fall 4 and 12 weeks after this treatment (the consultation date); a
    review date already past when the sheet is issued is not printed. The notice is worded
    for the case: one marker (the advice the consent gives with rule D1), several markers, or
    markers beside diagnosed vitiligo (never "you may develop vitiligo" to a patient who has it).
    """
    c, d = s.c, s.checklist
    if add_on:
        treated = c.date
        week4, week12 = treated + timedelta(weeks=4), treated + timedelta(weeks=12)
        today = now.date()
        dates = {"week4_date": format_date(week4), "week12_date": format_date(week12)}
        entry = (
            "reviews"
            if week4 >= today
            else "reviews_late"
            if week12 >= today
            else "reviews_undated"
        )
        items = (*s.items("vitiligo", "items"), s.text("vitiligo", entry, **dates))
        s.heading("vitiligo")
        s.add(Bullets(items, intro=s.text("vitiligo", "text")))
    if not s.marker_names():
        return
    if s.a.has(d.rule_id(DISCLOSURE)):
        case = "one"
    elif c.answers.get(d.question_id(DIAGNOSIS)) == "yes":
        case = "with_vitiligo"
    else:
        case = "several"
    text = s.text("autoimmune", case, markers=s.markers("autoimmune"))
    s.add(Notice(text, s.text("autoimmune", "title"), "info"))


def compose_referral(
    template: Template,
    *,
    profile: ClinicProfile,
    patient: Patient,
    consultation: Consultation,
    assessment: Assessment,
    signatures: Sequence[Signature] = (),
    test_spots: Sequence[TestSpot] = (),
    checklist: ChecklistDefinition,
    document_id: str,
    now: datetime,
) -> DocumentContent:
    """The advisory and referral sheet for a deferred decision (no treatment consent)."""
    _check_document_id(document_id)
    s = Sheet(
        template,
        "referral",
        profile=profile,
        patient=patient,
        consultation=consultation,
        assessment=assessment,
        checklist=checklist,
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
    s.rules()
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


def _referral_advice(s: Sheet) -> None:
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
        items = tuple(s.fmt(advice.get(f.rule, s.rule_text(f.rule, f.text))) for f in fired)
        s.add(Bullets(items, intro=s.text("referral", intro)))
        said = True
    if not said:
        s.add(Paragraph(s.text("referral", "general")))
