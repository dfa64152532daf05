"""The clinic seal: key and certificate, PAdES sealing and checking (pyHanko, imported lazily)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from desktop.errors import SignatureError

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "CERT_FILE",
    "FIELD_NAME",
    "KEY_FILE",
    "SealInfo",
    "Verdict",
    "ensure_seal",
    "export_certificate_pem",
    "import_pkcs12",
    "load_seal_info",
    "seal_pdf",
    "verify_pdf",
]

log = logging.getLogger(__name__)

KEY_FILE = "clinic-seal-key.pem"
CERT_FILE = "clinic-seal-cert.pem"
FIELD_NAME = "ClinicSeal"
VALIDITY = timedelta(days=3652)  # ten years
_QUIET_LOGGERS = ("pyhanko", "pyhanko_certvalidator")
T = TypeVar("T")


@dataclass(frozen=True)
class SealInfo:
    """The clinic's sealing certificate as a person would want to check it."""

    subject: str
    fingerprint_sha256: str  # lower-case hex of the DER certificate
    not_before: datetime
    not_after: datetime
    key_type: str  # e.g. "EC P-256", "RSA 3072"
    cert_pem: bytes = field(repr=False)


@dataclass(frozen=True)
class Verdict:
    """What checking a sealed PDF found; `reason` says it in plain English.

    `valid` needs the seal intact, covering the entire file, and (when a clinic certificate
    was given) made by that certificate. Without a certificate `signed_by_clinic` is None
    and `valid` speaks for integrity only: the reason says the signer was not checked.
    """

    valid: bool
    intact: bool
    covers_entire_file: bool
    signed_by_clinic: bool | None
    signer: str
    signed_at: datetime | None
    reason: str


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
    return SealInfo(
        subject=cert.subject.rfc4514_string(),
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
    )


def _load_certs(data: bytes, what: str) -> list[x509.Certificate]:
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
    return _info(_load_certs(data, f"The seal certificate {path}")[0])


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


# -- pyHanko plumbing -------------------------------------------------------------------------


def _run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run pyHanko's async API: directly, or on a worker thread if an event loop is running."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


