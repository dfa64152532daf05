"""Frozen records shared by every layer: patients, consultations, assessments, documents."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

AnswerValue = str | tuple[str, ...]
Answers = Mapping[str, AnswerValue]

VitiligoOutcome = Literal["green", "amber", "red"]
GeneralOutcome = Literal["clear", "caution", "not_today", "clearance"]
Decision = Literal["proceed", "caution", "defer"]
ConsultationState = Literal["draft", "signed"]
SignerRole = Literal["patient", "guardian", "clinician", "witness", "interpreter"]
DocumentKind = Literal["consent", "aftercare", "referral"]
ReviewResult = Literal["no_change", "depigmentation", "hyperpigmentation", "other"]
REVIEW_RESULTS: tuple[ReviewResult, ...] = (
    "no_change",
    "depigmentation",
    "hyperpigmentation",
    "other",
)

#: Most characters a text field may hold ("Record.field" -> count). Short fields name someone or
#: something and print in table cells, headers and signature captions; long ones are free text
#: that flows across pages. The sheets print any length whole; these limits keep a record usable
#: (a name that fills a page is a mistake) and are enforced where records are created or edited.
FIELD_LIMITS: Mapping[str, int] = {
    "Patient.given_name": 100,
    "Patient.family_name": 100,
    "Patient.phone": 40,
    "Patient.email": 254,  # RFC 5321's longest address
    "Patient.notes": 10_000,
    "Consultation.clinician": 120,
    "Procedure.device": 120,
    "Procedure.product": 300,
    "Procedure.areas": 20,  # areas, each at most Procedure.area characters
    "Procedure.area": 80,
    "Override.reason": 4_000,  # about 650 words; longer reasons flow across pages all the same
    "Override.author": 120,
    "Consultation.discard_reason": 1_000,
    "Consultation.addendum_reason": 2_000,
    "Signature.signer_name": 120,
    "TestSpot.site": 120,
    "TestSpotReview.reviewer": 120,
    "TestSpotReview.notes": 2_000,
    "ClinicProfile.name": 120,
    "ClinicProfile.address": 400,  # and at most 8 lines
    "ClinicProfile.address_lines": 8,
    "ClinicProfile.phone": 40,
    "User.display_name": 120,
}

SIGNER_ROLES: tuple[SignerRole, ...] = (
    "patient",
    "guardian",
    "clinician",
    "witness",
    "interpreter",
)
DECISIONS: tuple[Decision, ...] = ("proceed", "caution", "defer")
FITZPATRICK_TYPES: tuple[str, ...] = ("I", "II", "III", "IV", "V", "VI")


def is_cjk(ch: str) -> bool:
    """Chinese, Japanese or Korean script (Han, kana, Hangul): names written without spaces."""
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # Han extension A
        or 0x4E00 <= code <= 0x9FFF  # Han
        or 0xF900 <= code <= 0xFAFF  # Han compatibility
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0x1100 <= code <= 0x11FF  # Hangul jamo
        or 0x3130 <= code <= 0x318F  # Hangul compatibility jamo
        or 0x31F0 <= code <= 0x31FF  # katakana extension
        or 0x20000 <= code <= 0x3FFFF  # Han extensions B and later
    )


def person_name(given: str, family: str) -> str:
    """A name as printed: "Given Family"; the one name alone when the other is empty (a
    mononym); family name first without a space when both are written in Chinese, Japanese
    or Korean characters (陈 + 美玲 -> 陈美玲, 山田 + 太郎 -> 山田太郎)."""
    given, family = given.strip(), family.strip()
    if given and family and all(is_cjk(c) for c in given + family):
        return family + given
    return " ".join(part for part in (given, family) if part)


@dataclass(frozen=True)
class Patient:
    """A registered patient.

    Names: at least one of `given_name` and `family_name` is set; a person with a single
    name (a mononym) has it in either field and the other empty, and it prints alone
    (`full_name`). `phone` is what is shown and printed: the international form when the
    number was understood ("+44 20 7946 0011", also held as E.164 in `phone_e164`), or the
    text as typed when it was not (`phone_e164` empty; nothing typed is ever dropped).
    `address` is free text over several lines, as on the consent form.
    """

    id: str
    given_name: str
    family_name: str
    date_of_birth: date
    phone: str = ""
    email: str = ""
    fitzpatrick: str | None = None
    notes: str = ""
    demo: bool = False
    created: datetime | None = None
    updated: datetime | None = None
    revision: int = 1  # grows by one with every saved change (stale saves are refused)
    updated_by: str = ""  # user name of whoever saved the current revision
    phone_e164: str = ""  # "+442079460011", or "" when the number was kept as typed
    address: str = ""
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""

    @property
    def full_name(self) -> str:
        """The name as printed on sheets (see `person_name`)."""
        return person_name(self.given_name, self.family_name)

    @property
    def listed_name(self) -> str:
        """The name in an alphabetical list: "Family, Given", or the one name alone, or the
        full name for a Chinese, Japanese or Korean name (family name first already)."""
        given, family = self.given_name.strip(), self.family_name.strip()
        if not given or not family or self.full_name == family + given:
            return self.full_name
        return f"{family}, {given}"


@dataclass(frozen=True)
class Procedure:
    device: str = ""
    needle_depth_mm: float | None = None
    product: str = ""
    areas: tuple[str, ...] = ()
    session_number: int = 1


@dataclass(frozen=True)
class FiredRule:
    rule: str
    severity: str
    basis: str
    text: str
    group: Literal["vitiligo", "general", "note"]
    sources: tuple[int, ...] = ()


@dataclass(frozen=True)
class Assessment:
    checklist_id: str
    checklist_version: str
    vitiligo: VitiligoOutcome
    general: GeneralOutcome
    decision: Decision
    vida: int | None
    risk_points: int
    age: int
    strict: bool
    fired: tuple[FiredRule, ...]

    def fired_ids(self) -> tuple[str, ...]:
        return tuple(f.rule for f in self.fired)

    def has(self, rule: str) -> bool:
        return any(f.rule == rule for f in self.fired)


@dataclass(frozen=True)
class Override:
    decision: Decision
    reason: str
    author: str
    at: datetime


@dataclass(frozen=True)
class Discard:
    """A draft set aside: when, by whom (user name) and why."""

    at: datetime
    by: str
    reason: str


@dataclass(frozen=True)
class Consultation:
    id: str
    patient_id: str
    clinician: str
    date: date
    procedure: Procedure
    checklist_id: str
    checklist_version: str
    answers: Mapping[str, AnswerValue]
    strict: bool = False
    photo_other_use: bool = False
    assessment: Assessment | None = None
    override: Override | None = None
    state: ConsultationState = "draft"
    amends_id: str | None = None
    created_by: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    signed_at: datetime | None = None
    revision: int = 1  # grows by one with every saved change (stale saves are refused)
    updated_by: str = ""  # user name of whoever saved the current revision
    # Answers carried over from an earlier consultation (`copied_from`) that nobody has
    # confirmed or changed yet: question IDs. The assessment waits for them.
    unconfirmed: tuple[str, ...] = ()
    copied_from: str | None = None
    discard: Discard | None = None  # a stray draft set aside (kept, hidden from lists)
    addendum_reason: str = ""  # why an addendum corrects the signed original

    @property
    def discarded(self) -> bool:
        return self.discard is not None

    @property
    def decision(self) -> Decision | None:
        """The decision in force: the clinician's override if any, else the assessment's."""
        if self.override is not None:
            return self.override.decision
        return self.assessment.decision if self.assessment else None


Point = tuple[float, float, float]  # x, y in pad units (0..width, 0..height), pressure 0..1
Stroke = tuple[Point, ...]


@dataclass(frozen=True)
class Signature:
    role: SignerRole
    signer_name: str
    strokes: tuple[Stroke, ...]
    signed_at: datetime
    width: float = 600.0
    height: float = 200.0
    id: str = ""
    consultation_id: str = ""
    # SHA-256 of the sheets' signable content as shown to the signer; a change voids it
    content_sha256: str = ""


@dataclass(frozen=True)
class Document:
    id: str
    consultation_id: str
    kind: DocumentKind
    template_version: str
    sha256: str
    content_sha256: str
    created: datetime
    size: int = 0


@dataclass(frozen=True)
class TestSpotReview:
    week: Literal[4, 12]
    result: ReviewResult
    reviewed_on: date
    reviewer: str
    notes: str = ""


@dataclass(frozen=True)
class TestSpot:
    id: str
    consultation_id: str
    patient_id: str
    site: str
    done_on: date
    reviews: tuple[TestSpotReview, ...] = ()

    def review(self, week: int) -> TestSpotReview | None:
        return next((r for r in self.reviews if r.week == week), None)

    @property
    def depigmented(self) -> bool:
        return any(r.result == "depigmentation" for r in self.reviews)


@dataclass(frozen=True)
class ClinicProfile:
    name: str = "Your clinic"
    address: str = ""
    phone: str = ""
    logo_png: bytes | None = field(default=None, repr=False)
    paper: Literal["A4", "Letter"] = "A4"
    strict_mode: bool = False
    demo: bool = False


def new_id() -> str:
    """A random (version 4) UUID as text, made without the uuid module (cheaper to load)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
