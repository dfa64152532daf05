"""Parsing and validation of a checklist definition file into a ChecklistDefinition."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import cast

from desktop.checklist.answers import shown
from desktop.checklist.conditions import QuestionShape, parse_condition
from desktop.checklist.definition import (
    FORMATS,
    OUTCOME_KINDS,
    SEVERITY_GROUP,
    TOKEN_PATTERN,
    ChecklistDefinition,
    OutcomeText,
    Question,
    RiskItem,
    Rule,
    Section,
    Token,
    VidaMap,
)
from desktop.checklist.roles import ROLES, QuestionRole
from desktop.errors import ValidationError

_TOP_KEYS = ("format", "id", "version", "title", "evidence_note", "basis_tags", "sections",
             "vida", "risk_points", "rules", "roles", "outcomes", "sources")  # fmt: skip
_ID = re.compile(r"[A-Z][0-9]{1,3}")
_VERSION = re.compile(r"[0-9]+(\.[0-9]+){1,3}")
_BASIS = re.compile(r"[A-Z](/[A-Z])*")
_KIND_WORDS = {"single": "one answer", "multi": "a list of answers"}


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
    form = top["format"]
    if isinstance(form, bool) or form not in FORMATS:
        readable = " and ".join(str(f) for f in FORMATS)
        raise r.fail("format", f"unsupported format {form!r}; this app reads {readable}")
    assert isinstance(form, int)
    checklist_id = r.match(top["id"], "id", "id", re.compile(r"[a-z0-9]+(-[a-z0-9]+)*"))
    version = r.match(top["version"], "version", "version", _VERSION)
    sources = _parse_sources(r, top["sources"])
    basis_tags = {
        r.match(k, "basis_tags", "tag", re.compile("[A-Z]")): r.text(v, "basis_tags", str(k))
        for k, v in r.mapping(top["basis_tags"], "basis_tags").items()
    }
    sections, questions = _parse_sections(r, top["sections"], sources)
    shapes = {q.id: (q.kind, q.values) for q in questions}
    rules = _parse_rules(r, top["rules"], shapes, basis_tags, sources, patient_texts=form >= 2)
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
        roles=_parse_roles(r, top["roles"], questions, rules, version),
        format=form,
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
        value = r.match(t["value"], where, "token", TOKEN_PATTERN)
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
    *,
    patient_texts: bool,
) -> tuple[Rule, ...]:
    """The rules; with `patient_texts` (format 2 on) each needs a "patient_text" too."""
    rules: list[Rule] = []
    fields: tuple[str, ...] = ("id", "title", "severity", "group", "basis", "text", "sources")
    fields = (*fields, "when")
    if patient_texts:
        fields = (*fields, "patient_text")
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
                patient_text=(
                    r.text(d["patient_text"], where, "patient_text") if patient_texts else None
                ),
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


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _parse_roles(
    r: _Reader,
    data: object,
    questions: tuple[Question, ...],
    rules: tuple[Rule, ...],
    version: str,
) -> Mapping[str, str]:
    """Check that every role the code needs maps to a question or rule of the right kind.

    A role introduced after `version` (its `since` is later) may be left unmapped.
    """
    if not isinstance(data, dict):
        raise r.fail("roles", "expected a JSON object of role names to question or rule IDs")
    names = [role.name for role in ROLES]
    unknown = sorted(str(k) for k in data if k not in names)
    if unknown:
        raise r.fail("roles", f"unknown role {unknown[0]!r}; the roles are {', '.join(names)}")
    by_question = {q.id: q for q in questions}
    by_rule = {x.id: x for x in rules}
    mapped: dict[str, str] = {}
    for role in ROLES:
        need = "question" if isinstance(role, QuestionRole) else "rule"
        if role.name not in data:
            if role.since is not None and _version_key(version) < _version_key(role.since):
                continue
            raise r.fail(
                "roles",
                f"the role {role.name!r} is not mapped; map it to the {need} ID of {role.meaning}",
            )
        where = f"roles: {role.name}"
        ident = data[role.name]
        if not isinstance(ident, str) or not _ID.fullmatch(ident):
            raise r.fail(where, f"{shown(ident)} is not a {need} ID")
        taken = next((name for name, other in mapped.items() if other == ident), None)
        if taken is not None:
            raise r.fail(
                where, f"{ident} already plays the role {taken!r}; each role needs its own"
            )
        if isinstance(role, QuestionRole):
            q = by_question.get(ident)
            if q is None:
                wrong = " (a rule)" if ident in by_rule else ""
                raise r.fail(
                    where,
                    f"{ident}{wrong} is not a question of this definition; "
                    f"this role needs {role.meaning}",
                )
            if q.kind != role.kind:
                raise r.fail(
                    where,
                    f"question {ident} takes {_KIND_WORDS[q.kind]}; this role "
                    f"needs one that takes {_KIND_WORDS[role.kind]}",
                )
            lacking = [t for t in role.tokens if t not in q.values]
            if lacking:
                raise r.fail(
                    where,
                    f"question {ident} has no token {lacking[0]!r}; this role "
                    f"needs the tokens {', '.join(role.tokens)}",
                )
        else:
            rule = by_rule.get(ident)
            if rule is None:
                wrong = " (a question)" if ident in by_question else ""
                raise r.fail(
                    where,
                    f"{ident}{wrong} is not a rule of this definition; "
                    f"this role needs {role.meaning}",
                )
            if rule.group != role.group:
                raise r.fail(
                    where,
                    f"rule {ident} is in the {rule.group!r} group; this role "
                    f"needs a rule of the {role.group!r} group",
                )
        mapped[role.name] = ident
    return MappingProxyType(mapped)


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
