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
    "PIGMENT_SIGNS",
    "RISK_MARKERS",
    "ROLES",
    "SKIN_TYPE",
    "TEST_SPOT_DEPIGMENTED",
    "TEST_SPOT_PENDING",
    "QuestionRole",
    "Role",
    "RuleRole",
]


@dataclass(frozen=True)
class QuestionRole:
    """A question the code reads: its answer `kind`, and the `tokens` the code compares with.

    `since`: the definition version that introduced the role; older versions leave it unmapped
    and the code asks `definition.plays(role)` first. None: every version maps it.
    """

    name: str
    meaning: str
    kind: Kind
    tokens: tuple[str, ...] = ()
    since: str | None = None


@dataclass(frozen=True)
class RuleRole:
    """A rule the code looks for among the fired rules; `group` is the group it must be in.

    `since` as for QuestionRole.
    """

    name: str
    meaning: str
    group: Group
    since: str | None = None


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
PIGMENT_SIGNS = QuestionRole(
    "pigment_signs",
    "the question about halo naevi or a lock of white hair (a risk marker when 'yes')",
    "single",
    ("yes",),
    since="2026.12.1",
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
TEST_SPOT_DEPIGMENTED = RuleRole(
    "test_spot_depigmented",
    "the red rule for a test spot that lost pigment at a review",
    "vitiligo",
)
TEST_SPOT_PENDING = RuleRole(
    "test_spot_pending",
    "the rule that waits for the 4-week review of a test spot done before the consultation",
    "general",
    since="2026.12.1",
)

# Every role the code needs: a definition version must map each of them, except the roles
# introduced after it (`since` a later version).
ROLES: tuple[Role, ...] = (
    DIAGNOSIS,
    FAMILY_HISTORY,
    AUTOIMMUNE,
    SKIN_TYPE,
    PIGMENT_SIGNS,
    GUARDIAN,
    PIGMENTATION_RISK,
    DIAGNOSED_VITILIGO,
    RISK_MARKERS,
    DISCLOSURE,
    TEST_SPOT_DEPIGMENTED,
    TEST_SPOT_PENDING,
)
