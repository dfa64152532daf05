"""The clinic seal: made in memory, sized to its chain; a sealed sheet betrays any change."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from desktop import signing
from desktop.consent import compose_consent
from desktop.errors import SignatureError
from desktop.pdf import render_pdf
from desktop.signing import SealMaterial
from tests.helpers.consent import PROFILE, minor_amber_case, template
from tests.helpers.pdf import FONTS
from tests.helpers.pki import (
    NOW,
    ca_chain,
    make_p12,
    p12_of,
    p12_with_a_foreign_certificate,
    self_signed,
)


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    content = compose_consent(template("consent"), document_id="CONS-9", **minor_amber_case())
    return render_pdf(content, PROFILE, fonts=FONTS)


@pytest.fixture(scope="module")
def material() -> SealMaterial:
    return signing.generate_seal("Northgate Skin Clinic", datetime.now(UTC))


@pytest.fixture
def sealed(pdf_bytes: bytes, material: SealMaterial) -> tuple[bytes, signing.SealInfo]:
    return signing.seal_pdf(pdf_bytes, material, reason="consent CONS-9"), material.info()


def first_range_middle(data: bytes) -> int:
    """An offset in the middle of the signed bytes before the signature itself."""
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)", data)
    assert m is not None
    return int(m.group(1)) + int(m.group(2)) // 2


def pdfsig(path: Path) -> str:
    run = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return run.stdout


# -- the seal in memory ------------------------------------------------------------------------


def test_a_new_seal_is_an_ec_key_and_a_certificate_naming_the_clinic() -> None:
    material = signing.generate_seal("  Northgate   Skin Clinic ", NOW)
    info = material.info()
    cert = x509.load_pem_x509_certificate(material.chain_pem)
    names = {a.oid: a.value for a in cert.subject}
    assert names[NameOID.COMMON_NAME] == names[NameOID.ORGANIZATION_NAME] == "Northgate Skin Clinic"
    assert cert.issuer == cert.subject
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    key = serialization.load_pem_private_key(material.key_pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert info.key_type == "EC P-256" and info.name_only_self_signed
    assert info.not_after - info.not_before >= timedelta(days=3650)
    assert info.not_before <= NOW
    assert info.fingerprint_sha256 == cert.fingerprint(hashes.SHA256()).hex()
    assert material.cert_pem == info.cert_pem == cert.public_bytes(serialization.Encoding.PEM)
    assert "key_pem" not in repr(material)  # the key never lands in a log line
    assert signing.generate_seal("Northgate Skin Clinic", NOW).key_pem != material.key_pem


def test_stored_material_is_checked_before_use(material: SealMaterial) -> None:
    again = signing.check_material(material.key_pem, material.chain_pem)
    assert again == material
    other = signing.generate_seal("Impostor Aesthetics", NOW)
    with pytest.raises(SignatureError, match="does not belong to its key"):
        signing.check_material(other.key_pem, material.chain_pem)
    with pytest.raises(SignatureError, match="damaged"):
        signing.check_material(material.key_pem[:60], material.chain_pem)
    with pytest.raises(SignatureError, match="not a readable certificate"):
        signing.check_material(material.key_pem, b"-----BEGIN CERTIFICATE-----\nAAAA\n")


def test_a_renewed_seal_leaves_older_documents_verifiable_against_the_history(
    pdf_bytes: bytes,
) -> None:
    old = signing.generate_seal("Northgate Skin Clinic", NOW)
    sealed_before = signing.seal_pdf(pdf_bytes, old, reason="before the rename")
    new = signing.generate_seal("Northgate Skin & Laser", NOW + timedelta(days=30))
    assert new.info().common_name == "Northgate Skin & Laser"
    sealed_after = signing.seal_pdf(pdf_bytes, new, reason="after the rename")
    both = [new.cert_pem, old.cert_pem]  # current first
    verdict = signing.verify_pdf(sealed_before, both)
    assert verdict.valid and "earlier seal" in verdict.reason
    assert verdict.signer == "Northgate Skin Clinic"
    verdict = signing.verify_pdf(sealed_after, both)
    assert verdict.valid and "earlier seal" not in verdict.reason
    assert not signing.verify_pdf(sealed_before, new.cert_pem).valid  # only the new one


def test_importing_signing_does_not_import_pyhanko() -> None:
    code = "import sys, desktop.signing; print(any(m.startswith('pyhanko') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- sealing and checking ----------------------------------------------------------------------


def test_a_sealed_sheet_verifies(sealed: tuple[bytes, signing.SealInfo]) -> None:
    data, info = sealed
    verdict = signing.verify_pdf(data, info.cert_pem)
    assert verdict.valid and verdict.intact and verdict.covers_entire_file
    assert verdict.signed_by_clinic is True
    assert verdict.signer == "Northgate Skin Clinic"
    assert verdict.signed_at is not None
    assert abs(verdict.signed_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert verdict.reason.startswith("valid: sealed by Northgate Skin Clinic on ")
    assert verdict.reason.endswith("the file is unaltered")


def test_the_seal_is_invisible_pades(sealed: tuple[bytes, signing.SealInfo]) -> None:
    data, _ = sealed
    assert b"/ETSI.CAdES.detached" in data
    assert b"/T (ClinicSeal)" in data
    assert re.search(rb"/Rect\s*\[\s*0\s+0\s+0\s+0\s*\]", data)  # no visible widget


def test_without_the_clinic_certificate_integrity_is_checked_but_not_the_signer(
    sealed: tuple[bytes, signing.SealInfo],
) -> None:
    verdict = signing.verify_pdf(sealed[0], None)
    assert verdict.valid and verdict.signed_by_clinic is None
    assert "not available to check who sealed it" in verdict.reason


def test_one_changed_byte_breaks_the_seal(sealed: tuple[bytes, signing.SealInfo]) -> None:
    data, info = sealed
    tampered = bytearray(data)
    at = first_range_middle(data)
    tampered[at] = ord("X") if tampered[at] != ord("X") else ord("Y")
    verdict = signing.verify_pdf(bytes(tampered), info.cert_pem)
    assert not verdict.valid and not verdict.intact
    assert verdict.reason == "invalid: the document was changed after sealing"


def signature_slot(data: bytes) -> tuple[int, int]:
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)", data)
    assert m is not None
    return int(m.group(2)), int(m.group(3))


@pytest.mark.slow  # 283 tampered copies, each verified
def test_a_changed_byte_anywhere_never_passes(sealed: tuple[bytes, signing.SealInfo]) -> None:
    data, info = sealed
    start, end = signature_slot(data)
    spots = [*range(0, len(data), max(1, len(data) // 60)), *range(start, end, 37)]
    for at in spots:
        tampered = bytearray(data)
        tampered[at] ^= 0x20
        try:
            verdict = signing.verify_pdf(bytes(tampered), info.cert_pem)
        except SignatureError:  # the header itself was hit: "unusable: not a PDF"
            continue
        assert not verdict.valid, at


def test_the_unsigned_signature_slot_cannot_be_edited_either(
    sealed: tuple[bytes, signing.SealInfo],
) -> None:
    data, info = sealed
    start, end = signature_slot(data)
    padding_zero = data.rindex(b"0", start, end - 1)
    for at, new in ((padding_zero, b"7"), (data.index(b"A", start, end), b"a")):
        tampered = data[:at] + new + data[at + 1 :]
        verdict = signing.verify_pdf(tampered, info.cert_pem)
        assert verdict.reason == "invalid: the seal's signature area was altered"


def test_appended_bytes_break_the_seal(sealed: tuple[bytes, signing.SealInfo]) -> None:
    data, info = sealed
    verdict = signing.verify_pdf(data + b"\n% a note added later\n", info.cert_pem)
    assert verdict.intact and not verdict.covers_entire_file and not verdict.valid
    assert verdict.reason == "invalid: bytes were added after the seal"


def test_another_key_is_a_different_certificate(
    sealed: tuple[bytes, signing.SealInfo], pdf_bytes: bytes
) -> None:
    _, info = sealed
    other = signing.generate_seal("Impostor Aesthetics", NOW)
    forged = signing.seal_pdf(pdf_bytes, other, reason="x")
    verdict = signing.verify_pdf(forged, info.cert_pem)
    assert verdict.intact and verdict.covers_entire_file
    assert not verdict.valid and verdict.signed_by_clinic is False
    assert verdict.reason.startswith("invalid: sealed by a different certificate (")
    assert "Impostor Aesthetics" in verdict.reason


def test_untrusted_certificate_logs_no_traceback(
    sealed: tuple[bytes, signing.SealInfo],
    pdf_bytes: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = signing.generate_seal("Impostor Aesthetics", NOW)
    forged = signing.seal_pdf(pdf_bytes, other, reason="x")
    with caplog.at_level(logging.DEBUG, logger="pyhanko"):
        signing.verify_pdf(forged, sealed[1].cert_pem)
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert noisy == []


def test_unsealed_and_garbage_input(
    pdf_bytes: bytes, sealed: tuple[bytes, signing.SealInfo]
) -> None:
    verdict = signing.verify_pdf(pdf_bytes, sealed[1].cert_pem)
    assert not verdict.valid and verdict.reason == "invalid: no clinic seal found in this PDF"
    for garbage in (b"", b"hello world", bytes(range(256)) * 10):
        with pytest.raises(SignatureError, match="unusable: this is not a PDF"):
            signing.verify_pdf(garbage, sealed[1].cert_pem)
    broken = b"%PDF-1.7\n" + b"\x00garbage" * 100
    assert not signing.verify_pdf(broken, None).valid
    truncated = sealed[0][: len(sealed[0]) // 2]
    assert not signing.verify_pdf(truncated, sealed[1].cert_pem).valid


def test_sealing_twice_and_sealing_garbage_are_refused(
    sealed: tuple[bytes, signing.SealInfo], material: SealMaterial
) -> None:
    with pytest.raises(SignatureError, match="already carries the clinic seal"):
        signing.seal_pdf(sealed[0], material, reason="again")
    with pytest.raises(SignatureError, match="not a readable PDF"):
        signing.seal_pdf(b"not a pdf", material, reason="x")


def test_works_inside_a_running_event_loop(
    pdf_bytes: bytes, material: SealMaterial, sealed: tuple[bytes, signing.SealInfo]
) -> None:
    async def in_loop() -> signing.Verdict:
        again = signing.seal_pdf(pdf_bytes, material, reason="from a loop")
        return signing.verify_pdf(again, sealed[1].cert_pem)

    assert asyncio.run(in_loop()).valid


@pytest.mark.skipif(not shutil.which("pdfsig"), reason="poppler's pdfsig is not installed")
def test_pdfsig_agrees(sealed: tuple[bytes, signing.SealInfo], tmp_path: Path) -> None:
    data, _ = sealed
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(data)
    tampered = bytearray(data)
    tampered[first_range_middle(data)] ^= 0x01
    bad.write_bytes(bytes(tampered))
    out = pdfsig(good)
    assert "Signature is Valid" in out and "Total document signed" in out
    out = pdfsig(bad)
    assert "Signature is Valid" not in out


@pytest.mark.skipif(not shutil.which("qpdf"), reason="qpdf is not installed")
def test_qpdf_finds_no_damage(sealed: tuple[bytes, signing.SealInfo], tmp_path: Path) -> None:
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed[0])
    result = subprocess.run(
        ["qpdf", "--check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


# -- room for the signature ---------------------------------------------------------------------


def cms_length(sealed_pdf: bytes) -> int:
    """Octets of the DER signature in a sealed PDF's /Contents slot (without the padding)."""
    start, end = signature_slot(sealed_pdf)
    raw = bytes.fromhex(sealed_pdf[start + 1 : end - 1].decode("ascii"))
    length = signing.seal._der_end(raw, 0, len(raw))
    assert length is not None
    return length


