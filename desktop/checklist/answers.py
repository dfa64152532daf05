"""Checklist answers: validation against the definition, and which questions apply."""

from __future__ import annotations

import json
from collections.abc import Mapping

from desktop.checklist.conditions import Facts, describe, evaluate, references
from desktop.checklist.definition import TOKEN_PATTERN, ChecklistDefinition, Question
from desktop.errors import ValidationError

NormalizedAnswers = dict[str, str | tuple[str, ...]]


def shown(value: object) -> str:
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
            raise ValidationError(f"{q.id}: {shown(value)} is not allowed; {_allowed(q)}", q.id)
        raise ValidationError(
            f"{q.id}: expected one answer, not {shown(value)}; {_allowed(q)}", q.id
        )
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{q.id}: expected a list, not {shown(value)}; {_allowed(q)}", q.id)
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise ValidationError(f"{q.id}: an entry is {shown(item)}; {_allowed(q)}", q.id)
        if item not in q.values:
            raise ValidationError(f"{q.id}: {shown(item)} is not allowed; {_allowed(q)}", q.id)
        if item in seen:
            raise ValidationError(
                f"{q.id}: {shown(item)} is listed twice; list each answer once "
                f"(any of {', '.join(q.values)})",
                q.id,
            )
        seen.add(item)
    return tuple(v for v in q.values if v in value)


def normalize_answers(
    definition: ChecklistDefinition, raw: Mapping[str, object], *, partial: bool
) -> NormalizedAnswers:
    """Validate answers and return them in definition order, list answers as ordered tuples.

    Rejects unknown question IDs, values that are not allowed tokens, a list that repeats a
    token, and answers the
    definition says must be absent (a question whose `required` condition does not hold).
    Unless `partial`, every applicable question must be answered. With `partial` (drafts),
    missing answers are fine, but present ones must still be valid *and applicable*: a
    draft that still holds V2 after V1 changed from yes raises, so the caller drops answers
    that `applicable` says no longer apply before saving.
    """
    if not isinstance(raw, Mapping):
        raise ValidationError(
            f"answers must be a JSON object of question IDs to answers, not {shown(raw)}"
        )
    for key in raw:
        if not definition.has_question(key):
            known = ", ".join(q.id for q in definition.questions)
            name = key if isinstance(key, str) and TOKEN_PATTERN.fullmatch(key) else shown(key)
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
