"""Field lengths (models.FIELD_LIMITS) and names no font prints, as the core enforces them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest

from desktop.clinic import Clinic
from desktop.demo import PAD_H, PAD_W
from desktop.errors import ValidationError
from desktop.models import FIELD_LIMITS, Procedure
from tests.helpers.consultations import STROKES, ready, sign_all
from tests.helpers.patients import patient_fields

# A private-use character: no font anywhere has a glyph for it.
NO_GLYPH = "\ue000"


def text(n: int) -> str:
    """`n` characters that look like words (single spaces: nothing for tidying to remove)."""
    return ("word " * n)[: n - 1] + "x"


def refused(
    action: Callable[[], object], field: str, what: str, limit: int, length: int
) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        action()
    assert caught.value.field == field
    assert caught.value.message.startswith(what)
    assert f"{length:,} characters long; it may hold at most {limit:,}" in caught.value.message
    return caught.value


def test_text_helper_makes_exact_lengths() -> None:
    for n in (1, 9, 10, 11, 80, 121, 4001):
        assert len(text(n)) == n and text(n) == " ".join(text(n).split())


def test_procedure_fields(clinic: Clinic) -> None:
    cid = ready(clinic)
    c = clinic.consultations.get(cid)
    limit = FIELD_LIMITS["Procedure.device"]
    ok = clinic.consultations.save_draft(cid, procedure=Procedure(device=text(limit)))
    assert ok.procedure.device == text(limit)
    refused(
        lambda: clinic.consultations.save_draft(cid, procedure=Procedure(device=text(limit + 1))),
        "device",
        "The device",
        limit,
        limit + 1,
    )
    limit = FIELD_LIMITS["Procedure.product"]
    refused(
        lambda: clinic.consultations.save_draft(cid, procedure=Procedure(product=text(limit + 1))),
        "product",
        "The product",
        limit,
        limit + 1,
    )
    area = FIELD_LIMITS["Procedure.area"]
    refused(
        lambda: clinic.consultations.save_draft(cid, procedure=Procedure(areas=(text(area + 1),))),
        "areas",
        'The area "',
        area,
        area + 1,
    )
    count = FIELD_LIMITS["Procedure.areas"]
    many = tuple(f"area {i}" for i in range(count + 1))
    with pytest.raises(
        ValidationError, match=f"Areas to be treated: {count + 1} given, at most {count}"
    ):
        clinic.consultations.save_draft(cid, procedure=Procedure(areas=many))
    clinic.consultations.save_draft(cid, procedure=Procedure(areas=many[:count]))
    assert clinic.consultations.get(cid).revision == c.revision + 2  # refusals saved nothing


def test_clinician_override_and_signature_names(clinic: Clinic) -> None:
    cid = ready(clinic)
    limit = FIELD_LIMITS["Consultation.clinician"]
    refused(
        lambda: clinic.consultations.save_draft(cid, clinician=text(limit + 1)),
        "clinician",
        "The clinician's name",
        limit,
        limit + 1,
    )
    p = clinic.patients.register(patient_fields(given_name="Ann", family_name="Lee"))
    refused(
        lambda: clinic.consultations.start(p.id, clinician=text(limit + 1)),
        "clinician",
        "The clinician's name",
        limit,
        limit + 1,
    )
    assert clinic.consultations.for_patient(p.id) == []

    limit = FIELD_LIMITS["Override.reason"]
    clinic.consultations.override(cid, "proceed", text(limit))
    refused(
        lambda: clinic.consultations.override(cid, "proceed", text(limit + 1)),
        "reason",
        "The override reason",
        limit,
        limit + 1,
    )
    override = clinic.consultations.get(cid).override
    assert override is not None and override.reason == text(limit)

    limit = FIELD_LIMITS["Signature.signer_name"]
    refused(
        lambda: clinic.documents.add_signature(
            cid, "patient", text(limit + 1), STROKES, width=PAD_W, height=PAD_H
        ),
        "signer_name",
        "The patient's name",
        limit,
        limit + 1,
    )
    assert clinic.documents.signatures(cid) == []


def test_test_spot_fields(clinic: Clinic) -> None:
    cid = ready(clinic)
    limit = FIELD_LIMITS["TestSpot.site"]
    refused(
        lambda: clinic.test_spots.record(cid, text(limit + 1), date(2026, 11, 25)),
        "site",
        "The test spot's site",
        limit,
        limit + 1,
    )
    spot = clinic.test_spots.record(cid, "left jawline", date(2026, 11, 25))
    limit = FIELD_LIMITS["TestSpotReview.notes"]
    refused(
        lambda: clinic.test_spots.review(
            spot.id, 4, "no_change", "Dr Ada", on=date(2026, 12, 23), notes=text(limit + 1)
        ),
        "notes",
        "The review notes",
        limit,
        limit + 1,
    )
    limit = FIELD_LIMITS["TestSpotReview.reviewer"]
    refused(
        lambda: clinic.test_spots.review(spot.id, 4, "no_change", text(limit + 1)),
        "reviewer",
        "The reviewer's name",
        limit,
        limit + 1,
    )
    assert clinic.test_spots.for_patient(spot.patient_id)[0].reviews == ()


def test_clinic_profile_fields(clinic: Clinic) -> None:
    before = clinic.settings.profile()
    for field, key, what in (
        ("name", "ClinicProfile.name", "The clinic's name"),
        ("address", "ClinicProfile.address", "The address"),
        ("phone", "ClinicProfile.phone", "The phone number"),
    ):
        limit = FIELD_LIMITS[key]
        refused(
            lambda f=field, n=limit + 1: clinic.settings.update_profile(**{f: text(n)}),
            field,
            what,
            limit,
            limit + 1,
        )
    lines = FIELD_LIMITS["ClinicProfile.address_lines"]
    with pytest.raises(
        ValidationError, match=f"has {lines + 1} lines; it may have at most {lines}"
    ):
        clinic.settings.update_profile(address="\n".join(["1 Quay"] * (lines + 1)))
    assert clinic.settings.profile() == before
    clinic.settings.update_profile(address="\n".join(["1 Quay"] * lines), phone=text(40))
    assert clinic.settings.profile().phone == text(40)


# Names no font prints ----------------------------------------------------------------------


def test_undrawable_characters_are_named_and_the_name_is_still_stored(clinic: Clinic) -> None:
    assert clinic.documents.undrawable("Łukasz Żółć 陈美玲 Zoë") == ()
    assert clinic.documents.undrawable(f"Lee{NO_GLYPH} {NO_GLYPH}") == (NO_GLYPH,)
    assert clinic.documents.unprintable("The family name", "Smith-Jones") == ""
    warning = clinic.documents.unprintable("The family name", f"Lee{NO_GLYPH}")
    assert warning.startswith("The family name contains a character that no font")
    assert "U+E000" in warning
    p = clinic.patients.register(patient_fields(family_name=f"Lee{NO_GLYPH}"))
    assert clinic.patients.get(p.id).family_name == f"Lee{NO_GLYPH}"


def test_the_preview_marks_undrawable_characters_and_signing_refuses(clinic: Clinic) -> None:
    cid = ready(clinic, family_name=f"Lee{NO_GLYPH}")
    preview = clinic.documents.preview(cid, "consent")
    assert preview.undrawable == (NO_GLYPH,)
    assert "U+E000" in preview.warning
    assert preview.pdf.startswith(b"%PDF")
    plain = clinic.documents.preview(ready(clinic, given_name="Mei", family_name="Lee"), "consent")
    assert (plain.undrawable, plain.warning) == ((), "")
    sign_all(clinic, cid)
    with pytest.raises(ValidationError, match="U\\+E000"):
        clinic.documents.sign(cid)
    assert clinic.consultations.get(cid).state == "draft"


# Text that is not clean: refused in every free-text field, whatever the backend ---------------


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("Ann\x00Lee", "control character (U+0000)"),
        ("Ann\x1b[2JLee", "control character (U+001B)"),
        ("Ann\u202eLee", "reorders text"),
    ],
)
def test_every_free_text_field_refuses_unclean_text(clinic: Clinic, bad: str, problem: str) -> None:
    cid = ready(clinic)
    before = clinic.consultations.get(cid).revision
    actions: list[tuple[Callable[[], object], str]] = [
        (lambda: clinic.consultations.save_draft(cid, clinician=bad), "clinician"),
        (lambda: clinic.consultations.save_draft(cid, procedure=Procedure(device=bad)), "device"),
        (lambda: clinic.consultations.override(cid, "proceed", bad + " because"), "reason"),
        (
            lambda: clinic.documents.add_signature(
                cid, "patient", bad, STROKES, width=PAD_W, height=PAD_H
            ),
            "signer_name",
        ),
        (lambda: clinic.test_spots.record(cid, bad, date(2026, 11, 25)), "site"),
        (lambda: clinic.settings.update_profile(name=bad), "name"),
        (lambda: clinic.settings.update_profile(address=f"1 Quay\n{bad}"), "address"),
        (lambda: clinic.repeat_visits.discard(cid, f"{bad} entered twice"), "reason"),
        (
            lambda: clinic.accounts.create("newuser", bad, ("clinician",), "a long passphrase 1"),
            "display_name",
        ),
    ]
    for action, field in actions:
        with pytest.raises(ValidationError, match=re.escape(problem)):
            action()
        try:
            action()
        except ValidationError as exc:
            assert exc.field == field, (field, exc.message)
    assert clinic.consultations.get(cid).revision == before
    assert clinic.documents.signatures(cid) == []
    assert [u.username for u in clinic.accounts.list()].count("newuser") == 0


def test_one_line_fields_refuse_a_line_break_and_reasons_may_have_them(clinic: Clinic) -> None:
    cid = ready(clinic)
    with pytest.raises(ValidationError, match="runs over more than one line"):
        clinic.consultations.save_draft(cid, clinician="Dr Ada\nLovelace")
    with pytest.raises(ValidationError, match="runs over more than one line"):
        clinic.settings.update_profile(name="Skin\nClinic")
    clinic.consultations.override(cid, "proceed", "Stable for years.\nPatient informed.")
    override = clinic.consultations.get(cid).override
    assert override is not None and override.reason.startswith("Stable for years.")
