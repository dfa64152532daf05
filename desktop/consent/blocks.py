"""Building blocks of printed sheets: the template format and the content model with its hash."""

from __future__ import annotations

import hashlib
import json
import re
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, cast

from desktop.errors import ValidationError
from desktop.models import DocumentKind, SignerRole, Stroke

NoticeTone = Literal["info", "warning", "danger", "demo"]
#: Colour hint of a badge; the badge always carries its word too, never colour alone.
BadgeTone = Literal["green", "amber", "red", "grey", "blue"]


def isolate(value: str) -> str:
    """A value holding right-to-left letters, wrapped as a bidirectional isolate (FSI ... PDI),
    so that inserted into a sentence it keeps its own order and leaves the sentence's alone
    ("فاطمة · 25 Nov" must not print "25 · فاطمة Nov"). Other values are returned as they are."""
    if any(unicodedata.bidirectional(c) in ("R", "AL") for c in value):
        return f"\u2068{value}\u2069"
    return value


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1
    kind: str = field(default="heading", init=False)


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: Literal["body", "small", "strong"] = "body"
    kind: str = field(default="paragraph", init=False)


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    intro: str = ""
    style: Literal["body", "small"] = "body"
    kind: str = field(default="bullets", init=False)


@dataclass(frozen=True)
class Fields:
    """Label-value pairs, e.g. the patient's details."""

    rows: tuple[tuple[str, str], ...]
    kind: str = field(default="fields", init=False)


@dataclass(frozen=True)
class OutcomeRow:
    label: str
    badge: str
    tone: BadgeTone
    meaning: str


@dataclass(frozen=True)
class Outcome:
    """The checklist outcome: a badge word with its colour hint and its meaning in words."""

    rows: tuple[OutcomeRow, ...]
    kind: str = field(default="outcome", init=False)


@dataclass(frozen=True)
class RuleRow:
    rule: str
    severity: str
    tone: BadgeTone
    basis: str
    text: str
    sources: tuple[int, ...]


@dataclass(frozen=True)
class Rules:
    """The fired rules table; `columns` holds the header words in column order."""

    columns: tuple[str, str, str, str, str]
    rows: tuple[RuleRow, ...]
    kind: str = field(default="rules", init=False)


@dataclass(frozen=True)
class Table:
    """A small plain table (e.g. test spot results); the first row is the header."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: str = field(default="table", init=False)


@dataclass(frozen=True)
class Notice:
    """A highlighted box: something the reader must not miss."""

    text: str
    title: str = ""
    tone: NoticeTone = "info"
    kind: str = field(default="notice", init=False)


@dataclass(frozen=True)
class SignatureBlock:
    """One signature: strokes in pad units (y grows downwards), who signed, as what, when."""

    role: SignerRole
    role_label: str
    signer_name: str
    signed_at: str  # ISO 8601, "" while unsigned
    signed_at_text: str  # as printed, "" while unsigned
    strokes: tuple[Stroke, ...]
    pad_width: float
    pad_height: float
    caption: str = ""  # printed when unsigned, e.g. "Not yet signed"
    kind: str = field(default="signature", init=False)

    @property
    def signed(self) -> bool:
        return bool(self.signed_at)


@dataclass(frozen=True)
class Signatures:
    """The signature area: every signature laid out together."""

    items: tuple[SignatureBlock, ...]
    kind: str = field(default="signatures", init=False)


Block = Heading | Paragraph | Bullets | Fields | Outcome | Rules | Table | Notice | Signatures


@dataclass(frozen=True)
class DocumentContent:
    """Everything a printed sheet says; the PDF is a pure function of this and the clinic."""

    kind: DocumentKind
    title: str
    document_id: str
    template_id: str
    template_version: str
    checklist_id: str
    checklist_version: str
    demo: bool
    blocks: tuple[Block, ...]
    patient_name: str = ""
    issued: str = ""  # ISO 8601 time of composition
    language: str = "en"

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "title": self.title,
            "document_id": self.document_id,
            "template_id": self.template_id,
            "template_version": self.template_version,
            "checklist_id": self.checklist_id,
            "checklist_version": self.checklist_version,
            "demo": self.demo,
            "patient_name": self.patient_name,
            "issued": self.issued,
            "language": self.language,
            "blocks": [_plain(b) for b in self.blocks],
        }

    def canonical_json(self) -> str:
        """Sorted keys, no spare whitespace, UTF-8 as is; signature strokes included."""
        return json.dumps(
            self.to_dict(),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )

    def content_sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    """Dataclasses, tuples and scalars as JSON-ready dicts, lists and scalars."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    fields_ = getattr(value, "__dataclass_fields__", None)
    if fields_ is not None:
        return {name: _plain(getattr(value, name)) for name in fields_}
    return value


