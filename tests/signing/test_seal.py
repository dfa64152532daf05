"""The clinic seal: made once, private on disk, and a sealed sheet that betrays any change."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from desktop import signing
from desktop.consent import compose_consent
from desktop.errors import SignatureError
from desktop.pdf import render_pdf
from tests.consent.test_compose import PROFILE, minor_amber_case, template
from tests.pdf.test_render import FONTS

NOW = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    content = compose_consent(template("consent"), document_id="CONS-9", **minor_amber_case())
    return render_pdf(content, PROFILE, fonts=FONTS)


@pytest.fixture
def seal_dir(tmp_path: Path) -> Path:
    return tmp_path / "seal"


@pytest.fixture
def sealed(pdf_bytes: bytes, seal_dir: Path) -> tuple[bytes, signing.SealInfo]:
    info = signing.ensure_seal(seal_dir, "Northgate Skin Clinic", datetime.now(UTC))
    return signing.seal_pdf(pdf_bytes, seal_dir, reason="consent CONS-9"), info


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def first_range_middle(data: bytes) -> int:
    """An offset in the middle of the signed bytes before the signature itself."""
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)", data)
    assert m is not None
    return int(m.group(1)) + int(m.group(2)) // 2


# -- the seal on disk --------------------------------------------------------------------------


def test_first_use_makes_a_private_ec_seal_naming_the_clinic(seal_dir: Path) -> None:
    info = signing.ensure_seal(seal_dir, "Northgate Skin Clinic", NOW)
    key_file, cert_file = seal_dir / signing.KEY_FILE, seal_dir / signing.CERT_FILE
    assert mode(seal_dir) == 0o700
    assert mode(key_file) == 0o600 and mode(cert_file) == 0o600
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    names = {a.oid: a.value for a in cert.subject}
    assert names[NameOID.COMMON_NAME] == names[NameOID.ORGANIZATION_NAME] == "Northgate Skin Clinic"
    assert cert.issuer == cert.subject
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert info.key_type == "EC P-256"
    assert info.not_after - info.not_before >= timedelta(days=3650)
    assert info.not_before <= NOW
    assert "Northgate Skin Clinic" in info.subject
    assert info.fingerprint_sha256 == cert.fingerprint(hashes.SHA256()).hex()


def test_the_seal_is_made_once(seal_dir: Path) -> None:
    first = signing.ensure_seal(seal_dir, "Northgate Skin Clinic", NOW)
    again = signing.ensure_seal(seal_dir, "Renamed Clinic", NOW + timedelta(days=1))
    assert again == first
    assert signing.load_seal_info(seal_dir) == first
    assert signing.export_certificate_pem(seal_dir) == (seal_dir / signing.CERT_FILE).read_bytes()


def test_renewing_makes_a_new_seal_with_the_new_name_and_keeps_the_old(
    seal_dir: Path, pdf_bytes: bytes
) -> None:
    old = signing.ensure_seal(seal_dir, "Northgate Skin Clinic", NOW)
    sealed_before = signing.seal_pdf(pdf_bytes, seal_dir, reason="before the rename")
    new = signing.renew_seal(seal_dir, "Northgate Skin & Laser", NOW + timedelta(days=30))
    assert new.common_name == "Northgate Skin & Laser"
    assert old.common_name == "Northgate Skin Clinic"
    assert new.fingerprint_sha256 != old.fingerprint_sha256
    assert signing.load_seal_info(seal_dir) == new
    kept = sorted(p.name for p in seal_dir.iterdir() if ".replaced-" in p.name)
    assert kept == [
        f"{signing.CERT_FILE}.replaced-20261225T133000Z",
        f"{signing.KEY_FILE}.replaced-20261225T133000Z",
    ]
    sealed_after = signing.seal_pdf(pdf_bytes, seal_dir, reason="after the rename")
    both = [new.cert_pem, old.cert_pem]  # current first
    verdict = signing.verify_pdf(sealed_before, both)
    assert verdict.valid and "earlier seal" in verdict.reason
    assert verdict.signer == "Northgate Skin Clinic"
    verdict = signing.verify_pdf(sealed_after, both)
    assert verdict.valid and "earlier seal" not in verdict.reason
    assert not signing.verify_pdf(sealed_before, new.cert_pem).valid  # only the new one


def test_no_seal_yet(seal_dir: Path, pdf_bytes: bytes) -> None:
    assert signing.load_seal_info(seal_dir) is None
    with pytest.raises(SignatureError, match="no clinic seal yet"):
        signing.export_certificate_pem(seal_dir)
    with pytest.raises(SignatureError, match="no clinic seal yet"):
        signing.seal_pdf(pdf_bytes, seal_dir, reason="x")


def test_a_key_without_its_certificate_is_not_silently_replaced(seal_dir: Path) -> None:
    signing.ensure_seal(seal_dir, "Northgate Skin Clinic", NOW)
    (seal_dir / signing.CERT_FILE).unlink()
    key_before = (seal_dir / signing.KEY_FILE).read_bytes()
    with pytest.raises(SignatureError, match="without its partner"):
        signing.ensure_seal(seal_dir, "Northgate Skin Clinic", NOW)
    assert (seal_dir / signing.KEY_FILE).read_bytes() == key_before


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
    sealed: tuple[bytes, signing.SealInfo], pdf_bytes: bytes, tmp_path: Path
) -> None:
    _, info = sealed
    other_dir = tmp_path / "other"
    signing.ensure_seal(other_dir, "Impostor Aesthetics", NOW)
    forged = signing.seal_pdf(pdf_bytes, other_dir, reason="x")
    verdict = signing.verify_pdf(forged, info.cert_pem)
    assert verdict.intact and verdict.covers_entire_file
    assert not verdict.valid and verdict.signed_by_clinic is False
    assert verdict.reason.startswith("invalid: sealed by a different certificate (")
    assert "Impostor Aesthetics" in verdict.reason


def test_untrusted_certificate_logs_no_traceback(
    sealed: tuple[bytes, signing.SealInfo],
    pdf_bytes: bytes,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other_dir = tmp_path / "other"
    signing.ensure_seal(other_dir, "Impostor Aesthetics", NOW)
    forged = signing.seal_pdf(pdf_bytes, other_dir, reason="x")
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
    sealed: tuple[bytes, signing.SealInfo], seal_dir: Path
) -> None:
    with pytest.raises(SignatureError, match="already carries the clinic seal"):
        signing.seal_pdf(sealed[0], seal_dir, reason="again")
    with pytest.raises(SignatureError, match="not a readable PDF"):
        signing.seal_pdf(b"not a pdf", seal_dir, reason="x")


def test_works_inside_a_running_event_loop(
    pdf_bytes: bytes, seal_dir: Path, sealed: tuple[bytes, signing.SealInfo]
) -> None:
    async def in_loop() -> signing.Verdict:
        again = signing.seal_pdf(pdf_bytes, seal_dir, reason="from a loop")
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

    def pdfsig(path: Path) -> str:
        run = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
        return run.stdout

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


# -- importing a seal from a PKCS#12 file ------------------------------------------------------


SealKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def make_p12(key: SealKey, name: str, password: bytes | None, with_key: bool = True) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        name.encode(), key if with_key else None, cert, None, encryption
    )


def test_import_pkcs12_replaces_the_seal_and_keeps_the_old_one(
    seal_dir: Path, pdf_bytes: bytes
) -> None:
    old = signing.ensure_seal(seal_dir, "Northgate Skin Clinic", NOW)
    key = ec.generate_private_key(ec.SECP256R1())
    p12 = make_p12(key, "Northgate Skin Clinic Ltd (CA issued)", b"s3cret pass")
    info = signing.import_pkcs12(seal_dir, p12, "s3cret pass", now=NOW)
    assert info.fingerprint_sha256 != old.fingerprint_sha256
    assert "Northgate Skin Clinic Ltd (CA issued)" in info.subject
    assert signing.load_seal_info(seal_dir) == info
    assert mode(seal_dir / signing.KEY_FILE) == 0o600
    kept = sorted(p.name for p in seal_dir.iterdir() if ".replaced-" in p.name)
    assert kept == [
        f"{signing.CERT_FILE}.replaced-20261125T133000Z",
        f"{signing.KEY_FILE}.replaced-20261125T133000Z",
    ]
    assert all(mode(seal_dir / name) == 0o600 for name in kept)
    for path in seal_dir.iterdir():  # the password is never written down
        assert b"s3cret pass" not in path.read_bytes()
    sealed = signing.seal_pdf(pdf_bytes, seal_dir, reason="with the imported seal")
    assert signing.verify_pdf(sealed, info.cert_pem).valid
    assert not signing.verify_pdf(sealed, old.cert_pem).valid


def test_import_rsa_pkcs12(seal_dir: Path, pdf_bytes: bytes) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info = signing.import_pkcs12(seal_dir, make_p12(key, "RSA Clinic", b"pw"), "pw", now=NOW)
    assert info.key_type == "RSA 2048"
    sealed = signing.seal_pdf(pdf_bytes, seal_dir, reason="rsa")
    assert signing.verify_pdf(sealed, info.cert_pem).valid


def test_import_pkcs12_refusals(seal_dir: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    p12 = make_p12(key, "Clinic", b"right")
    with pytest.raises(SignatureError, match="password is wrong"):
        signing.import_pkcs12(seal_dir, p12, "wrong", now=NOW)
    with pytest.raises(SignatureError, match="password is wrong"):
        signing.import_pkcs12(seal_dir, b"not a p12 file", "x", now=NOW)
    with pytest.raises(SignatureError, match="no private key"):
        signing.import_pkcs12(seal_dir, make_p12(key, "C", b"pw", with_key=False), "pw", now=NOW)
    edkey = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(SignatureError, match="EC or RSA"):
        signing.import_pkcs12(seal_dir, make_p12(edkey, "C", b"pw"), "pw", now=NOW)
    with pytest.raises(SignatureError, match="expired"):
        signing.import_pkcs12(seal_dir, p12, "right", now=NOW + timedelta(days=400))
    assert signing.load_seal_info(seal_dir) is None  # nothing was written


# -- asn1crypto's misread of definite lengths ending in 0x80 ------------------------------------


@pytest.mark.parametrize(
    ("header", "definite"),
    [
        (b"\x30\x05", True),
        (b"\x30\x82\x02\x80", True),  # 640 bytes: definite, though the last octet is 0x80
        (b"\x30\x81\x80", True),  # 128 bytes
        (b"\x30\x80", False),  # BER indefinite length
        (b"\xa0\x82\x01\x80\x30\x82\x01\x7c", True),  # explicit tag around a sequence
        (b"\xa0\x82\x01\x80\x30\x80", False),  # ... whose inner length is indefinite
        (b"\x9f\x81\x02\x81\x80", True),  # high tag number
        (b"\x30\x82\x02", False),  # cut short
        (b"", False),
    ],
)
def test_definite_length_headers(header: bytes, definite: bool) -> None:
    assert signing.seal.definite_length_header(header) is definite


def test_sealing_keeps_asn1_encodings_exact_and_restores_asn1crypto() -> None:
    from asn1crypto import core

    class Pair(core.Sequence):  # type: ignore[misc]
        _fields = [("a", core.OctetString), ("b", core.Integer)]  # noqa: RUF012 (asn1crypto API)

    original = (core.Sequence.dump, core.SequenceOf.dump)
    long = Pair({"a": b"x" * 633, "b": 5})  # contents of 0x0280 bytes
    expected = long.dump()
    assert expected[:4] == b"\x30\x82\x02\x80"
    ber = b"\x30\x80\x04\x01\x61\x02\x01\x05\x00\x00"  # indefinite length: must become DER
    reencoded: list[bool] = []
    set_contents = Pair._set_contents

    def counting(self: Pair, force: bool = False) -> None:
        reencoded.append(force)
        set_contents(self, force)

    Pair._set_contents = counting  # type: ignore[method-assign]
    assert Pair.load(expected).dump() == expected
    assert reencoded == [True]  # asn1crypto alone misreads 0x0280 and re-encodes the tree
    reencoded.clear()
    with signing.seal._definite_lengths_trusted():
        assert Pair.load(expected).dump() == expected
        assert reencoded == []  # the same bytes, nothing re-encoded
        reloaded = Pair.load(expected)
        reloaded["b"] = 6
        assert reloaded.dump() == expected[:-1] + b"\x06"
        assert Pair.load(ber).dump() == b"\x30\x06\x04\x01\x61\x02\x01\x05"
    assert (core.Sequence.dump, core.SequenceOf.dump) == original
