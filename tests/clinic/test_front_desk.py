"""One chart per person, and search finds what the front desk types: names as people write
them, single names, CJK names, phones in any form, dates that cannot swap day and month."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from desktop.clinic import Clinic
from desktop.errors import DuplicatePatient, ValidationError
from tests.helpers.answers import green_answers
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields


def found(clinic: Clinic, text: str) -> list[str]:
    return [p.full_name for p in clinic.patients.search(text)]


# Names ---------------------------------------------------------------------------------------


def test_obrien_with_any_apostrophe_or_accent_is_one_person(clinic: Clinic) -> None:
    first = clinic.patients.register(
        patient_fields(given_name="Siobhán", family_name="O'Brien", phone="+44 20 7946 0011")
    )
    for given, family in [
        ("Siobhan", "O\u2019Brien"),  # right single quotation mark
        ("SIOBHAN", "O Brien"),
        ("Siobhan", "OBrien"),
        ("Siobha\u0301n", "O\u02bcBrien"),  # decomposed accent, modifier apostrophe
    ]:
        with pytest.raises(DuplicatePatient) as err:
            clinic.patients.register(
                patient_fields(given_name=given, family_name=family, phone="+44 20 7946 0011")
            )
        assert err.value.existing_ids == (first.id,)
        assert "30" not in err.value.message or "already registered" in err.value.message
    assert clinic.patients.count() == 1
    for typed in ["obrien", "o'brien", "O\u2019Brien", "o brien", "siobhan obr", "OBRIEN sio"]:
        assert found(clinic, typed) == ["Siobhán O'Brien"], typed


def test_smith_jones_with_a_hyphen_a_space_or_neither_is_one_person(clinic: Clinic) -> None:
    first = clinic.patients.register(patient_fields(given_name="Anna", family_name="Smith-Jones"))
    for family in ("Smith Jones", "SmithJones", "Smith\u2010Jones", "smith \u2013 jones"):
        with pytest.raises(DuplicatePatient) as err:
            clinic.patients.register(patient_fields(given_name="Anna", family_name=family))
        assert err.value.existing_ids == (first.id,)
    for typed in ["smithjones", "smith-jones", "smith jones", "jones", "anna smithj"]:
        assert found(clinic, typed) == ["Anna Smith-Jones"], typed


def test_invisible_characters_and_swapped_name_fields_do_not_make_another_person(
    clinic: Clinic,
) -> None:
    clinic.patients.register(patient_fields(given_name="Anna", family_name="Kowalska"))
    for given, family in [
        ("An\u200dna", "Kowal\u00adska"),  # zero-width joiner, soft hyphen
        ("Anna\u200b", "\u2060Kowalska"),  # zero-width space, word joiner
        ("Kowalska", "Anna"),  # typed into the other fields
    ]:
        with pytest.raises(DuplicatePatient):
            clinic.patients.register(patient_fields(given_name=given, family_name=family))
    clinic.patients.register(patient_fields(given_name="An\u200cna", family_name="Nowak"))
    assert sorted(found(clinic, "anna")) == ["Anna Kowalska", "An\u200cna Nowak"]


def test_names_are_stored_composed(clinic: Clinic) -> None:
    p = clinic.patients.register(
        patient_fields(given_name=unicodedata.normalize("NFD", "Siobhán"), family_name="Nguyễn")
    )
    assert p.given_name == "Siobhán" == unicodedata.normalize("NFC", p.given_name)
    assert clinic.patients.get(p.id).given_name == "Siobhán"


def test_a_name_and_phone_already_registered_with_another_birth_date_warns(
    clinic: Clinic,
) -> None:
    """A day and month swapped at registration (12/01 for 01/12) must not make a second
    chart: the same name and phone warn, and the message points at the birth date."""
    clinic.patients.register(patient_fields(date_of_birth="2008-01-12"))
    with pytest.raises(DuplicatePatient, match="check the date of birth"):
        clinic.patients.register(patient_fields(date_of_birth="2008-12-01"))
    # Same birth date and phone but another name (twins on a parent's phone): no warning.
    clinic.patients.register(patient_fields(given_name="Marta", date_of_birth="2008-01-12"))


# Single names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "family"), [("Madonna", ""), ("", "Sukarno")])
def test_a_single_name_is_enough_and_prints_alone(
    clinic: Clinic, tmp_path: Path, given: str, family: str
) -> None:
    p = clinic.patients.register(patient_fields(given_name=given, family_name=family))
    name = given or family
    assert p.full_name == name and p.listed_name == name
    assert found(clinic, name[:4]) == [name]
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(c.id, answers=green_answers())
    pdf = tmp_path / "consent.pdf"
    pdf.write_bytes(clinic.documents.preview(c.id).pdf)
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    lines = [line for line in text.splitlines() if name in line]
    assert name in lines  # the details table's name, alone on its line
    for line in lines:  # and in the headings: no stray space, comma or "None" beside it
        assert line == name or line.startswith(f"{name} · ") or line.endswith(f" · {name}")


def test_no_name_at_all_is_refused(clinic: Clinic) -> None:
    with pytest.raises(ValidationError, match="A name is required") as err:
        clinic.patients.register(patient_fields(given_name=" ", family_name="\u200b"))
    assert err.value.field == "given_name"
    assert clinic.patients.count() == 0


# Chinese, Japanese, Korean ----------------------------------------------------------------------


def test_cjk_names_print_family_first_and_are_found_by_any_part(clinic: Clinic) -> None:
    chen = clinic.patients.register(patient_fields(given_name="美玲", family_name="陈"))
    assert chen.full_name == "陈美玲" == chen.listed_name
    whole = clinic.patients.register(
        patient_fields(given_name="", family_name="王小明", date_of_birth="1980-01-01")
    )
    kim = clinic.patients.register(
        patient_fields(given_name="민준", family_name="김", date_of_birth="1995-05-05")
    )
    assert kim.full_name == "김민준"
    for typed, who in [
        ("陈美玲", chen),
        ("陈美", chen),
        ("美玲", chen),
        ("玲", chen),
        ("陈 美玲", chen),
        ("小明", whole),
        ("王小", whole),
        ("明", whole),
        ("민준", kim),
        ("김민", kim),
    ]:
        assert [p.id for p in clinic.patients.search(typed)] == [who.id], typed
    with pytest.raises(DuplicatePatient):  # typed without the split
        clinic.patients.register(patient_fields(given_name="", family_name="陈美玲"))


# Phones ------------------------------------------------------------------------------------


def test_a_phone_is_found_by_the_digits_staff_type(clinic: Clinic) -> None:
    clinic.settings.set_phone_region("GB")
    p = clinic.patients.register(
        patient_fields(given_name="Siobhán", family_name="O'Brien", phone="020 7946 0011")
    )
    assert p.phone == "+44 20 7946 0011" and p.phone_e164 == "+442079460011"
    for typed in [
        "020 7946 0011",
        "02079460011",
        "2079460011",
        "+44 20 7946 0011",
        "+442079460011",
        "0044 20 7946 0011",
        "(020) 7946-0011",
        "020 79",
        "obrien 020 7946",
    ]:
        assert found(clinic, typed) == ["Siobhán O'Brien"], typed
    assert found(clinic, "+48 20 7946") == []
    assert clinic.patients.understood_phone("020 7946 0011") == "+44 20 7946 0011 (GB)"


def test_a_phone_that_cannot_be_read_is_kept_as_typed_and_found_by_its_digits(
    clinic: Clinic,
) -> None:
    p = clinic.patients.register(patient_fields(phone="07700 900123"))  # no region set yet
    assert p.phone == "07700 900123" and p.phone_e164 == ""
    assert "Kept as typed" in clinic.patients.understood_phone("07700 900123")
    assert [x.id for x in clinic.patients.search("07700900123")] == [p.id]
    assert clinic.patients.search("7700 900123") == []
    # Setting the region reads the numbers kept as typed; what is shown stays as typed.
    assert clinic.settings.set_phone_region("gb") == 1
    again = clinic.patients.get(p.id)
    assert again.phone == "07700 900123" and again.phone_e164 == "+447700900123"
    assert again.revision == p.revision
    for typed in ("7700 900123", "+44 7700 900123", "07700 900123"):
        assert [x.id for x in clinic.patients.search(typed)] == [p.id], typed
    with pytest.raises(ValidationError, match="country code"):
        clinic.settings.set_phone_region("XX")


def test_a_foreign_number_with_its_country_code_needs_no_region(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields(phone="+48 600-123-456"))
    assert p.phone == "+48 600 123 456" and p.phone_e164 == "+48600123456"
    assert [x.id for x in clinic.patients.search("600 123 456")] == [p.id]


# Dates -------------------------------------------------------------------------------------


def test_a_slash_date_that_could_swap_is_refused_until_the_clinic_sets_its_order(
    clinic: Clinic, clock: FakeClock
) -> None:
    with pytest.raises(ValidationError, match="12 January 2008 or 1 December 2008") as err:
        clinic.patients.register(patient_fields(date_of_birth="12/01/2008"))
    assert err.value.field == "date_of_birth" and "Settings" in err.value.message
    assert clinic.patients.understood_date("12/01/2008") == ""
    assert "date_of_birth" in clinic.patients.field_errors(
        patient_fields(date_of_birth="12/01/2008")
    )
    # Unambiguous forms are always accepted.
    assert clinic.patients.understood_date("2008-12-01") == "1 December 2008, age 17"
    assert clinic.patients.understood_date("01.12.2008") == "1 December 2008, age 17"
    assert clinic.patients.understood_date("13/01/2008") == "13 January 2008, age 18"
    assert clinic.patients.understood_date("05/05/2008") == "5 May 2008, age 18"
    assert clinic.patients.understood_date("2026-11-20", birth=False) == "20 November 2026"
    clinic.settings.set_date_order("month-first")
    assert clinic.patients.understood_date("12/01/2008") == "1 December 2008, age 17"
    assert clinic.patients.understood_date("13/01/2008") == ""  # no 13th month
    p = clinic.patients.register(patient_fields(date_of_birth="12/01/2008"))
    assert p.date_of_birth.isoformat() == "2008-12-01"
    # 17 today: the consent asks for a parent or guardian.
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(c.id, answers=green_answers())
    assert "guardian" in clinic.documents.required_signers(c.id)
    clinic.settings.set_date_order("day-first")
    assert clinic.patients.understood_date("12/01/2008") == "12 January 2008, age 18"
    with pytest.raises(ValidationError):
        clinic.settings.set_date_order("year-first")  # type: ignore[arg-type]


def test_dates_are_searched_in_an_index_in_every_form(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields(date_of_birth="1990-04-02"))
    clinic.patients.register(patient_fields(given_name="Zoë", date_of_birth="1991-02-04"))
    for typed in ["1990-04-02", "1990-04-0", "1990-04", "1990", "02.04.1990", "2.4.1990"]:
        assert [x.id for x in clinic.patients.search(typed)] == [p.id], typed
    assert len(clinic.patients.search("02/04/1990")) == 1  # both readings; one exists
    assert len(clinic.patients.search("02.04.")) == 1  # any year
    assert len(clinic.patients.search("199")) == 2  # the start of a year
    clinic.settings.set_date_order("month-first")
    assert clinic.patients.search("04/02/1990")[0].id == p.id


# Address and emergency contact -------------------------------------------------------------


def test_address_and_emergency_contact_round_trip(clinic: Clinic) -> None:
    clinic.settings.set_phone_region("IE")
    p = clinic.patients.register(
        patient_fields(
            address="  12 Main Street\n\nApt 3  \nDublin 8\tD08 XY12 ",
            emergency_contact_name="Máire O'Brien",
            emergency_contact_phone="087 123 4567",
        )
    )
    stored = clinic.patients.get(p.id)
    assert stored.address == "12 Main Street\nApt 3\nDublin 8 D08 XY12"
    assert stored.emergency_contact_name == "Máire O'Brien"
    assert stored.emergency_contact_phone == "+353 87 123 4567"
    changed = clinic.patients.update(
        p.id, {"address": "1 Quay Road\nGalway"}, revision=stored.revision
    )
    assert clinic.patients.get(p.id).address == "1 Quay Road\nGalway"
    assert changed.emergency_contact_name == "Máire O'Brien"
    errors = clinic.patients.field_errors(
        patient_fields(emergency_contact_phone="ring her", address="x" * 501)
    )
    assert set(errors) == {"emergency_contact_phone", "address"}
    with pytest.raises(ValidationError, match="control character"):
        clinic.patients.register(patient_fields(address="1 Road\x1b[2J"))