# ---------------------------------------------------------------------------------------------
# Template format. A template is JSON: {"id", "kind", "version", "title", "language",
# "checklist_versions", "sections": {section: {entry: value}}}, and "format" (1 when absent).
# `checklist_versions` lists the checklist versions whose consultations the template makes
# sheets for. Each kind requires the sections and entries below (format 2 changes some):
# `name` is a text, `name[]` a list of texts, `name*` either, `name{a b}` an object of texts
# that must have at least the keys a and b. Unknown sections and entries are refused (typos).
# ---------------------------------------------------------------------------------------------

_COMMON = """
intro: text
details: heading labels{name date_of_birth not_recorded}
signatures: heading text unsigned roles{patient guardian clinician witness interpreter}
record: heading note labels{checklist template document issued}
demo: text
"""
_ASSESSED = """
details: labels{age phone consultation_date clinician}
evidence: title text
outcome: heading labels{vitiligo general decision} badges{green amber red clear caution
  not_today clearance proceed defer} values{vitiligo.green vitiligo.amber vitiligo.red
  general.clear general.caution general.not_today general.clearance decision.proceed
  decision.caution decision.defer}
rules: heading text legend none sources_heading unknown_source
  columns{rule level basis text sources} severity{red amber not_today clearance caution note}
disclosure: title text and markers{family thyroid alopecia_areata type1_diabetes
  pernicious_anaemia addison rheumatoid_arthritis lupus psoriasis ibd}
override: title text
test_spot: results_heading not_yet columns{site done week4 week12}
  results{no_change depigmentation hyperpigmentation other}
"""
_KIND_SPECS = {
    "consent": _COMMON
    + _ASSESSED
    + """
minor: title text
procedure: heading aim labels{device needle_depth product areas session not_recorded}
expected: heading text items[]
risks: heading text items[]
vitiligo: heading text*
test_spot: heading why_vitiligo why_skin_type plan[] caveat
alternatives: heading items[]
photos: heading record other_use other_use_yes other_use_no
confirmations: heading intro intro_guardian items[]
""",
    "aftercare": _COMMON
    + """
details: labels{treatment_date areas clinician clinic_phone}
first_day: heading items[]
from_day_two: heading items[]
first_week: heading items[]
warning: heading text items[] urgent
vitiligo: heading text items[]
autoimmune: title text
""",
    "referral": _COMMON
    + _ASSESSED
    + """
why: heading text
referral: heading dermatologist clearance wait general advice{}
letter: heading text
watch: heading items[] action
return: heading text
""",
}

# Format 2 (with checklist 2026.12.1): the aftercare counts its photo reviews from the
# treatment date and never prints a date already past (reviews, or reviews_late with the
# 12-week date only, or reviews_undated), and its notice about vitiligo risk markers is worded
# for the case: one marker (the consent's advice), several, or alongside diagnosed vitiligo.
_AFTERCARE_2 = (
    _COMMON
    + """
details: labels{treatment_date areas clinician clinic_phone}
first_day: heading items[]
from_day_two: heading items[]
first_week: heading items[]
warning: heading text items[] urgent
vitiligo: heading text items[] reviews reviews_late reviews_undated
autoimmune: title one several with_vitiligo and markers{family pigment_signs thyroid
  alopecia_areata type1_diabetes pernicious_anaemia addison rheumatoid_arthritis lupus psoriasis
  ibd}
"""
)
_FORMATS = (1, 2)

