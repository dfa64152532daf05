"""Checklist roles: what the code needs from a checklist, mapped to IDs by each definition version.

Python never names a question or rule ID. It names a role ("the guardian rule", "the skin-type
question"); every definition version maps each role to one of its own IDs in its "roles" object,
and parsing refuses a definition that leaves a role unmapped or maps it to the wrong kind of
entry. A later version may renumber its questions and rules as long as its role map follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.checklist.conditions import Kind
from desktop.checklist.definition import Group
from desktop.models import FITZPATRICK_TYPES

__all__ = [
    "AUTOIMMUNE",
    "DIAGNOSED_VITILIGO",
    "DIAGNOSIS",
    "DISCLOSURE",
    "FAMILY_HISTORY",
    "GUARDIAN",
    "PIGMENTATION_RISK",
    "RISK_MARKERS",
    "ROLES",
    "SKIN_TYPE",
    "QuestionRole",
    "Role",
    "RuleRole",
]


@dataclass(frozen=True)
class QuestionRole:
    """A question the code reads: its answer `kind`, and the `tokens` the code compares with."""

    name: str
    meaning: str
    kind: Kind
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleRole:
    """A rule the code looks for among the fired rules; `group` is the group it must be in."""

    name: str
    meaning: str
    group: Group


Role = QuestionRole | RuleRole

# Questions ---------------------------------------------------------------------------------
DIAGNOSIS = QuestionRole(
    "diagnosis",
    "the question whether a doctor has diagnosed vitiligo (the aftercare add-on reads 'yes')",
    "single",
    ("yes",),
)
FAMILY_HISTORY = QuestionRole(
    "family_history",
    "the question whether a parent, sibling or child has vitiligo (a risk marker when 'yes')",
    "single",
    ("yes",),
)
AUTOIMMUNE = QuestionRole(
    "autoimmune",
    "the list of the patient's autoimmune conditions (each one a risk marker)",
    "multi",
)
SKIN_TYPE = QuestionRole(
    "skin_type",
    "the Fitzpatrick skin type question (shown beside the patient record's type)",
    "single",
    FITZPATRICK_TYPES,
)

# Rules -------------------------------------------------------------------------------------
GUARDIAN = RuleRole(
    "guardian",
    "the rule that makes a parent or guardian sign the consent instead of the patient",
    "general",
)
PIGMENTATION_RISK = RuleRole(
    "pigmentation_risk",
    "the rule for post-inflammatory hyperpigmentation risk by skin type (test spot advised)",
    "general",
)
DIAGNOSED_VITILIGO = RuleRole(
    "diagnosed_vitiligo",
    "the amber rule for a patient with diagnosed vitiligo (test spot advised)",
    "vitiligo",
)
RISK_MARKERS = RuleRole(
    "risk_markers",
    "the amber rule for vitiligo risk markers without a diagnosis (test spot advised)",
    "vitiligo",
)
DISCLOSURE = RuleRole(
    "disclosure",
    "the note that a single risk marker is disclosed on the consent sheet",
    "note",
)

# Every role the code needs: a definition version must map each of them.
ROLES: tuple[Role, ...] = (
    DIAGNOSIS,
    FAMILY_HISTORY,
    AUTOIMMUNE,
    SKIN_TYPE,
    GUARDIAN,
    PIGMENTATION_RISK,
    DIAGNOSED_VITILIGO,
    RISK_MARKERS,
    DISCLOSURE,
)
