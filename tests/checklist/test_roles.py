"""Checklist roles: each definition version maps them to its IDs, and loading checks the map."""

from __future__ import annotations

import copy
import io
import json
import re
import tokenize
from datetime import date
from typing import Any

import pytest

from desktop.checklist import AssessContext, ChecklistDefinition, assess, parse_definition
from desktop.checklist.roles import (
    AUTOIMMUNE,
    DIAGNOSED_VITILIGO,
    DIAGNOSIS,
    DISCLOSURE,
    FAMILY_HISTORY,
    GUARDIAN,
    PIGMENT_SIGNS,
    PIGMENTATION_RISK,
    RISK_MARKERS,
    ROLES,
    SKIN_TYPE,
    TEST_SPOT_DEPIGMENTED,
    TEST_SPOT_PENDING,
    QuestionRole,
)
from desktop.consent import required_signer_roles
from desktop.errors import ValidationError
from desktop.models import FITZPATRICK_TYPES
from tests.helpers.answers import green_answers
from tests.helpers.paths import ROOT

SOURCE = "vitiligo-microneedling.json"
RAW: dict[str, Any] = json.loads(
    (ROOT / "resources" / "checklists" / SOURCE).read_text(encoding="utf-8")
)
OLD_SOURCE = "vitiligo-microneedling-2026.11.1.json"
OLD_RAW: dict[str, Any] = json.loads(
    (ROOT / "resources" / "checklists" / OLD_SOURCE).read_text(encoding="utf-8")
)
MINOR_ANSWERS: dict[str, object] = green_answers()
# Paper sizes look like rule IDs but are not checklist entries.
PAPER_SIZES = {"A4", "A5"}


def raw() -> dict[str, Any]:
    return copy.deepcopy(RAW)


def load(data: dict[str, Any]) -> ChecklistDefinition:
    return parse_definition(data, SOURCE)


