"""The checklist definition: its dataclasses and the outcome vocabulary they use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from desktop.checklist.conditions import Condition, Kind
from desktop.errors import ValidationError
from desktop.models import Decision, GeneralOutcome, VitiligoOutcome

if TYPE_CHECKING:
    from desktop.checklist.roles import QuestionRole, Role, RuleRole

Group = Literal["vitiligo", "general", "note"]

# Definition file formats this app reads. Format 2 (checklist 2026.12.1 on) gives every rule a
# patient text besides its clinician text; format 1 files have the clinician text only.
FORMAT = 2
FORMATS = (1, 2)
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
# An answer token's value; also how an unknown answer key is shown verbatim in an error.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_]{1,40}")


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
    """A rule; `text` is for the clinician (shown in the app), `patient_text` (format 2 on) is
    what the sheets print: second person, plain words."""

    id: str
    title: str
    severity: str
    group: Group
    basis: str
    text: str
    sources: tuple[int, ...]
    when: Condition
    patient_text: str | None = None

    @property
    def sheet_text(self) -> str:
        """What a patient's sheet says about this rule: the patient text, or (in a format 1
        definition, which has none) the clinician text those sheets always printed."""
        return self.patient_text if self.patient_text is not None else self.text


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
    # Role name -> question or rule ID of this version (desktop.checklist.roles), checked on load.
    roles: Mapping[str, str]
    format: int = 1
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

    def has_rule(self, rule_id: object) -> bool:
        return any(rule.id == rule_id for rule in self.rules)

    def plays(self, role: Role) -> bool:
        """Whether this version maps `role` (a role added in a later version may be absent)."""
        return role.name in self.roles

    def question_id(self, role: QuestionRole) -> str:
        """The ID of the question that plays `role` in this version (ValidationError if none)."""
        return self._role_id(role)

    def role_question(self, role: QuestionRole) -> Question:
        """The question that plays `role` in this version."""
        return self.question(self._role_id(role))

    def rule_id(self, role: RuleRole) -> str:
        """The ID of the rule that plays `role` in this version (ValidationError if none)."""
        return self._role_id(role)

    def _role_id(self, role: Role) -> str:
        try:
            return self.roles[role.name]
        except KeyError:
            raise ValidationError(
                f"checklist {self.id} {self.version} maps nothing to the role {role.name!r}"
            ) from None

    def outcome(self, kind: str, value: str) -> OutcomeText:
        """The label and meaning of an outcome, e.g. outcome("general", "not_today")."""
        try:
            return self.outcomes[kind][value]
        except KeyError:
            raise ValidationError(f"unknown {kind} outcome {value!r}") from None
