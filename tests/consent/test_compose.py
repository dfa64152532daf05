"""The content of the consent, aftercare and referral sheets: what a patient would read."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from desktop.consent import (
    compose_aftercare,
    compose_consent,
    compose_referral,
    missing_signer_roles,
    parse_template,
    required_signer_roles,
)
from desktop.consent.blocks import (
    Bullets,
    DocumentContent,
    Heading,
    Notice,
    Outcome,
    Rules,
    Signatures,
)
from desktop.errors import ValidationError
from desktop.models import (
    FiredRule,
    Override,
    Signature,
)
from desktop.models import TestSpot as Spot  # aliased: pytest would try to collect "Test*"
from tests.helpers.consent import (
    CHECKLIST,
    NOW,
    PROFILE,
    SOURCES,
    TEMPLATES,
    all_text,
    assessment,
    checklist,
    consultation,
    minor_amber_case,
    raw_template,
    red_referral_case,
    rule,
    strokes,
    template,
)


def headings(content: DocumentContent) -> list[str]:
    return [b.text for b in content.blocks if isinstance(b, Heading)]


# -- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["consent", "aftercare", "referral"])
def test_shipped_templates_parse_with_version_and_id(kind: str) -> None:
    t = template(kind)
    assert t.kind == kind
    assert (t.version, t.format, t.checklist_versions) == ("2026.12.1", 2, ("2026.12.1",))
    assert t.id == f"microneedling-{kind}"
    name = f"{kind}-2026.11.1.json"
    old = parse_template(json.loads((TEMPLATES / name).read_text(encoding="utf-8")), name)
    assert (old.id, old.version, old.format) == (t.id, "2026.11.1", 1)
    assert old.checklist_versions == ("2026.11.1",)


def test_template_errors_name_the_file_and_the_entry() -> None:
    data = raw_template("consent")
    del data["sections"]["risks"]["items"]
    with pytest.raises(ValidationError, match=r"consent\.json: sections\.risks\.items: missing"):
        parse_template(data, "consent.json")

    data = raw_template("consent")
    data["sections"]["risks"]["items"] = "one string"
    with pytest.raises(ValidationError, match=r"sections\.risks\.items: must be a list"):
        parse_template(data, "consent.json")

    data = raw_template("aftercare")
    data["sections"]["warning"]["text"] = "Call {clinic_nmae} now"
    with pytest.raises(ValidationError, match=r"unknown placeholder '\{clinic_nmae\}'"):
        parse_template(data, "aftercare.json")

    data = raw_template("aftercare")
    data["sections"]["warning"]["text"] = "Call {clinic_name.__class__}"
    with pytest.raises(ValidationError, match="unknown placeholder"):
        parse_template(data, "aftercare.json")

    data = raw_template("referral")
    data["sections"]["letterr"] = {"heading": "x"}
    with pytest.raises(ValidationError, match=r"sections\.letterr: unknown entry"):
        parse_template(data, "referral.json")

    data = raw_template("referral")
    data["version"] = "latest"
    with pytest.raises(ValidationError, match="version"):
        parse_template(data, "referral.json")

    data = raw_template("consent")
    del data["sections"]["outcome"]["badges"]["defer"]
    with pytest.raises(ValidationError, match=r"sections\.outcome\.badges\.defer: missing"):
        parse_template(data, "consent.json")

    with pytest.raises(ValidationError, match="JSON object"):
        parse_template(["not", "an", "object"], "x.json")


def test_a_template_of_the_wrong_kind_is_refused() -> None:
    case = minor_amber_case()
    with pytest.raises(ValidationError, match="aftercare template cannot make the consent"):
        compose_consent(template("aftercare"), document_id="D", **case)


# -- the consent sheet -------------------------------------------------------------------------


def compose_minor() -> DocumentContent:
    return compose_consent(template("consent"), document_id="CONS-1", **minor_amber_case())


def test_consent_covers_points_one_to_eight_in_order() -> None:
    titles = headings(compose_minor())
    numbered = [h for h in titles if h[:2] in {f"{n}." for n in range(1, 9)}]
    assert [h[:2] for h in numbered] == [f"{n}." for n in range(1, 9)]
    text = all_text(compose_minor())
    for words in (
        "Dermapen 4",
        "0.5 mm",
        "Hyaluronic acid serum",
        "cheeks, forehead",
        "Session number: 2",
        "Redness",
        "swelling",
        "bleeding",
        "flaking",
        "Bruising",
        "Infection",
        "cold sores",
        "post-inflammatory hyperpigmentation",
        "metal of the needles",
        "numbing cream",
        "granulomas",
        "tram-track",
        "Scarring",
        "may be permanent",
        "higher when vitiligo is active",
        "no treatment at all",
        "cannot promise",
        "more than one session",
        "complete and true",
        "tell us if your health, medicines or skin change",
        "questions were answered",
        "own free will",
        "change your mind",
        "aftercare sheet",
    ):
        assert words in text, words


def test_consent_prints_this_patients_details_and_outcome_in_words() -> None:
    content = compose_minor()
    text = all_text(content)
    assert "Name: Zoë Ødegård" in text
    assert "Date of birth: 14 Mar 2009" in text
    assert "Age on the day: 17" in text
    assert "Phone: +44 7700 900123" in text
    outcome = next(b for b in content.blocks if isinstance(b, Outcome))
    assert [(r.badge, r.tone) for r in outcome.rows] == [
        ("AMBER", "amber"),
        ("CAUTION", "amber"),
        ("CAUTION", "amber"),
    ]
    assert all(r.meaning for r in outcome.rows)  # words, not colour alone
    assert "test spot first" in outcome.rows[0].meaning


def test_every_fired_rule_is_listed_with_basis_and_sources() -> None:
    content = compose_minor()
    rules = next(b for b in content.blocks if isinstance(b, Rules))
    assert [(r.rule, r.basis, r.sources) for r in rules.rows] == [
        ("A1", "C/D", (19,)),
        ("K1", "P", (30, 37)),
        ("K3", "P", (34,)),
        ("K4", "P", (30,)),
    ]
    cited = next(b for b in content.blocks if isinstance(b, Bullets) and b.intro == "Sources")
    assert cited.items == (
        f"[19] {SOURCES[19]}",
        f"[30] {SOURCES[30]}",
        f"[34] {SOURCES[34]}",
        f"[37] {SOURCES[37]}",
    )
    assert "evidence on this is limited" in all_text(content)


def test_a_source_missing_from_the_checklist_is_said_so() -> None:
    case = minor_amber_case()
    case["checklist"] = checklist({})
    text = all_text(compose_consent(template("consent"), document_id="D", **case))
    assert "[19] Source not listed in this checklist version" in text


def test_k4_means_a_guardian_signs_and_is_told_so() -> None:
    content = compose_minor()
    text = all_text(content)
    assert "is under 18. A parent or legal guardian must read this sheet and sign" in text
    assert "the parent or guardian confirms" in text
    sigs = next(b for b in content.blocks if isinstance(b, Signatures))
    assert [(s.role, s.role_label, s.signer_name) for s in sigs.items] == [
        ("guardian", "Parent or guardian", "Łukasz Żółć"),
        ("clinician", "Clinician", "Dr Αλέξανδρος Παπαδόπουλος"),
    ]
    assert sigs.items[0].signed_at_text == "25 Nov 2026, 14:30 UTC+01:00"
    case = minor_amber_case()
    assert required_signer_roles(case["checklist"], case["assessment"]) == ("guardian", "clinician")


def test_an_adult_signs_for_themselves_and_missing_signatures_show_as_unsigned() -> None:
    case = minor_amber_case()
    a = replace(case["assessment"], fired=case["assessment"].fired[:2], age=30)
    case.update(assessment=a, consultation=replace(case["consultation"], assessment=a))
    case["signatures"] = ()
    content = compose_consent(template("consent"), document_id="D", **case)
    sigs = next(b for b in content.blocks if isinstance(b, Signatures))
    assert [(s.role, s.signed, s.caption) for s in sigs.items] == [
        ("patient", False, "Not yet signed"),
        ("clinician", False, "Not yet signed"),
    ]
    assert "under 18" not in all_text(content)
    assert missing_signer_roles(CHECKLIST, a, ()) == ("patient", "clinician")
    signed = [Signature("patient", "Zoë Ødegård", strokes(), NOW)]
    assert missing_signer_roles(CHECKLIST, a, signed) == ("clinician",)


def test_witness_and_interpreter_are_printed_when_present() -> None:
    case = minor_amber_case()
    case["signatures"] = (
        *case["signatures"],
        Signature("interpreter", "Ana Ruiz", strokes(3.0), NOW),
        Signature("witness", "Wit Ness", strokes(4.0), NOW),
    )
    sigs = next(
        b
        for b in compose_consent(template("consent"), document_id="D", **case).blocks
        if isinstance(b, Signatures)
    )
    assert [s.role for s in sigs.items] == ["guardian", "clinician", "witness", "interpreter"]


def test_amber_or_k1_gives_the_test_spot_plan_with_its_limits_and_results() -> None:
    text = all_text(compose_minor())
    assert "Test spot before the full treatment" in text
    assert "same device, needle depth and product" in text
    assert "after 4 weeks and after 12 weeks" in text
    assert "this timing is not proven" in text
    assert "does not prove that the full treatment is safe" in text
    assert "behind the left ear | 1 Oct 2026 | No change (29 Oct 2026, Dr A. Papadopoulos)" in text
    assert "Not yet checked" in text  # the 12-week review is still due


@pytest.mark.parametrize(
    ("vitiligo", "fired", "plan"),
    [
        ("green", (), False),
        ("amber", ("A1",), True),
        ("green", ("K1",), True),
    ],
)
def test_test_spot_plan_only_when_amber_or_k1(
    vitiligo: str, fired: tuple[str, ...], plan: bool
) -> None:
    case = minor_amber_case()
    rules = tuple(rule(r, "caution", "P", "x") for r in fired)
    a = assessment(vitiligo, "clear", "proceed" if not fired else "caution", *rules)
    case.update(assessment=a, consultation=replace(case["consultation"], assessment=a))
    case["test_spots"] = ()
    text = all_text(compose_consent(template("consent"), document_id="D", **case))
    assert ("Test spot before the full treatment" in text) is plan


@pytest.mark.parametrize(
    ("answers", "marker"),
    [
        ({"V1": "no", "V9": "no", "V10": ("thyroid",)}, "autoimmune thyroid disease"),
        ({"V1": "no", "V9": "yes", "V10": ()}, "vitiligo in a parent, brother, sister or child"),
        (
            {"V1": "no", "V9": "no", "V10": ("alopecia_areata",)},
            "alopecia areata (patchy hair loss)",
        ),
    ],
)
def test_d1_disclosure_names_the_marker(answers: dict[str, Any], marker: str) -> None:
    case = minor_amber_case()
    a = assessment("green", "clear", "proceed", rule("D1", "note", "E", "One risk marker.", 16))
    case.update(assessment=a, consultation=consultation(a, answers))
    text = all_text(compose_consent(template("consent"), document_id="D", **case))
    assert f"higher chance of getting vitiligo: {marker}. On its own, it does not stop" in text


def test_override_is_printed_with_reason_author_and_time() -> None:
    case = minor_amber_case()
    o = Override("proceed", "Dermatologist letter of 2 Nov confirms stable disease.", "Dr Ho", NOW)
    case["consultation"] = replace(case["consultation"], override=o)
    content = compose_consent(template("consent"), document_id="D", **case)
    text = all_text(content)
    assert "The clinician changed the decision" in text
    assert 'decision was "CAUTION". Dr Ho changed it to "PROCEED" on 25 Nov 2026, 14:30' in text
    assert "Dermatologist letter of 2 Nov confirms stable disease." in text
    outcome = next(b for b in content.blocks if isinstance(b, Outcome))
    assert outcome.rows[-1].badge == "PROCEED"


def test_consent_is_refused_when_the_decision_is_defer() -> None:
    with pytest.raises(ValidationError, match="referral sheet"):
        compose_consent(template("consent"), document_id="D", **red_referral_case())
    case = minor_amber_case()
    o = Override("defer", "Patient unsure about risks.", "Dr Ho", NOW)
    case["consultation"] = replace(case["consultation"], override=o)
    with pytest.raises(ValidationError, match="deferred"):
        compose_consent(template("consent"), document_id="D", **case)


def test_photographs_record_consent_and_separate_opt_in() -> None:
    text = all_text(compose_minor())
    assert "part of your clinical record" in text
    assert "anything else, such as teaching or publicity: No:" in text
    case = minor_amber_case()
    case["consultation"] = replace(case["consultation"], photo_other_use=True)
    text = all_text(compose_consent(template("consent"), document_id="D", **case))
    assert "anything else, such as teaching or publicity: Yes:" in text


def test_record_details_and_identifiers() -> None:
    content = compose_minor()
    assert content.kind == "consent"
    assert (content.template_id, content.template_version) == ("microneedling-consent", "2026.12.1")
    assert (content.checklist_id, content.checklist_version) == (
        "vitiligo-microneedling",
        "2026.11.0",
    )
    text = all_text(content)
    assert "Checklist: vitiligo-microneedling, version 2026.11.0" in text
    assert "Sheet version: microneedling-consent, version 2026.12.1" in text
    assert "Document ID: CONS-1" in text
    assert content.demo is False
    assert not any(isinstance(b, Notice) and b.tone == "demo" for b in content.blocks)


def test_demo_data_is_marked() -> None:
    case = minor_amber_case()
    case["patient"] = replace(case["patient"], demo=True)
    content = compose_consent(template("consent"), document_id="D", **case)
    assert content.demo is True
    assert "DEMO — not a real patient record" in all_text(content)
    case = minor_amber_case()
    case["profile"] = replace(PROFILE, demo=True)
    assert compose_consent(template("consent"), document_id="D", **case).demo is True


def test_user_text_is_not_treated_as_a_placeholder() -> None:
    case = minor_amber_case()
    case["patient"] = replace(case["patient"], given_name="{clinic_name}", family_name="{0}")
    text = all_text(compose_consent(template("consent"), document_id="D", **case))
    assert "Name: {clinic_name} {0}" in text
    assert "{clinic_name} {0} is under 18" in text


def test_a_broken_signature_point_is_refused() -> None:
    case = minor_amber_case()
    bad = Signature("guardian", "X", (((1.0, float("nan"), 0.5),),), NOW)
    case["signatures"] = (bad,)
    with pytest.raises(ValidationError, match="invalid point"):
        compose_consent(template("consent"), document_id="D", **case)


# -- canonical content and its hash -------------------------------------------------------------


def test_canonical_json_is_stable_sorted_and_includes_strokes() -> None:
    a, b = compose_minor(), compose_minor()
    assert a.canonical_json() == b.canonical_json()
    assert a.content_sha256() == b.content_sha256()
    assert len(a.content_sha256()) == 64
    text = a.canonical_json()
    assert ": " not in text.split('"blocks"')[0] and "\n" not in text
    decoded = json.loads(text)
    assert list(decoded) == sorted(decoded)
    sig_block = next(x for x in decoded["blocks"] if x["kind"] == "signatures")
    assert sig_block["items"][0]["strokes"][0][0] == list(strokes(0.0)[0][0])


def test_any_change_to_content_changes_the_hash() -> None:
    base = compose_minor().content_sha256()
    case = minor_amber_case()
    sigs = list(case["signatures"])
    moved = copy.deepcopy(sigs[0].strokes)
    moved = ((tuple((x + 0.5, y, p) for x, y, p in moved[0])), *moved[1:])
    sigs[0] = replace(sigs[0], strokes=moved)
    case["signatures"] = tuple(sigs)
    assert (
        compose_consent(template("consent"), document_id="CONS-1", **case).content_sha256() != base
    )
    other_id = compose_consent(template("consent"), document_id="CONS-2", **minor_amber_case())
    assert other_id.content_sha256() != base


# -- the aftercare sheet -----------------------------------------------------------------------


def aftercare(answers: dict[str, Any], *fired: FiredRule, spots: tuple[Spot, ...] = ()) -> str:
    case = minor_amber_case()
    a = assessment("green", "clear", "proceed", *fired)
    case.update(assessment=a, consultation=consultation(a, answers), test_spots=spots)
    return all_text(compose_aftercare(template("aftercare"), document_id="AFT-1", **case))


NO_RISK = {"V1": "no", "V9": "no", "V10": ()}


def test_aftercare_has_every_section() -> None:
    text = aftercare(NO_RISK)
    for words in (
        "The first 24 hours",
        "soap-free cleanser",
        "plain moisturiser",
        "make-up for about 24 hours",
        "24 to 72 hours",
        "Stay out of the sun",
        "From day 2",
        "Every day, put on a mineral sunscreen of SPF 30 or higher",
        "5 to 7 days",
        "Do not pick",
        "When to call us",
        "Call Northgate Skin Clinic on +44 1904 555 0101",
        "fever",
        "blisters",
        "a cold sore",
    ):
        assert words in text, words
    assert "watching for white patches" not in text
    assert "autoimmune" not in text


@pytest.mark.parametrize(
    ("answers", "fired", "spots"),
    [
        ({"V1": "yes", "V9": "no", "V10": ()}, (), ()),
        (NO_RISK, (rule("A2", "amber", "E/D", "Risk markers."),), ()),
        (NO_RISK, (rule("D1", "note", "E", "One marker."),), ()),
        (NO_RISK, (), (Spot("t", "c", "p", "jaw", date(2026, 11, 25)),)),
    ],
)
def test_aftercare_vitiligo_add_on(
    answers: dict[str, Any], fired: tuple[FiredRule, ...], spots: tuple[Spot, ...]
) -> None:
    text = aftercare(answers, *fired, spots=spots)
    assert "Extra care: watching for white patches" in text
    assert "any new pale or white spot" in text
    assert "4 weeks after this treatment (around 23 Dec 2026)" in text
    assert "12 weeks after it (around 17 Feb 2027)" in text
    assert "protect it from rubbing" in text


@pytest.mark.parametrize(
    "answers",
    [{"V1": "no", "V9": "yes", "V10": ()}, {"V1": "no", "V9": "no", "V10": ("lupus",)}],
)
def test_aftercare_autoimmune_advice(answers: dict[str, Any]) -> None:
    text = aftercare(answers)
    assert "Advice about your risk of vitiligo" in text
    assert "linked with a higher chance of getting vitiligo" in text
    assert "see a dermatologist" in text


# -- the referral sheet ------------------------------------------------------------------------


def test_referral_explains_why_who_to_see_and_what_to_watch() -> None:
    content = compose_referral(template("referral"), document_id="REF-1", **red_referral_case())
    text = all_text(content)
    assert content.kind == "referral"
    assert "Why we are not treating you now" in text
    for r in ("R1 Red [C/E/D]", "R3 Red [E/D]", "C2 Clearance [P]", "N2 Not today [P]"):
        assert r in text
    assert "Decision: DEFER" in text
    assert "see a dermatologist" in text
    assert "doctor who gives you your blood thinner" in text
    assert "Wait until the flare-up on your skin has fully calmed down." in text
    assert "What to watch for" in text
    assert "New pale or white patches" in text
    assert "The evidence on this is limited." in text
    assert "attended Northgate Skin Clinic on 25 Nov 2026" in text
    assert "(vitiligo-microneedling 2026.11.0)" in text


def test_referral_after_an_override_to_defer() -> None:
    case = minor_amber_case()
    o = Override("defer", "Patient wants to think it over.", "Dr Ho", NOW)
    a = assessment("green", "clear", "proceed")
    case.update(assessment=a, consultation=consultation(a, NO_RISK, override=o))
    text = all_text(compose_referral(template("referral"), document_id="R", **case))
    assert "Patient wants to think it over." in text
    assert "ask your GP or a dermatologist" in text


def test_a_deferred_consultation_asks_for_the_signatures_its_referral_prints() -> None:
    """The referral is the only sheet of a deferred consultation and carries the clinician's
    signature alone: the clinician alone must sign, a minor's guardian as little as an adult."""
    case = red_referral_case()
    a = case["assessment"]
    assert required_signer_roles(CHECKLIST, a) == ("clinician",)
    assert missing_signer_roles(CHECKLIST, a, ()) == ("clinician",)
    assert missing_signer_roles(CHECKLIST, a, case["signatures"]) == ()
    content = compose_referral(template("referral"), document_id="R", **case)
    sigs = next(b for b in content.blocks if isinstance(b, Signatures))
    assert [s.role for s in sigs.items] == list(required_signer_roles(CHECKLIST, a))
    minor = minor_amber_case()
    assert required_signer_roles(CHECKLIST, minor["assessment"]) == ("guardian", "clinician")
    # the decision in force counts: an override to defer, or away from it
    assert required_signer_roles(CHECKLIST, minor["assessment"], "defer") == ("clinician",)
    assert required_signer_roles(CHECKLIST, a, "proceed") == ("patient", "clinician")


def test_referral_is_refused_unless_deferred() -> None:
    with pytest.raises(ValidationError, match="deferred decision"):
        compose_referral(template("referral"), document_id="R", **minor_amber_case())


def test_right_to_left_values_are_isolated_in_template_sentences() -> None:
    """An Arabic name inside an English sentence is a bidi isolate (FSI ... PDI), so that a
    number after it stays after it; Latin values are left exactly as typed."""
    case = minor_amber_case()
    case["patient"] = replace(case["patient"], given_name="فاطمة", family_name="الزهراء")
    text = all_text(compose_consent(template("consent"), document_id="CONS-1", **case))
    assert "\u2068فاطمة الزهراء\u2069 is under 18" in text
    assert "Name: فاطمة الزهراء" in text  # a value of its own needs no isolate
    assert "\u2068" not in all_text(compose_minor())
