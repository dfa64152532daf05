"""Example-based tests of the pure assessment engine on checklist 2026.11.1, kept for old records.

Version 2026.12.1 adds questions and rules on top of it: tests/checklist/test_version_2026_12.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from desktop.checklist import (
    AssessContext,
    ChecklistDefinition,
    age_on,
    applicable,
    assess,
    assessment_from_json,
    assessment_to_json,
    missing_required,
    normalize_answers,
    parse_definition,
    parse_definition_text,
)
from desktop.checklist.assess import SpotHistory
from desktop.errors import ValidationError
from desktop.models import Assessment
from tests.helpers import answers as answer_sets
from tests.helpers.answers import DROP, OLD

SOURCE = "vitiligo-microneedling-2026.11.1.json"
DEFINITION_PATH = Path(__file__).parents[2] / "resources" / "checklists" / SOURCE
CONSULTED = date(2026, 11, 25)
ADULT_DOB = date(1990, 4, 2)

RULE_ORDER = [
    "R1", "R2", "R3", "R4", "R5", "R6", "R7", "T1", "A1", "A2", "D1",
    "N1", "N2", "N3", "N4", "N5", "C1", "C2", "C3", "C4", "C5", "K1", "K2", "K3", "K4",
]  # fmt: skip
QUESTION_ORDER = [
    "V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V9", "V10", "V11",
    "G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "G10", "G11", "G13",
]  # fmt: skip


@pytest.fixture(scope="module")
def raw_definition() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFINITION_PATH.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def definition(raw_definition: dict[str, Any]) -> ChecklistDefinition:
    return parse_definition(copy.deepcopy(raw_definition), SOURCE)


def green_answers(**overrides: object) -> dict[str, object]:
    """The shared green answer set as checklist 2026.11.1 asks it, for a patient of
    Fitzpatrick type III: no rule fires."""
    return answer_sets.green_answers(OLD, **{"G10": "III", **overrides})


def vitiligo_answers(**overrides: object) -> dict[str, object]:
    """The shared stable-vitiligo answer set (V1 = yes) on 2026.11.1, Fitzpatrick type III:
    only A1 fires."""
    return answer_sets.stable_vitiligo_answers(OLD, **{"G10": "III", **overrides})


def run(
    definition: ChecklistDefinition,
    answers: dict[str, object],
    *,
    on: date = CONSULTED,
    born: date = ADULT_DOB,
    strict: bool = False,
    test_spot_depigmented: bool = False,
) -> Assessment:
    spots = (SpotHistory(on, "depigmentation"),) if test_spot_depigmented else ()
    context = AssessContext(on, born, strict=strict, test_spots=spots)
    return assess(definition, answers, context)


def fired(definition: ChecklistDefinition, answers: dict[str, object], **kw: Any) -> set[str]:
    return set(run(definition, answers, **kw).fired_ids())


# ---------------------------------------------------------------- the real definition


def test_real_definition_loads(definition: ChecklistDefinition) -> None:
    assert definition.id == "vitiligo-microneedling"
    assert [q.id for q in definition.questions] == QUESTION_ORDER
    assert [r.id for r in definition.rules] == RULE_ORDER
    assert [s.id for s in definition.sections] == ["vitiligo", "general"]
    assert [q.id for q in definition.questions if q.examination] == ["V5", "V6", "V7"]
    assert {q.id for q in definition.questions if q.kind == "multi"} == {"V6", "V10", "V11"}
    assert definition.question("V3").values == (
        "le_6w",
        "6w_3m",
        "3m_6m",
        "6m_12m",
        "gt_12m",
        "gt_12m_repigmenting",
    )
    assert definition.question("G10").values == ("I", "II", "III", "IV", "V", "VI")
    assert dict(definition.vida.scores) == {
        "le_6w": 4,
        "6w_3m": 3,
        "3m_6m": 2,
        "6m_12m": 1,
        "gt_12m": 0,
        "gt_12m_repigmenting": -1,
    }
    assert set(definition.vida.needs_review) == {"6w_3m", "3m_6m", "6m_12m"}


def test_parse_definition_text_matches_parse_definition(definition: ChecklistDefinition) -> None:
    text = DEFINITION_PATH.read_text(encoding="utf-8")
    assert parse_definition_text(text, SOURCE) == definition


@pytest.mark.parametrize(
    ("rule", "severity", "group", "basis"),
    [
        ("R1", "red", "vitiligo", "E/C/D"),
        ("R2", "red", "vitiligo", "E"),
        ("R3", "red", "vitiligo", "E/D"),
        ("R4", "red", "vitiligo", "D"),
        ("R5", "red", "vitiligo", "D"),
        ("R6", "red", "vitiligo", "D"),
        ("R7", "red", "vitiligo", "D"),
        ("T1", "red", "vitiligo", "D"),
        ("A1", "amber", "vitiligo", "C/D"),
        ("A2", "amber", "vitiligo", "E/D"),
        ("D1", "note", "note", "E/D"),
        ("N1", "not_today", "general", "P"),
        ("N3", "not_today", "general", "P/D"),
        ("C4", "clearance", "general", "P"),
        ("K1", "caution", "general", "P"),
        ("K3", "caution", "general", "P"),
    ],
)
def test_rule_metadata(
    definition: ChecklistDefinition, rule: str, severity: str, group: str, basis: str
) -> None:
    r = definition.rule(rule)
    assert (r.severity, r.group, r.basis) == (severity, group, basis)
    assert all(n in definition.sources for n in r.sources)


def test_rule_sources_follow_the_contract(definition: ChecklistDefinition) -> None:
    assert definition.rule("A1").sources == (19, 20, 21, 22, 23)
    assert definition.rule("A2").sources == (16, 17, 18, 24, 25)
    assert definition.rule("R6").sources == (15,)
    assert definition.rule("K3").sources == (34,)
    assert definition.rule("N1").sources == (30, 37, 38, 39)
    assert definition.sources[34].startswith("US FDA")


def test_outcome_texts(definition: ChecklistDefinition) -> None:
    assert definition.outcome("vitiligo", "red").label == "Red"
    assert definition.outcome("general", "not_today").text
    assert definition.outcome("decision", "defer").text
    with pytest.raises(ValidationError):
        definition.outcome("decision", "maybe")


# ---------------------------------------------------------------- baselines and the example


def test_green_baseline(definition: ChecklistDefinition) -> None:
    a = run(definition, green_answers())
    assert a.fired == ()
    assert (a.vitiligo, a.general, a.decision) == ("green", "clear", "proceed")
    assert (a.vida, a.risk_points, a.age, a.strict) == (None, 0, 36, False)
    assert (a.checklist_id, a.checklist_version) == (definition.id, definition.version)


def test_vitiligo_baseline(definition: ChecklistDefinition) -> None:
    a = run(definition, vitiligo_answers())
    assert a.fired_ids() == ("A1",)
    assert (a.vitiligo, a.general, a.decision, a.vida) == ("amber", "clear", "caution", 0)


def test_clinical_example(definition: ChecklistDefinition) -> None:
    answers = vitiligo_answers(V10=["thyroid"])
    out = assessment_to_json(run(definition, answers, born=date(1990, 4, 2)))
    assert out["checklist"] == {"id": "vitiligo-microneedling", "version": definition.version}
    expected = {
        "vitiligo": "amber",
        "general": "clear",
        "decision": "caution",
        "vida": 0,
        "risk_points": 1,
        "age": 36,
    }
    assert {k: out[k] for k in expected} == expected
    assert [(f["rule"], f["severity"], f["basis"]) for f in out["fired"]] == [
        ("A1", "amber", "C/D")
    ]
    assert out["fired"][0]["text"] == definition.rule("A1").text


# ---------------------------------------------------------------- vitiligo rules


@pytest.mark.parametrize(
    ("v3", "vida", "active"),
    [
        ("le_6w", 4, True),
        ("6w_3m", 3, True),
        ("3m_6m", 2, True),
        ("6m_12m", 1, True),
        ("gt_12m", 0, False),
        ("gt_12m_repigmenting", -1, False),
    ],
)
def test_r1_active_disease_and_vida(
    definition: ChecklistDefinition, v3: str, vida: int, active: bool
) -> None:
    a = run(definition, vitiligo_answers(V3=v3))
    assert a.vida == vida
    assert a.has("R1") is active
    assert a.vitiligo == ("red" if active else "amber")
    assert a.decision == ("defer" if active else "caution")


@pytest.mark.parametrize(
    "sign", ["confetti", "trichrome", "poorly_defined_border", "inflammatory_border"]
)
@pytest.mark.parametrize("make", [green_answers, vitiligo_answers])
def test_r2_any_activity_sign(
    definition: ChecklistDefinition, sign: str, make: Callable[..., dict[str, object]]
) -> None:
    a = run(definition, make(V6=[sign]))
    assert a.has("R2")
    assert a.vitiligo == "red"


@pytest.mark.parametrize(
    ("make", "v5", "expected"),
    [
        (green_answers, "2b", True),
        (vitiligo_answers, "2b", True),
        (green_answers, "2a", False),
        (vitiligo_answers, "2a", False),
        (green_answers, "none", False),
        (green_answers, "not_examined", False),
    ],
)
def test_r2_kp_type_2b(
    definition: ChecklistDefinition, make: Callable[..., dict[str, object]], v5: str, expected: bool
) -> None:
    assert ("R2" in fired(definition, make(V5=v5))) is expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (vitiligo_answers(V4="yes"), True),
        (vitiligo_answers(V5="2a"), True),
        (vitiligo_answers(V4="yes", V5="2a"), True),
        (vitiligo_answers(V4="unsure"), False),
        (vitiligo_answers(V4="no", V5="2b"), False),
        (green_answers(V5="2a"), False),
    ],
)
def test_r3_koebner_prone(
    definition: ChecklistDefinition, answers: dict[str, object], expected: bool
) -> None:
    assert ("R3" in fired(definition, answers)) is expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (green_answers(V1="unsure"), True),
        (green_answers(V8="yes"), True),
        (green_answers(V1="unsure", V8="yes"), True),
        (green_answers(V5="2a"), True),
        (green_answers(V1="unsure", V5="2a"), True),
        (vitiligo_answers(V5="2a"), False),
        (green_answers(V5="2b"), False),
        (green_answers(V8="no"), False),
    ],
)
def test_r4_undiagnosed(
    definition: ChecklistDefinition, answers: dict[str, object], expected: bool
) -> None:
    assert ("R4" in fired(definition, answers)) is expected


def test_r4_unsure_alone_is_only_r4(definition: ChecklistDefinition) -> None:
    a = run(definition, green_answers(V1="unsure", V9="yes", V10=["thyroid", "lupus"]))
    assert a.fired_ids() == ("R4",)
    assert (a.vitiligo, a.decision) == ("red", "defer")


@pytest.mark.parametrize("make", [green_answers, vitiligo_answers])
def test_r5_lesion_at_site(
    definition: ChecklistDefinition, make: Callable[..., dict[str, object]]
) -> None:
    assert "R5" in fired(definition, make(V7="yes"))
    assert "R5" not in fired(definition, make(V7="no"))


@pytest.mark.parametrize(
    ("v11", "expected"),
    [
        (["systemic"], True),
        (["topical", "systemic"], True),
        (["topical", "phototherapy"], False),
        ([], False),
    ],
)
def test_r6_systemic_treatment(
    definition: ChecklistDefinition, v11: list[str], expected: bool
) -> None:
    assert ("R6" in fired(definition, vitiligo_answers(V11=v11))) is expected


def test_r7_not_examined(definition: ChecklistDefinition) -> None:
    assert fired(definition, vitiligo_answers(V5="not_examined")) == {"R7", "A1"}
    # With no vitiligo diagnosis, an unexamined patient triggers no vitiligo rule.
    assert fired(definition, green_answers(V5="not_examined")) == set()


@pytest.mark.parametrize("make", [green_answers, vitiligo_answers])
def test_t1_test_spot_depigmentation(
    definition: ChecklistDefinition, make: Callable[..., dict[str, object]]
) -> None:
    a = run(definition, make(), test_spot_depigmented=True)
    assert a.has("T1")
    assert (a.vitiligo, a.decision) == ("red", "defer")
    assert not run(definition, make(), test_spot_depigmented=False).has("T1")


def test_a1_fires_exactly_when_v1_yes(definition: ChecklistDefinition) -> None:
    assert "A1" in fired(definition, vitiligo_answers())
    assert "A1" in fired(definition, vitiligo_answers(V3="le_6w", V7="yes"))  # red does not hide it
    assert "A1" not in fired(definition, green_answers())
    assert "A1" not in fired(definition, green_answers(V1="unsure"))


@pytest.mark.parametrize(
    ("v9", "v10", "strict", "points", "rules"),
    [
        ("no", [], False, 0, set()),
        ("unknown", [], False, 0, set()),
        ("yes", [], False, 1, {"D1"}),
        ("no", ["thyroid"], False, 1, {"D1"}),
        ("yes", ["thyroid"], False, 2, {"A2"}),
        ("no", ["thyroid", "lupus"], False, 2, {"A2"}),
        ("no", ["thyroid", "lupus", "ibd"], False, 2, {"A2"}),
        ("yes", ["thyroid", "lupus", "ibd"], False, 3, {"A2"}),
        ("no", [], True, 0, set()),
        ("yes", [], True, 1, {"A2"}),
        ("no", ["psoriasis"], True, 1, {"A2"}),
        ("unknown", ["addison", "ibd"], True, 2, {"A2"}),
    ],
)
def test_risk_points_a2_d1(
    definition: ChecklistDefinition,
    v9: str,
    v10: list[str],
    strict: bool,
    points: int,
    rules: set[str],
) -> None:
    a = run(definition, green_answers(V9=v9, V10=v10), strict=strict)
    assert a.risk_points == points
    assert set(a.fired_ids()) == rules
    assert a.strict is strict
    assert a.vitiligo == ("amber" if "A2" in rules else "green")
    assert a.decision == ("caution" if "A2" in rules else "proceed")


def test_v10_caps_at_two(definition: ChecklistDefinition) -> None:
    everything = list(definition.question("V10").values)
    assert run(definition, green_answers(V10=everything)).risk_points == 2
    assert run(definition, green_answers(V9="yes", V10=everything)).risk_points == 3
    # A repeated entry is refused, naming the question.
    with pytest.raises(ValidationError) as err:
        run(definition, green_answers(V10=["thyroid", "thyroid"]))
    assert err.value.field == "V10" and "listed twice" in str(err.value)


def test_risk_markers_with_vitiligo_fire_neither_a2_nor_d1(
    definition: ChecklistDefinition,
) -> None:
    for strict in (False, True):
        for v10 in ([], ["thyroid"], ["thyroid", "lupus"]):
            a = run(definition, vitiligo_answers(V9="yes", V10=v10), strict=strict)
            assert a.fired_ids() == ("A1",)
            assert a.risk_points == 1 + len(v10)


def test_d1_is_a_note_that_changes_nothing(definition: ChecklistDefinition) -> None:
    a = run(definition, green_answers(V9="yes"))
    assert a.fired_ids() == ("D1",)
    assert (a.fired[0].severity, a.fired[0].group) == ("note", "note")
    assert (a.vitiligo, a.general, a.decision) == ("green", "clear", "proceed")
    assert not run(definition, green_answers(V1="unsure", V9="yes")).has("D1")


# ---------------------------------------------------------------- general rules


@pytest.mark.parametrize(
    ("question", "value", "rule", "general"),
    [
        ("G1", "yes", "N1", "not_today"),
        ("G2", "yes", "N2", "not_today"),
        ("G4", "within_6m", "N3", "not_today"),
        ("G6", "yes", "N4", "not_today"),
        ("G11", "yes", "N5", "not_today"),
        ("G3", "yes", "C1", "clearance"),
        ("G5", "yes", "C2", "clearance"),
        ("G7", "yes", "C3", "clearance"),
        ("G8", "yes", "C4", "clearance"),
        ("G9", "yes", "C5", "clearance"),
        ("G10", "IV", "K1", "caution"),
        ("G10", "V", "K1", "caution"),
        ("G10", "VI", "K1", "caution"),
        ("G13", "yes", "K2", "caution"),
    ],
)
def test_general_rule_fires(
    definition: ChecklistDefinition, question: str, value: str, rule: str, general: str
) -> None:
    a = run(definition, green_answers(**{question: value}))
    assert a.fired_ids() == (rule,)
    assert a.general == general
    assert a.vitiligo == "green"
    assert a.decision == ("caution" if general == "caution" else "defer")


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("G4", "6m_12m"),
        ("G4", "over_12m"),
        ("G4", "never"),
        ("G10", "I"),
        ("G10", "II"),
        ("G10", "III"),
    ],
)
def test_general_rule_does_not_fire(
    definition: ChecklistDefinition, question: str, value: str
) -> None:
    assert fired(definition, green_answers(**{question: value})) == set()


@pytest.mark.parametrize(
    ("overrides", "general"),
    [
        ({}, "clear"),
        ({"G13": "yes", "G10": "V"}, "caution"),
        ({"G13": "yes", "G1": "yes"}, "not_today"),
        ({"G1": "yes", "G3": "yes"}, "clearance"),
        ({"G13": "yes", "G3": "yes"}, "clearance"),
        ({"G13": "yes", "G1": "yes", "G3": "yes", "G4": "within_6m"}, "clearance"),
    ],
)
def test_general_precedence(
    definition: ChecklistDefinition, overrides: dict[str, str], general: str
) -> None:
    assert run(definition, green_answers(**overrides)).general == general


VITILIGO_CASES = {"green": {}, "amber": {"V1": "yes"}, "red": {"V7": "yes"}}
GENERAL_CASES = {
    "clear": {},
    "caution": {"G13": "yes"},
    "not_today": {"G1": "yes"},
    "clearance": {"G3": "yes"},
}
DECISION_TABLE = {
    ("green", "clear"): "proceed", ("green", "caution"): "caution",
    ("green", "not_today"): "defer", ("green", "clearance"): "defer",
    ("amber", "clear"): "caution", ("amber", "caution"): "caution",
    ("amber", "not_today"): "defer", ("amber", "clearance"): "defer",
    ("red", "clear"): "defer", ("red", "caution"): "defer",
    ("red", "not_today"): "defer", ("red", "clearance"): "defer",
}  # fmt: skip


@pytest.mark.parametrize(("vitiligo", "general"), list(DECISION_TABLE))
def test_decision_table(definition: ChecklistDefinition, vitiligo: str, general: str) -> None:
    overrides: dict[str, object] = {**VITILIGO_CASES[vitiligo], **GENERAL_CASES[general]}
    make = vitiligo_answers if overrides.get("V1") == "yes" else green_answers
    a = run(definition, make(**overrides))
    assert (a.vitiligo, a.general) == (vitiligo, general)
    assert a.decision == DECISION_TABLE[(vitiligo, general)]


def test_fired_rules_come_in_definition_order(definition: ChecklistDefinition) -> None:
    answers = vitiligo_answers(
        V3="le_6w",
        V4="yes",
        V5="not_examined",
        V6=["trichrome"],
        V7="yes",
        V11=["systemic"],
        G1="yes",
        G2="yes",
        G3="yes",
        G4="within_6m",
        G5="yes",
        G6="yes",
        G7="yes",
        G8="yes",
        G9="yes",
        G10="VI",
        G11="yes",
        G13="yes",
    )
    a = run(definition, answers, born=date(2010, 1, 1), test_spot_depigmented=True)
    assert list(a.fired_ids()) == [r for r in RULE_ORDER if r not in {"R4", "A2", "D1"}]
    assert (a.vitiligo, a.general, a.decision) == ("red", "clearance", "defer")


# ---------------------------------------------------------------- age


@pytest.mark.parametrize(
    ("born", "on", "age", "rules"),
    [
        (date(2008, 11, 26), date(2026, 11, 25), 17, {"K3", "K4"}),
        (date(2008, 11, 25), date(2026, 11, 25), 18, {"K3"}),
        (date(2004, 11, 26), date(2026, 11, 25), 21, {"K3"}),
        (date(2004, 11, 25), date(2026, 11, 25), 22, set()),
        # 29 February birthdays turn a year older on 1 March in common years.
        (date(2004, 2, 29), date(2022, 2, 28), 17, {"K3", "K4"}),
        (date(2004, 2, 29), date(2022, 3, 1), 18, {"K3"}),
        (date(2000, 2, 29), date(2022, 2, 28), 21, {"K3"}),
        (date(2000, 2, 29), date(2022, 3, 1), 22, set()),
        (date(2004, 2, 29), date(2024, 2, 29), 20, {"K3"}),
        (date(2004, 2, 29), date(2024, 2, 28), 19, {"K3"}),
    ],
)
def test_age_rules_on_exact_birthdays(
    definition: ChecklistDefinition, born: date, on: date, age: int, rules: set[str]
) -> None:
    assert age_on(born, on) == age
    a = run(definition, green_answers(), born=born, on=on)
    assert a.age == age
    assert set(a.fired_ids()) == rules
    assert a.general == ("caution" if rules else "clear")


def test_age_on_same_day_and_future_birth() -> None:
    assert age_on(date(2026, 11, 25), date(2026, 11, 25)) == 0
    with pytest.raises(ValidationError) as err:
        age_on(date(2026, 11, 26), date(2026, 11, 25))
    assert err.value.field == "date_of_birth"
    assert "2026-11-26" in str(err.value)


def test_assess_rejects_birth_after_consultation(definition: ChecklistDefinition) -> None:
    with pytest.raises(ValidationError):
        run(definition, green_answers(), born=date(2027, 1, 1))


# ---------------------------------------------------------------- answer validation


def test_token_not_allowed_message(definition: ChecklistDefinition) -> None:
    with pytest.raises(ValidationError) as err:
        normalize_answers(definition, vitiligo_answers(V3="soon"), partial=False)
    assert err.value.field == "V3"
    assert str(err.value) == (
        'V3: "soon" is not allowed; use one of le_6w, 6w_3m, 3m_6m, 6m_12m, gt_12m, '
        "gt_12m_repigmenting"
    )


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (green_answers(V99="yes"), "V99"),
        (green_answers(v1="no"), "v1"),
        (green_answers(G12="no"), "G12"),
        (green_answers(V1="maybe"), "V1"),
        (green_answers(V1=["no"]), "V1"),
        (green_answers(V1=None), "V1"),
        (green_answers(V1=1), "V1"),
        (green_answers(V6="confetti"), "V6"),
        (green_answers(V6=["glitter"]), "V6"),
        (green_answers(V6=[["confetti"]]), "V6"),
        (green_answers(V10={"thyroid": True}), "V10"),
        (green_answers(G10="iv"), "G10"),
        (green_answers(G10=4), "G10"),
    ],
)
def test_bad_answers_name_the_question(
    definition: ChecklistDefinition, answers: dict[str, object], field: str
) -> None:
    for partial in (False, True):
        with pytest.raises(ValidationError) as err:
            normalize_answers(definition, answers, partial=partial)
        assert err.value.field == field
        assert field in str(err.value)


@pytest.mark.parametrize("question", ["V2", "V3", "V4", "V11"])
@pytest.mark.parametrize("v1", ["no", "unsure"])
def test_vitiligo_details_must_be_absent_without_diagnosis(
    definition: ChecklistDefinition, question: str, v1: str
) -> None:
    value = vitiligo_answers()[question]
    answers = green_answers(V1=v1, **{question: value})
    for partial in (False, True):
        with pytest.raises(ValidationError) as err:
            normalize_answers(definition, answers, partial=partial)
        assert err.value.field == question
        assert "V1 is yes" in str(err.value)


def test_v8_must_be_absent_with_diagnosis(definition: ChecklistDefinition) -> None:
    for partial in (False, True):
        with pytest.raises(ValidationError) as err:
            normalize_answers(definition, vitiligo_answers(V8="no"), partial=partial)
        assert err.value.field == "V8"


@pytest.mark.parametrize("question", QUESTION_ORDER)
def test_missing_required_answer(definition: ChecklistDefinition, question: str) -> None:
    make = green_answers if question == "V8" else vitiligo_answers
    answers = make(**{question: DROP})
    with pytest.raises(ValidationError) as err:
        normalize_answers(definition, answers, partial=False)
    assert err.value.field == question
    assert "required" in str(err.value)
    assert ", ".join(definition.question(question).values) in str(err.value)
    with pytest.raises(ValidationError):
        run(definition, answers)
    if question == "V1":
        # In a draft without V1 the vitiligo details no longer apply: they must be dropped.
        with pytest.raises(ValidationError) as err:
            normalize_answers(definition, answers, partial=True)
        assert err.value.field == "V2"
    else:
        assert question not in normalize_answers(definition, answers, partial=True)


def test_normalize_orders_and_refuses_repeats(definition: ChecklistDefinition) -> None:
    for partial in (False, True):
        repeated = vitiligo_answers(V10=["lupus", "thyroid", "lupus"])
        with pytest.raises(ValidationError) as err:
            normalize_answers(definition, repeated, partial=partial)
        assert err.value.field == "V10"
        assert str(err.value).startswith('V10: "lupus" is listed twice; list each answer once')
    answers = vitiligo_answers(V10=["lupus", "thyroid"], V11=("systemic", "topical"))
    values = normalize_answers(definition, answers, partial=False)
    assert values["V10"] == ("thyroid", "lupus")
    assert values["V11"] == ("topical", "systemic")
    assert values["V6"] == ()
    assert list(values) == [q for q in QUESTION_ORDER if q != "V8"]
    assert normalize_answers(definition, values, partial=False) == values


def test_partial_drafts(definition: ChecklistDefinition) -> None:
    assert normalize_answers(definition, {}, partial=True) == {}
    assert normalize_answers(definition, {"V1": "yes", "G10": "II"}, partial=True) == {
        "V1": "yes",
        "G10": "II",
    }
    # V8 applies while V1 is unanswered; V2 does not.
    assert normalize_answers(definition, {"V8": "no"}, partial=True) == {"V8": "no"}
    with pytest.raises(ValidationError):
        normalize_answers(definition, {"V2": "mixed"}, partial=True)
    with pytest.raises(ValidationError):
        normalize_answers(definition, {"V1": "yes", "V8": "no"}, partial=True)
    with pytest.raises(ValidationError):
        normalize_answers(definition, {"G4": "yesterday"}, partial=True)


@pytest.mark.parametrize("answers", [None, [], "V1", 3, ["V1", "yes"], {1: "yes"}])
def test_answers_that_are_not_a_mapping_of_ids(
    definition: ChecklistDefinition, answers: Any
) -> None:
    with pytest.raises(ValidationError):
        normalize_answers(definition, answers, partial=True)
    with pytest.raises(ValidationError):
        assess(definition, answers, AssessContext(CONSULTED, ADULT_DOB))


def test_applicable(definition: ChecklistDefinition) -> None:
    for qid in ("V2", "V3", "V4", "V11"):
        assert applicable(definition, qid, {"V1": "yes"})
        assert not applicable(definition, qid, {"V1": "no"})
        assert not applicable(definition, qid, {})
    assert applicable(definition, "V8", {})
    assert applicable(definition, "V8", {"V1": "unsure"})
    assert not applicable(definition, "V8", {"V1": "yes"})
    assert all(applicable(definition, q, {}) for q in ("V1", "V5", "V6", "V7", "G13"))
    with pytest.raises(ValidationError):
        applicable(definition, "V99", {})


def test_missing_required(definition: ChecklistDefinition) -> None:
    always = [q for q in QUESTION_ORDER if q not in {"V2", "V3", "V4", "V8", "V11"}]
    assert missing_required(definition, {}) == tuple(
        q for q in QUESTION_ORDER if q in [*always, "V8"]
    )
    yes = missing_required(definition, {"V1": "yes"})
    assert yes == tuple(q for q in QUESTION_ORDER if q not in {"V1", "V8"})
    assert missing_required(definition, {"V1": "yes", "V3": None})[:2] == ("V2", "V3")
    assert missing_required(definition, vitiligo_answers()) == ()
    assert missing_required(definition, green_answers()) == ()
    assert missing_required(definition, green_answers(V7=DROP, G13=DROP)) == ("V7", "G13")


# ---------------------------------------------------------------- JSON round trip


def test_assessment_json_shape(definition: ChecklistDefinition) -> None:
    out = assessment_to_json(run(definition, green_answers(V9="yes", G10="IV")))
    assert list(out) == [
        "checklist",
        "vitiligo",
        "general",
        "decision",
        "vida",
        "risk_points",
        "age",
        "strict",
        "fired",
    ]
    assert out["fired"] == [
        {
            "rule": "D1",
            "severity": "note",
            "basis": "E/D",
            "text": definition.rule("D1").text,
            "group": "note",
            "sources": [16, 17, 18, 24, 25],
        },
        {
            "rule": "K1",
            "severity": "caution",
            "basis": "P",
            "text": definition.rule("K1").text,
            "group": "general",
            "sources": [30, 37, 38, 39],
        },
    ]
    json.dumps(out)


@pytest.mark.parametrize(
    "answers",
    [green_answers(), vitiligo_answers(V3="le_6w", G1="yes"), green_answers(V9="yes", G10="V")],
)
def test_assessment_round_trip(definition: ChecklistDefinition, answers: dict[str, object]) -> None:
    a = run(definition, answers, born=date(2009, 2, 1), strict=True)
    assert assessment_from_json(json.loads(json.dumps(assessment_to_json(a)))) == a


def test_assessment_from_cli_shape_infers_group(definition: ChecklistDefinition) -> None:
    a = run(definition, vitiligo_answers(G13="yes"))
    out = assessment_to_json(a)
    for item in out["fired"]:
        del item["group"], item["sources"]
    del out["strict"]
    back = assessment_from_json(out)
    assert [(f.rule, f.group, f.sources) for f in back.fired] == [
        ("A1", "vitiligo", ()),
        ("K2", "general", ()),
    ]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("vitiligo"),
        lambda d: d.update(decision="proceed"),  # inconsistent with amber
        lambda d: d.update(vitiligo="purple"),
        lambda d: d.update(age="36"),
        lambda d: d.update(risk_points=True),
        lambda d: d.update(vida="0"),
        lambda d: d.update(checklist=[]),
        lambda d: d.update(fired={}),
        lambda d: d["fired"].append("A1"),
        lambda d: d["fired"][0].update(severity="grey"),
        lambda d: d["fired"][0].update(group="general"),
        lambda d: d["fired"][0].update(sources=["19"]),
        lambda d: d["fired"][0].pop("text"),
    ],
)
def test_assessment_from_json_rejects_malformed(
    definition: ChecklistDefinition, mutate: Callable[[dict[str, Any]], object]
) -> None:
    data: dict[str, Any] = assessment_to_json(run(definition, vitiligo_answers()))
    mutate(data)
    with pytest.raises(ValidationError):
        assessment_from_json(data)


# ---------------------------------------------------------------- malformed definitions


def _question(d: dict[str, Any], qid: str) -> dict[str, Any]:
    return next(q for s in d["sections"] for q in s["questions"] if q["id"] == qid)


def _rule(d: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(r for r in d["rules"] if r["id"] == rid)


BROKEN: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "unknown question in a rule",
        lambda d: _rule(d, "R3")["when"]["all"].__setitem__(0, {"q": "V99", "eq": "yes"}),
        "rule R3: condition refers to unknown question V99",
    ),
    (
        "token not allowed in a rule",
        lambda d: _rule(d, "R1")["when"]["all"][1]["in"].append("soon"),
        "rule R1: condition tests V3 for 'soon'",
    ),
    (
        "eq on a list question",
        lambda d: _rule(d, "R2").update(when={"q": "V6", "eq": "confetti"}),
        "rule R2: condition 'eq' cannot test V6",
    ),
    (
        "contains on a single question",
        lambda d: _rule(d, "R5").update(when={"q": "V7", "contains": "yes"}),
        "rule R5",
    ),
    (
        "nonempty false",
        lambda d: _rule(d, "R2").update(when={"q": "V6", "nonempty": False}),
        "rule R2",
    ),
    (
        "answer test without operator",
        lambda d: _rule(d, "A1").update(when={"q": "V1"}),
        "rule A1: condition on V1 needs exactly one of",
    ),
    (
        "unknown condition",
        lambda d: _rule(d, "K3").update(when={"age_under": 22}),
        "rule K3: unknown condition 'age_under'",
    ),
    (
        "two operators",
        lambda d: _rule(d, "K3").update(when={"age_lt": 22, "strict": True}),
        "rule K3: malformed condition",
    ),
    ("empty all", lambda d: _rule(d, "R6").update(when={"all": []}), "rule R6"),
    (
        "unknown context flag",
        lambda d: _rule(d, "T1").update(when={"context": "sunny"}),
        "rule T1: unknown context flag",
    ),
    (
        "risk_points_gte without strict",
        lambda d: _rule(d, "A2")["when"]["all"].__setitem__(1, {"risk_points_gte": {"normal": 2}}),
        "rule A2: risk_points_gte",
    ),
    ("age as text", lambda d: _rule(d, "K4").update(when={"age_lt": "18"}), "rule K4: age_lt"),
    ("duplicate rule ID", lambda d: _rule(d, "R2").update(id="R1"), "rule R1: duplicate rule ID"),
    (
        "duplicate question ID",
        lambda d: _question(d, "V2").update(id="V1"),
        "question V1: duplicate question ID",
    ),
    (
        "bad severity",
        lambda d: _rule(d, "R5").update(severity="purple"),
        "rule R5: unknown severity 'purple'",
    ),
    (
        "group mismatch",
        lambda d: _rule(d, "N1").update(group="vitiligo"),
        "rule N1: group 'vitiligo' does not match",
    ),
    ("unknown basis tag", lambda d: _rule(d, "R4").update(basis="X"), "rule R4: basis 'X'"),
    ("repeated basis tag", lambda d: _rule(d, "R4").update(basis="D/D"), "rule R4: basis 'D/D'"),
    (
        "source not in table",
        lambda d: _rule(d, "A1")["sources"].append(99),
        "rule A1: source 99 is not in the sources table",
    ),
    ("missing rule key", lambda d: _rule(d, "K2").pop("text"), "rule K2: missing key 'text'"),
    (
        "unknown rule key",
        lambda d: _rule(d, "K2").update(colour="red"),
        "rule K2: unknown key 'colour'",
    ),
    (
        "unknown question key",
        lambda d: _question(d, "V4").update(hint="x"),
        "question V4: unknown key 'hint'",
    ),
    (
        "missing question key",
        lambda d: _question(d, "G2").pop("help"),
        "question G2: missing key 'help'",
    ),
    ("bad kind", lambda d: _question(d, "V6").update(kind="many"), "question V6: 'kind'"),
    (
        "duplicate token",
        lambda d: _question(d, "V9")["tokens"].append({"value": "yes", "label": "Y"}),
        "question V9: duplicate token 'yes'",
    ),
    (
        "empty label",
        lambda d: _question(d, "V9")["tokens"][0].update(label=" "),
        "question V9: token yes: 'label'",
    ),
    (
        "examination not a bool",
        lambda d: _question(d, "V5").update(examination="yes"),
        "question V5: 'examination'",
    ),
    (
        "required refers to a later question",
        lambda d: _question(d, "V2").update(required={"q": "V3", "eq": "gt_12m"}),
        "question V2: required: condition refers to unknown question V3",
    ),
    (
        "required refers to itself",
        lambda d: _question(d, "V1").update(required={"q": "V1", "eq": "no"}),
        "question V1: required: condition refers to unknown question V1",
    ),
    (
        "required uses age",
        lambda d: _question(d, "V8").update(required={"age_lt": 18}),
        "question V8: required: condition 'age_lt' is not allowed here",
    ),
    (
        "question source missing",
        lambda d: _question(d, "G10")["sources"].append(42),
        "question G10: source 42",
    ),
    (
        "vida misses a token",
        lambda d: d["vida"]["scores"].pop("gt_12m"),
        "vida: scores: missing key 'gt_12m'",
    ),
    ("vida on a list question", lambda d: d["vida"].update(question="V6"), "vida: 'question'"),
    (
        "risk item on unknown question",
        lambda d: d["risk_points"]["items"][0].update(q="V0"),
        "risk_points: items[0]: refers to unknown question V0",
    ),
    (
        "risk item token not allowed",
        lambda d: d["risk_points"]["items"][0].update(eq="maybe"),
        "risk_points: items[0]",
    ),
    (
        "outcome text missing",
        lambda d: d["outcomes"]["general"].pop("clearance"),
        "outcomes: general: missing key 'clearance'",
    ),
    ("source table key", lambda d: d["sources"].update(abc="x"), "sources: 'abc'"),
    ("unknown top-level key", lambda d: d.update(extra=1), f"{SOURCE}: unknown key 'extra'"),
    ("missing top-level key", lambda d: d.pop("rules"), f"{SOURCE}: missing key 'rules'"),
    ("unsupported format", lambda d: d.update(format=3), "format: unsupported format 3"),
    ("format as a flag", lambda d: d.update(format=True), "format: unsupported format True"),
    (
        "patient text in format 1",
        lambda d: _rule(d, "K2").update(patient_text="x"),
        "rule K2: unknown key 'patient_text'",
    ),
    ("bad version", lambda d: d.update(version="next"), "version: 'version' 'next'"),
    ("malformed rule ID", lambda d: d["rules"][0].update(id="r1"), "rules[0]: 'id' 'r1'"),
]


@pytest.mark.parametrize(
    ("mutate", "fragment"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_malformed_definition(
    raw_definition: dict[str, Any], mutate: Callable[[dict[str, Any]], object], fragment: str
) -> None:
    data = copy.deepcopy(raw_definition)
    mutate(data)
    with pytest.raises(ValidationError) as err:
        parse_definition(data, SOURCE)
    message = str(err.value)
    assert message.startswith(f"{SOURCE}: ")
    assert fragment in message


@pytest.mark.parametrize("data", [None, [], "checklist", 1, {}])
def test_definition_that_is_not_an_object(data: object) -> None:
    with pytest.raises(ValidationError) as err:
        parse_definition(data, SOURCE)
    assert str(err.value).startswith(f"{SOURCE}: ")


@pytest.mark.parametrize("text", ["", "{", '{"id": }', "[1, 2", "\ufeff{}", "nul"])
def test_definition_text_that_is_not_json(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_definition_text(text, SOURCE)
    assert str(err.value).startswith(f"{SOURCE}: ")


def test_deeply_nested_definition_text() -> None:
    text = '{"rules": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ValidationError):
        parse_definition_text(text, SOURCE)
