"""PAdES sealing and checking with the clinic seal (pyHanko, imported lazily)."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from desktop.errors import SignatureError
from desktop.signing.keys import (
    CERT_FILE,
    KEY_FILE,
    SealInfo,
    ensure_seal,
    export_certificate_pem,
    import_pkcs12,
    load_certs,
    load_seal_info,
    renew_seal,
)

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
    "renew_seal",
    "seal_pdf",
    "seal_pdfs",
    "verify_pdf",
]

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


def definite_length_header(header: bytes) -> bool:
    """True when every length in a DER/BER header (tag and length octets, possibly nested by
    explicit tagging) is a definite one; False for an indefinite length or anything odd."""
    if not header:
        return False
    i = 0
    while i < len(header):
        tag = header[i]
        i += 1
        if tag & 0x1F == 0x1F:  # high tag number: continuation bytes, then the last one
            while i < len(header) and header[i] & 0x80:
                i += 1
            i += 1
        if i >= len(header):
            return False
        first = header[i]
        i += 1
        if first == 0x80:
            return False
        if first > 0x80:
            i += first & 0x7F
    return i == len(header)


@contextlib.contextmanager
def _definite_lengths_trusted() -> Iterator[None]:
    """While sealing, let asn1crypto keep a definite length whose last octet happens to be 0x80.

    asn1crypto (1.5) takes any header ending in 0x80 for a BER indefinite length and then
    re-encodes the whole tree below it (wbond/asn1crypto#249). pyHanko's SignerInfo reaches
    such a length (e.g. 0x0280) for about half of all ECDSA signatures, and the needless
    re-encoding then costs ~30 ms a sheet. Such a header is recomputed from the contents
    instead, which gives the same bytes. Truly indefinite (BER) headers are left alone.
    """
    from asn1crypto import core  # type: ignore[import-untyped, unused-ignore]

    originals = {cls: cls.dump for cls in (core.Sequence, core.SequenceOf)}

    def wrapped(original: Callable[..., bytes]) -> Callable[..., bytes]:
        def dump(self: Any, force: bool = False) -> bytes:
            header = self._header
            misread = header is not None and header[-1:] == b"\x80"
            if not force and misread and definite_length_header(header):
                self._header = None  # recomputed from the contents: the same bytes
            return original(self, force)

        return dump

    for cls, original in originals.items():
        cls.dump = wrapped(original)
    try:
        yield
    finally:
        for cls, original in originals.items():
            cls.dump = original


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
    certs = load_certs(cert_pem, "The clinic seal certificate")
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
        with _quiet_pyhanko(), _definite_lengths_trusted():
            return _run(sign)
    except SignatureError:
        raise
    except Exception as exc:  # pyHanko's errors: already sealed, damaged file, ...
        log.debug("sealing failed", exc_info=True)
        raise SignatureError(f"The document could not be sealed: {exc}") from exc


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