_TEXT, _LIST, _EITHER = "text", "list", "either"
_Spec = str | tuple[str, ...]  # a tuple: an object of texts with these keys required
_Fail = Callable[[str, str], ValidationError]  # (entry, problem) -> the error to raise
TemplateValue = str | tuple[str, ...] | Mapping[str, str]


def _parse_spec(text: str) -> dict[str, dict[str, _Spec]]:
    out: dict[str, dict[str, _Spec]] = {}
    # a section starts at the beginning of a line; indented lines continue it
    for chunk in re.split(r"\n(?=\w)", text.strip()):
        section, _, rest = chunk.partition(":")
        target = out.setdefault(section.strip(), {})
        for m in re.finditer(r"(\w+)(\[\]|\*|\{[^}]*\})?", rest):
            name, mark = m.group(1), m.group(2) or ""
            spec: _Spec = {"": _TEXT, "[]": _LIST, "*": _EITHER}.get(mark, "")
            if mark.startswith("{"):
                keys = tuple(mark[1:-1].split())
                old = target.get(name, ())
                spec = (
                    (*old, *(k for k in keys if k not in old)) if isinstance(old, tuple) else keys
                )
            target[name] = spec
    return out


_SPECS = {(kind, 1): _parse_spec(text) for kind, text in _KIND_SPECS.items()}
_SPECS.update({(kind, 2): spec for (kind, _), spec in _SPECS.items()})
_SPECS[("aftercare", 2)] = _parse_spec(_AFTERCARE_2)
PLACEHOLDERS = frozenset(
    "clinic_name clinic_phone clinic_address patient_name consultation_date clinician checklist"  # noqa: SIM905
    " markers assessed_decision override_author override_decision override_at override_reason"
    " week4_date week12_date".split()
)
_VERSION = re.compile(r"^\d{4}\.\d{1,2}\.\d{1,4}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Template:
    """A parsed, validated sheet template; every text is fetched by section and entry name."""

    id: str
    kind: DocumentKind
    version: str
    title: str
    language: str
    sections: Mapping[str, Mapping[str, TemplateValue]]
    source: str = ""
    format: int = 1
    checklist_versions: tuple[str, ...] = ()

    def _get(self, section: str, name: str) -> TemplateValue:
        try:
            return self.sections[section][name]
        except KeyError:
            raise ValidationError(
                f"{self.source}: template entry '{section}.{name}' is missing", field=section
            ) from None

    def text(self, section: str, name: str) -> str:
        value = self._get(section, name)
        if isinstance(value, str):
            return value
        if isinstance(value, tuple):
            return " ".join(value)
        raise ValidationError(f"{self.source}: '{section}.{name}' is not text", field=section)

    def items(self, section: str, name: str) -> tuple[str, ...]:
        value = self._get(section, name)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, tuple):
            return value
        raise ValidationError(f"{self.source}: '{section}.{name}' is not a list", field=section)

    def mapping(self, section: str, name: str) -> Mapping[str, str]:
        value = self._get(section, name)
        if isinstance(value, str | tuple):
            raise ValidationError(f"{self.source}: '{section}.{name}' is not a map", field=section)
        return value

    def label(self, section: str, name: str, key: str, default: str | None = None) -> str:
        found = self.mapping(section, name).get(key)
        return found if found is not None else (key if default is None else default)


