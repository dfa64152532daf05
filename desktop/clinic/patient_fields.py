"""Patient details: validation and normalisation of what the front desk types (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from desktop.errors import ValidationError
from desktop.models import FITZPATRICK_TYPES
from desktop.storage import PhoneReading, read_phone
from desktop.text import name_problem, nfc, text_problem, without_invisible

MAX_AGE_YEARS = 120
MAX_NAME = 100
MAX_ADDRESS = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
_DOTTED = re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$")
_SLASHED = re.compile(r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})$")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "phone",
    "email",
    "fitzpatrick",
    "notes",
    "address",
    "emergency_contact_name",
    "emergency_contact_phone",
)
LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "phone": "Phone",
    "email": "Email",
    "fitzpatrick": "Fitzpatrick skin type",
    "notes": "Notes",
    "address": "Address",
    "emergency_contact_name": "Emergency contact",
    "emergency_contact_phone": "Emergency contact's phone",
}

DateOrder = Literal["day-first", "month-first"]
DATE_ORDERS: tuple[DateOrder, ...] = ("day-first", "month-first")


@dataclass(frozen=True)
class InputRules:
    """How this clinic writes what the front desk types (its Settings).

    `phone_region`: the country of numbers typed without a country code (ISO 3166 code,
    e.g. "GB"; "" when not set: such numbers are kept as typed). `date_order`: how the clinic
    writes slash dates (12/01/2008); None when not set: a slash date whose day and month
    could swap is refused.
    """

    phone_region: str = ""
    date_order: DateOrder | None = None


@dataclass(frozen=True)
class PatientFields:
    """Validated, normalised patient details (no ID, no timestamps); see models.Patient."""

    given_name: str
    family_name: str
    date_of_birth: date
    phone: str = ""
    phone_e164: str = ""
    email: str = ""
    fitzpatrick: str | None = None
    notes: str = ""
    address: str = ""
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""


def long_date(d: date) -> str:
    """'1 December 2008': the month spelled out, so a day and month cannot be mistaken."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str, field: str = "date_of_birth", order: DateOrder | None = None) -> date:
    """Read a typed date.

    Accepted: ISO 1990-04-02 always; 02.04.1990 (dots: day first, by convention); and
    02/04/1990 (slashes) read in the clinic's `order`. Without an order, a slash date is
    accepted only when one reading is possible (13/01/2008, 05/05/2008): 12/01/2008 could be
    12 January or 1 December and is refused. Raises ValidationError naming `field`.
    """
    text = text.strip()
    label = LABELS.get(field, field)
    how = "type it as YYYY-MM-DD (e.g. 1990-04-02) or DD.MM.YYYY"
    found: date | None = None
    if m := _ISO.match(text) or _DOTTED.match(text):
        found = _date_or_none(int(m["y"]), int(m["m"]), int(m["d"]))
    elif m := _SLASHED.match(text):
        a, b, year = int(m["a"]), int(m["b"]), int(m["y"])
        day_first, month_first = _date_or_none(year, b, a), _date_or_none(year, a, b)
        if order == "day-first":
            found = day_first
            how = f"this clinic writes the day first (DD/MM/YYYY); or {how}"
        elif order == "month-first":
            found = month_first
            how = f"this clinic writes the month first (MM/DD/YYYY); or {how}"
        elif day_first and month_first and day_first != month_first:
            raise ValidationError(
                f"{label}: '{text}' could be {long_date(day_first)} or "
                f"{long_date(month_first)}; {how}, or set the clinic's date order in Settings.",
                field=field,
            )
        else:
            found = day_first or month_first
    if found is None:
        raise ValidationError(f"{label}: '{text}' is not a date; {how}.", field=field)
    return found


def describe_date(
    text: str, today: date, order: DateOrder | None = None, *, birth: bool = True
) -> str:
    """What a typed date was understood as, to show under the field: "1 December 2008,
    age 17" (a date of birth) or "1 December 2008"; "" when it is not a date (yet)."""
    try:
        when = parse_date(text, order=order)
    except ValidationError:
        return ""
    if not birth or when > today:
        return long_date(when)
    from desktop.checklist import age_on  # loaded on first use, not at start-up

    return f"{long_date(when)}, age {age_on(when, today)}"


def _typed(value: object, field: str, *, multiline: bool = False) -> str:
    """A field's text as typed: "" for nothing, refused if it is not clean text (NFC)."""
    if value is None:
        return ""
    if multiline and isinstance(value, str):
        for end in ("\r\n", "\r", "\u2028", "\u2029"):  # Windows, old Mac, Unicode lines
            value = value.replace(end, "\n")
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValidationError(f"{LABELS[field]} {problem}.", field=field)
    assert isinstance(value, str)
    return nfc(value)


def _name(value: object, field: str) -> str:
    """One name part, "" when empty (whether one may be empty is `_names`' to say)."""
    text = " ".join(_typed(value, field).split())
    if not "".join(c for c in text if unicodedata.category(c) != "Cf").strip():
        return ""  # nothing visible (only zero-width characters)
    if len(text) > MAX_NAME:
        raise ValidationError(
            f"{LABELS[field]} is too long ({MAX_NAME} characters at most).", field
        )
    if text and not any(c.isalpha() for c in text):
        raise ValidationError(f"{LABELS[field]} must contain letters.", field=field)
    problem = name_problem(text)
    if problem is not None:
        raise ValidationError(f"{LABELS[field]} {problem}.", field=field)
    return without_invisible(text)


