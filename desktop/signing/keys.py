"""The clinic seal's key and certificate: made, imported, renewed, read (cryptography only)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.errors import SignatureError

if TYPE_CHECKING:
    from cryptography import x509

log = logging.getLogger(__name__)

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


# -- files ------------------------------------------------------------------------------------


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically, readable by the owner only (0600) from the first byte."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _prepare_dir(seal_dir: Path) -> None:
    try:
        seal_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(seal_dir, 0o700)
    except OSError as exc:
        raise SignatureError(f"The seal folder {seal_dir} cannot be created: {exc}") from exc


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _info(cert: x509.Certificate) -> SealInfo:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key_type = {"secp256r1": "EC P-256", "secp384r1": "EC P-384"}.get(
            key.curve.name, f"EC {key.curve.name}"
        )
    elif isinstance(key, rsa.RSAPublicKey):
        key_type = f"RSA {key.key_size}"
    else:
        key_type = type(key).__name__
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
        key_type=key_type,
        name_only_self_signed=name_only,
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
    )


def load_certs(data: bytes, what: str) -> list[x509.Certificate]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        try:
            certs = [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise SignatureError(f"{what} is not a readable certificate.") from None
    return certs


def load_seal_info(seal_dir: Path) -> SealInfo | None:
    """The seal's certificate details, or None when this folder holds no seal yet."""
    path = seal_dir / CERT_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SignatureError(f"The clinic seal certificate cannot be read: {exc}") from exc
    return _info(load_certs(data, f"The seal certificate {path}")[0])


def export_certificate_pem(seal_dir: Path) -> bytes:
    """The public certificate (PEM) to give to whoever checks the clinic's documents."""
    info = load_seal_info(seal_dir)
    if info is None:
        raise SignatureError(
            "There is no clinic seal yet; it is made when the first sheet is sealed."
        )
    return info.cert_pem


def ensure_seal(seal_dir: Path, clinic_name: str, now: datetime) -> SealInfo:
    """Return the clinic's seal, first making an EC P-256 key and self-signed certificate."""
    key_path, cert_path = seal_dir / KEY_FILE, seal_dir / CERT_FILE
    if key_path.exists() and cert_path.exists():
        info = load_seal_info(seal_dir)
        assert info is not None
        return info
    if key_path.exists() or cert_path.exists():
        raise SignatureError(
            f"The seal folder {seal_dir} holds a key or a certificate without its partner; "
            "restore the missing file from a backup, or import the seal again."
        )
    return _generate(seal_dir, clinic_name, now)


def renew_seal(seal_dir: Path, clinic_name: str, now: datetime) -> SealInfo:
    """Make a new key and self-signed certificate naming `clinic_name` (e.g. after a rename).

    The previous key and certificate are kept beside the new ones with a timestamped suffix;
    documents they sealed stay verifiable against the certificate the database remembers.
    """
    _set_aside(seal_dir, _utc(now))
    return _generate(seal_dir, clinic_name, now)


def _set_aside(seal_dir: Path, moment: datetime) -> None:
    """Rename the current seal files to `<name>.replaced-<UTC time>` (never overwriting)."""
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    for name in (KEY_FILE, CERT_FILE):
        old = seal_dir / name
        if old.exists():
            target = seal_dir / f"{name}.replaced-{stamp}"
            n = 1
            while target.exists():
                n += 1
                target = seal_dir / f"{name}.replaced-{stamp}-{n}"
            os.replace(old, target)


def _generate(seal_dir: Path, clinic_name: str, now: datetime) -> SealInfo:
    key_path, cert_path = seal_dir / KEY_FILE, seal_dir / CERT_FILE
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    _prepare_dir(seal_dir)
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
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(key_path, key_pem)
    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    log.info("clinic seal created for %r in %s", name_text, seal_dir)
    return _info(cert)


def import_pkcs12(
    seal_dir: Path, p12_bytes: bytes, password: str, *, now: datetime | None = None
) -> SealInfo:
    """Replace the seal with a key and certificate from a .p12/.pfx file (EC or RSA).

    The password only opens the file; it is never stored. The previous seal files are kept
    beside the new ones with a timestamped suffix.
    """
    from cryptography.hazmat.primitives import serialization
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
    if cert is None:
        raise SignatureError("The seal file holds no certificate for its key.")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SignatureError("The seal key must be an EC or RSA key; this one is another kind.")
    pub = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*pub) != cert.public_key().public_bytes(*pub):
        raise SignatureError("The certificate in the seal file does not belong to its key.")
    _check_usage(cert)
    moment = _utc(now or datetime.now(UTC))
    if cert.not_valid_after_utc < moment:
        raise SignatureError(
            f"The seal certificate expired on {cert.not_valid_after_utc:%d %b %Y}; "
            "ask for a renewed one."
        )
    _prepare_dir(seal_dir)
    _set_aside(seal_dir, moment)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in extra or ())
    _write_private(seal_dir / KEY_FILE, key_pem)
    _write_private(seal_dir / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM) + chain)
    info = _info(cert)
    log.info("clinic seal imported: %s (%s)", info.subject, info.fingerprint_sha256[:16])
    return info


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