def test_the_signature_room_fits_the_key_and_chain_without_waste(pdf_bytes: bytes) -> None:
    chain = ca_chain()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seals = {
        "EC P-256, made here": signing.generate_seal("Northgate Skin Clinic", NOW),
        "RSA 2048, self-signed": signing.material_from_pkcs12(
            make_p12(rsa_key, "RSA Clinic", b"pw"), "pw", NOW
        ),
        "RSA 3072 + RSA 4096 CA + root": signing.material_from_pkcs12(chain.p12(b"pw"), "pw", NOW),
    }
    for what, material in seals.items():
        room = signing.signature_space(material)
        used = max(cms_length(signing.seal_pdf(pdf_bytes, material, reason=r)) for r in "abc")
        assert used * 2 <= room, what
        assert room - used * 2 <= 4096, what  # a bound, not a blanket
    # the CA chain needs more than the fixed room sealing used to reserve
    assert (
        cms_length(signing.seal_pdf(pdf_bytes, seals["RSA 3072 + RSA 4096 CA + root"], reason="x"))
        * 2
        > 8192
    )
    assert signing.signature_space(seals["EC P-256, made here"]) < 8192  # and EC seals shrink


@pytest.mark.skipif(not shutil.which("pdfsig"), reason="poppler's pdfsig is not installed")
def test_a_seal_with_a_ca_chain_seals_and_verifies(pdf_bytes: bytes, tmp_path: Path) -> None:
    chain = ca_chain()
    material = signing.material_from_pkcs12(chain.p12(b"pw"), "pw", NOW)
    certs = material.certificates()
    assert certs == [chain.leaf, chain.intermediate, chain.root]  # the seal first, then upwards
    info = signing.trial_seal(material)
    assert info.key_type == "RSA 3072" and "CA issued" in info.common_name
    sealed = signing.seal_pdf(pdf_bytes, material, reason="consent")
    verdict = signing.verify_pdf(sealed, [material.cert_pem])
    assert verdict.valid and verdict.signed_by_clinic, verdict.reason
    path = tmp_path / "chain.pdf"
    path.write_bytes(sealed)
    out = pdfsig(path)
    assert "Signature is Valid" in out and "Total document signed" in out, out
    assert "Northgate Skin Clinic Ltd (CA issued)" in out


