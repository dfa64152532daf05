"""The vitiligo risk checklist: the pure assessment of answers and its JSON form."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from desktop.checklist.answers import (
    NormalizedAnswers,
    applicable,
    missing_required,
    normalize_answers,
    shown,
)
from desktop.checklist.conditions import CONTEXT_FLAGS, Facts, evaluate
from desktop.checklist.definition import (
    DECISIONS,
    FORMAT,
    GENERAL_OUTCOMES,
    OUTCOME_KINDS,
    SEVERITY_GROUP,
    VITILIGO_OUTCOMES,
    ChecklistDefinition,
    Group,
    OutcomeText,
    Question,
    RiskItem,
    Rule,
    Section,
    Token,
    VidaMap,
)
from desktop.checklist.parse import parse_definition, parse_definition_text
from desktop.errors import ValidationError
from desktop.models import (
    REVIEW_RESULTS,
    Assessment,
    Decision,
    FiredRule,
    GeneralOutcome,
    ReviewResult,
    VitiligoOutcome,
)

# The definition, its parsing and answer validation live in checklist_definition.py,
# checklist_parse.py and checklist_answers.py; everything is re-exported here, so callers
# keep importing from desktop.checklist.
__all__ = [
    "DECISIONS",
    "FORMAT",
    "GENERAL_OUTCOMES",
    "OUTCOME_KINDS",
    "SEVERITY_GROUP",
    "VITILIGO_OUTCOMES",
    "AssessContext",
    "ChecklistDefinition",
    "Group",
    "NormalizedAnswers",
    "OutcomeText",
    "Question",
    "RiskItem",
    "Rule",
    "Section",
    "SpotHistory",
    "Token",
    "VidaMap",
    "age_on",
    "applicable",
    "assess",
    "assessment_from_json",
    "assessment_to_json",
    "missing_required",
    "normalize_answers",
    "parse_definition",
    "parse_definition_text",
    "risk_points",
    "spots_from_json",
    "vida_score",
]


# ---------------------------------------------------------------- assessment


@dataclass(frozen=True)
class SpotHistory:
    """A test spot as the rules see it: the day it was done and the result of its 4- and
    12-week reviews (one of REVIEW_RESULTS, or None while not recorded)."""

    done: datetime.date
    review_4w: ReviewResult | None = None
    review_12w: ReviewResult | None = None

    @property
    def depigmented(self) -> bool:
        return "depigmentation" in (self.review_4w, self.review_12w)


@dataclass(frozen=True)
class AssessContext:
    """What the rules read besides the answers: the consultation date, the date of birth,
    strict mode, and every test spot of the patient (any date, any consultation)."""

    date: datetime.date
    date_of_birth: datetime.date
    strict: bool = False
    test_spots: tuple[SpotHistory, ...] = ()

    @property
    def test_spot_depigmented(self) -> bool:
        """A test spot lost pigment at a review (rule T1's context flag)."""
        return any(s.depigmented for s in self.test_spots)

    @property
    def test_spot_review_pending(self) -> bool:
        """A test spot done before the consultation date has no 4-week review recorded yet
        (rule T2's context flag): "test spot first" means waiting for its result."""
        return any(s.done < self.date and s.review_4w is None for s in self.test_spots)


def _as_date(value: object, name: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raise ValidationError(f"{name} must be a date, not {shown(value)}", name)


def age_on(date_of_birth: datetime.date, on: datetime.date) -> int:
    """Age in whole years on a date; a 29 February birthday counts from 1 March in common years."""
    born = _as_date(date_of_birth, "date_of_birth")
    day = _as_date(on, "date")
    if born > day:
        raise ValidationError(
            f"date of birth {born.isoformat()} is after the consultation date {day.isoformat()}",
            "date_of_birth",
        )
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def vida_score(definition: ChecklistDefinition, answers: Mapping[str, object]) -> int | None:
    """The VIDA score, or None when its question was not answered."""
    value = answers.get(definition.vida.question)
    return definition.vida.scores.get(value) if isinstance(value, str) else None


def risk_points(definition: ChecklistDefinition, answers: Mapping[str, object]) -> int:
    """Vitiligo risk markers: per the definition's risk items (family history, autoimmunity)."""
    total = 0
    for item in definition.risk_items:
        value = answers.get(item.question)
        if item.token is not None:
            total += item.points if value == item.token else 0
        elif isinstance(value, list | tuple):
            entries = len({v for v in value if isinstance(v, str)})
            total += min(item.points * entries, item.cap) if item.cap else item.points * entries
    return total


def assess(
    definition: ChecklistDefinition, answers: Mapping[str, object], context: AssessContext
) -> Assessment:
    """Validate complete answers and apply every rule; raises only ValidationError."""
    if not isinstance(context, AssessContext):
        raise ValidationError("the assessment context is missing")
    age = age_on(context.date_of_birth, context.date)
    if not isinstance(context.strict, bool):
        raise ValidationError("strict must be true or false", "strict")
    _check_spots(context.test_spots)
    values = normalize_answers(definition, answers, partial=False)
    points = risk_points(definition, values)
    flags = frozenset(f for f in CONTEXT_FLAGS if getattr(context, f))
    facts = Facts(values, risk_points=points, age=age, strict=context.strict, flags=flags)
    fired = tuple(
        FiredRule(r.id, r.severity, r.basis, r.text, r.group, r.sources)
        for r in definition.rules
        if evaluate(r.when, facts)
    )
    vitiligo = _vitiligo_outcome(fired)
    general = _general_outcome(fired)
    return Assessment(
        checklist_id=definition.id,
        checklist_version=definition.version,
        vitiligo=vitiligo,
        general=general,
        decision=_decision(vitiligo, general),
        vida=vida_score(definition, values),
        risk_points=points,
        age=age,
        strict=context.strict,
        fired=fired,
    )


def _check_spots(spots: object) -> None:
    if not isinstance(spots, tuple) or not all(
        isinstance(s, SpotHistory)
        and isinstance(s.done, datetime.date)
        and all(r is None or r in REVIEW_RESULTS for r in (s.review_4w, s.review_12w))
        for s in spots
    ):
        raise ValidationError("test_spots must be test spots with a date and review results")


SPOT_KEYS = ("done", "review_4w", "review_12w")


def spots_from_json(data: object) -> tuple[SpotHistory, ...]:
    """Test spots in the assess command's form: a list of {"done": "YYYY-MM-DD",
    "review_4w": R, "review_12w": R}, R null (not reviewed yet) or one of REVIEW_RESULTS.

    Raises ValidationError naming the entry and the field, e.g. "test_spots[1].review_4w".
    """
    if not isinstance(data, list):
        raise ValidationError(
            f"test_spots must be a list of test spots, not {shown(data)}", "test_spots"
        )
    spots: list[SpotHistory] = []
    for i, raw in enumerate(data):
        where = f"test_spots[{i}]"
        if not isinstance(raw, dict):
            raise ValidationError(
                f"{where} must be an object with {', '.join(SPOT_KEYS)}, not {shown(raw)}", where
            )
        unknown = sorted(str(k) for k in raw if k not in SPOT_KEYS)
        if unknown:
            raise ValidationError(
                f"{where}: unknown field {shown(unknown[0])}; allowed: {', '.join(SPOT_KEYS)}",
                where,
            )
        done = raw.get("done")
        try:
            day = datetime.date.fromisoformat(done) if isinstance(done, str) else None
        except ValueError:
            day = None
        if day is None or not isinstance(done, str) or len(done) != 10:
            raise ValidationError(
                f"{where}.done: {shown(done)} is not a date like 2026-10-28", f"{where}.done"
            )
        results: list[ReviewResult | None] = []
        for key in ("review_4w", "review_12w"):
            value = raw.get(key)
            if value is not None and value not in REVIEW_RESULTS:
                raise ValidationError(
                    f"{where}.{key}: {shown(value)} is not allowed; use null (not reviewed "
                    f"yet) or one of {', '.join(REVIEW_RESULTS)}",
                    f"{where}.{key}",
                )
            results.append(cast(ReviewResult | None, value))
        spots.append(SpotHistory(day, results[0], results[1]))
    return tuple(spots)


def _vitiligo_outcome(fired: Iterable[FiredRule]) -> VitiligoOutcome:
    severities = {f.severity for f in fired if f.group == "vitiligo"}
    return "red" if "red" in severities else "amber" if "amber" in severities else "green"


def _general_outcome(fired: Iterable[FiredRule]) -> GeneralOutcome:
    ranks = [
        GENERAL_OUTCOMES.index(cast(GeneralOutcome, f.severity))
        for f in fired
        if f.group == "general"
    ]
    return GENERAL_OUTCOMES[max(ranks, default=0)]


def _decision(vitiligo: VitiligoOutcome, general: GeneralOutcome) -> Decision:
    if vitiligo == "red" or general in ("not_today", "clearance"):
        return "defer"
    if vitiligo == "amber" or general == "caution":
        return "caution"
    return "proceed"


# ---------------------------------------------------------------- JSON form


def assessment_to_json(a: Assessment) -> dict[str, object]:
    """The assess command's output shape; fired items also carry their group and sources."""
    return {
        "checklist": {"id": a.checklist_id, "version": a.checklist_version},
        "vitiligo": a.vitiligo,
        "general": a.general,
        "decision": a.decision,
        "vida": a.vida,
        "risk_points": a.risk_points,
        "age": a.age,
        "strict": a.strict,
        "fired": [
            {
                "rule": f.rule,
                "severity": f.severity,
                "basis": f.basis,
                "text": f.text,
                "group": f.group,
                "sources": list(f.sources),
            }
            for f in a.fired
        ],
    }


def _field(d: Mapping[str, object], key: str, kind: type, where: str = "assessment") -> object:
    value = d.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValidationError(f"stored {where}: {key!r} is missing or malformed")
    return value


def assessment_from_json(d: object) -> Assessment:
    """Rebuild an Assessment from assessment_to_json's output (group/sources optional)."""
    if not isinstance(d, dict):
        raise ValidationError("stored assessment: expected a JSON object")
    checklist = cast(dict[str, object], _field(d, "checklist", dict))
    vitiligo, general, decision = (_field(d, k, str) for k in ("vitiligo", "general", "decision"))
    if (vitiligo, general, decision) not in {
        (v, g, _decision(v, g)) for v in VITILIGO_OUTCOMES for g in GENERAL_OUTCOMES
    }:
        raise ValidationError("stored assessment: inconsistent or unknown outcomes")
    vida = d.get("vida")
    if vida is not None and (not isinstance(vida, int) or isinstance(vida, bool)):
        raise ValidationError("stored assessment: 'vida' is malformed")
    fired: list[FiredRule] = []
    for item in cast(list[object], _field(d, "fired", list)):
        if not isinstance(item, dict):
            raise ValidationError("stored assessment: a fired rule is malformed")
        severity = cast(str, _field(item, "severity", str, "fired rule"))
        group = item.get("group", SEVERITY_GROUP.get(severity))
        srcs = item.get("sources", [])
        if severity not in SEVERITY_GROUP or group != SEVERITY_GROUP[severity]:
            raise ValidationError(f"stored fired rule: bad severity/group {severity!r}/{group!r}")
        if not isinstance(srcs, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in srcs
        ):
            raise ValidationError("stored fired rule: 'sources' is malformed")
        fired.append(
            FiredRule(
                rule=cast(str, _field(item, "rule", str, "fired rule")),
                severity=severity,
                basis=cast(str, _field(item, "basis", str, "fired rule")),
                text=cast(str, _field(item, "text", str, "fired rule")),
                group=SEVERITY_GROUP[severity],
                sources=tuple(cast(list[int], srcs)),
            )
        )
    strict = d.get("strict", False)
    if not isinstance(strict, bool):
        raise ValidationError("stored assessment: 'strict' is malformed")
    return Assessment(
        checklist_id=cast(str, _field(checklist, "id", str, "checklist")),
        checklist_version=cast(str, _field(checklist, "version", str, "checklist")),
        vitiligo=cast(VitiligoOutcome, vitiligo),
        general=cast(GeneralOutcome, general),
        decision=cast(Decision, decision),
        vida=vida,
        risk_points=cast(int, _field(d, "risk_points", int)),
        age=cast(int, _field(d, "age", int)),
        strict=strict,
        fired=tuple(fired),
    )
