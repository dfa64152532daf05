"""Signing through Clinic: readiness checks, sealed documents, immutability, verification."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pypdf import PdfReader

from desktop.clinic import Clinic, system_actor
from desktop.demo import PAD_H, PAD_W
from desktop.errors import Conflict, ValidationError
from tests.helpers.answers import green_answers, stable_vitiligo_answers
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, open_as_system
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import STROKES, ready, sign_all
from tests.helpers.patients import patient_fields
from tests.helpers.pki import make_p12


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_empty_or_dot_signatures_are_refused(clinic: Clinic) -> None:
    cid = ready(clinic)
    with pytest.raises(ValidationError, match="empty"):
        clinic.documents.add_signature(cid, "patient", "Łukasz Żółć", (), width=PAD_W, height=PAD_H)
    dot = (((100.0, 100.0, 0.5), (100.5, 100.2, 0.5), (101.0, 100.0, 0.5)),)
    with pytest.raises(ValidationError, match="dot"):
        clinic.documents.add_signature(
            cid, "patient", "Łukasz Żółć", dot, width=PAD_W, height=PAD_H
        )
    for junk in ((1.0, 2.0), (((1.0, "x", 0.5),),), (((float("nan"), 1.0, 0.5),) * 9,)):
        with pytest.raises(ValidationError, match="not pen strokes"):
            clinic.documents.add_signature(cid, "patient", "Ł Ż", junk, width=PAD_W, height=PAD_H)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="name"):
        clinic.documents.add_signature(cid, "patient", "  ", STROKES, width=PAD_W, height=PAD_H)
    with pytest.raises(ValidationError, match="role"):
        clinic.documents.add_signature(cid, "friend", "X Y", STROKES, width=PAD_W, height=PAD_H)
    assert clinic.documents.signatures(cid) == []


def test_signing_refuses_until_ready(clinic: Clinic) -> None:
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(c.id, answers={"V1": "no"})
    with pytest.raises(ValidationError, match="incomplete"):
        clinic.documents.sign(c.id)
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    with pytest.raises(ValidationError, match="Signatures missing: patient, clinician"):
        clinic.documents.sign(c.id)
    clinic.documents.add_signature(
        c.id, "patient", "Łukasz Żółć", STROKES, width=PAD_W, height=PAD_H
    )
    with pytest.raises(ValidationError, match="Signatures missing: clinician"):
        clinic.documents.sign(c.id)
    assert clinic.consultations.get(c.id).state == "draft"
    assert clinic.documents.for_consultation(c.id) == []


def test_a_minor_needs_a_guardian_not_the_patient(clinic: Clinic) -> None:
    cid = ready(clinic, green_answers(), date_of_birth="2010-06-01")
    assert clinic.documents.required_signers(cid) == ("guardian", "clinician")
    clinic.documents.add_signature(cid, "patient", "Anna Minor", STROKES, width=PAD_W, height=PAD_H)
    clinic.documents.add_signature(
        cid, "clinician", "Dr Ada", STROKES, width=PAD_W, height=PAD_H, password=OWNER_PASSWORD
    )
    with pytest.raises(ValidationError, match="guardian"):
        clinic.documents.sign(cid)


def test_sign_seals_consent_and_aftercare_and_locks_the_record(
    disk_clinic: Clinic, tmp_path: Path
) -> None:
    clinic = disk_clinic
    cid = ready(clinic)
    sign_all(clinic, cid)
    docs = clinic.documents.sign(cid)
    assert sorted(d.kind for d in docs) == ["aftercare", "consent"]
    c = clinic.consultations.get(cid)
    assert c.state == "signed" and c.signed_at is not None
    consent = next(d for d in docs if d.kind == "consent")
    pdf = clinic.documents.pdf(consent.id)
    text = text_of(pdf, tmp_path)
    assert "Łukasz Żółć" in text and "A1" in text and consent.id in text
    report = clinic.documents.verify(pdf)
    assert report.valid, report.reason
    assert report.document and report.document.id == consent.id

    # Nothing about a signed consultation can change any more.
    with pytest.raises(Exception, match="signed"):
        clinic.consultations.record_answers(cid, {"V7": "yes"})
    with pytest.raises(Exception, match="signed"):
        clinic.documents.add_signature(
            cid, "witness", "W Itness", STROKES, width=PAD_W, height=PAD_H
        )
    with pytest.raises(Conflict):
        clinic.documents.sign(cid)


def test_database_triggers_refuse_changes_to_signed_records(disk_clinic: Clinic) -> None:
    clinic = disk_clinic
    cid = ready(clinic)
    sign_all(clinic, cid)
    clinic.documents.sign(cid)
    assert clinic._store.path is not None
    raw = sqlite3.connect(clinic._store.path)
    for sql in (
        "UPDATE consultations SET answers = '{}' WHERE id = ?",
        "DELETE FROM consultations WHERE id = ?",
        "UPDATE documents SET pdf = x'00' WHERE consultation_id = ?",
        "DELETE FROM documents WHERE consultation_id = ?",
        "UPDATE signatures SET signer_name = 'X' WHERE consultation_id = ?",
        "DELETE FROM signatures WHERE consultation_id = ?",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="cannot be"):
            raw.execute(sql, [cid])
    raw.close()


def test_a_deferred_decision_produces_only_the_referral(clinic: Clinic, tmp_path: Path) -> None:
    answers = stable_vitiligo_answers() | {"V3": "le_6w"}
    cid = ready(clinic, answers)
    assert clinic.documents.kinds(cid) == ("referral",)
    with pytest.raises(ValidationError):
        clinic.documents.preview(cid, "consent")
    sign_all(clinic, cid)
    docs = clinic.documents.sign(cid)
    assert [d.kind for d in docs] == ["referral"]
    assert "R1" in text_of(clinic.documents.pdf(docs[0].id), tmp_path)


def test_a_deferred_consultation_is_signed_by_the_clinician_alone(
    clinic: Clinic, tmp_path: Path
) -> None:
    cid = ready(clinic, stable_vitiligo_answers() | {"V3": "le_6w"})  # active: defer
    assert clinic.documents.required_signers(cid) == ("clinician",)
    assert clinic.consultations.overview(cid).required_signers == ("clinician",)
    with pytest.raises(ValidationError) as refused:
        clinic.documents.add_signature(
            cid, "patient", "Łukasz Żółć", STROKES, width=PAD_W, height=PAD_H
        )
    assert "no patient's signature is taken" in refused.value.message
    with pytest.raises(ValidationError, match="clinician's signature alone"):
        clinic.documents.add_signature(
            cid, "interpreter", "Ola Tłumacz", STROKES, width=PAD_W, height=PAD_H
        )
    assert clinic.documents.signatures(cid) == []
    sign_as_clinician(clinic, cid)
    (referral,) = clinic.documents.sign(cid)  # nobody else is missing
    text = text_of(clinic.documents.pdf(referral.id), tmp_path)
    assert "Dr Ada Lovelace" in text and "Clinician" in text
    assert "Patient" not in text.split("Given by")[-1]  # no patient line, signed or not


def test_an_override_decides_who_signs(clinic: Clinic) -> None:
    cid = ready(clinic)  # stable vitiligo: caution, the patient signs the consent
    assert clinic.documents.required_signers(cid) == ("patient", "clinician")
    clinic.documents.add_signature(
        cid, "patient", "Łukasz Żółć", STROKES, width=PAD_W, height=PAD_H
    )
    clinic.consultations.override(cid, "defer", "Wants a dermatologist's view first", "Dr Ada")
    assert clinic.documents.required_signers(cid) == ("clinician",)
    # the consent the patient signed is no longer a sheet of this consultation
    assert clinic.documents.signatures(cid) == []
    clinic.consultations.clear_override(cid)
    assert clinic.documents.required_signers(cid) == ("patient", "clinician")


def test_an_override_to_proceed_is_printed_on_the_consent(clinic: Clinic, tmp_path: Path) -> None:
    cid = ready(clinic)
    clinic.consultations.override(cid, "proceed", "Stable six years, derm letter on file", "Dr Ada")
    text = text_of(clinic.documents.preview(cid, "consent").pdf, tmp_path)
    assert "Stable six years, derm letter on file" in text and "Dr Ada" in text


def test_verify_reports_tampering_and_foreign_files(disk_clinic: Clinic, tmp_path: Path) -> None:
    clinic = disk_clinic
    cid = ready(clinic)
    sign_all(clinic, cid)
    doc = clinic.documents.sign(cid)[0]
    pdf = clinic.documents.pdf(doc.id)
    assert not clinic.documents.verify(pdf + b"\n%extra\n").valid
    middle = bytearray(pdf)
    middle[len(pdf) // 3] ^= 0x01
    assert not clinic.documents.verify(bytes(middle)).valid
    other = open_as_system(tmp_path / "other" / "clinic.sqlite")
    report = other.documents.verify(pdf)
    assert not report.valid
    other.close()


def test_addendum_references_the_signed_original(clinic: Clinic) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    clinic.documents.sign(cid)
    why = "Wrong treatment area recorded; forehead, not cheeks."
    add = clinic.consultations.start_addendum(cid, reason=why)
    assert add.amends_id == cid and add.state == "draft"
    assert add.addendum_reason == why
    assert dict(add.answers) == dict(clinic.consultations.get(cid).answers)
    with pytest.raises(Conflict):
        clinic.consultations.start_addendum(add.id, reason=why)


def test_documents_stay_valid_after_a_rename_and_an_imported_seal(disk_clinic: Clinic) -> None:
    clinic = disk_clinic
    clinic.settings.update_profile(name="Northgate Skin Clinic")
    first = ready(clinic)
    sign_all(clinic, first)
    before = clinic.documents.pdf(clinic.documents.sign(first)[0].id)
    old_seal = clinic.seal.info()
    assert old_seal is not None and old_seal.common_name == "Northgate Skin Clinic"

    clinic.settings.update_profile(name="Northgate Skin & Laser")  # the seal follows the new name
    renewed = clinic.seal.info()
    assert renewed is not None and renewed.common_name == "Northgate Skin & Laser"
    seal_rows = [e for e in clinic.audit.entries(action="settings") if e.target == "seal"]
    assert seal_rows and renewed.fingerprint_sha256 in seal_rows[-1].detail
    second = ready(clinic, given_name="Zoë", family_name="Ødegård")
    sign_all(clinic, second)
    after = clinic.documents.pdf(clinic.documents.sign(second)[0].id)
    assert clinic.documents.verify(after).seal is not None
    assert clinic.documents.verify(after).seal.signer == "Northgate Skin & Laser"  # type: ignore[union-attr]

    key = ec.generate_private_key(ec.SECP256R1())
    clinic.seal.import_pkcs12(make_p12(key, "Northgate (CA issued)", b"pw"), "pw")
    clinic.settings.update_profile(
        name="Northgate Skin & Laser Ltd"
    )  # an imported seal is kept as is
    assert clinic.seal.info() is not None
    assert clinic.seal.info().common_name == "Northgate (CA issued)"  # type: ignore[union-attr]

    for pdf, signer in ((before, "Northgate Skin Clinic"), (after, "Northgate Skin & Laser")):
        report = clinic.documents.verify(pdf)
        assert report.valid, report.reason
        assert "earlier seal" in report.reason and signer in report.reason
    third = ready(clinic, given_name="Mei", family_name="Chen")
    sign_all(clinic, third)
    latest = clinic.documents.verify(clinic.documents.pdf(clinic.documents.sign(third)[0].id))
    assert latest.valid and "earlier seal" not in latest.reason


AMIR_PASSWORD = "amir's own password"


def with_amir(clinic: Clinic) -> str:
    """A second clinician account, Dr Amir Haddad; the owner (Dr Ada Lovelace) stays in."""
    clinic.accounts.create("amir", "Dr Amir Haddad", ("clinician",), AMIR_PASSWORD)
    return "Dr Amir Haddad"


def sign_as_clinician(clinic: Clinic, cid: str, password: str = OWNER_PASSWORD) -> None:
    clinic.documents.add_signature(
        cid, "clinician", "typed name is ignored", STROKES, width=PAD_W, height=PAD_H,
        password=password,
    )  # fmt: skip


def test_only_the_named_clinician_can_sign_as_the_clinician(clinic: Clinic, tmp_path: Path) -> None:
    amir = with_amir(clinic)
    cid = ready(clinic)
    clinic.consultations.save_draft(cid, clinician=amir)
    mismatch = clinic.documents.clinician_mismatch(cid)
    assert mismatch is not None
    assert (mismatch.named, mismatch.signer) == ("Dr Amir Haddad", "Dr Ada Lovelace")
    clinic.documents.add_signature(
        cid, "patient", "Łukasz Żółć", STROKES, width=PAD_W, height=PAD_H
    )
    signatures = clinic.documents.signatures(cid)
    with pytest.raises(ValidationError) as refused:
        sign_as_clinician(clinic, cid)  # Dr Ada Lovelace is signed in
    text = refused.value.message
    assert "names Dr Amir Haddad" in text and "Dr Ada Lovelace cannot sign" in text
    assert "Dr Amir Haddad signs in" in text and "change the clinician on step 1" in text
    assert clinic.documents.signatures(cid) == signatures  # nothing stored, nothing voided
    with pytest.raises(ValidationError, match="Signatures missing: clinician"):
        clinic.documents.sign(cid)

    # The named clinician signs in and signs: the consent names them and bears their signature.
    clinic.session.login("amir", AMIR_PASSWORD)
    assert clinic.documents.clinician_mismatch(cid) is None
    sign_as_clinician(clinic, cid, AMIR_PASSWORD)
    docs = clinic.documents.sign(cid)
    consent = next(d for d in docs if d.kind == "consent")
    text = text_of(clinic.documents.pdf(consent.id), tmp_path)
    assert "Dr Amir Haddad" in text and "Dr Ada Lovelace" not in text


def test_naming_yourself_the_clinician_lets_you_sign_and_redoes_signatures_on_the_old_sheet(
    clinic: Clinic, tmp_path: Path
) -> None:
    amir = with_amir(clinic)
    cid = ready(clinic)
    clinic.consultations.save_draft(cid, clinician=amir)
    clinic.documents.add_signature(
        cid, "patient", "Łukasz Żółć", STROKES, width=PAD_W, height=PAD_H
    )
    revision = clinic.consultations.get(cid).revision
    updates = len(clinic.audit.entries(action="update consultation"))
    clinic.consultations.save_draft(cid, clinician="Dr Ada Lovelace", revision=revision)
    assert len(clinic.audit.entries(action="update consultation")) == updates + 1  # a normal save
    assert clinic.documents.clinician_mismatch(cid) is None
    # the patient read a sheet naming Dr Amir Haddad: that signature no longer stands
    assert clinic.documents.signatures(cid) == []
    sign_all(clinic, cid)
    consent = next(d for d in clinic.documents.sign(cid) if d.kind == "consent")
    text = text_of(clinic.documents.pdf(consent.id), tmp_path)
    assert "Dr Ada Lovelace" in text and "Dr Amir Haddad" not in text


@pytest.mark.parametrize(
    "named",
    ["dr ada lovelace", " Dr  Ada Lovelace ", "DR ADA LOVELACE"],
)
def test_the_named_clinician_is_recognised_however_the_name_was_spaced_or_cased(
    clinic: Clinic, named: str
) -> None:
    cid = ready(clinic)
    clinic.consultations.save_draft(cid, clinician=named)
    assert clinic.documents.clinician_mismatch(cid) is None
    sign_as_clinician(clinic, cid)
    assert [s.role for s in clinic.documents.signatures(cid)] == ["clinician"]


def test_a_composed_and_a_decomposed_name_are_the_same_clinician() -> None:
    from desktop.clinic.documents import same_clinician

    assert same_clinician("Dr Zo\u00eb Brontë", "Dr Zoe\u0308 Bronte\u0308")
    assert not same_clinician("Dr Zoë Brontë", "Dr Zoe Bronte")


def test_a_headless_signer_must_name_the_consultations_clinician(
    clock: FakeClock, tmp_path: Path
) -> None:
    # a headless command signs as the clinician it names, who must be the one named
    headless = Clinic.in_memory(
        data_dir=tmp_path / "data", clock=clock, actor=system_actor(), hasher=FAST_HASHER
    )
    try:
        p = headless.patients.register(patient_fields())
        c = headless.consultations.start(p.id, clinician="Dr Reliable")
        headless.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
        with pytest.raises(ValidationError, match="names Dr Reliable"):
            headless.documents.add_signature(
                c.id, "clinician", "Dr Someone Else", STROKES, width=PAD_W, height=PAD_H
            )
        headless.documents.add_signature(
            c.id, "clinician", "Dr Reliable", STROKES, width=PAD_W, height=PAD_H
        )
        assert [s.signer_name for s in headless.documents.signatures(c.id)] == ["Dr Reliable"]
    finally:
        headless.close()


def test_a_draft_signed_by_another_clinician_before_names_were_checked_is_not_sealed(
    clinic: Clinic,
) -> None:
    amir = with_amir(clinic)
    cid = ready(clinic)
    sign_all(clinic, cid)  # Dr Ada Lovelace signs what names her
    stored = {s.role: s for s in clinic.documents.signatures(cid)}
    # As an older version allowed: the clinician named is someone else, and the signature's
    # content binding still matches (written straight to the store, as it was then).
    c = clinic.consultations.get(cid)
    clinic.consultations.save_draft(cid, clinician=amir, revision=c.revision)
    with clinic._store.transaction():
        current = clinic.documents._bindings.content_sha256(clinic.consultations.get(cid))
        for s in stored.values():
            clinic._store.signatures.save(replace(s, content_sha256=current))
    with pytest.raises(ValidationError) as refused:
        clinic.documents.sign(cid)
    assert "signature is Dr Ada Lovelace's" in refused.value.message
    assert "names Dr Amir Haddad" in refused.value.message
    assert clinic.consultations.get(cid).state == "draft"
    assert clinic.documents.for_consultation(cid) == []
