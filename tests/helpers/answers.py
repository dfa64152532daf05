"""Checklist answer sets: complete, valid answers for each checklist version kept."""

from __future__ import annotations

from typing import Any

OLD, NEW = "2026.11.1", "2026.12.1"
NEW_QUESTIONS = ("V12", "G14", "G15")  # asked from 2026.12.1 on
EXAMINATION = ("V5", "V6", "V7")  # the clinician's examination findings
DROP = object()  # an override value that removes the answer


def _for(version: str, answers: dict[str, Any], overrides: dict[str, object]) -> dict[str, Any]:
    if version == OLD:
        answers = old_answers(answers)
    elif version != NEW:
        raise ValueError(f"no answer set for checklist {version}; the versions are {OLD}, {NEW}")
    for key, value in overrides.items():
        if value is DROP:
            answers.pop(key, None)
        else:
            answers[key] = value
    return answers


def green_answers(version: str = NEW, **overrides: object) -> dict[str, Any]:
    """A complete answer set of checklist `version` with no finding at all (V1 = no,
    Fitzpatrick type II): green, clear, proceed.

    `overrides` replace or add answers ({"G10": "III"}); the value DROP removes one.
    Raises ValueError for a version without an answer set here.
    """
    answers: dict[str, Any] = {
        "V1": "no",
        "V5": "none",
        "V6": [],
        "V7": "no",
        "V8": "no",
        "V9": "no",
        "V10": [],
        "V12": "no",
        "G1": "no",
        "G2": "no",
        "G3": "no",
        "G4": "never",
        "G5": "no",
        "G6": "no",
        "G7": "no",
        "G8": "no",
        "G9": "no",
        "G10": "II",
        "G11": "no",
        "G13": "no",
        "G14": "no",
        "G15": "no",
    }
    return _for(version, answers, overrides)


def stable_vitiligo_answers(version: str = NEW, **overrides: object) -> dict[str, Any]:
    """Known, stable vitiligo (V1 = yes, nothing new for over a year), otherwise as
    green_answers: only A1 fires (amber, caution). Same arguments as green_answers."""
    answers = green_answers()
    del answers["V8"]  # asked only without a diagnosis
    answers.update({"V1": "yes", "V2": "non_segmental", "V3": "gt_12m", "V4": "no", "V11": []})
    return _for(version, answers, overrides)


def old_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The same answers as checklist 2026.11.1 asks them (without its later questions)."""
    return {k: v for k, v in answers.items() if k not in NEW_QUESTIONS}
