"""Patient texts read at Flesch-Kincaid grade 8 or lower (CLINICAL.md, version 2026.12.1).

Measured: every prose text of the newest sheet templates (their placeholders filled with
typical values) and every rule's patient text in the newest checklist definition. Left out:
labels, headings, badges and column names (not sentences), and the referral's letter, which
is written to the doctor the patient sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.helpers.paths import ROOT
from tests.readability import fk_grade, sentences, syllables

MAX_GRADE = 8.0
SAMPLE = {
    "clinic_name": "Northgate Skin Clinic",
    "clinic_phone": "01904 555 0101",
    "clinic_address": "12 Northgate, York",
    "patient_name": "Anna Smith",
    "consultation_date": "25 Nov 2026",
    "clinician": "Dr Ada Lovelace",
    "checklist": "vitiligo-microneedling 2026.12.1",
    "markers": "autoimmune thyroid disease",
    "assessed_decision": "CAUTION",
    "override_author": "Dr Ada Lovelace",
    "override_decision": "PROCEED",
    "override_at": "25 Nov 2026, 14:30",
    "override_reason": "Stable for six years.",
    "week4_date": "23 Dec 2026",
    "week12_date": "17 Feb 2027",
}
NOT_PROSE = {
    "heading", "title", "labels", "badges", "columns", "roles", "severity", "results", "and",
    "markers", "unsigned", "not_yet", "results_heading", "sources_heading", "unknown_source",
    "other_use",
}  # fmt: skip
PROSE_MAPS = {("outcome", "values"), ("referral", "advice")}
TO_THE_DOCTOR = {("letter", "text")}


def template_texts(kind: str) -> Iterator[tuple[str, str]]:
    data = json.loads((ROOT / "resources" / "consent" / f"{kind}.json").read_text("utf-8"))
    for section, entries in data["sections"].items():
        for name, value in entries.items():
            if isinstance(value, dict):
                if (section, name) in PROSE_MAPS:
                    for key, text in value.items():
                        yield f"{kind}: {section}.{name}.{key}", text.format_map(SAMPLE)
            elif name not in NOT_PROSE and (section, name) not in TO_THE_DOCTOR:
                for i, text in enumerate([value] if isinstance(value, str) else value):
                    yield f"{kind}: {section}.{name}[{i}]", text.format_map(SAMPLE)


def definition_texts() -> Iterator[tuple[str, str]]:
    path = ROOT / "resources" / "checklists" / "vitiligo-microneedling.json"
    data = json.loads(path.read_text("utf-8"))
    for rule in data["rules"]:
        yield f"{path.name}: rule {rule['id']}", rule["patient_text"]


TEXTS = [
    *template_texts("consent"),
    *template_texts("aftercare"),
    *template_texts("referral"),
    *definition_texts(),
]


def test_every_patient_text_is_measured() -> None:
    where = {w.split(":")[0] for w, _ in TEXTS}
    assert where == {"consent", "aftercare", "referral", "vitiligo-microneedling.json"}
    assert sum(w.startswith("vitiligo-microneedling.json") for w, _ in TEXTS) == 28
    assert len(TEXTS) > 120


@pytest.mark.parametrize(("where", "text"), TEXTS, ids=[w for w, _ in TEXTS])
def test_patient_text_reads_at_grade_8_or_lower(where: str, text: str) -> None:
    grade = round(fk_grade(text), 1)
    assert grade <= MAX_GRADE, f"{where}: Flesch-Kincaid grade {grade}: {text}"


# ---------------------------------------------------------------- the measure itself


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("skin", 1), ("treatment", 2), ("patient", 2), ("medicine", 3), ("period", 3),
        ("usually", 4), ("vitiligo", 4), ("dermatologist", 5), ("hyperpigmentation", 6),
        ("isotretinoin", 6), ("anticoagulant", 6), ("area", 3), ("healed", 1), ("make", 1),
        ("12", 1), ("Roaccutane", 4),
    ],
)  # fmt: skip
def test_syllable_counts(word: str, count: int) -> None:
    assert syllables(word) == count


def test_the_grade_tells_staff_wording_from_patient_wording() -> None:
    staff = "Immunosuppression, cancer treatment or uncontrolled diabetes: medical clearance first."
    plain = "You take medicine that thins the blood. Your doctor must say the treatment is safe."
    assert fk_grade(staff) > 15
    assert fk_grade(plain) < 6
    assert sentences("One. Two! Three?") == 3
    assert sentences("a list item;") == 1