def load_error(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as err:
        load(data)
    message = str(err.value)
    assert message.startswith(f"{SOURCE}: roles"), message
    return message


def minor_assessment(definition: ChecklistDefinition) -> Any:
    context = AssessContext(date=date(2026, 11, 25), date_of_birth=date(2010, 6, 1))
    return assess(definition, MINOR_ANSWERS, context)


# ---------------------------------------------------------------- the shipped definition


def test_the_shipped_definition_maps_every_role() -> None:
    d = load(raw())
    assert dict(d.roles) == {
        "diagnosis": "V1",
        "family_history": "V9",
        "autoimmune": "V10",
        "skin_type": "G10",
        "pigment_signs": "V12",
        "guardian": "K4",
        "pigmentation_risk": "K1",
        "diagnosed_vitiligo": "A1",
        "risk_markers": "A2",
        "disclosure": "D1",
        "test_spot_depigmented": "T1",
        "test_spot_pending": "T2",
    }
    assert set(d.roles) == {role.name for role in ROLES}
    assert d.question_id(PIGMENT_SIGNS) == "V12"
    assert d.rule_id(TEST_SPOT_DEPIGMENTED) == "T1"
    assert d.rule_id(TEST_SPOT_PENDING) == "T2"
    assert d.question_id(DIAGNOSIS) == "V1"
    assert d.question_id(FAMILY_HISTORY) == "V9"
    assert d.question_id(AUTOIMMUNE) == "V10"
    assert d.role_question(SKIN_TYPE).values == FITZPATRICK_TYPES
    assert d.rule_id(GUARDIAN) == "K4"
    assert d.rule_id(PIGMENTATION_RISK) == "K1"
    assert d.rule_id(DIAGNOSED_VITILIGO) == "A1"
    assert d.rule_id(RISK_MARKERS) == "A2"
    assert d.rule_id(DISCLOSURE) == "D1"


def test_a_minor_needs_a_guardian_through_the_role() -> None:
    d = load(raw())
    a = minor_assessment(d)
    assert a.has("K4")
    assert required_signer_roles(d, a) == ("guardian", "clinician")


def test_the_kept_2026_11_1_maps_every_role_but_those_added_later() -> None:
    d = parse_definition(copy.deepcopy(OLD_RAW), OLD_SOURCE)
    later = {role.name for role in ROLES if role.since == "2026.12.1"}
    assert later == {"pigment_signs", "test_spot_pending"}
    assert set(d.roles) == {role.name for role in ROLES} - later
    assert not d.plays(PIGMENT_SIGNS) and not d.plays(TEST_SPOT_PENDING)
    assert d.plays(GUARDIAN) and d.rule_id(TEST_SPOT_DEPIGMENTED) == "T1"
    with pytest.raises(ValidationError, match="maps nothing to the role 'pigment_signs'"):
        d.question_id(PIGMENT_SIGNS)


@pytest.mark.parametrize("role", ["pigment_signs", "test_spot_pending"])
def test_a_role_added_in_a_version_must_be_mapped_from_that_version_on(role: str) -> None:
    data = raw()
    del data["roles"][role]
    assert f"the role {role!r} is not mapped" in load_error(data)


# ---------------------------------------------------------------- a later version


def renamed(data: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The definition with rule `old` renumbered `new` everywhere (its entry and role map)."""
    text = json.dumps(data).replace(f'"{old}"', f'"{new}"')
    return dict(json.loads(text), version="2027.1.1")


def test_a_version_that_renumbers_a_rule_carries_its_own_role_map() -> None:
    current = load(raw())
    later = load(renamed(raw(), "K4", "K9"))
    assert (current.version, current.rule_id(GUARDIAN)) == ("2026.12.1", "K4")
    assert (later.version, later.rule_id(GUARDIAN)) == ("2027.1.1", "K9")
    a = minor_assessment(later)
    assert a.has("K9") and not a.has("K4")
    # The guardian still signs: the code follows the role, not an ID.
    assert required_signer_roles(later, a) == ("guardian", "clinician")
    # Read with the earlier version's map, the renamed rule would have been missed.
    assert required_signer_roles(current, a) == ("patient", "clinician")


def test_a_version_that_renumbers_a_rule_but_not_its_role_map_fails_to_load() -> None:
    data = raw()
    next(r for r in data["rules"] if r["id"] == "K4")["id"] = "K9"
    message = load_error(data)
    assert "roles: guardian: K4 is not a rule of this definition" in message
    assert "parent or guardian" in message


# ---------------------------------------------------------------- a broken role map


@pytest.mark.parametrize("role", [r.name for r in ROLES])
def test_a_definition_lacking_a_role_fails_naming_it(role: str) -> None:
    data = raw()
    del data["roles"][role]
    message = load_error(data)
    assert f"the role {role!r} is not mapped" in message


def test_a_definition_lacking_the_guardian_role_says_what_to_map() -> None:
    data = raw()
    del data["roles"]["guardian"]
    assert load_error(data) == (
        f"{SOURCE}: roles: the role 'guardian' is not mapped; map it to the rule ID of the rule "
        "that makes a parent or guardian sign the consent instead of the patient"
    )


def test_a_definition_without_a_role_map_fails() -> None:
    data = raw()
    del data["roles"]
    with pytest.raises(ValidationError, match=f"^{re.escape(SOURCE)}: missing key 'roles'"):
        load(data)


@pytest.mark.parametrize(
    ("role", "target", "fragment"),
    [
        ("guardian", "K9", "roles: guardian: K9 is not a rule of this definition"),
        ("skin_type", "G12", "roles: skin_type: G12 is not a question of this definition"),
        ("guardian", "G13", "roles: guardian: G13 (a question) is not a rule"),
        ("disclosure", "V7", "roles: disclosure: V7 (a question) is not a rule"),
        ("skin_type", "K1", "roles: skin_type: K1 (a rule) is not a question"),
        ("family_history", "V10", "question V10 takes a list of answers; this role needs one"),
        ("autoimmune", "V1", "roles: autoimmune: V1 already plays the role 'diagnosis'"),
        ("diagnosis", "V2", "roles: diagnosis: question V2 has no token 'yes'"),
        ("skin_type", "V5", "roles: skin_type: question V5 has no token 'I'"),
        ("guardian", "A1", "rule A1 is in the 'vitiligo' group; this role needs a rule of the "),
        ("disclosure", "K2", "rule K2 is in the 'general' group; this role needs a rule of the "),
        ("disclosure", "A2", "roles: disclosure: A2 already plays the role 'risk_markers'"),
        ("guardian", "k4", 'roles: guardian: "k4" is not a rule ID'),
        ("guardian", 4, "roles: guardian: the number 4 is not a rule ID"),
        ("diagnosis", ["V1"], "roles: diagnosis: a list is not a question ID"),
    ],
)
def test_a_role_mapped_to_the_wrong_entry_fails(role: str, target: object, fragment: str) -> None:
    data = raw()
    data["roles"][role] = target
    assert fragment in load_error(data)


def test_a_role_may_move_to_another_entry_of_the_right_kind() -> None:
    data = raw()
    data["roles"]["autoimmune"] = "V11"  # a list question, though not the right one clinically
    data["roles"]["pigmentation_risk"] = "K2"
    d = load(data)
    assert (d.question_id(AUTOIMMUNE), d.rule_id(PIGMENTATION_RISK)) == ("V11", "K2")


def test_an_unknown_role_fails() -> None:
    data = raw()
    data["roles"]["gaurdian"] = "K4"
    message = load_error(data)
    assert "unknown role 'gaurdian'; the roles are diagnosis, family_history" in message


@pytest.mark.parametrize("value", [None, [], "K4", 1])
def test_a_role_map_that_is_not_an_object_fails(value: object) -> None:
    data = raw()
    data["roles"] = value
    assert "expected a JSON object of role names" in load_error(data)


def test_every_role_is_documented_and_named_once() -> None:
    names = [role.name for role in ROLES]
    assert len(names) == len(set(names))
    assert all(role.meaning.startswith("the ") for role in ROLES)
    assert {r.name for r in ROLES if isinstance(r, QuestionRole)} == {
        "diagnosis",
        "family_history",
        "autoimmune",
        "skin_type",
        "pigment_signs",
    }


# ---------------------------------------------------------------- no ID in Python


def id_literals(source: str, ids: set[str]) -> list[tuple[int, str]]:
    """Question or rule IDs written in Python: string literals and keyword arguments."""
    found: list[tuple[int, str]] = []
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for tok, following in zip(tokens, [*tokens[1:], None], strict=True):
        keyword = following is not None and following.string == "="
        if tok.type == tokenize.STRING:
            match = re.fullmatch(r"[rbuRBU]?(['\"])(.*)\1", tok.string, re.DOTALL)
            if match and match.group(2) in ids:
                found.append((tok.start[0], tok.string))
        elif tok.type == tokenize.NAME and tok.string in ids and keyword:
            found.append((tok.start[0], f"{tok.string}="))
    return found


def test_the_id_scanner_finds_literals_and_keywords() -> None:
    ids = {"K4", "V1", "G10"}
    code = 'a.has("K4")\nx = {\'V1\': 1}\nf(G10="II")\npaper = "A4"\ntext = "rule K4 fired"\n'
    assert id_literals(code, ids) == [(1, '"K4"'), (2, "'V1'"), (3, "G10=")]


def test_no_question_or_rule_id_is_written_in_python() -> None:
    ids: set[str] = set()
    for d in (load(raw()), parse_definition(copy.deepcopy(OLD_RAW), OLD_SOURCE)):
        ids |= {q.id for q in d.questions} | {r.id for r in d.rules}
    assert {"V12", "G14", "G15", "T2", "C6", "K5", "R1", "A1"} <= ids
    ids -= PAPER_SIZES
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in sorted((ROOT / "desktop").rglob("*.py"))
        for line, text in id_literals(path.read_text(encoding="utf-8"), ids)
    ]
    assert offenders == []