def parse_template(data: object, source: str) -> Template:
    """Validate decoded JSON against the format of its kind; errors name `source` and entry."""

    def fail(entry: str, problem: str) -> ValidationError:
        return ValidationError(f"{source}: {entry}: {problem}", field=entry)

    if not isinstance(data, Mapping):
        raise fail("(top level)", "a template must be a JSON object")
    top = {"id", "kind", "version", "title", "language", "sections", "format"}
    _refuse_unknown(data, top | {"checklist_versions"}, "", fail)
    header: dict[str, str] = {}
    for key in ("id", "kind", "version", "title", "language"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise fail(key, "must be a non-empty string")
        header[key] = value
    kind = header["kind"]
    if kind not in _KIND_SPECS:
        raise fail("kind", f"must be one of {', '.join(sorted(_KIND_SPECS))}, not '{kind}'")
    form = data.get("format", 1)
    if isinstance(form, bool) or form not in _FORMATS:
        raise fail("format", f"must be one of {', '.join(map(str, _FORMATS))}, not {form!r}")
    served = data.get("checklist_versions")
    if (
        not isinstance(served, list)
        or not served
        or not all(isinstance(v, str) and _VERSION.match(v) for v in served)
    ):
        raise fail(
            "checklist_versions",
            'must list the checklist versions this template serves, like ["2026.12.1"]',
        )
    if not _VERSION.match(header["version"]):
        raise fail("version", f"'{header['version']}' is not a version like 2026.11.1")
    if not _ID.match(header["id"]):
        raise fail("id", f"'{header['id']}' must be lower-case letters, digits, '.', '_', '-'")
    _check_placeholders(header["title"], "title", fail)
    raw = data.get("sections")
    if not isinstance(raw, Mapping):
        raise fail("sections", "must be an object")
    spec = _SPECS[(kind, form)]
    _refuse_unknown(raw, set(spec), "sections.", fail)
    sections: dict[str, dict[str, TemplateValue]] = {}
    for section, entries in spec.items():
        body = raw.get(section)
        if not isinstance(body, Mapping):
            raise fail(f"sections.{section}", "missing (must be an object)")
        _refuse_unknown(body, set(entries), f"sections.{section}.", fail)
        sections[section] = {
            name: _parse_value(body.get(name), entry_spec, f"sections.{section}.{name}", fail)
            for name, entry_spec in entries.items()
        }
    return Template(
        id=header["id"],
        kind=cast(DocumentKind, kind),
        version=header["version"],
        title=header["title"],
        language=header["language"],
        sections=sections,
        source=source,
        format=form,
        checklist_versions=tuple(served),
    )


def _refuse_unknown(data: Mapping[object, object], known: set[str], at: str, fail: _Fail) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise fail(f"{at}{unknown[0]}", "unknown entry (a typo?)")


def _parse_value(value: object, spec: _Spec, entry: str, fail: _Fail) -> TemplateValue:
    if isinstance(spec, tuple):
        if not isinstance(value, Mapping):
            raise fail(entry, "must be an object of texts")
        out: dict[str, str] = {}
        for key, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise fail(f"{entry}.{key}", "must be a non-empty string")
            _check_placeholders(text, f"{entry}.{key}", fail)
            out[str(key)] = text
        missing = [k for k in spec if k not in out]
        if missing:
            raise fail(f"{entry}.{missing[0]}", "missing")
        return out
    if isinstance(value, str) and spec in (_TEXT, _EITHER):
        if not value.strip():
            raise fail(entry, "must not be empty")
        _check_placeholders(value, entry, fail)
        return value
    if isinstance(value, list) and spec in (_LIST, _EITHER):
        if not value:
            raise fail(entry, "must not be an empty list")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise fail(f"{entry}[{i}]", "must be a non-empty string")
            _check_placeholders(item, f"{entry}[{i}]", fail)
        return tuple(value)
    if value is None:
        raise fail(entry, "missing")
    raise fail(entry, "must be a string" if spec == _TEXT else "must be a list of strings")


def _check_placeholders(text: str, entry: str, fail: _Fail) -> None:
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise fail(entry, f"bad braces ({exc}); write {{{{ and }}}} for literal braces") from None
    for _, name, spec, conversion in parts:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            allowed = ", ".join(sorted(PLACEHOLDERS))
            raise fail(entry, f"unknown placeholder '{{{name}}}'; allowed: {allowed}")


# ---------------------------------------------------------------------------------------------
# Dates as printed
# ---------------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(value: date) -> str:
    """Locale-independent and unambiguous: '2 Apr 1990'."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_datetime(value: datetime) -> str:
    """'25 Nov 2026, 14:32 UTC+01:00' (the zone only when the time carries one)."""
    text = f"{format_date(value.date())}, {value:%H:%M}"
    offset = value.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds() // 60)
    if not minutes:
        return f"{text} UTC"
    sign = "+" if minutes > 0 else "-"
    return f"{text} UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
