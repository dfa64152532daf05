"""Property-based tests of the checklist engine against an independent reading of CLINICAL.md.

Every property holds for each version kept: 2026.11.1 (old records) and 2026.12.1 (its last
section adds V12, G14, G15, rules T2, C6 and K5, and a risk point for V12).
"""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from desktop.checklist import (
    AssessContext,
    ChecklistDefinition,
    applicable,
    assess,
    assessment_from_json,
    assessment_to_json,
    missing_required,
    normalize_answers,
    parse_definition,
)
from desktop.checklist.assess import SpotHistory
from desktop.errors import ValidationError
from desktop.models import Assessment

# How many examples: the Hypothesis profile (tests/conftest.py, HYPOTHESIS_PROFILE) decides.
CHECKLISTS = Path(__file__).parents[2] / "resources" / "checklists"
FILES = {
    "2026.11.1": "vitiligo-microneedling-2026.11.1.json",
    "2026.12.1": "vitiligo-microneedling.json",
}
RAWS = {v: json.loads((CHECKLISTS / name).read_text(encoding="utf-8")) for v, name in FILES.items()}
DEFINITIONS = {v: parse_definition(copy.deepcopy(RAWS[v]), FILES[v]) for v in FILES}
NEW = "2026.12.1"
PROPS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VITILIGO_RANK = {"green": 0, "amber": 1, "red": 2}
DECISION_RANK = {"proceed": 0, "caution": 1, "defer": 2}
GENERAL_RANK = {"clear": 0, "caution": 1, "not_today": 2, "clearance": 3}


@pytest.fixture(scope="module", params=list(FILES))
def definition(request: pytest.FixtureRequest) -> ChecklistDefinition:
    return DEFINITIONS[request.param]


# The strategies are built at collection time from every version's questions and tokens.
QUESTION_IDS = sorted({q.id for d in DEFINITIONS.values() for q in d.questions})
TOKENS = sorted({t for d in DEFINITIONS.values() for q in d.questions for t in q.values})

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(TOKENS)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(QUESTION_IDS) | st.text(max_size=6) | st.integers() | st.none()


@st.composite
def valid_answers(draw: st.DrawFn, d: ChecklistDefinition) -> dict[str, object]:
    """A complete answer set: each question answered exactly when it applies, in random form
    (lists in any order, as lists or tuples, each token at most once)."""
    answers: dict[str, object] = {}
    for q in d.questions:
        if not applicable(d, q.id, answers):
            continue
        if q.kind == "single":
            answers[q.id] = draw(st.sampled_from(q.values))
        else:
            chosen = draw(st.lists(st.sampled_from(q.values), unique=True))
            answers[q.id] = tuple(chosen) if draw(st.booleans()) else chosen
    return answers


REVIEWS = st.none() | st.sampled_from(["no_change", "depigmentation", "hyperpigmentation", "other"])


