"""Sheet content material: the shipped templates and checklist, and two patients' cases."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from desktop.checklist import ChecklistDefinition, parse_definition_text
from desktop.consent import compose_consent, parse_template
from desktop.consent.blocks import (
    Bullets,
    DocumentContent,
    Fields,
    Heading,
    Notice,
    Outcome,
    Paragraph,
    Rules,
    Signatures,
    Table,
    Template,
)
from desktop.models import (
    Assessment,
    ClinicProfile,
    Consultation,
    FiredRule,
    Patient,
    Procedure,
    Signature,
)
from desktop.models import TestSpot as Spot  # aliased: pytest would try to collect "Test*"
from desktop.models import TestSpotReview as SpotReview
from tests.helpers.clock import TZ
from tests.helpers.paths import ROOT

TEMPLATES = ROOT / "resources" / "consent"
NOW = datetime(2026, 11, 25, 14, 30, tzinfo=TZ)
SOURCES = {
    3: "van Geel 2012, Br J Dermatol 167:1017",
    8: "Njoo 1999, Arch Dermatol 135:407",
    14: "Lahiri 2009, J Cutan Aesthet Surg",
    16: "Alkhateeb 2003, Pigment Cell Res",
    19: "Systematic review of microneedling in vitiligo, 2020",
    25: "Fan 2018, thyroid disease meta-analysis",
    30: "Chu 2021, Dermatol Surg",
    34: "US FDA, Microneedling Devices",
    37: "Dermatologist commentary on contraindications",
}
CHECKLIST_PATH = ROOT / "resources" / "checklists" / "vitiligo-microneedling.json"
CHECKLIST = parse_definition_text(CHECKLIST_PATH.read_text(encoding="utf-8"), CHECKLIST_PATH.name)
PROFILE = ClinicProfile(
    name="Northgate Skin Clinic", address="12 Northgate\nYork YO1 7HH", phone="+44 1904 555 0101"
)


def checklist(sources: Mapping[int, str] = SOURCES) -> ChecklistDefinition:
    """The shipped checklist definition (its role map), citing the given sources table."""
    return replace(CHECKLIST, sources=MappingProxyType(dict(sources)))


def raw_template(kind: str) -> dict[str, Any]:
    """The shipped template of `kind` (consent, aftercare, referral) as parsed JSON."""
    data: dict[str, Any] = json.loads((TEMPLATES / f"{kind}.json").read_text(encoding="utf-8"))
    return data


def template(kind: str) -> Template:
    """The shipped template of `kind`, parsed."""
    return parse_template(raw_template(kind), f"{kind}.json")


def strokes(
    seed: float = 0.0, count: int = 3
) -> tuple[tuple[tuple[float, float, float], ...], ...]:
    """A wavy, pen-like synthetic signature in pad units (600 x 200)."""
    out = []
    for k in range(count):
        points = []
        for i in range(30):
            t = i / 29
            x = 40 + 170 * k + 150 * t
            y = 100 + 55 * math.sin(6.283 * t * (1.5 + 0.3 * k) + seed)
            points.append((x, y, 0.25 + 0.7 * abs(math.sin(3 * t + seed))))
        out.append(tuple(points))
    return tuple(out)


def rule(rule_id: str, severity: str, basis: str, text: str, *sources: int) -> FiredRule:
    """A fired rule, its group told by its ID (R/A: vitiligo, D1: note, else general)."""
    group = "vitiligo" if rule_id[0] in "RA" else "note" if rule_id == "D1" else "general"
    return FiredRule(rule_id, severity, basis, text, group, tuple(sources))  # type: ignore[arg-type]


def assessment(vitiligo: str, general: str, decision: str, *fired: FiredRule, age: int = 36) -> Any:
    """An assessment with these outcomes and fired rules (VIDA 0, no risk points)."""
    return Assessment(
        checklist_id="vitiligo-microneedling",
        checklist_version="2026.11.0",
        vitiligo=vitiligo,  # type: ignore[arg-type]
        general=general,  # type: ignore[arg-type]
        decision=decision,  # type: ignore[arg-type]
        vida=0,
        risk_points=0,
        age=age,
        strict=False,
        fired=tuple(fired),
    )


def consultation(a: Assessment, answers: dict[str, Any], **kw: Any) -> Consultation:
    """Session 2 of a Dermapen 4 treatment, assessed as `a`; `kw` replaces fields."""
    values: dict[str, Any] = {
        "id": "cons-1",
        "patient_id": "pat-1",
        "clinician": "Dr Αλέξανδρος Παπαδόπουλος",
        "date": date(2026, 11, 25),
        "procedure": Procedure(
            device="Dermapen 4",
            needle_depth_mm=0.5,
            product="Hyaluronic acid serum",
            areas=("cheeks", "forehead"),
            session_number=2,
        ),
        "checklist_id": a.checklist_id,
        "checklist_version": a.checklist_version,
        "answers": answers,
        "assessment": a,
    }
    values.update(kw)
    return Consultation(**values)


def minor_amber_case() -> dict[str, Any]:
    """A 17-year-old with stable vitiligo (amber), skin type V (K1), a guardian signing (K4)."""
    patient = Patient(
        id="pat-1",
        given_name="Zoë",
        family_name="Ødegård",
        date_of_birth=date(2009, 3, 14),
        phone="+44 7700 900123",
    )
    a = assessment(
        "amber",
        "caution",
        "caution",
        rule("A1", "amber", "C/D", "Known vitiligo, stable: studies enrolled stable patients.", 19),
        rule("K1", "caution", "P", "Fitzpatrick type V: risk of dark marks; test spot.", 30, 37),
        rule("K3", "caution", "P", "Under 22: outside the range devices were cleared for.", 34),
        rule("K4", "caution", "P", "Under 18: a parent or guardian must sign.", 30),
        age=17,
    )
    answers = {"V1": "yes", "V3": "gt_12m", "V9": "no", "V10": (), "G10": "V"}
    c = consultation(a, answers)
    signatures = (
        Signature("guardian", "Łukasz Żółć", strokes(0.0), NOW),
        Signature(
            "clinician", "Dr Αλέξανδρος Παπαδόπουλος", strokes(1.0), NOW + timedelta(minutes=3)
        ),
    )
    spot = Spot(
        "ts-1",
        "cons-0",
        "pat-1",
        "behind the left ear",
        date(2026, 10, 1),
        (SpotReview(4, "no_change", date(2026, 10, 29), "Dr A. Papadopoulos"),),
    )
    return {
        "profile": PROFILE,
        "patient": patient,
        "consultation": c,
        "assessment": a,
        "signatures": signatures,
        "test_spots": (spot,),
        "checklist": checklist(),
        "now": NOW,
    }


def red_referral_case() -> dict[str, Any]:
    """Active vitiligo (red), an anticoagulant (clearance) and an eczema flare (not today)."""
    patient = Patient(
        id="pat-2", given_name="Mary", family_name="O'Brien-Smith", date_of_birth=date(1990, 4, 2)
    )
    a = assessment(
        "red",
        "clearance",
        "defer",
        rule(
            "R1", "red", "C/E/D", "Active vitiligo: a patch appeared in the last 12 months.", 14, 8
        ),
        rule("R3", "red", "E/D", "Koebner-prone: a white patch after an injury.", 3),
        rule("C2", "clearance", "P", "Anticoagulant, antiplatelet or bleeding disorder.", 30),
        rule("N2", "not_today", "P", "Flare of eczema in the area.", 30),
    )
    c = consultation(a, {"V1": "yes", "V3": "3m_6m", "V4": "yes", "V9": "no", "V10": ()})
    return {
        "profile": PROFILE,
        "patient": patient,
        "consultation": c,
        "assessment": a,
        "signatures": (Signature("clinician", "Sam Clinician", strokes(2.0), NOW),),
        "test_spots": (),
        "checklist": checklist(),
        "now": NOW,
    }


def all_text(content: DocumentContent) -> str:
    """Every word a reader sees, in order."""
    parts: list[str] = [content.title]
    for b in content.blocks:
        if isinstance(b, Heading | Paragraph | Notice):
            parts += [getattr(b, "title", ""), b.text]
        elif isinstance(b, Bullets):
            parts += [b.intro, *b.items]
        elif isinstance(b, Fields):
            parts += [f"{k}: {v}" for k, v in b.rows]
        elif isinstance(b, Outcome):
            parts += [f"{r.label}: {r.badge} {r.meaning}" for r in b.rows]
        elif isinstance(b, Rules):
            parts += [f"{r.rule} {r.severity} [{r.basis}] {r.text}" for r in b.rows]
        elif isinstance(b, Table):
            parts += [" | ".join(row) for row in (b.header, *b.rows)]
        elif isinstance(b, Signatures):
            parts += [f"{s.role_label}: {s.signer_name} {s.signed_at_text}" for s in b.items]
    return "\n".join(p for p in parts if p)


def consent(**changes: Any) -> tuple[DocumentContent, ClinicProfile]:
    """The minor's consent sheet (minor_amber_case, `changes` applied to it) and the
    clinic's profile it is printed with."""
    case = minor_amber_case()
    case.update(changes)
    return compose_consent(template("consent"), document_id="CONS-2026-0001", **case), case[
        "profile"
    ]