@contextlib.contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs tracebacks for untrusted certificates; our verdict says it plainly."""
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _load_seal(seal_dir: Path) -> tuple[Any, list[Any]]:
    """The private key and certificates as pyHanko's asn1crypto objects."""
    from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped, unused-ignore]
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
    from cryptography.hazmat.primitives import serialization

    try:
        key_pem = (seal_dir / KEY_FILE).read_bytes()
        cert_pem = (seal_dir / CERT_FILE).read_bytes()
    except FileNotFoundError:
        raise SignatureError("There is no clinic seal yet: create or import one first.") from None
    except OSError as exc:
        raise SignatureError(f"The clinic seal cannot be read: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        key_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    except (ValueError, TypeError):
        raise SignatureError("The clinic seal key file is damaged or protected.") from None
    certs = _load_certs(cert_pem, "The clinic seal certificate")
    der = [c.public_bytes(serialization.Encoding.DER) for c in certs]
    return asn1_keys.PrivateKeyInfo.load(key_der), [asn1_x509.Certificate.load(d) for d in der]


# Room for the CMS signature in the file; an EC P-256 seal with its certificate needs ~1.5 KB.
# Reserving it up front spares pyHanko a trial signature to measure the size.
SIGNATURE_BYTES = 8192


def seal_pdf(pdf_bytes: bytes, seal_dir: Path, *, reason: str) -> bytes:
    """Add an invisible PAdES B-B signature by the clinic seal (an incremental update)."""
    return seal_pdfs([(pdf_bytes, reason)], seal_dir)[0]


def seal_pdfs(documents: Sequence[tuple[bytes, str]], seal_dir: Path) -> list[bytes]:
    """Seal several PDFs (bytes, reason) with one load of the key and one event loop."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key, certs = _load_seal(seal_dir)
    signer = signers.SimpleSigner(
        signing_cert=certs[0],
        signing_key=key,
        # the chain only: the signing certificate is embedded anyway, and a second copy would
        # be a redundant, unsigned blob inside the seal
        cert_registry=SimpleCertificateStore.from_certs(certs[1:]),  # type: ignore[no-untyped-call]
    )
    jobs = []
    for pdf_bytes, reason in documents:
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            reason=reason,
            name=certs[0].subject.native.get("common_name"),
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
        )
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
        except Exception as exc:
            msg = f"The document cannot be sealed: it is not a readable PDF ({exc})."
            raise SignatureError(msg) from exc
        if any(sig.field_name == FIELD_NAME for sig in writer.prev.embedded_signatures):
            raise SignatureError("This document already carries the clinic seal.")
        jobs.append((writer, meta))
    spec = fields.SigFieldSpec(sig_field_name=FIELD_NAME)  # no box: an invisible signature

    async def sign() -> list[bytes]:
        sealed = []
        for writer, meta in jobs:
            out: io.BytesIO = await signers.async_sign_pdf(
                writer, meta, signer=signer, new_field_spec=spec, bytes_reserved=SIGNATURE_BYTES
            )
            sealed.append(out.getvalue())
        return sealed

    try:
        with _quiet_pyhanko():
            return _run(sign)
    except SignatureError:
        raise
    except Exception as exc:  # pyHanko's errors: already sealed, damaged file, ...
        log.debug("sealing failed", exc_info=True)
        raise SignatureError(f"The document could not be sealed: {exc}") from exc


def verify_pdf(pdf_bytes: bytes, trusted_cert_pem: bytes | None) -> Verdict:
    """Check the clinic seal of a PDF. Never raises for a damaged PDF: the verdict says so.

    Raises SignatureError only when the input is not a PDF at all ("unusable") or the given
    clinic certificate cannot be read; a command line maps that to exit status 2.
    """
    head = pdf_bytes[:1024]
    if b"%PDF-" not in head:
        raise SignatureError("unusable: this is not a PDF file")
    trusted = (
        _load_certs(trusted_cert_pem, "The clinic certificate")[0] if trusted_cert_pem else None
    )
    try:
        with _quiet_pyhanko():
            return _verify(pdf_bytes, trusted)
    except Exception as exc:  # a file damaged so badly pyHanko cannot even parse it
        log.debug("verification failed", exc_info=True)
        return _invalid(f"invalid: the file is damaged or was changed after sealing ({exc})")


def _invalid(reason: str, **kw: Any) -> Verdict:
    values: dict[str, Any] = {
        "valid": False,
        "intact": False,
        "covers_entire_file": False,
        "signed_by_clinic": None,
        "signer": "",
        "signed_at": None,
        "reason": reason,
    }
    values.update(kw)
    return Verdict(**values)


_HEX = frozenset(b"0123456789abcdefABCDEF")
_UPPER, _LOWER = frozenset(b"ABCDEF"), frozenset(b"abcdef")


def _contents_untouched(pdf_bytes: bytes, byte_range: Any) -> bool:
    """The /Contents slot holds exactly one DER signature in hex, then only zero padding.

    That slot is the one part of the file the signature cannot cover; pyHanko ignores
    trailing padding and hex letter case, so without this check such edits would pass.
    """
    try:
        start, length, after = int(byte_range[0]), int(byte_range[1]), int(byte_range[2])
    except (TypeError, ValueError, IndexError):
        return False
    slot = pdf_bytes[start + length : after]
    digits = set(slot[1:-1])
    if len(slot) < 4 or slot[:1] != b"<" or slot[-1:] != b">" or not digits <= _HEX:
        return False
    if digits & _UPPER and digits & _LOWER:  # a signer writes one case; a mix means an edit
        return False
    raw = bytes.fromhex(slot[1:-1].decode("ascii"))
    end = _der_end(raw, 0, len(raw))
    return end is not None and not any(raw[end:])


def _der_end(raw: bytes, at: int, limit: int) -> int | None:
    """End of the DER element at `at`, if it and everything inside it is strictly encoded:
    minimal lengths, and the parts of each constructed element fill it exactly."""
    if at + 2 > limit or raw[at] == 0:  # tag 0 is end-of-contents: never in DER
        return None
    tag, pos = raw[at], at + 1
    if tag & 0x1F == 0x1F:  # a multi-byte tag number
        while pos < limit and raw[pos] & 0x80:
            pos += 1
        pos += 1
    if pos >= limit:
        return None
    first = raw[pos]
    pos += 1
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > limit or raw[pos] == 0:
            return None  # indefinite, oversized or padded length
        length = int.from_bytes(raw[pos : pos + n], "big")
        pos += n
        if length < 0x80:
            return None  # a short length written in long form
    end = pos + length
    if end > limit:
        return None
    if tag & 0x20:  # constructed: its parts must tile it
        while pos < end:
            nxt = _der_end(raw, pos, end)
            if nxt is None:
                return None
            pos = nxt
    return end


def _cms_strict(sig: Any) -> bool:
    """The unsigned parts of the CMS container agree with the signed parts (RFC 5652).

    The certificate, the signed attributes and the signature are checked by pyHanko; the
    rest (versions, the digest algorithm list, the signer's identifier) is not covered by
    any signature, so an edit there would otherwise go unnoticed.
    """
    from asn1crypto import cms  # type: ignore[import-untyped, unused-ignore]

    raw = bytes(sig.pkcs7_content)
    try:
        info = cms.ContentInfo.load(raw)
        sd, si, cert = sig.signed_data, sig.signer_info, sig.signer_cert
        sid = si["sid"]
        if len(sd["signer_infos"]) != 1 or info["content_type"].native != "signed_data":
            return False
        if [a.dump() for a in sd["digest_algorithms"]] != [si["digest_algorithm"].dump()]:
            return False
        if sid.name == "issuer_and_serial_number":
            v = "v1"
            ok_sid = (
                sid.chosen["issuer"].dump() == cert.issuer.dump()
                and sid.chosen["serial_number"].native == cert.serial_number
            )
        else:
            v = "v3"
            ok_sid = sid.chosen.native == cert.key_identifier
        return bool(ok_sid and si["version"].native == v and sd["version"].native == v)
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def _verify(pdf_bytes: bytes, trusted: x509.Certificate | None) -> Verdict:
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
    sigs = list(reader.embedded_regular_signatures)
    if not sigs:
        return _invalid("invalid: no clinic seal found in this PDF")
    sig = next((s for s in sigs if s.field_name == FIELD_NAME), sigs[0])
    roots = []
    if trusted is not None:
        roots = [asn1_x509.Certificate.load(trusted.public_bytes(serialization.Encoding.DER))]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})

    async def validate() -> Any:
        return await async_validate_pdf_signature(
            sig, signer_validation_context=context, key_usage_settings=usage
        )

    try:
        status = _run(validate)
    except SignatureValidationError as exc:
        return _invalid(f"invalid: the seal is damaged ({exc})")
    cert = status.signing_cert
    signer = cert.subject.native.get("common_name") or cert.subject.human_friendly
    signed_at = status.signer_reported_dt
    when = f" on {signed_at.astimezone(UTC):%d %b %Y %H:%M} UTC" if signed_at else ""
    common = {"signer": signer, "signed_at": signed_at}
    intact = bool(status.intact and status.valid)
    entire = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not intact:
        return _invalid("invalid: the document was changed after sealing", **common)
    if not (_contents_untouched(pdf_bytes, sig.sig_object.get("/ByteRange")) and _cms_strict(sig)):
        # the signature's own slot lies outside the signed bytes: it must be exactly as made
        return _invalid("invalid: the seal's signature area was altered", **common)
    if not entire:
        later = reader.xrefs.total_revisions - 1 > sig.signed_revision
        what = "a later revision was added to the file" if later else "bytes were added"
        return _invalid(f"invalid: {what} after the seal", intact=True, **common)
    if trusted is None:
        return Verdict(
            True, True, True, None, signer, signed_at,
            f"valid: sealed by {signer}{when}, the file is unaltered "
            "(the clinic certificate was not available to check who sealed it)",
        )  # fmt: skip
    if cert.dump() != trusted.public_bytes(serialization.Encoding.DER):
        subject = cert.subject.human_friendly
        return _invalid(
            f"invalid: sealed by a different certificate ({subject})",
            intact=True,
            covers_entire_file=True,
            signed_by_clinic=False,
            **common,
        )
    note = "" if status.trusted else " (note: the seal certificate is not valid today)"
    return Verdict(
        True, True, True, True, signer, signed_at,
        f"valid: sealed by {signer}{when}, the file is unaltered{note}",
    )  # fmt: skip
