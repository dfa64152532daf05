"""The clinic seal's key and certificate chain in memory: made, imported, read (cryptography)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.errors import SignatureError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

log = logging.getLogger(__name__)

# The files in which versions before the seal moved into the database kept it, in a folder
# named "seal" beside the database (read once, when the seal moves in; never written).
KEY_FILE = "clinic-seal-key.pem"
CERT_FILE = "clinic-seal-cert.pem"
VALIDITY = timedelta(days=3652)  # ten years


@dataclass(frozen=True)
class SealInfo:
    """The clinic's sealing certificate as a person would want to check it."""

    subject: str
    common_name: str
    fingerprint_sha256: str  # lower-case hex of the DER certificate
    not_before: datetime
    not_after: datetime
    key_type: str  # e.g. "EC P-256", "RSA 3072"
    # self-signed and naming only the clinic (CN = O): the shape of a seal made here
    name_only_self_signed: bool
    cert_pem: bytes = field(repr=False)


@dataclass(frozen=True)
class SealMaterial:
    """A seal held in memory, ready to seal with: the private key (PKCS#8 PEM, unencrypted)
    and the certificate chain (PEM: the seal's own certificate first, then its issuers).

    Built by `generate_seal`, `material_from_pkcs12` or `check_material`, which guarantee
    that the key and the first certificate belong together.
    """

    key_pem: bytes = field(repr=False)
    chain_pem: bytes

    def certificates(self) -> list[x509.Certificate]:
        return load_certs(self.chain_pem, "The clinic seal certificate")

    @property
    def cert_pem(self) -> bytes:
        """The seal's own certificate (PEM), without its issuers."""
        from cryptography.hazmat.primitives import serialization

        return self.certificates()[0].public_bytes(serialization.Encoding.PEM)

    def info(self) -> SealInfo:
        return _info(self.certificates()[0])


@dataclass(frozen=True)
class LegacySeal:
    """What an old seal folder held: a usable seal (or None, with `problem` saying why) and
    every certificate found there (PEM, oldest first, the current one last)."""

    material: SealMaterial | None
    certificates: list[bytes]
    problem: str | None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _key_type(key: object) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return {"secp256r1": "EC P-256", "secp384r1": "EC P-384"}.get(
            key.curve.name, f"EC {key.curve.name}"
        )
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"RSA {key.key_size}"
    return type(key).__name__


def _info(cert: x509.Certificate) -> SealInfo:
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    der = cert.public_bytes(serialization.Encoding.DER)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    name_only = (
        cert.issuer == cert.subject
        and len(cert.subject) == 2
        and len(names) == len(orgs) == 1
        and names[0].value == orgs[0].value
    )
    return SealInfo(
        subject=cert.subject.rfc4514_string(),
        common_name=str(names[0].value) if names else "",
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=_key_type(cert.public_key()),
        name_only_self_signed=name_only,
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
    )


def load_certs(data: bytes, what: str) -> list[x509.Certificate]:
    """Every certificate in PEM `data` (or the one DER certificate); `what` names it in errors."""
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        try:
            certs = [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise SignatureError(f"{what} is not a readable certificate.") from None
    return certs


def certificate_info(pem: bytes) -> SealInfo:
    """The details of the first certificate in `pem`. Raises SignatureError if unreadable."""
    return _info(load_certs(pem, "The seal certificate")[0])


def _pem_of(key: PrivateKeyTypes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _chain_pem(certs: list[x509.Certificate]) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _belongs(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    from cryptography.hazmat.primitives import serialization

    pub = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(key.public_key().public_bytes(*pub) == cert.public_key().public_bytes(*pub))


def check_material(key_pem: bytes, chain_pem: bytes) -> SealMaterial:
    """A seal from stored PEM, once the key reads and belongs to the first certificate.

    Raises SignatureError saying what is wrong (damaged key, unreadable or foreign certificate).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise SignatureError("The clinic seal key is damaged or protected.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SignatureError("The seal key must be an EC or RSA key; this one is another kind.")
    certs = load_certs(chain_pem, "The clinic seal certificate")
    if not _belongs(key, certs[0]):
        raise SignatureError("The clinic seal certificate does not belong to its key.")
    return SealMaterial(_pem_of(key), _chain_pem(certs))


def generate_seal(clinic_name: str, now: datetime) -> SealMaterial:
    """A new EC P-256 key and a ten-year self-signed certificate naming the clinic (CN = O)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    name_text = " ".join(clinic_name.split())[:64] or "Clinic"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name_text),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name_text),
        ]
    )
    key = ec.generate_private_key(ec.SECP256R1())
    start = _utc(now) - timedelta(minutes=5)  # tolerate a clock a little behind
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SealMaterial(_pem_of(key), _chain_pem([cert]))


