"""What the front desk types is stored as clean text, or refused with a message; never a crash."""

from __future__ import annotations

import unicodedata

import pytest

from desktop.clinic import Clinic
from desktop.errors import ValidationError
from tests.helpers.patients import patient_fields


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("given_name", "Anna\x07", "control character"),
        ("family_name", "Nowak\x1b[31m", "control character"),
        ("given_name", "An\x00na", "control character"),
        ("family_name", "\u202eKowalski", "reorders text"),
        ("given_name", "Ann\u2066a", "reorders text"),
        ("family_name", "Nowak\ud800", "lone surrogate"),
        ("given_name", ["Anna"], "must be text"),
        ("family_name", 42, "must be text"),
        ("phone", ["600 123 456"], "must be text"),
        ("notes", "fine\x00", "control character"),
        ("given_name", "Anna\nSmith", "runs over more than one line"),
        ("phone", "600 123\r\n456", "runs over more than one line"),
    ],
)
def test_unsafe_text_is_refused_and_nothing_is_stored(
    clinic: Clinic, field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        clinic.patients.register(patient_fields(**{field: value}))
    assert refused.value.field == field
    assert clinic.patients.count() == 0


def test_notes_from_windows_keep_their_lines(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields(notes="one\r\ntwo\rthree"))
    assert clinic.patients.get(p.id).notes == "one\ntwo\nthree"


def test_names_are_stored_composed_and_notes_keep_their_lines(clinic: Clinic) -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn")
    assert decomposed != "Nguyễn"
    p = clinic.patients.register(
        patient_fields(family_name=decomposed, notes="line one\nline two\tindented")
    )
    stored = clinic.patients.get(p.id)
    assert stored.family_name == "Nguyễn" == unicodedata.normalize("NFC", stored.family_name)
    assert stored.notes == "line one\nline two\tindented"
    assert [x.id for x in clinic.patients.search(decomposed)] == [p.id]


@pytest.mark.parametrize("typed", ["an\x00na", "\x00", "zolc\x1b", "\x07\x08"])
def test_control_characters_in_a_search_find_or_list_but_never_fail(
    clinic: Clinic, typed: str
) -> None:
    clinic.patients.register(patient_fields())
    clinic.patients.search(typed)  # no StorageError