def _names(raw: Mapping[str, object]) -> tuple[str, str]:
    """Given and family name: either may be empty (a person with a single name), not both."""
    given = _name(raw.get("given_name"), "given_name")
    family = _name(raw.get("family_name"), "family_name")
    if not given and not family:
        raise ValidationError(
            "A name is required: type the given name, the family name or both (a person "
            "with a single name has it in one field only).",
            field="given_name",
        )
    return given, family


def _dob(value: object, today: date, order: DateOrder | None) -> date:
    if isinstance(value, date):
        dob = value
    elif isinstance(value, str) and _typed(value, "date_of_birth").strip():
        dob = parse_date(value, order=order)
    else:
        raise ValidationError("Date of birth is required.", field="date_of_birth")
    if dob > today:
        raise ValidationError(
            f"Date of birth {long_date(dob)} is in the future; check the year.",
            field="date_of_birth",
        )
    if today.year - dob.year > MAX_AGE_YEARS:
        raise ValidationError(
            f"Date of birth {long_date(dob)} makes the patient older than {MAX_AGE_YEARS}; "
            "check the year.",
            field="date_of_birth",
        )
    return dob


def _phone(value: object, region: str, field: str = "phone") -> PhoneReading:
    """A phone number: understood (shown internationally, with its E.164 form) or kept as
    typed; refused only when it is not a phone number at all."""
    text = " ".join(_typed(value, field).split())
    if not text:
        return PhoneReading("")
    digits = sum(c.isdigit() for c in text)
    if not _PHONE_CHARS.match(text) or not 6 <= digits <= 15:
        raise ValidationError(
            f"{LABELS[field]}: '{text}' is not a phone number; use digits, spaces and an "
            "optional leading + (6 to 15 digits).",
            field=field,
        )
    return read_phone(text, region)


def describe_phone(text: str, region: str) -> str:
    """What a typed phone number was understood as, to show under the field; "" for
    nothing typed or not a phone number."""
    try:
        reading = _phone(text, region)
    except ValidationError:
        return ""
    if not reading.shown:
        return ""
    if reading.e164:
        return f"{reading.shown} ({reading.region or 'international'})"
    if not region:
        return (
            "Kept as typed. Type the country code (+44 ...), or set the clinic's phone "
            "region in Settings, so that the number is found however it is typed."
        )
    return (
        f"Kept as typed: not a complete number for {region}; add the country code if it is foreign."
    )


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


def _address(value: object) -> str:
    """Free text over several lines, as written on the consent form (lines kept)."""
    text = _typed(value, "address", multiline=True).replace("\t", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(line for line in lines if line)
    if len(text) > MAX_ADDRESS:
        raise ValidationError(
            f"Address is too long ({MAX_ADDRESS} characters at most).", field="address"
        )
    return text


def _contact_name(value: object) -> str:
    return _name(value, "emergency_contact_name")


def validate_patient(
    raw: Mapping[str, object], today: date, rules: InputRules | None = None
) -> PatientFields:
    """Validate every field; the first problem raises ValidationError naming its field."""
    rules = rules or InputRules()
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ValidationError(f"Unknown patient field: {unknown[0]}.", field=unknown[0])
    given, family = _names(raw)
    dob = _dob(raw.get("date_of_birth"), today, rules.date_order)
    phone = _phone(raw.get("phone"), rules.phone_region)
    email = _email(raw.get("email"))
    fitzpatrick = _fitzpatrick(raw.get("fitzpatrick"))
    notes = _typed(raw.get("notes"), "notes", multiline=True).strip()
    address = _address(raw.get("address"))
    contact = _contact_name(raw.get("emergency_contact_name"))
    contact_phone = _phone(
        raw.get("emergency_contact_phone"), rules.phone_region, "emergency_contact_phone"
    )
    return PatientFields(
        given_name=given,
        family_name=family,
        date_of_birth=dob,
        phone=phone.shown,
        phone_e164=phone.e164,
        email=email,
        fitzpatrick=fitzpatrick,
        notes=notes,
        address=address,
        emergency_contact_name=contact,
        emergency_contact_phone=contact_phone.shown,
    )


def field_errors(
    raw: Mapping[str, object], today: date, rules: InputRules | None = None
) -> dict[str, str]:
    """Every field's problem at once, for inline messages beside a form's inputs."""
    rules = rules or InputRules()
    region = rules.phone_region
    checks: dict[str, Callable[[], object]] = {
        "given_name": lambda: _names(raw),
        "family_name": lambda: _name(raw.get("family_name"), "family_name"),
        "date_of_birth": lambda: _dob(raw.get("date_of_birth"), today, rules.date_order),
        "phone": lambda: _phone(raw.get("phone"), region),
        "email": lambda: _email(raw.get("email")),
        "fitzpatrick": lambda: _fitzpatrick(raw.get("fitzpatrick")),
        "notes": lambda: _typed(raw.get("notes"), "notes", multiline=True),
        "address": lambda: _address(raw.get("address")),
        "emergency_contact_name": lambda: _contact_name(raw.get("emergency_contact_name")),
        "emergency_contact_phone": lambda: _phone(
            raw.get("emergency_contact_phone"), region, "emergency_contact_phone"
        ),
    }
    errors: dict[str, str] = {}
    for field, check in checks.items():
        try:
            check()
        except ValidationError as exc:
            errors[exc.field or field] = exc.message
    return errors