@st.composite
def contexts(draw: st.DrawFn) -> AssessContext:
    """A consultation date, a birth date, strict mode and 0-3 test spots around that date."""
    on = draw(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
    born = draw(st.dates(date(1900, 1, 1), on))
    spots = draw(
        st.lists(
            st.builds(
                SpotHistory,
                st.dates(on - timedelta(days=200), on + timedelta(days=30)),
                REVIEWS,
                REVIEWS,
            ),
            max_size=3,
        )
    )
    return AssessContext(on, born, strict=draw(st.booleans()), test_spots=tuple(spots))


ANSWERS = {v: valid_answers(d) for v, d in DEFINITIONS.items()}


def age(born: date, on: date) -> int:
    years = on.year - born.year
    try:
        birthday = born.replace(year=on.year)
    except ValueError:  # 29 February in a common year: the birthday counts from 1 March
        birthday = date(on.year, 3, 1)
    return years - (on < birthday)


def oracle(a: dict[str, Any], ctx: AssessContext, version: str) -> dict[str, Any]:
    """CLINICAL.md's rules and outcomes, written out independently of the engine."""
    new = version == NEW
    v1 = a["V1"]
    v6, v10, v11 = set(a["V6"]), set(a["V10"]), set(a.get("V11", ()))
    points = (a["V9"] == "yes") + min(len(v10), 2) + (new and a["V12"] == "yes")
    years = age(ctx.date_of_birth, ctx.date)
    reviews = [(s.done, s.review_4w, s.review_12w) for s in ctx.test_spots]
    depigmented = any("depigmentation" in (r4, r12) for _, r4, r12 in reviews)
    pending = any(done < ctx.date and r4 is None for done, r4, _ in reviews)
    checks = [
        ("R1", "red", v1 == "yes" and a["V3"] in {"le_6w", "6w_3m", "3m_6m", "6m_12m"}),
        ("R2", "red", bool(v6) or a["V5"] == "2b"),
        ("R3", "red", v1 == "yes" and (a["V4"] == "yes" or a["V5"] == "2a")),
        ("R4", "red", v1 == "unsure" or a.get("V8") == "yes" or (v1 == "no" and a["V5"] == "2a")),
        ("R5", "red", a["V7"] == "yes"),
        ("R6", "red", v1 == "yes" and "systemic" in v11),
        ("R7", "red", v1 == "yes" and a["V5"] == "not_examined"),
        ("T1", "red", depigmented),
        ("A1", "amber", v1 == "yes"),
        ("A2", "amber", v1 == "no" and points >= (1 if ctx.strict else 2)),
        ("D1", "note", v1 == "no" and points == 1 and not ctx.strict),
        ("N1", "not_today", a["G1"] == "yes"),
        ("N2", "not_today", a["G2"] == "yes"),
        ("N3", "not_today", a["G4"] == "within_6m"),
        ("N4", "not_today", a["G6"] == "yes"),
        ("N5", "not_today", a["G11"] == "yes"),
        ("T2", "not_today", new and pending),
        ("C1", "clearance", a["G3"] == "yes"),
        ("C2", "clearance", a["G5"] == "yes"),
        ("C3", "clearance", a["G7"] == "yes"),
        ("C4", "clearance", a["G8"] == "yes"),
        ("C5", "clearance", a["G9"] == "yes"),
        ("C6", "clearance", new and a["G15"] == "yes"),
        ("K1", "caution", a["G10"] in {"IV", "V", "VI"}),
        ("K2", "caution", a["G13"] == "yes"),
        ("K3", "caution", years < 22),
        ("K4", "caution", years < 18),
        ("K5", "caution", new and a["G14"] == "yes"),
    ]
    fired = [(rule, severity) for rule, severity, holds in checks if holds]
    severities = {s for _, s in fired}
    vitiligo = "red" if "red" in severities else "amber" if "amber" in severities else "green"
    general = max(
        (s for s in severities if s in GENERAL_RANK), key=GENERAL_RANK.__getitem__, default="clear"
    )
    if vitiligo == "red" or general in {"not_today", "clearance"}:
        decision = "defer"
    elif vitiligo == "amber" or general == "caution":
        decision = "caution"
    else:
        decision = "proceed"
    vida_map = {
        "le_6w": 4,
        "6w_3m": 3,
        "3m_6m": 2,
        "6m_12m": 1,
        "gt_12m": 0,
        "gt_12m_repigmenting": -1,
    }
    return {
        "fired": [rule for rule, _ in fired],
        "vitiligo": vitiligo,
        "general": general,
        "decision": decision,
        "vida": vida_map[a["V3"]] if "V3" in a else None,
        "risk_points": points,
        "age": years,
    }


def _summary(a: Assessment) -> dict[str, Any]:
    return {
        "fired": list(a.fired_ids()),
        "vitiligo": a.vitiligo,
        "general": a.general,
        "decision": a.decision,
        "vida": a.vida,
        "risk_points": a.risk_points,
        "age": a.age,
    }


# ---------------------------------------------------------------- robustness


@PROPS
@given(answers=st.dictionaries(keys, json_values, max_size=8) | json_values, ctx=contexts())
def test_assess_raises_only_validation_error_on_junk(
    definition: ChecklistDefinition, answers: Any, ctx: AssessContext
) -> None:
    try:
        result = assess(definition, answers, ctx)
    except ValidationError as err:
        assert str(err)
        assert "\n" not in str(err)
    else:
        assert isinstance(result, Assessment)


@PROPS
@given(
    data=st.data(),
    junk=st.dictionaries(
        st.sampled_from(QUESTION_IDS) | st.text(max_size=4), json_values, min_size=1, max_size=3
    ),
    ctx=contexts(),
)
def test_assess_on_nearly_valid_answers(
    definition: ChecklistDefinition,
    data: st.DataObject,
    junk: dict[str, object],
    ctx: AssessContext,
) -> None:
    answers = {**data.draw(ANSWERS[definition.version]), **junk}
    for partial in (False, True):
        try:
            normalize_answers(definition, answers, partial=partial)
        except ValidationError as err:
            assert err.field is not None
    with contextlib.suppress(ValidationError):
        assess(definition, answers, ctx)
    for q in definition.questions:
        applicable(definition, q.id, answers)
    missing_required(definition, answers)


@PROPS
@given(data=json_values)
def test_assessment_from_json_raises_only_validation_error(data: Any) -> None:
    with contextlib.suppress(ValidationError):
        assessment_from_json(data)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


DEFINITION_PATHS = [(v, path) for v in FILES for path in _paths(RAWS[v])[1:]]


@settings(deadline=None, database=None)
@given(where=st.sampled_from(DEFINITION_PATHS), junk=json_values)
def test_parse_definition_on_corrupted_files(where: tuple[str, tuple[Any, ...]], junk: Any) -> None:
    version, path = where
    source = FILES[version]
    data = copy.deepcopy(RAWS[version])
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = junk
    try:
        parse_definition(data, source)
    except ValidationError as err:
        assert str(err).startswith(f"{source}: ")


# ---------------------------------------------------------------- behaviour on valid answers


@PROPS
@given(data=st.data(), ctx=contexts())
def test_valid_answers_match_the_clinical_contract(
    definition: ChecklistDefinition, data: st.DataObject, ctx: AssessContext
) -> None:
    answers = data.draw(ANSWERS[definition.version])
    assert missing_required(definition, answers) == ()
    result = assess(definition, answers, ctx)
    assert _summary(result) == oracle(answers, ctx, definition.version)
    assert result.strict is ctx.strict
    order = [r.id for r in definition.rules]
    ids = list(result.fired_ids())
    assert ids == sorted(ids, key=order.index)
    for f in result.fired:
        rule = definition.rule(f.rule)
        assert (f.severity, f.group, f.basis, f.text, f.sources) == (
            rule.severity,
            rule.group,
            rule.basis,
            rule.text,
            rule.sources,
        )


@PROPS
@given(data=st.data(), ctx=contexts())
def test_round_trip_through_json(
    definition: ChecklistDefinition, data: st.DataObject, ctx: AssessContext
) -> None:
    answers = data.draw(ANSWERS[definition.version])
    result = assess(definition, answers, ctx)
    stored = json.loads(json.dumps(assessment_to_json(result)))
    assert assessment_from_json(stored) == result
    normalized = normalize_answers(definition, answers, partial=False)
    assert normalize_answers(definition, normalized, partial=False) == normalized
    assert assess(definition, normalized, ctx) == result


@PROPS
@given(data=st.data())
def test_every_applicable_answer_is_required(
    definition: ChecklistDefinition, data: st.DataObject
) -> None:
    answers = data.draw(ANSWERS[definition.version])
    dropped = data.draw(st.sampled_from(sorted(answers)))
    rest = {k: v for k, v in answers.items() if k != dropped}
    with pytest.raises(ValidationError) as err:
        normalize_answers(definition, rest, partial=False)
    assert err.value.field == dropped
    if dropped == "V1":  # without V1, V8 applies and the V1=yes details no longer do
        assert missing_required(definition, rest)[0] == "V1"
    else:
        assert missing_required(definition, rest) == (dropped,)
        normalize_answers(definition, rest, partial=True)


@PROPS
@given(ctx=contexts(), data=st.data())
def test_adding_a_red_finding_never_lowers_the_outcome(
    definition: ChecklistDefinition,
    ctx: AssessContext,
    data: st.DataObject,
) -> None:
    answers = data.draw(ANSWERS[definition.version])
    before = assess(definition, answers, ctx)
    sign = data.draw(st.sampled_from(definition.question("V6").values))
    worse_answers = [
        {**answers, "V7": "yes"},
        {**answers, "V6": sorted({*answers["V6"], sign})},  # type: ignore[misc]
        {**answers, "V5": "2b"},
    ]
    worse_contexts = [ctx, ctx, ctx]
    worse_answers.append(answers)
    depigmented = SpotHistory(ctx.date, "depigmentation")
    worse_contexts.append(
        AssessContext(ctx.date, ctx.date_of_birth, ctx.strict, (*ctx.test_spots, depigmented))
    )
    for worse, worse_ctx in zip(worse_answers, worse_contexts, strict=True):
        after = assess(definition, worse, worse_ctx)
        assert after.vitiligo == "red"
        assert after.decision == "defer"
        assert VITILIGO_RANK[after.vitiligo] >= VITILIGO_RANK[before.vitiligo]
        assert DECISION_RANK[after.decision] >= DECISION_RANK[before.decision]
        assert GENERAL_RANK[after.general] == GENERAL_RANK[before.general]


@PROPS
@given(
    data=st.data(),
    ctx=contexts(),
    question=st.sampled_from(
        ["G1", "G2", "G3", "G5", "G6", "G7", "G8", "G9", "G11", "G13", "G14", "G15"]
    ),
)
def test_a_general_yes_never_lowers_the_decision(
    definition: ChecklistDefinition, data: st.DataObject, ctx: AssessContext, question: str
) -> None:
    answers = data.draw(ANSWERS[definition.version])
    assume(answers.get(question) == "no")
    before = assess(definition, answers, ctx)
    after = assess(definition, {**answers, question: "yes"}, ctx)
    assert GENERAL_RANK[after.general] >= max(GENERAL_RANK[before.general], 1)
    assert DECISION_RANK[after.decision] >= DECISION_RANK[before.decision]
    assert after.vitiligo == before.vitiligo


@PROPS
@given(data=st.data(), ctx=contexts())
def test_strict_mode_never_lowers_the_outcome(
    definition: ChecklistDefinition, data: st.DataObject, ctx: AssessContext
) -> None:
    answers = data.draw(ANSWERS[definition.version])
    lax = assess(definition, answers, AssessContext(ctx.date, ctx.date_of_birth, False))
    strict = assess(definition, answers, AssessContext(ctx.date, ctx.date_of_birth, True))
    assert VITILIGO_RANK[strict.vitiligo] >= VITILIGO_RANK[lax.vitiligo]
    assert DECISION_RANK[strict.decision] >= DECISION_RANK[lax.decision]
    assert not strict.has("D1")
