"""Patient details: validation and normalisation of what the front desk types (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from desktop.errors import ValidationError
from desktop.models import FITZPATRICK_TYPES
from desktop.text import nfc, text_problem

MAX_AGE_YEARS = 120
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
_DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})$"),
)
FIELDS = ("given_name", "family_name", "date_of_birth", "phone", "email", "fitzpatrick", "notes")
LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "phone": "Phone",
    "email": "Email",
    "fitzpatrick": "Fitzpatrick skin type",
    "notes": "Notes",
}


@dataclass(frozen=True)
class PatientFields:
    """Validated, normalised patient details (no ID, no timestamps)."""

    given_name: str
    family_name: str
    date_of_birth: date
    phone: str = ""
    email: str = ""
    fitzpatrick: str | None = None
    notes: str = ""


def parse_date(text: str, field: str = "date_of_birth") -> date:
    """Accept 1990-04-02, 02.04.1990 or 02/04/1990 (day first)."""
    text = text.strip()
    for pattern in _DATE_FORMATS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                break
    raise ValidationError(
        f"{LABELS.get(field, field)}: '{text}' is not a date; type it as YYYY-MM-DD "
        "(e.g. 1990-04-02) or DD.MM.YYYY.",
        field=field,
    )


def _typed(value: object, field: str, *, multiline: bool = False) -> str:
    """A field's text as typed: "" for nothing, refused if it is not clean text (NFC)."""
    if value is None:
        return ""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValidationError(f"{LABELS[field]} {problem}.", field=field)
    assert isinstance(value, str)
    return nfc(value)


def _name(value: object, field: str) -> str:
    text = " ".join(_typed(value, field).split())
    if not text:
        raise ValidationError(f"{LABELS[field]} is required.", field=field)
    if len(text) > 100:
        raise ValidationError(f"{LABELS[field]} is too long (100 characters at most).", field)
    if not any(c.isalpha() for c in text):
        raise ValidationError(f"{LABELS[field]} must contain letters.", field=field)
    return text


def _dob(value: object, today: date) -> date:
    if isinstance(value, date):
        dob = value
    elif isinstance(value, str) and _typed(value, "date_of_birth").strip():
        dob = parse_date(value)
    else:
        raise ValidationError("Date of birth is required.", field="date_of_birth")
    if dob > today:
        raise ValidationError(
            f"Date of birth {dob.isoformat()} is in the future; check the year.",
            field="date_of_birth",
        )
    if today.year - dob.year > MAX_AGE_YEARS:
        raise ValidationError(
            f"Date of birth {dob.isoformat()} makes the patient older than {MAX_AGE_YEARS}; "
            "check the year.",
            field="date_of_birth",
        )
    return dob


def _phone(value: object) -> str:
    text = " ".join(_typed(value, "phone").split())
    if not text:
        return ""
    digits = sum(c.isdigit() for c in text)
    if not _PHONE_CHARS.match(text) or not 6 <= digits <= 15:
        raise ValidationError(
            f"Phone: '{text}' is not a phone number; use digits, spaces and an optional "
            "leading + (6 to 15 digits).",
            field="phone",
        )
    return text


def _email(value: object) -> str:
    text = _typed(value, "email").strip()
    if text and not _EMAIL.match(text):
        raise ValidationError(
            f"Email: '{text}' is not an email address (expected name@example.com).",
            field="email",
        )
    return text


def _fitzpatrick(value: object) -> str | None:
    text = _typed(value, "fitzpatrick").strip().upper()
    if not text:
        return None
    if text not in FITZPATRICK_TYPES:
        raise ValidationError(
            f"Fitzpatrick skin type: '{text}' is not a type; use one of "
            f"{', '.join(FITZPATRICK_TYPES)}.",
            field="fitzpatrick",
        )
    return text


def validate_patient(raw: Mapping[str, object], today: date) -> PatientFields:
    """Validate every field; the first problem raises ValidationError naming its field."""
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ValidationError(f"Unknown patient field: {unknown[0]}.", field=unknown[0])
    return PatientFields(
        given_name=_name(raw.get("given_name"), "given_name"),
        family_name=_name(raw.get("family_name"), "family_name"),
        date_of_birth=_dob(raw.get("date_of_birth"), today),
        phone=_phone(raw.get("phone")),
        email=_email(raw.get("email")),
        fitzpatrick=_fitzpatrick(raw.get("fitzpatrick")),
        notes=_typed(raw.get("notes"), "notes", multiline=True).strip(),
    )


def field_errors(raw: Mapping[str, object], today: date) -> dict[str, str]:
    """Every field's problem at once, for inline messages beside a form's inputs."""
    checks: dict[str, Callable[[], object]] = {
        "given_name": lambda: _name(raw.get("given_name"), "given_name"),
        "family_name": lambda: _name(raw.get("family_name"), "family_name"),
        "date_of_birth": lambda: _dob(raw.get("date_of_birth"), today),
        "phone": lambda: _phone(raw.get("phone")),
        "email": lambda: _email(raw.get("email")),
        "fitzpatrick": lambda: _fitzpatrick(raw.get("fitzpatrick")),
    }
    errors: dict[str, str] = {}
    for field, check in checks.items():
        try:
            check()
        except ValidationError as exc:
            errors[field] = exc.message
    return errors