# -- a seal from a PKCS#12 file ------------------------------------------------------------------


def test_a_pkcs12_gives_its_key_and_chain_and_the_password_stays_out(pdf_bytes: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    p12 = make_p12(key, "Northgate Skin Clinic Ltd (CA issued)", b"s3cret pass")
    material = signing.material_from_pkcs12(p12, "s3cret pass", NOW)
    info = signing.trial_seal(material)
    assert "Northgate Skin Clinic Ltd (CA issued)" in info.subject
    assert not info.name_only_self_signed  # imported: never renewed after a rename
    assert b"s3cret pass" not in material.key_pem + material.chain_pem
    sealed = signing.seal_pdf(pdf_bytes, material, reason="with the imported seal")
    assert signing.verify_pdf(sealed, info.cert_pem).valid


def test_an_rsa_pkcs12(pdf_bytes: bytes) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    material = signing.material_from_pkcs12(make_p12(key, "RSA Clinic", b"pw"), "pw", NOW)
    assert material.info().key_type == "RSA 2048"
    sealed = signing.seal_pdf(pdf_bytes, material, reason="rsa")
    assert signing.verify_pdf(sealed, material.cert_pem).valid


def test_pkcs12_refusals() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    p12 = make_p12(key, "Clinic", b"right")
    refusals: list[tuple[bytes, str, datetime, str]] = [
        (p12, "wrong", NOW, "password is wrong"),
        (b"not a p12 file", "x", NOW, "password is wrong"),
        (make_p12(key, "C", b"pw", with_key=False), "pw", NOW, "no private key"),
        (make_p12(ed25519.Ed25519PrivateKey.generate(), "C", b"pw"), "pw", NOW, "EC or RSA"),
        (p12, "right", NOW + timedelta(days=400), "expired"),
        (p12, "right", NOW - timedelta(days=3), "valid only from"),
        (p12_with_a_foreign_certificate(), "", NOW, "does not belong to its key"),
        (p12_of(key, self_signed(key, "C", usage=x509.KeyUsage(
            False, False, True, False, False, False, False, False, False)), b"pw"), "pw",
         NOW, "not meant for signing"),
    ]  # fmt: skip
    for data, password, when, message in refusals:
        with pytest.raises(SignatureError, match=message):
            signing.material_from_pkcs12(data, password, when)


def test_a_seal_that_cannot_seal_fails_its_trial() -> None:
    mine, other = (signing.generate_seal(n, NOW) for n in ("Northgate", "Impostor"))
    mismatched = SealMaterial(other.key_pem, mine.chain_pem)  # as if the files had crossed
    with pytest.raises(SignatureError, match="test seal with this certificate"):
        signing.trial_seal(mismatched)


# -- seals kept in a folder by versions before the seal moved into the database ----------------


def write_old_seal_folder(folder: Path, material: SealMaterial | None, **files: bytes) -> None:
    """The files an older version wrote: a private folder, the key and the certificate chain."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if material is not None:
        files = {signing.KEY_FILE: material.key_pem, signing.CERT_FILE: material.chain_pem} | files
    for name, data in files.items():
        (folder / name).write_bytes(data)
        (folder / name).chmod(0o600)


def test_reading_an_old_seal_folder(tmp_path: Path) -> None:
    assert signing.read_legacy_folder(tmp_path / "absent") is None
    (tmp_path / "empty").mkdir()
    assert signing.read_legacy_folder(tmp_path / "empty") is None

    old, current = (signing.generate_seal(n, NOW) for n in ("Old Name", "New Name"))
    replaced = {f"{signing.CERT_FILE}.replaced-20261225T133000Z": old.chain_pem,
                f"{signing.KEY_FILE}.replaced-20261225T133000Z": old.key_pem}  # fmt: skip
    write_old_seal_folder(tmp_path / "good", current, **replaced)
    found = signing.read_legacy_folder(tmp_path / "good")
    assert found is not None and found.problem is None and found.material == current
    assert found.certificates == [old.cert_pem, current.cert_pem]  # oldest first

    write_old_seal_folder(tmp_path / "crossed", None, **{
        signing.KEY_FILE: old.key_pem, signing.CERT_FILE: current.chain_pem})  # fmt: skip
    found = signing.read_legacy_folder(tmp_path / "crossed")
    assert found is not None and found.material is None
    assert found.problem is not None and "does not belong" in found.problem
    assert found.certificates == [current.cert_pem]

    write_old_seal_folder(tmp_path / "half", None, **{signing.KEY_FILE: old.key_pem})
    found = signing.read_legacy_folder(tmp_path / "half")
    assert found is not None and found.material is None and found.certificates == []
    assert found.problem == "the seal's certificate file is missing"


# -- threads -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_threads_seal_and_verify_at_once(pdf_bytes: bytes, material: SealMaterial) -> None:
    """Sealing runs in workers: two threads sealing and one verifying, round after round."""
    from asn1crypto import core

    chain = signing.material_from_pkcs12(ca_chain().p12(b"pw"), "pw", NOW)
    reference = signing.seal_pdf(pdf_bytes, material, reason="reference")
    trusted = [material.cert_pem, chain.cert_pem]
    pristine = (core.Sequence.dump, core.SequenceOf.dump)
    levels = [logging.getLogger(n).level for n in ("pyhanko", "pyhanko_certvalidator")]
    rounds = 25
    barrier = threading.Barrier(3)
    results: dict[str, list[bool]] = {"ec": [], "chain": [], "verify": []}
    errors: list[BaseException] = []

    def sealer(name: str, seal: SealMaterial) -> None:
        try:
            for i in range(rounds):
                barrier.wait()
                out = signing.seal_pdf(pdf_bytes, seal, reason=f"{name} {i}")
                results[name].append(signing.verify_pdf(out, trusted).valid)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    def verifier() -> None:
        try:
            for _ in range(rounds):
                barrier.wait()
                verdict = signing.verify_pdf(reference, trusted)
                untouched = (core.Sequence.dump, core.SequenceOf.dump) == pristine
                results["verify"].append(verdict.valid and untouched)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=sealer, args=("ec", material)),
        threading.Thread(target=sealer, args=("chain", chain)),
        threading.Thread(target=verifier),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert {k: (len(v), all(v)) for k, v in results.items()} == {
        "ec": (rounds, True), "chain": (rounds, True), "verify": (rounds, True)}  # fmt: skip
    assert [logging.getLogger(n).level for n in ("pyhanko", "pyhanko_certvalidator")] == levels
