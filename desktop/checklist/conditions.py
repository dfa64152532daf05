"""The checklist's declarative condition language: parse, check, evaluate and describe (no eval)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from desktop.errors import ValidationError

# Names of AssessContext flags a condition may test with {"context": NAME}: a test spot of the
# patient lost pigment at a review; a test spot done before the consultation date awaits its
# 4-week review.
CONTEXT_FLAGS: tuple[str, ...] = ("test_spot_depigmented", "test_spot_review_pending")

Kind = Literal["single", "multi"]
AnswerOp = Literal["eq", "in", "nonempty", "contains"]
# What a condition needs to know about a question: its kind and its tokens.
QuestionShape = tuple[Kind, tuple[str, ...]]


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class Always:
    pass


@dataclass(frozen=True)
class AnswerIs:
    """eq/in: a single answer is one of `tokens`; nonempty/contains: a list answer test."""

    q: str
    op: AnswerOp
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgeBelow:
    years: int


@dataclass(frozen=True)
class RiskAtLeast:
    normal: int
    strict: int


@dataclass(frozen=True)
class RiskExactly:
    points: int


@dataclass(frozen=True)
class StrictIs:
    value: bool


@dataclass(frozen=True)
class ContextFlag:
    name: str


Condition = (
    AllOf
    | AnyOf
    | Not
    | Always
    | AnswerIs
    | AgeBelow
    | RiskAtLeast
    | RiskExactly
    | StrictIs
    | ContextFlag
)

ALWAYS = Always()


@dataclass(frozen=True)
class Facts:
    """What conditions are evaluated against; answers may be raw (unvalidated) values."""

    answers: Mapping[str, object]
    risk_points: int = 0
    age: int = 0
    strict: bool = False
    flags: frozenset[str] = frozenset()


_ANSWER_OPS: tuple[AnswerOp, ...] = ("eq", "in", "nonempty", "contains")
_FORMS = (
    "all, any, not, always, q (with eq, in, nonempty or contains), age_lt, risk_points_gte, "
    "risk_points_eq, strict, context"
)


def _count(value: object, where: str, what: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValidationError(f"{where}: {what} must be a whole number of at least {minimum}")
    return value


def parse_condition(
    data: object,
    where: str,
    questions: Mapping[str, QuestionShape],
    *,
    answers_only: bool = False,
) -> Condition:
    """Build a Condition from its JSON form, checking question IDs and tokens against `questions`.

    `where` prefixes every error message (e.g. "file.json: rule R3"). With `answers_only`, only
    answer tests and all/any/not/always are allowed (for conditions evaluated without a context).
    """
    if not isinstance(data, dict) or not data:
        raise ValidationError(f"{where}: a condition must be a JSON object using one of {_FORMS}")
    keys = set(data)
    if "q" in keys:
        return _parse_answer(data, where, questions, answers_only)
    if len(keys) != 1:
        raise ValidationError(
            f"{where}: malformed condition with keys {', '.join(sorted(map(str, keys)))}; "
            f"use exactly one of {_FORMS}"
        )
    (key,) = keys
    value = data[key]
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ValidationError(f"{where}: condition '{key}' needs a non-empty list")
        items = tuple(
            parse_condition(v, where, questions, answers_only=answers_only) for v in value
        )
        return AllOf(items) if key == "all" else AnyOf(items)
    if key == "not":
        return Not(parse_condition(value, where, questions, answers_only=answers_only))
    if key == "always":
        if value is not True:
            raise ValidationError(f"{where}: condition 'always' must be true")
        return ALWAYS
    if key in ("age_lt", "risk_points_gte", "risk_points_eq", "strict", "context"):
        if answers_only:
            raise ValidationError(
                f"{where}: condition '{key}' is not allowed here; only answers can be tested"
            )
        return _parse_context_atom(key, value, where)
    raise ValidationError(f"{where}: unknown condition '{key}'; use one of {_FORMS}")


def _parse_context_atom(key: str, value: object, where: str) -> Condition:
    if key == "age_lt":
        return AgeBelow(_count(value, where, "age_lt", 1))
    if key == "risk_points_eq":
        return RiskExactly(_count(value, where, "risk_points_eq"))
    if key == "risk_points_gte":
        if isinstance(value, dict):
            if set(value) != {"normal", "strict"}:
                raise ValidationError(
                    f"{where}: risk_points_gte needs exactly the keys 'normal' and 'strict'"
                )
            normal = _count(value["normal"], where, "risk_points_gte.normal", 1)
            strict = _count(value["strict"], where, "risk_points_gte.strict", 1)
            return RiskAtLeast(normal, strict)
        points = _count(value, where, "risk_points_gte", 1)
        return RiskAtLeast(points, points)
    if key == "strict":
        if not isinstance(value, bool):
            raise ValidationError(f"{where}: condition 'strict' must be true or false")
        return StrictIs(value)
    if not isinstance(value, str) or value not in CONTEXT_FLAGS:
        raise ValidationError(
            f"{where}: unknown context flag {value!r}; known flags: {', '.join(CONTEXT_FLAGS)}"
        )
    return ContextFlag(value)


def _parse_answer(
    data: Mapping[str, object],
    where: str,
    questions: Mapping[str, QuestionShape],
    answers_only: bool,
) -> AnswerIs:
    q = data["q"]
    if not isinstance(q, str):
        raise ValidationError(f"{where}: condition 'q' must be a question ID")
    if q not in questions:
        later = " (or one not asked before this question)" if answers_only else ""
        raise ValidationError(f"{where}: condition refers to unknown question {q}{later}")
    ops = [k for k in data if k != "q"]
    if len(ops) != 1 or ops[0] not in _ANSWER_OPS:
        raise ValidationError(
            f"{where}: condition on {q} needs exactly one of {', '.join(_ANSWER_OPS)}; "
            f"got {', '.join(map(str, ops)) or 'none'}"
        )
    op: AnswerOp = ops[0]
    value = data[op]
    kind, allowed = questions[q]
    wanted: Kind = "single" if op in ("eq", "in") else "multi"
    if kind != wanted:
        raise ValidationError(f"{where}: condition '{op}' cannot test {q}, a {kind} question")
    if op == "nonempty":
        if value is not True:
            raise ValidationError(f"{where}: condition 'nonempty' on {q} must be true")
        return AnswerIs(q, op)
    if op == "in" and (not isinstance(value, list) or not value):
        raise ValidationError(f"{where}: condition 'in' on {q} needs a non-empty list")
    candidates: list[object] = value if isinstance(value, list) and op == "in" else [value]
    tokens: list[str] = []
    for token in candidates:
        if not isinstance(token, str) or token not in allowed:
            raise ValidationError(
                f"{where}: condition tests {q} for {token!r}, which is not one of its tokens "
                f"({', '.join(allowed)})"
            )
        if token in tokens:
            raise ValidationError(f"{where}: condition 'in' on {q} repeats {token!r}")
        tokens.append(token)
    return AnswerIs(q, op, tuple(tokens))


def evaluate(condition: Condition, facts: Facts) -> bool:
    """True when `condition` holds; an absent or malformed answer satisfies no answer test."""
    match condition:
        case AllOf(items):
            return all(evaluate(c, facts) for c in items)
        case AnyOf(items):
            return any(evaluate(c, facts) for c in items)
        case Not(item):
            return not evaluate(item, facts)
        case Always():
            return True
        case AnswerIs(q, op, tokens):
            value = facts.answers.get(q)
            if op in ("eq", "in"):
                return isinstance(value, str) and value in tokens
            if not isinstance(value, list | tuple):
                return False
            if op == "nonempty":
                return len(value) > 0
            return any(isinstance(v, str) and v == tokens[0] for v in value)
        case AgeBelow(years):
            return facts.age < years
        case RiskAtLeast(normal, strict):
            return facts.risk_points >= (strict if facts.strict else normal)
        case RiskExactly(points):
            return facts.risk_points == points
        case StrictIs(value):
            return facts.strict is value
        case ContextFlag(name):
            return name in facts.flags
    raise AssertionError(condition)  # pragma: no cover - the match is exhaustive


def references(condition: Condition) -> frozenset[str]:
    """The question IDs a condition reads."""
    match condition:
        case AllOf(items) | AnyOf(items):
            return frozenset(q for c in items for q in references(c))
        case Not(item):
            return references(item)
        case AnswerIs(q):
            return frozenset((q,))
    return frozenset()


def describe(condition: Condition) -> str:
    """Plain words for a condition, e.g. "V1 is yes" or "V1 is not yes"."""
    match condition:
        case AllOf(items):
            return " and ".join(_wrapped(c) for c in items)
        case AnyOf(items):
            return " or ".join(_wrapped(c) for c in items)
        case Not(AnswerIs(q, "eq" | "in", tokens)):
            return f"{q} is not {_tokens_or(tokens)}"
        case Not(AnswerIs(q, "nonempty")):
            return f"{q} is empty"
        case Not(item):
            return f"not ({describe(item)})"
        case Always():
            return "always"
        case AnswerIs(q, "eq" | "in", tokens):
            return f"{q} is {_tokens_or(tokens)}"
        case AnswerIs(q, "nonempty"):
            return f"{q} is not empty"
        case AnswerIs(q, _, tokens):
            return f"{q} includes {tokens[0]}"
        case AgeBelow(years):
            return f"age is under {years}"
        case RiskAtLeast(normal, strict) if normal == strict:
            return f"risk points are {normal} or more"
        case RiskAtLeast(normal, strict):
            return f"risk points are {normal} or more ({strict} or more in strict mode)"
        case RiskExactly(points):
            return f"risk points are exactly {points}"
        case StrictIs(value):
            return "strict mode is on" if value else "strict mode is off"
        case ContextFlag(name):
            return f"{name.replace('_', ' ')}"
    raise AssertionError(condition)  # pragma: no cover - the match is exhaustive


def _wrapped(condition: Condition) -> str:
    text = describe(condition)
    return f"({text})" if isinstance(condition, AllOf | AnyOf) else text


def _tokens_or(tokens: tuple[str, ...]) -> str:
    return tokens[0] if len(tokens) == 1 else "one of " + ", ".join(tokens)
