"""Checklist 2026.12.1 (CLINICAL.md, its last section): new questions, rules and input rules."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from desktop.checklist import (
    AssessContext,
    ChecklistDefinition,
    SpotHistory,
    assess,
    normalize_answers,
    parse_definition_text,
    spots_from_json,
)
from desktop.errors import ValidationError
from desktop.models import Assessment
from tests.helpers.answers import NEW, green_answers, old_answers, stable_vitiligo_answers

CHECKLISTS = Path(__file__).parents[2] / "resources" / "checklists"
SOURCE = "vitiligo-microneedling.json"
OLD_SOURCE = "vitiligo-microneedling-2026.11.1.json"
ON = date(2026, 11, 30)
BORN = date(1990, 4, 2)
RULE_ORDER = [
    "R1", "R2", "R3", "R4", "R5", "R6", "R7", "T1", "A1", "A2", "D1",
    "N1", "N2", "N3", "N4", "N5", "T2", "C1", "C2", "C3", "C4", "C5", "C6",
    "K1", "K2", "K3", "K4", "K5",
]  # fmt: skip
QUESTION_ORDER = [
    "V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V9", "V10", "V11", "V12",
    "G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "G10", "G11", "G13", "G14", "G15",
]  # fmt: skip


@pytest.fixture(scope="module")
def definition() -> ChecklistDefinition:
    return parse_definition_text((CHECKLISTS / SOURCE).read_text(encoding="utf-8"), SOURCE)


@pytest.fixture(scope="module")
def old() -> ChecklistDefinition:
    text = (CHECKLISTS / OLD_SOURCE).read_text(encoding="utf-8")
    return parse_definition_text(text, OLD_SOURCE)


def no_vitiligo(**over: object) -> dict[str, object]:
    """The shared green answer set on 2026.12.1, Fitzpatrick type III; `over` replaces."""
    return green_answers(NEW, **{"G10": "III", **over})


def vitiligo(**over: object) -> dict[str, object]:
    """The shared stable-vitiligo answer set on 2026.12.1, Fitzpatrick type III."""
    return stable_vitiligo_answers(NEW, **{"G10": "III", **over})


def run(
    d: ChecklistDefinition,
    answers: dict[str, object],
    spots: tuple[SpotHistory, ...] = (),
    *,
    strict: bool = False,
) -> Assessment:
    return assess(d, answers, AssessContext(ON, BORN, strict=strict, test_spots=spots))


# ---------------------------------------------------------------- the definition


def test_the_newest_definition_is_2026_12_1_beside_2026_11_1(
    definition: ChecklistDefinition, old: ChecklistDefinition
) -> None:
    assert (definition.id, definition.version, definition.format) == (
        "vitiligo-microneedling",
        "2026.12.1",
        2,
    )
    assert (old.id, old.version, old.format) == ("vitiligo-microneedling", "2026.11.1", 1)
    assert [q.id for q in definition.questions] == QUESTION_ORDER
    assert [r.id for r in definition.rules] == RULE_ORDER
    for qid in ("V12", "G14", "G15"):
        q = definition.question(qid)
        assert q.values == ("yes", "no") and q.help
        assert not old.has_question(qid)
    assert definition.question("V12").section == "vitiligo"
    assert definition.question("G14").section == definition.question("G15").section == "general"
    # 2026.11.1 stays exactly as it was: no patient texts, its own rules.
    assert all(r.patient_text is None for r in old.rules)
    assert old.rule("A1").title == "Stable vitiligo"


@pytest.mark.parametrize(
    ("rule", "severity", "group", "basis", "sources"),
    [
        ("T2", "not_today", "general", "D", (8, 14)),
        ("C6", "clearance", "general", "E/D", (50, 51)),
        ("K5", "caution", "general", "E", (49,)),
        ("A1", "amber", "vitiligo", "C/D", (19, 20, 21, 22, 23)),
    ],
)
def test_new_rules_follow_the_contract(
    definition: ChecklistDefinition,
    rule: str,
    severity: str,
    group: str,
    basis: str,
    sources: tuple[int, ...],
) -> None:
    r = definition.rule(rule)
    assert (r.severity, r.group, r.basis, r.sources) == (severity, group, basis, sources)
    assert all(n in definition.sources for n in r.sources)


def test_a1_is_diagnosed_vitiligo_and_never_calls_it_stable(
    definition: ChecklistDefinition,
) -> None:
    a1 = definition.rule("A1")
    assert a1.title == "Diagnosed vitiligo"
    for text in (a1.text, a1.patient_text or ""):
        assert not re.search(r"stable vitiligo|vitiligo is stable|^stable", text, re.IGNORECASE)
    assert "stable" not in (a1.patient_text or "").lower()
    # It fires with active disease too; its texts then stand beside R1's.
    assert run(definition, vitiligo(V3="le_6w")).fired_ids()[:2] == ("R1", "A1")


def test_every_rule_has_a_patient_text_in_plain_second_person(
    definition: ChecklistDefinition,
) -> None:
    staff_words = re.compile(r"\b(advise|refer for|clearance first|consider|KP|VIDA|Fitzpatrick)\b")
    for r in definition.rules:
        assert r.patient_text and r.patient_text != r.text, r.id
        assert re.search(r"\b(you|your)\b", r.patient_text, re.IGNORECASE), r.id
        assert not staff_words.search(r.patient_text), (r.id, r.patient_text)
        assert r.sheet_text == r.patient_text


def test_g4_help_says_the_evidence_is_weak_and_the_wait_is_policy(
    definition: ChecklistDefinition, old: ChecklistDefinition
) -> None:
    help_text = definition.question("G4").help
    assert "impair healing" not in help_text
    assert "insufficient evidence" in help_text and "[52, 53]" in help_text
    assert "conservative policy" in help_text and "(P/D)" in help_text
    assert definition.question("G4").sources == (52, 53)
    assert definition.rule("N3").basis == "P/D"
    assert "impair healing" in old.question("G4").help  # the old version is kept as it was


# ---------------------------------------------------------------- risk points and V12


@pytest.mark.parametrize(
    ("over", "strict", "points", "rules"),
    [
        ({"V12": "yes"}, False, 1, {"D1"}),
        ({"V12": "yes"}, True, 1, {"A2"}),
        ({"V12": "yes", "V9": "yes"}, False, 2, {"A2"}),
        ({"V12": "yes", "V10": ["thyroid"]}, False, 2, {"A2"}),
        ({"V12": "yes", "V9": "yes", "V10": ["thyroid", "lupus", "ibd"]}, False, 4, {"A2"}),
        ({"V12": "no", "V9": "yes"}, False, 1, {"D1"}),
        ({"V12": "no"}, False, 0, set()),
    ],
)
def test_v12_adds_one_risk_point(
    definition: ChecklistDefinition,
    over: dict[str, object],
    strict: bool,
    points: int,
    rules: set[str],
) -> None:
    a = run(definition, no_vitiligo(**over), strict=strict)
    assert a.risk_points == points
    assert set(a.fired_ids()) == rules


def test_v12_with_diagnosed_vitiligo_counts_but_fires_neither_a2_nor_d1(
    definition: ChecklistDefinition,
) -> None:
    a = run(definition, vitiligo(V12="yes", V9="yes"))
    assert a.risk_points == 2 and a.fired_ids() == ("A1",)


# ---------------------------------------------------------------- K5 and C6


@pytest.mark.parametrize("make", [no_vitiligo, vitiligo])
def test_k5_fires_exactly_when_g14_is_yes(definition: ChecklistDefinition, make: Any) -> None:
    yes = run(definition, make(G14="yes"))
    no = run(definition, make(G14="no"))
    assert yes.has("K5") and not no.has("K5")
    assert set(yes.fired_ids()) - set(no.fired_ids()) == {"K5"}
    assert yes.general == "caution"
    assert yes.decision == "caution"


@pytest.mark.parametrize("make", [no_vitiligo, vitiligo])
def test_c6_fires_exactly_when_g15_is_yes(definition: ChecklistDefinition, make: Any) -> None:
    yes = run(definition, make(G15="yes"))
    no = run(definition, make(G15="no"))
    assert set(yes.fired_ids()) - set(no.fired_ids()) == {"C6"}
    assert (yes.general, yes.decision) == ("clearance", "defer")


@pytest.mark.parametrize("question", ["V12", "G14", "G15"])
def test_new_questions_are_required_always(definition: ChecklistDefinition, question: str) -> None:
    for make in (no_vitiligo, vitiligo):
        answers = make()
        del answers[question]
        with pytest.raises(ValidationError) as err:
            normalize_answers(definition, answers, partial=False)
        assert err.value.field == question


def test_2026_11_1_answers_are_incomplete_for_2026_12_1(
    definition: ChecklistDefinition, old: ChecklistDefinition
) -> None:
    answers = old_answers(no_vitiligo())
    assert run(old, answers).fired == ()
    with pytest.raises(ValidationError, match="V12: an answer is required"):
        run(definition, answers)
    with pytest.raises(ValidationError, match="V12: not a question of checklist"):
        run(old, no_vitiligo())


# ---------------------------------------------------------------- T1 and T2: test spots

BEFORE = ON - timedelta(days=35)


@pytest.mark.parametrize(
    ("spots", "t1", "t2"),
    [
        ((), False, False),
        # Done before the consultation, 4-week review not recorded: wait for it.
        ((SpotHistory(BEFORE),), False, True),
        ((SpotHistory(ON - timedelta(days=1)),), False, True),
        # Done on the consultation's own day, or later: nothing to wait for yet.
        ((SpotHistory(ON),), False, False),
        ((SpotHistory(ON + timedelta(days=3)),), False, False),
        # A recorded 4-week review (late or not, whatever it found but loss of colour) clears it.
        ((SpotHistory(BEFORE, "no_change"),), False, False),
        ((SpotHistory(BEFORE, "hyperpigmentation"),), False, False),
        ((SpotHistory(BEFORE, "other", "no_change"),), False, False),
        # Only the 12-week review recorded: the 4-week one is still missing.
        ((SpotHistory(BEFORE, None, "no_change"),), False, True),
        ((SpotHistory(BEFORE, None, "depigmentation"),), True, True),
        ((SpotHistory(BEFORE, "depigmentation"),), True, False),
        ((SpotHistory(ON, "no_change", "depigmentation"),), True, False),
        # Any one spot of the patient is enough.
        (
            (SpotHistory(BEFORE, "no_change"), SpotHistory(BEFORE - timedelta(days=400))),
            False,
            True,
        ),
    ],
)
def test_t1_and_t2_read_the_patients_test_spots(
    definition: ChecklistDefinition, spots: tuple[SpotHistory, ...], t1: bool, t2: bool
) -> None:
    for make in (no_vitiligo, vitiligo):
        a = run(definition, make(), spots)
        assert a.has("T1") is t1
        assert a.has("T2") is t2
        if t2:
            assert a.general == "not_today" and a.decision == "defer"
        if t1:
            assert a.vitiligo == "red" and a.decision == "defer"


def test_2026_11_1_has_no_t2(old: ChecklistDefinition) -> None:
    answers = old_answers(no_vitiligo())
    a = assess(old, answers, AssessContext(ON, BORN, test_spots=(SpotHistory(BEFORE),)))
    assert a.fired == () and a.decision == "proceed"


# ---------------------------------------------------------------- input rules


@pytest.mark.parametrize(
    ("question", "value"),
    [("V6", ["confetti", "confetti"]), ("V10", ["thyroid", "thyroid"]), ("V11", ["topical"] * 2)],
)
def test_a_list_answer_that_repeats_a_token_is_refused(
    definition: ChecklistDefinition, question: str, value: list[str]
) -> None:
    answers = vitiligo(**{question: value})
    for partial in (False, True):
        with pytest.raises(ValidationError) as err:
            normalize_answers(definition, answers, partial=partial)
        assert err.value.field == question
        assert f'{question}: "{value[0]}" is listed twice' in str(err.value)


def test_spots_from_json_reads_the_assess_form() -> None:
    spots = spots_from_json(
        [
            {"done": "2026-10-01", "review_4w": None, "review_12w": None},
            {"done": "2026-09-01", "review_4w": "no_change"},
            {"done": "2026-08-01", "review_4w": "other", "review_12w": "depigmentation"},
        ]
    )
    assert spots == (
        SpotHistory(date(2026, 10, 1)),
        SpotHistory(date(2026, 9, 1), "no_change"),
        SpotHistory(date(2026, 8, 1), "other", "depigmentation"),
    )
    assert spots_from_json([]) == ()


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({}, "test_spots", "must be a list"),
        ([1], "test_spots[0]", "must be an object with done, review_4w, review_12w"),
        ([{"review_4w": None}], "test_spots[0].done", "null is not a date"),
        ([{"done": "01/10/2026"}], "test_spots[0].done", "is not a date like 2026-10-28"),
        ([{"done": "2026-02-30"}], "test_spots[0].done", "is not a date"),
        ([{"done": "20261001"}], "test_spots[0].done", "is not a date"),
        ([{"done": "2026-10-01", "review_4w": "fine"}], "test_spots[0].review_4w", "fine"),
        ([{"done": "2026-10-01", "review_12w": 4}], "test_spots[0].review_12w", "no_change"),
        ([{"done": "2026-10-01", "site": "jaw"}], "test_spots[0]", 'unknown field "site"'),
        (
            [{"done": "2026-10-01"}, {"done": "2026-10-01", "review_4w": "ok"}],
            "test_spots[1].review_4w",
            "use null (not reviewed yet) or one of no_change, depigmentation",
        ),
    ],
)
def test_spots_from_json_refuses_bad_entries_naming_them(
    data: object, field: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as err:
        spots_from_json(data)
    assert err.value.field == field
    assert str(err.value).startswith(field)
    assert fragment in str(err.value)


def test_the_clinical_example_on_2026_12_1(definition: ChecklistDefinition) -> None:
    out = run(definition, vitiligo(V10=["thyroid"]))
    assert (out.vitiligo, out.general, out.decision, out.risk_points) == (
        "amber",
        "clear",
        "caution",
        1,
    )
    assert out.fired_ids() == ("A1",)
    assert json.dumps(out.fired[0].text)
