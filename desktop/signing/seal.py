"""PAdES sealing and checking with the clinic seal (pyHanko, imported lazily)."""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from desktop.errors import SignatureError
from desktop.signing.keys import SealInfo, SealMaterial, load_certs, signature_space

if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["FIELD_NAME", "Verdict", "seal_pdf", "seal_pdfs", "trial_seal", "verify_pdf"]

log = logging.getLogger(__name__)

FIELD_NAME = "ClinicSeal"
_QUIET_LOGGERS = ("pyhanko", "pyhanko_certvalidator")
T = TypeVar("T")


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


class _QuietPyhanko:
    """pyHanko logs tracebacks for untrusted certificates; our verdict says it plainly.

    Threads may seal and verify at once: the loggers stay quiet while any of them is inside,
    and get their levels back when the last one leaves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._saved: list[int] = []

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
        with self._lock:
            if self._inside == 0:
                self._saved = [lg.level for lg in loggers]
                for lg in loggers:
                    lg.setLevel(logging.CRITICAL + 1)
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._inside == 0:
                    for lg, level in zip(loggers, self._saved, strict=True):
                        lg.setLevel(level)


_quiet_pyhanko = _QuietPyhanko()


def _signer_parts(material: SealMaterial) -> tuple[Any, list[Any]]:
    """The private key and certificates as pyHanko's asn1crypto objects."""
    from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped, unused-ignore]
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(material.key_pem, password=None)
        key_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    except (ValueError, TypeError):
        raise SignatureError("The clinic seal key is damaged or protected.") from None
    der = [c.public_bytes(serialization.Encoding.DER) for c in material.certificates()]
    return asn1_keys.PrivateKeyInfo.load(key_der), [asn1_x509.Certificate.load(d) for d in der]


def seal_pdf(pdf_bytes: bytes, material: SealMaterial, *, reason: str) -> bytes:
    """Add an invisible PAdES B-B signature by the clinic seal (an incremental update)."""
    return seal_pdfs([(pdf_bytes, reason)], material)[0]


def seal_pdfs(documents: Sequence[tuple[bytes, str]], material: SealMaterial) -> list[bytes]:
    """Seal several PDFs (bytes, reason) with one load of the key and one event loop.

    Safe to call from several threads at once. Raises SignatureError when a document is not a
    readable PDF, already carries the clinic seal, or cannot be sealed with this material.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key, certs = _signer_parts(material)
    room = signature_space(material)  # reserved up front: spares pyHanko a trial signature
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
                writer, meta, signer=signer, new_field_spec=spec, bytes_reserved=room
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


def _tiny_pdf() -> bytes:
    """A one-page blank PDF, written out by hand (reportlab lives in desktop.pdf)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def trial_seal(material: SealMaterial) -> SealInfo:
    """Seal a blank page with `material` and verify it, before the clinic relies on it.

    Returns the seal's details. Raises SignatureError, saying what failed, when the material
    cannot seal or its seal does not verify as made by its own certificate.
    """
    info = material.info()
    try:
        sealed = seal_pdf(_tiny_pdf(), material, reason="test seal")
    except SignatureError as exc:
        raise SignatureError(f"A test seal with this certificate failed: {exc}") from exc
    verdict = verify_pdf(sealed, [info.cert_pem])
    if not (verdict.valid and verdict.signed_by_clinic):
        raise SignatureError(
            f"A test seal with this certificate does not verify ({verdict.reason}); "
            "ask the issuer for a certificate meant for signing documents."
        )
    return info


def verify_pdf(pdf_bytes: bytes, trusted_cert_pem: bytes | Sequence[bytes] | None) -> Verdict:
    """Check the clinic seal of a PDF. Never raises for a damaged PDF: the verdict says so.

    `trusted_cert_pem` is the clinic's certificate, or every certificate the clinic has sealed
    with, the current one first (a seal renewed or imported later leaves older documents
    valid). Raises SignatureError only when the input is not a PDF at all ("unusable") or a
    given clinic certificate cannot be read; a command line maps that to exit status 2.
    """
    head = pdf_bytes[:1024]
    if b"%PDF-" not in head:
        raise SignatureError("unusable: this is not a PDF file")
    pems = [trusted_cert_pem] if isinstance(trusted_cert_pem, bytes) else trusted_cert_pem or []
    trusted = [load_certs(pem, "The clinic certificate")[0] for pem in pems]
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


def _verify(pdf_bytes: bytes, trusted: list[x509.Certificate]) -> Verdict:
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
    ders = [c.public_bytes(serialization.Encoding.DER) for c in trusted]
    roots = [asn1_x509.Certificate.load(der) for der in ders]
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
    if not trusted:
        return Verdict(
            True, True, True, None, signer, signed_at,
            f"valid: sealed by {signer}{when}, the file is unaltered "
            "(the clinic certificate was not available to check who sealed it)",
        )  # fmt: skip
    if cert.dump() not in ders:
        subject = cert.subject.human_friendly
        return _invalid(
            f"invalid: sealed by a different certificate ({subject})",
            intact=True,
            covers_entire_file=True,
            signed_by_clinic=False,
            **common,
        )
    note = "" if status.trusted else " (note: the seal certificate is not valid today)"
    if cert.dump() != ders[0]:
        note += " (an earlier seal of this clinic, since renewed or replaced)"
    return Verdict(
        True, True, True, True, signer, signed_at,
        f"valid: sealed by {signer}{when}, the file is unaltered{note}",
    )  # fmt: skip
