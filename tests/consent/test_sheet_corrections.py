"""What 2026.12.1 sheets tell a patient: review dates, notices worded for the case, one advice."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from desktop.checklist import AssessContext, SpotHistory, assess
from desktop.consent import compose_aftercare, compose_consent, compose_referral
from desktop.consent.blocks import DocumentContent, Notice, Rules
from desktop.models import Consultation, Patient, Procedure
from desktop.models import TestSpot as Spot  # aliased: pytest would try to collect "Test*"
from desktop.models import TestSpotReview as SpotReview
from tests.helpers.answers import green_answers, stable_vitiligo_answers
from tests.helpers.clock import TZ
from tests.helpers.consent import CHECKLIST, PROFILE, all_text, template

TREATED = date(2026, 11, 30)
ISSUED = datetime(2026, 11, 30, 15, 0, tzinfo=TZ)
OLD_SPOT = Spot(
    "ts-0",
    "cons-0",
    "pat-1",
    "behind the left ear",
    date(2025, 6, 2),
    (
        SpotReview(4, "no_change", date(2025, 6, 30), "Dr Ada"),
        SpotReview(12, "no_change", date(2025, 8, 25), "Dr Ada"),
    ),
)
PATIENT = Patient("pat-1", "Łukasz", "Żółć", date(1990, 4, 2), phone="+48 600 123 456")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(_MONTHS) + r") (\d{4})\b")


def sheet(
    kind: str,
    answers: dict[str, Any],
    *,
    treated: date = TREATED,
    issued: datetime = ISSUED,
    spots: tuple[Spot, ...] = (),
) -> DocumentContent:
    """A 2026.12.1 sheet for these answers, assessed by the engine as the app does."""
    history = tuple(
        SpotHistory(
            s.done_on,
            r4.result if (r4 := s.review(4)) else None,
            r12.result if (r12 := s.review(12)) else None,
        )
        for s in spots
    )
    a = assess(CHECKLIST, answers, AssessContext(treated, PATIENT.date_of_birth, False, history))
    c = Consultation(
        "cons-1",
        PATIENT.id,
        "Dr Ada Lovelace",
        treated,
        Procedure("Dermapen 4", 0.5, "Hyaluronic acid serum", ("cheeks",), 1),
        CHECKLIST.id,
        CHECKLIST.version,
        answers,
        assessment=a,
    )
    compose = {"consent": compose_consent, "aftercare": compose_aftercare}.get(
        kind, compose_referral
    )
    return compose(
        template(kind),
        profile=PROFILE,
        patient=PATIENT,
        consultation=c,
        assessment=a,
        signatures=(),
        test_spots=spots,
        checklist=CHECKLIST,
        document_id="DOC-1",
        now=issued,
    )


def printed_dates(text: str) -> list[date]:
    return [date(int(y), _MONTHS.index(m) + 1, int(d)) for d, m, y in _DATE.findall(text)]


def add_on(content: DocumentContent) -> str:
    text = all_text(content)
    return text[text.index("Extra care: watching for white patches") :]


# ---------------------------------------------------------------- review dates


def test_reviews_count_from_this_treatment_not_an_old_test_spot() -> None:
    text = add_on(sheet("aftercare", stable_vitiligo_answers(), spots=(OLD_SPOT,)))
    assert "4 weeks after this treatment (around 28 Dec 2026)" in text
    assert "12 weeks after it (around 22 Feb 2027)" in text
    assert "2025" not in text


@pytest.mark.parametrize(
    ("days_before", "week4", "week12"),
    [
        (0, True, True),  # signed on the day of treatment: both dates
        (28, True, True),  # the 4-week date is today: still not past
        (29, False, True),  # the 4-week date has passed: only the 12-week date
        (84, False, True),
        (85, False, False),  # both passed: no date at all, call to book
    ],
)
def test_a_review_date_already_past_is_never_printed(
    days_before: int, week4: bool, week12: bool
) -> None:
    treated = ISSUED.date() - timedelta(days=days_before)
    content = sheet("aftercare", stable_vitiligo_answers(), treated=treated, spots=(OLD_SPOT,))
    text = add_on(content)
    dates = printed_dates(text)
    assert all(d >= ISSUED.date() for d in dates), dates
    assert (treated + timedelta(weeks=4) in dates) is week4
    assert (treated + timedelta(weeks=12) in dates) is week12
    assert "check the treated skin and take photos" in text
    if not week12:
        assert "call us to book these checks" in text


# ---------------------------------------------------------------- notices for the case


def test_a_patient_with_vitiligo_and_thyroid_disease_is_not_told_they_may_develop_it() -> None:
    answers = stable_vitiligo_answers() | {"V10": ["thyroid"]}
    text = all_text(sheet("aftercare", answers))
    assert "You have vitiligo. You also told us about autoimmune thyroid disease." in text
    for wrong in ("develop vitiligo", "chance of getting vitiligo", "more likely to"):
        assert wrong not in text, wrong


@pytest.mark.parametrize(
    ("answers", "case"),
    [
        (green_answers() | {"V9": "yes", "V10": ["lupus"]}, "several"),
        (green_answers() | {"V12": "yes", "V10": ["thyroid"]}, "several"),
        (green_answers() | {"V10": ["thyroid"]}, "one"),
        (green_answers() | {"V12": "yes"}, "one"),
        (stable_vitiligo_answers() | {"V9": "yes"}, "with_vitiligo"),
        (green_answers(), None),
        (stable_vitiligo_answers(), None),
    ],
)
def test_the_risk_marker_notice_fits_the_case(answers: dict[str, Any], case: str | None) -> None:
    content = sheet("aftercare", answers)
    notices = [b for b in content.blocks if isinstance(b, Notice) and b.tone == "info"]
    texts = [n.text for n in notices]
    expected = {
        "several": "These are linked with a higher chance of getting vitiligo.",
        "one": "one sign that is linked with a higher chance of getting vitiligo",
        "with_vitiligo": "You have vitiligo. You also told us about",
    }
    if case is None:
        assert texts == []
    else:
        assert len(texts) == 1 and expected[case] in texts[0]


def test_the_pigment_signs_are_named_as_the_marker() -> None:
    for kind in ("consent", "aftercare"):
        text = all_text(sheet(kind, green_answers() | {"V12": "yes"}))
        assert "vitiligo: a pale ring around a mole, or a lock of white hair." in text


def test_one_marker_gets_the_same_advice_on_consent_and_aftercare() -> None:
    answers = green_answers() | {"V9": "yes"}
    consent, aftercare = all_text(sheet("consent", answers)), all_text(sheet("aftercare", answers))
    advice = (
        "On its own, it does not stop today's treatment. We recommend you talk to a "
        "dermatologist before you have more treatments like this."
    )
    # The disclosure box and the D1 line on the consent, the notice on the aftercare.
    assert consent.count(advice) == 2
    assert aftercare.count(advice) == 1
    for contradiction in ("before any further skin treatment", "before any treatment"):
        assert contradiction not in aftercare


# ---------------------------------------------------------------- patient texts


def test_sheets_print_the_patient_texts_not_the_clinicians() -> None:
    answers = stable_vitiligo_answers() | {"V3": "3m_6m", "G5": "yes", "G10": "V"}
    content = sheet("referral", answers)
    rows = next(b for b in content.blocks if isinstance(b, Rules)).rows
    assert [r.rule for r in rows] == ["R1", "A1", "C2", "K1"]
    for r in rows:
        rule = CHECKLIST.rule(r.rule)
        assert r.text == rule.patient_text != rule.text
    text = all_text(content)
    assert "stable vitiligo" not in text.lower()
    for staff in ("medical clearance first", "advise a dermatologist review", "Do a test spot"):
        assert staff not in text
    assert not any(re.search(r"\b(VIDA|KP|Fitzpatrick)\b", r.text) for r in rows)


def test_the_referral_gives_advice_for_the_new_rules() -> None:
    spots = (Spot("ts-1", "cons-0", "pat-1", "jaw", TREATED - timedelta(days=35)),)
    text = all_text(sheet("referral", green_answers() | {"G15": "yes"}, spots=spots))
    assert "Come back for the 4-week check of your test spot." in text
    assert "Ask your GP or a dermatologist about the reaction you had before." in text
