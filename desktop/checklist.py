"""The vitiligo risk checklist: definition parsing, answer validation and the pure assessment."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, cast

from desktop.checklist_conditions import (
    CONTEXT_FLAGS,
    Condition,
    Facts,
    Kind,
    QuestionShape,
    describe,
    evaluate,
    parse_condition,
    references,
)
from desktop.errors import ValidationError
from desktop.models import (
    Assessment,
    Decision,
    FiredRule,
    GeneralOutcome,
    VitiligoOutcome,
)

Group = Literal["vitiligo", "general", "note"]
NormalizedAnswers = dict[str, str | tuple[str, ...]]

FORMAT = 1
SEVERITY_GROUP: Mapping[str, Group] = MappingProxyType(
    {
        "red": "vitiligo",
        "amber": "vitiligo",
        "caution": "general",
        "not_today": "general",
        "clearance": "general",
        "note": "note",
    }
)
VITILIGO_OUTCOMES: tuple[VitiligoOutcome, ...] = ("green", "amber", "red")
# The general outcome, least to most restrictive.
GENERAL_OUTCOMES: tuple[GeneralOutcome, ...] = ("clear", "caution", "not_today", "clearance")
DECISIONS: tuple[Decision, ...] = ("proceed", "caution", "defer")
OUTCOME_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"vitiligo": VITILIGO_OUTCOMES, "general": GENERAL_OUTCOMES, "decision": DECISIONS}
)

_TOP_KEYS = ("format", "id", "version", "title", "evidence_note", "basis_tags", "sections",
             "vida", "risk_points", "rules", "outcomes", "sources")  # fmt: skip
_ID = re.compile(r"[A-Z][0-9]{1,3}")
_TOKEN = re.compile(r"[A-Za-z0-9_]{1,40}")
_VERSION = re.compile(r"[0-9]+(\.[0-9]+){1,3}")
_BASIS = re.compile(r"[A-Z](/[A-Z])*")


@dataclass(frozen=True)
class Token:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    help: str
    kind: Kind
    tokens: tuple[Token, ...]
    required: Condition
    examination: bool
    section: str
    sources: tuple[int, ...] = ()

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(t.value for t in self.tokens)

    def label(self, value: str) -> str:
        return next((t.label for t in self.tokens if t.value == value), value)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    question_ids: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    group: Group
    basis: str
    text: str
    sources: tuple[int, ...]
    when: Condition


@dataclass(frozen=True)
class VidaMap:
    """How the answer to `question` maps to the VIDA score; `needs_review` tokens await sign-off."""

    question: str
    scores: Mapping[str, int]
    needs_review: tuple[str, ...]
    note: str
    sources: tuple[int, ...]


@dataclass(frozen=True)
class RiskItem:
    """`points` when a single answer is `token`; else `points` per list entry, at most `cap`."""

    question: str
    points: int
    token: str | None = None
    cap: int | None = None


@dataclass(frozen=True)
class OutcomeText:
    label: str
    text: str


@dataclass(frozen=True)
class ChecklistDefinition:
    id: str
    version: str
    title: str
    evidence_note: str
    basis_tags: Mapping[str, str]
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    vida: VidaMap
    risk_items: tuple[RiskItem, ...]
    risk_sources: tuple[int, ...]
    sources: Mapping[int, str]
    outcomes: Mapping[str, Mapping[str, OutcomeText]]
    _index: Mapping[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", MappingProxyType({q.id: q for q in self.questions}))

    def question(self, question_id: str) -> Question:
        try:
            return self._index[question_id]
        except (KeyError, TypeError):
            raise ValidationError(
                f"{question_id!r} is not a question of checklist {self.id} {self.version}",
                field=str(question_id),
            ) from None

    def has_question(self, question_id: object) -> bool:
        return isinstance(question_id, str) and question_id in self._index

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise ValidationError(f"{rule_id!r} is not a rule of checklist {self.id} {self.version}")

    def outcome(self, kind: str, value: str) -> OutcomeText:
        """The label and meaning of an outcome, e.g. outcome("general", "not_today")."""
        try:
            return self.outcomes[kind][value]
        except KeyError:
            raise ValidationError(f"unknown {kind} outcome {value!r}") from None


# ---------------------------------------------------------------- definition parsing


class _Reader:
    """Checks the JSON shapes of one definition file, prefixing every error with its name."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ValidationError:
        return ValidationError(
            f"{self.source}: {where}: {message}" if where else f"{self.source}: {message}"
        )

    def entry(self, data: object, kind: str, fallback: str) -> str:
        """Name an entry by its ID when it has a well-formed one, e.g. "rule R3"."""
        ident = data.get("id") if isinstance(data, dict) else None
        return f"{kind} {ident}" if isinstance(ident, str) and _ID.fullmatch(ident) else fallback

    def mapping(self, data: object, where: str) -> dict[object, object]:
        if not isinstance(data, dict) or not data:
            raise self.fail(where, "expected a non-empty JSON object")
        return data

    def obj(
        self, data: object, where: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> dict[str, object]:
        if not isinstance(data, dict):
            raise self.fail(where, "expected a JSON object")
        required = tuple(required)
        known = set(required) | set(optional)
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise self.fail(
                where, f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(known))}"
            )
        missing = [k for k in required if k not in data]
        if missing:
            raise self.fail(where, f"missing key {missing[0]!r}")
        return cast(dict[str, object], data)

    def text(self, value: object, where: str, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{key!r} must be non-empty text")
        return value

    def match(self, value: object, where: str, key: str, pattern: re.Pattern[str]) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise self.fail(where, f"{key!r} {value!r} is malformed")
        return value

    def items(self, value: object, where: str, key: str) -> list[object]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, f"{key!r} must be a non-empty list")
        return value

    def integer(self, value: object, where: str, key: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(where, f"{key!r} must be a whole number")
        return value

    def refs(self, value: object, where: str, table: Mapping[int, str]) -> tuple[int, ...]:
        if not isinstance(value, list):
            raise self.fail(where, "'sources' must be a list of source numbers")
        for n in value:
            if not isinstance(n, int) or isinstance(n, bool) or n not in table:
                raise self.fail(where, f"source {n!r} is not in the sources table")
        if len(set(value)) != len(value):
            raise self.fail(where, "'sources' repeats a source")
        return tuple(cast(list[int], value))


def parse_definition_text(text: str, source: str) -> ChecklistDefinition:
    """Parse and validate a definition file's text; JSON syntax errors become ValidationError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{source}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise ValidationError(f"{source}: not valid JSON: {exc}") from None
    return parse_definition(data, source)


def parse_definition(data: object, source: str) -> ChecklistDefinition:
    """Validate a decoded definition completely; every error names `source` and the entry."""
    try:
        return _parse_definition(_Reader(source), data)
    except RecursionError:
        raise ValidationError(f"{source}: conditions are nested too deeply") from None


def _parse_definition(r: _Reader, data: object) -> ChecklistDefinition:
    top = r.obj(data, "", _TOP_KEYS)
    if top["format"] != FORMAT:
        raise r.fail("format", f"unsupported format {top['format']!r}; this app reads {FORMAT}")
    checklist_id = r.match(top["id"], "id", "id", re.compile(r"[a-z0-9]+(-[a-z0-9]+)*"))
    version = r.match(top["version"], "version", "version", _VERSION)
    sources = _parse_sources(r, top["sources"])
    basis_tags = {
        r.match(k, "basis_tags", "tag", re.compile("[A-Z]")): r.text(v, "basis_tags", str(k))
        for k, v in r.mapping(top["basis_tags"], "basis_tags").items()
    }
    sections, questions = _parse_sections(r, top["sections"], sources)
    shapes = {q.id: (q.kind, q.values) for q in questions}
    rules = _parse_rules(r, top["rules"], shapes, basis_tags, sources)
    risk_items, risk_sources = _parse_risk(r, top["risk_points"], shapes, sources)
    return ChecklistDefinition(
        id=checklist_id,
        version=version,
        title=r.text(top["title"], "title", "title"),
        evidence_note=r.text(top["evidence_note"], "evidence_note", "evidence_note"),
        basis_tags=MappingProxyType(basis_tags),
        sections=sections,
        questions=questions,
        rules=rules,
        vida=_parse_vida(r, top["vida"], shapes, sources),
        risk_items=risk_items,
        risk_sources=risk_sources,
        sources=sources,
        outcomes=_parse_outcomes(r, top["outcomes"]),
    )


def _parse_sources(r: _Reader, data: object) -> Mapping[int, str]:
    out: dict[int, str] = {}
    for key, text in r.mapping(data, "sources").items():
        if not isinstance(key, str) or not key.isdigit() or int(key) < 1 or str(int(key)) != key:
            raise r.fail("sources", f"{key!r} is not a source number")
        out[int(key)] = r.text(text, f"source {key}", "text")
    return MappingProxyType(out)


def _parse_sections(
    r: _Reader, data: object, sources: Mapping[int, str]
) -> tuple[tuple[Section, ...], tuple[Question, ...]]:
    sections: list[Section] = []
    questions: list[Question] = []
    shapes: dict[str, QuestionShape] = {}
    for i, raw_section in enumerate(r.items(data, "sections", "sections")):
        where = f"sections[{i}]"
        s = r.obj(raw_section, where, ("id", "title", "questions"))
        sid = r.match(s["id"], where, "id", re.compile(r"[a-z][a-z0-9_]*"))
        where = f"section {sid}"
        if any(x.id == sid for x in sections):
            raise r.fail(where, "duplicate section ID")
        title = r.text(s["title"], where, "title")
        ids: list[str] = []
        for j, raw_q in enumerate(r.items(s["questions"], where, "questions")):
            q = _parse_question(
                r, raw_q, f"{where}: questions[{j}]", section=sid, earlier=shapes, sources=sources
            )
            shapes[q.id] = (q.kind, q.values)
            questions.append(q)
            ids.append(q.id)
        sections.append(Section(sid, title, tuple(ids)))
    return tuple(sections), tuple(questions)


def _parse_question(
    r: _Reader,
    data: object,
    where: str,
    *,
    section: str,
    earlier: Mapping[str, QuestionShape],
    sources: Mapping[int, str],
) -> Question:
    required = ("id", "text", "help", "kind", "tokens", "required")
    where = r.entry(data, "question", where)
    q = r.obj(data, where, required, ("examination", "sources"))
    qid = r.match(q["id"], where, "id", _ID)
    if qid in earlier:
        raise r.fail(where, "duplicate question ID")
    kind = q["kind"]
    if kind not in ("single", "multi"):
        raise r.fail(where, f"'kind' must be 'single' or 'multi', not {kind!r}")
    tokens: list[Token] = []
    for k, raw_token in enumerate(r.items(q["tokens"], where, "tokens")):
        t = r.obj(raw_token, f"{where}: tokens[{k}]", ("value", "label"))
        value = r.match(t["value"], where, "token", _TOKEN)
        if any(x.value == value for x in tokens):
            raise r.fail(where, f"duplicate token {value!r}")
        tokens.append(Token(value, r.text(t["label"], f"{where}: token {value}", "label")))
    examination = q.get("examination", False)
    if not isinstance(examination, bool):
        raise r.fail(where, "'examination' must be true or false")
    condition = parse_condition(
        q["required"], f"{r.source}: {where}: required", earlier, answers_only=True
    )
    return Question(
        id=qid,
        text=r.text(q["text"], where, "text"),
        help=r.text(q["help"], where, "help"),
        kind=kind,
        tokens=tuple(tokens),
        required=condition,
        examination=examination,
        section=section,
        sources=r.refs(q.get("sources", []), where, sources),
    )


def _parse_rules(
    r: _Reader,
    data: object,
    shapes: Mapping[str, QuestionShape],
    basis_tags: Mapping[str, str],
    sources: Mapping[int, str],
) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    fields = ("id", "title", "severity", "group", "basis", "text", "sources", "when")
    for i, raw in enumerate(r.items(data, "rules", "rules")):
        where = r.entry(raw, "rule", f"rules[{i}]")
        d = r.obj(raw, where, fields)
        rid = r.match(d["id"], where, "id", _ID)
        if any(x.id == rid for x in rules):
            raise r.fail(where, "duplicate rule ID")
        severity = d["severity"]
        if not isinstance(severity, str) or severity not in SEVERITY_GROUP:
            raise r.fail(
                where, f"unknown severity {severity!r}; use one of {', '.join(SEVERITY_GROUP)}"
            )
        if d["group"] != SEVERITY_GROUP[severity]:
            raise r.fail(
                where,
                f"group {d['group']!r} does not match severity {severity!r} "
                f"(expected {SEVERITY_GROUP[severity]!r})",
            )
        basis = r.match(d["basis"], where, "basis", _BASIS)
        parts = basis.split("/")
        unknown = [p for p in parts if p not in basis_tags]
        if unknown or len(set(parts)) != len(parts):
            raise r.fail(where, f"basis {basis!r} must combine distinct tags of {list(basis_tags)}")
        rules.append(
            Rule(
                id=rid,
                title=r.text(d["title"], where, "title"),
                severity=severity,
                group=SEVERITY_GROUP[severity],
                basis=basis,
                text=r.text(d["text"], where, "text"),
                sources=r.refs(d["sources"], where, sources),
                when=parse_condition(d["when"], f"{r.source}: {where}", shapes),
            )
        )
    return tuple(rules)


def _parse_vida(
    r: _Reader, data: object, shapes: Mapping[str, QuestionShape], sources: Mapping[int, str]
) -> VidaMap:
    d = r.obj(data, "vida", ("question", "scores", "needs_review", "note", "sources"))
    qid = d["question"]
    if not isinstance(qid, str) or qid not in shapes or shapes[qid][0] != "single":
        raise r.fail("vida", f"'question' {qid!r} is not a single-answer question")
    tokens = shapes[qid][1]
    scores = r.obj(d["scores"], "vida: scores", tokens)
    review = d["needs_review"]
    if not isinstance(review, list) or any(t not in tokens for t in review):
        raise r.fail("vida", f"'needs_review' must list tokens of {qid}")
    return VidaMap(
        question=qid,
        scores=MappingProxyType({t: r.integer(scores[t], "vida: scores", t) for t in tokens}),
        needs_review=tuple(cast(list[str], review)),
        note=r.text(d["note"], "vida", "note"),
        sources=r.refs(d["sources"], "vida", sources),
    )


def _parse_risk(
    r: _Reader, data: object, shapes: Mapping[str, QuestionShape], sources: Mapping[int, str]
) -> tuple[tuple[RiskItem, ...], tuple[int, ...]]:
    d = r.obj(data, "risk_points", ("items", "sources"))
    items: list[RiskItem] = []
    for i, raw in enumerate(r.items(d["items"], "risk_points", "items")):
        where = f"risk_points: items[{i}]"
        if not isinstance(raw, dict):
            raise r.fail(where, "expected a JSON object")
        qid = raw.get("q")
        if not isinstance(qid, str) or qid not in shapes:
            raise r.fail(where, f"refers to unknown question {qid}")
        kind, tokens = shapes[qid]
        if kind == "single":
            e = r.obj(raw, where, ("q", "eq", "points"))
            if e["eq"] not in tokens:
                raise r.fail(where, f"{e['eq']!r} is not a token of {qid}")
            item = RiskItem(qid, r.integer(e["points"], where, "points"), token=str(e["eq"]))
        else:
            e = r.obj(raw, where, ("q", "per_entry", "max"))
            cap = r.integer(e["max"], where, "max")
            item = RiskItem(qid, r.integer(e["per_entry"], where, "per_entry"), cap=cap)
        if item.points < 1 or (item.cap is not None and item.cap < item.points):
            raise r.fail(where, "points must be at least 1 and 'max' at least the points")
        items.append(item)
    return tuple(items), r.refs(d["sources"], "risk_points", sources)


def _parse_outcomes(r: _Reader, data: object) -> Mapping[str, Mapping[str, OutcomeText]]:
    d = r.obj(data, "outcomes", OUTCOME_KINDS)
    out: dict[str, Mapping[str, OutcomeText]] = {}
    for kind, values in OUTCOME_KINDS.items():
        texts = r.obj(d[kind], f"outcomes: {kind}", values)
        parsed: dict[str, OutcomeText] = {}
        for value in values:
            where = f"outcomes: {kind}: {value}"
            t = r.obj(texts[value], where, ("label", "text"))
            parsed[value] = OutcomeText(
                r.text(t["label"], where, "label"), r.text(t["text"], where, "text")
            )
        out[kind] = MappingProxyType(parsed)
    return MappingProxyType(out)


# ---------------------------------------------------------------- answers


def _shown(value: object) -> str:
    """A short, one-line rendering of an arbitrary value for an error message."""
    if isinstance(value, str):
        return json.dumps(value[:40] + ("…" if len(value) > 40 else ""), ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r:.20}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _allowed(q: Question) -> str:
    if q.kind == "multi":
        return f"give a list ([] for none) of any of {', '.join(q.values)}"
    return f"use one of {', '.join(q.values)}"


def _normalize_one(q: Question, value: object) -> str | tuple[str, ...]:
    if q.kind == "single":
        if isinstance(value, str) and value in q.values:
            return value
        if isinstance(value, str):
            raise ValidationError(f"{q.id}: {_shown(value)} is not allowed; {_allowed(q)}", q.id)
        raise ValidationError(
            f"{q.id}: expected one answer, not {_shown(value)}; {_allowed(q)}", q.id
        )
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{q.id}: expected a list, not {_shown(value)}; {_allowed(q)}", q.id)
    for item in value:
        if not isinstance(item, str):
            raise ValidationError(f"{q.id}: an entry is {_shown(item)}; {_allowed(q)}", q.id)
        if item not in q.values:
            raise ValidationError(f"{q.id}: {_shown(item)} is not allowed; {_allowed(q)}", q.id)
    return tuple(v for v in q.values if v in value)


def normalize_answers(
    definition: ChecklistDefinition, raw: Mapping[str, object], *, partial: bool
) -> NormalizedAnswers:
    """Validate answers and return them in definition order, list answers as ordered tuples.

    Rejects unknown question IDs, values that are not allowed tokens, and answers the
    definition says must be absent (a question whose `required` condition does not hold).
    Unless `partial`, every applicable question must be answered. With `partial` (drafts),
    missing answers are fine, but present ones must still be valid *and applicable*: a
    draft that still holds V2 after V1 changed from yes raises, so the caller drops answers
    that `applicable` says no longer apply before saving.
    """
    if not isinstance(raw, Mapping):
        raise ValidationError(
            f"answers must be a JSON object of question IDs to answers, not {_shown(raw)}"
        )
    for key in raw:
        if not definition.has_question(key):
            known = ", ".join(q.id for q in definition.questions)
            name = key if isinstance(key, str) and _TOKEN.fullmatch(key) else _shown(key)
            raise ValidationError(
                f"{name}: not a question of checklist {definition.id} "
                f"{definition.version}; its questions are {known}",
                str(key)[:40],
            )
    values = {q.id: _normalize_one(q, raw[q.id]) for q in definition.questions if q.id in raw}
    facts = Facts(values)
    for q in definition.questions:
        applies = evaluate(q.required, facts)
        if q.id in values and not applies:
            raise ValidationError(
                f"{q.id}: must be left out: it applies only when {describe(q.required)}", q.id
            )
        if applies and q.id not in values and not partial:
            when = "" if not references(q.required) else f" when {describe(q.required)}"
            raise ValidationError(f"{q.id}: an answer is required{when}; {_allowed(q)}", q.id)
    return values


def applicable(
    definition: ChecklistDefinition, question_id: str, answers: Mapping[str, object]
) -> bool:
    """Whether a question applies (is asked) given the current, possibly raw, answers."""
    return evaluate(definition.question(question_id).required, Facts(answers))


def missing_required(
    definition: ChecklistDefinition, answers: Mapping[str, object]
) -> tuple[str, ...]:
    """The applicable questions that have no answer yet (absent or None), in definition order."""
    facts = Facts(answers)
    return tuple(
        q.id
        for q in definition.questions
        if answers.get(q.id) is None and evaluate(q.required, facts)
    )


# ---------------------------------------------------------------- assessment


@dataclass(frozen=True)
class AssessContext:
    date: datetime.date
    date_of_birth: datetime.date
    strict: bool = False
    test_spot_depigmented: bool = False


def _as_date(value: object, name: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raise ValidationError(f"{name} must be a date, not {_shown(value)}", name)


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
    for flag in ("strict", *CONTEXT_FLAGS):
        if not isinstance(getattr(context, flag), bool):
            raise ValidationError(f"{flag} must be true or false", flag)
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