def material_from_pkcs12(p12_bytes: bytes, password: str, now: datetime) -> SealMaterial:
    """The key and certificate chain of a .p12/.pfx file (EC or RSA), checked for use now.

    The password only opens the file; it is kept nowhere. Raises SignatureError for a wrong
    password or another kind of file, a missing key or certificate, a key of another kind, a
    certificate not belonging to the key, not meant for signing, expired or not yet valid.
    """
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            p12_bytes, password.encode("utf-8") if password else None
        )
    except (ValueError, TypeError):
        raise SignatureError(
            "The seal file could not be opened: the password is wrong, or it is not a "
            "PKCS#12 (.p12 or .pfx) file."
        ) from None
    if key is None:
        raise SignatureError("The seal file holds no private key; export it with its key.")
    if cert is None and extra:
        raise SignatureError(
            "The certificate in the seal file does not belong to its key; export the seal "
            "again with its own certificate."
        )
    if cert is None:
        raise SignatureError("The seal file holds no certificate for its key.")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SignatureError("The seal key must be an EC or RSA key; this one is another kind.")
    if not _belongs(key, cert):
        raise SignatureError("The certificate in the seal file does not belong to its key.")
    _check_usage(cert)
    moment = _utc(now)
    if cert.not_valid_after_utc < moment:
        raise SignatureError(
            f"The seal certificate expired on {cert.not_valid_after_utc:%d %b %Y}; "
            "ask for a renewed one."
        )
    if cert.not_valid_before_utc > moment:
        raise SignatureError(
            f"The seal certificate is valid only from {cert.not_valid_before_utc:%d %b %Y}; "
            "import it then, or check this computer's clock."
        )
    return SealMaterial(_pem_of(key), _chain_pem([cert, *_issuers_in_order(cert, extra or [])]))


def _issuers_in_order(
    leaf: x509.Certificate, others: list[x509.Certificate]
) -> list[x509.Certificate]:
    """The other certificates, each issuer after the one it issued; unrelated ones last."""
    pending = [c for c in others if c != leaf]
    ordered: list[x509.Certificate] = []
    current = leaf
    while True:
        issuer = next((c for c in pending if c.subject == current.issuer), None)
        if issuer is None or current.issuer == current.subject:
            break
        ordered.append(issuer)
        pending.remove(issuer)
        current = issuer
    return ordered + pending


def _check_usage(cert: x509.Certificate) -> None:
    from cryptography import x509

    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise SignatureError(
            "The certificate is not meant for signing (no digitalSignature or nonRepudiation)."
        )


# -- room for the signature ---------------------------------------------------------------------

# What a PAdES CMS signature holds besides its certificates, the signer's issuer and serial
# number (written twice: the signer identifier and the signing-certificate attribute) and the
# signature value: algorithm identifiers, content type, message digest, version numbers and
# the DER headers around them, some 450 bytes with SHA-256; kept at more than twice that.
_CMS_OVERHEAD = 1024


def signature_space(material: SealMaterial) -> int:
    """Hex digits to reserve in a PDF for this seal's signature (the /Contents slot).

    An upper bound computed from the seal's key (the largest signature it can make) and the
    DER sizes of its certificate chain, all of which the signature embeds.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    certs = material.certificates()
    ders = [c.public_bytes(serialization.Encoding.DER) for c in certs]
    key = certs[0].public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        octets = (key.curve.key_size + 7) // 8
        signature = 2 * (octets + 1) + 8  # SEQUENCE of two INTEGERs, each perhaps 0-padded
    elif isinstance(key, rsa.RSAPublicKey):
        signature = (key.key_size + 7) // 8
    else:  # a key of another kind never becomes a seal; be generous all the same
        signature = 1024
    issuer_serial = len(certs[0].issuer.public_bytes()) + 32  # serial: 20 octets at most
    der = sum(len(d) for d in ders) + 2 * issuer_serial + signature + 16 + _CMS_OVERHEAD
    return -(-2 * der // 512) * 512  # two hex digits an octet, rounded up


# -- the folder of versions before the seal moved into the database ----------------------------


def read_legacy_folder(folder: Path) -> LegacySeal | None:
    """What an old seal folder holds, or None when there is none (or it holds no seal files).

    Certificates set aside there by renewals and imports (`<cert file>.replaced-<time>`) are
    returned too. A key without its certificate, a certificate without its key, or a pair that
    does not belong together gives no usable seal (`problem` says which) but keeps the
    certificates. Raises SignatureError when the folder or a file in it cannot be read.
    """
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    try:
        if not folder.is_dir():
            return None
        replaced = sorted(p for p in folder.glob(f"{CERT_FILE}.replaced-*") if p.is_file())
        key_pem = key_path.read_bytes() if key_path.is_file() else None
        cert_pem = cert_path.read_bytes() if cert_path.is_file() else None
        older = [p.read_bytes() for p in replaced]
    except OSError as exc:
        raise SignatureError(
            f"The clinic seal folder {folder} cannot be read ({exc.strerror or exc}); give this "
            "user access to it and try again. Nothing was changed."
        ) from exc
    if key_pem is None and cert_pem is None and not older:
        return None
    certificates: list[bytes] = []
    for pem in [*older, *([cert_pem] if cert_pem is not None else [])]:
        try:
            certificates.append(certificate_info(pem).cert_pem)
        except SignatureError:
            log.warning("an unreadable certificate in the old seal folder %s was skipped", folder)
    if key_pem is None or cert_pem is None:
        missing = "certificate" if cert_pem is None else "key"
        return LegacySeal(None, certificates, f"the seal's {missing} file is missing")
    try:
        material = check_material(key_pem, cert_pem)
    except SignatureError as exc:
        return LegacySeal(None, certificates, str(exc))
    return LegacySeal(material, certificates, None)
