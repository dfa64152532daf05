"""Signatures, sealed consent/aftercare/referral PDFs, and their verification, for the facade."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop import pdf, resources, signing
from desktop.consent import (
    DocumentContent,
    Template,
    compose_aftercare,
    compose_consent,
    compose_referral,
    missing_signer_roles,
    parse_template,
    required_signer_roles,
)
from desktop.errors import SignatureError, ValidationError
from desktop.ink import signature_problem
from desktop.models import (
    SIGNER_ROLES,
    Assessment,
    ClinicProfile,
    Consultation,
    Document,
    DocumentKind,
    Signature,
    SignerRole,
    Stroke,
)
from desktop.storage import Store

if TYPE_CHECKING:
    from desktop.checklist import ChecklistDefinition

log = logging.getLogger(__name__)

PROFILE_KEY = "clinic_profile"
CERT_KEY = "seal_certificate_pem"
# Every certificate the clinic has sealed with (PEM, oldest first), so that documents sealed
# before a renewal or an import still verify as the clinic's own.
CERT_HISTORY_KEY = "seal_certificate_history"
# "generated" (made here, renewed when the clinic is renamed) or "imported" (kept as is).
ORIGIN_KEY = "seal_origin"

Composer = Callable[..., DocumentContent]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a pair of sheets is rendered and sealed.

    Rendering and sealing make some 10^5 short-lived objects, so the collector would run many
    times for nothing; pausing it for these ~100 ms took a tenth off the median. Reference
    counting still frees memory meanwhile; the collector resumes as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


COMPOSERS: dict[DocumentKind, Composer] = {
    "consent": compose_consent,
    "aftercare": compose_aftercare,
    "referral": compose_referral,
}


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` tells a user: a verdict, a reason, and the stored record it matches."""

    valid: bool
    reason: str
    document: Document | None = None
    seal: signing.Verdict | None = None


def template(kind: DocumentKind) -> Template:
    name, data = resources.consent_template_data(kind)
    return parse_template(data, name)


def fonts() -> pdf.FontFiles:
    return pdf.FontFiles(
        regular=resources.font_file("DejaVuSans.ttf"),
        bold=resources.font_file("DejaVuSans-Bold.ttf"),
        italic=resources.font_file("DejaVuSans-Oblique.ttf"),
    )


def check_strokes(role: str, strokes: Sequence[Stroke], width: float, height: float) -> None:
    """Refuse an empty pad, a dot or a slip: a signature has enough ink to be one."""
    problem = signature_problem(strokes, width, height)
    if problem is not None:
        raise ValidationError(f"The {role}'s signature: {problem}", "strokes")


class Paperwork:
    """Documents of one clinic database: profile, seal, signatures, sealing and checking."""

    def __init__(
        self,
        store: Store,
        checklist: ChecklistDefinition,
        seal_dir: Path | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.checklist = checklist
        self.seal_dir = seal_dir
        self.clock = clock

    # Profile and seal -------------------------------------------------------------------

    def profile(self) -> ClinicProfile:
        data: dict[str, Any] = dict(self.store.get_setting(PROFILE_KEY, {}) or {})
        logo = data.pop("logo_png_hex", None)
        known = {k: v for k, v in data.items() if k in ClinicProfile.__dataclass_fields__}
        demo = bool(self.store.get_setting("demo", False))
        strict = bool(self.store.get_setting("strict_mode", False))
        return ClinicProfile(
            **known,
            logo_png=bytes.fromhex(logo) if logo else None,
            demo=demo,
            strict_mode=strict,
        )

    def update_profile(self, **fields: Any) -> ClinicProfile:
        current = self.profile()
        allowed = {"name", "address", "phone", "logo_png", "paper"}
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise ValidationError(f"Unknown clinic setting: {unknown[0]}.", unknown[0])
        updated = replace(current, **fields)
        if not updated.name.strip():
            raise ValidationError("The clinic needs a name; it heads every document.", "name")
        if updated.paper not in ("A4", "Letter"):
            raise ValidationError("Paper size must be A4 or Letter.", "paper")
        if updated.logo_png is not None and not updated.logo_png.startswith(b"\x89PNG"):
            raise ValidationError("The logo must be a PNG image.", "logo_png")
        self.store.set_setting(
            PROFILE_KEY,
            {
                "name": updated.name.strip(),
                "address": updated.address.strip(),
                "phone": updated.phone.strip(),
                "paper": updated.paper,
                "logo_png_hex": updated.logo_png.hex() if updated.logo_png else None,
            },
        )
        return self.profile()

    def _seal_dir(self) -> Path:
        if self.seal_dir is None:
            raise SignatureError(
                "This database has no folder for the clinic seal; open it from a file."
            )
        return self.seal_dir

    def ensure_seal(self) -> signing.SealInfo:
        """The seal for the next document: made on first use, renewed after a clinic rename.

        A seal made here names the clinic; when the clinic's name has changed since, a new
        key and certificate with the new name replace it (an imported seal is never touched).
        """
        name = " ".join(self.profile().name.split())[:64] or "Clinic"
        info = signing.ensure_seal(self._seal_dir(), name, self.clock())
        if info.common_name != name and self._seal_origin(info) == "generated":
            old = info.common_name
            self._remember(info, None)
            info = signing.renew_seal(self._seal_dir(), name, self.clock())
            log.info("clinic seal renewed after a rename (was %r)", old)
        self._remember(info, "generated" if self._seal_origin(info) == "generated" else None)
        return info

    def _seal_origin(self, info: signing.SealInfo) -> str:
        origin = self.store.get_setting(ORIGIN_KEY)
        if origin:
            return str(origin)
        # Databases from before the origin was recorded: a self-signed seal naming only the
        # clinic (as CN and O) was made here.
        return "generated" if info.name_only_self_signed else ""

    def _remember(self, info: signing.SealInfo, origin: str | None) -> None:
        """Make `info` the current certificate, keeping every earlier one in the history."""
        pem = info.cert_pem.decode()
        history = self.clinic_certificates()  # before the current one changes
        if pem not in history:
            self.store.set_setting(CERT_HISTORY_KEY, [*history, pem])
        if self.store.get_setting(CERT_KEY) != pem:
            self.store.set_setting(CERT_KEY, pem)
        if origin is not None and self.store.get_setting(ORIGIN_KEY) != origin:
            self.store.set_setting(ORIGIN_KEY, origin)

    def clinic_certificates(self) -> list[str]:
        """Every certificate this clinic has sealed with (PEM), oldest first."""
        history = [str(p) for p in self.store.get_setting(CERT_HISTORY_KEY, []) or []]
        current = self.store.get_setting(CERT_KEY)
        if current and current not in history:
            history.append(str(current))  # recorded before the history was kept
        return history

    def seal_info(self) -> signing.SealInfo | None:
        return signing.load_seal_info(self._seal_dir()) if self.seal_dir else None

    def import_seal(self, p12: bytes, password: str) -> signing.SealInfo:
        info = signing.import_pkcs12(self._seal_dir(), p12, password)
        self._remember(info, "imported")
        return info

    def export_certificate(self) -> bytes:
        return self.ensure_seal().cert_pem

    # Signatures -------------------------------------------------------------------------

    def required_signers(self, c: Consultation) -> tuple[SignerRole, ...]:
        if c.assessment is None:
            raise ValidationError("Complete the checklist first: it decides who must sign.")
        return required_signer_roles(self.checklist, c.assessment)

    def add_signature(
        self,
        c: Consultation,
        role: str,
        signer_name: str,
        strokes: Sequence[Stroke],
        width: float,
        height: float,
    ) -> Signature:
        if role not in SIGNER_ROLES:
            raise ValidationError(
                f"Signer role '{role}' is unknown; use one of {', '.join(SIGNER_ROLES)}.", "role"
            )
        name = " ".join(signer_name.split())
        if not name:
            raise ValidationError(f"Type the {role}'s name under the signature.", "signer_name")
        check_strokes(role, strokes, width, height)
        signature = Signature(
            role=role,
            signer_name=name,
            strokes=tuple(tuple((float(x), float(y), float(p)) for x, y, p in s) for s in strokes),
            signed_at=self.clock(),
            width=float(width),
            height=float(height),
            id=str(uuid.uuid4()),
            consultation_id=c.id,
        )
        self.store.save_signature(signature)
        return signature

    # Documents --------------------------------------------------------------------------

    def kinds_for(self, c: Consultation) -> tuple[DocumentKind, ...]:
        return ("referral",) if c.decision == "defer" else ("consent", "aftercare")

    def compose(
        self, c: Consultation, kind: DocumentKind, document_id: str, now: datetime
    ) -> tuple[Template, DocumentContent]:
        if c.assessment is None:
            raise ValidationError("Complete the checklist before making documents.")
        if kind == "consent" and c.decision == "defer":
            raise ValidationError(
                "The decision is to defer: there is no treatment consent, only the referral "
                "and advice sheet."
            )
        tpl = template(kind)
        content = COMPOSERS[kind](
            tpl,
            profile=self.profile(),
            patient=self.store.get_patient(c.patient_id),
            consultation=c,
            assessment=c.assessment,
            signatures=self.store.signatures_for(c.id),
            test_spots=self.store.test_spots("patient_id = ?", [c.patient_id]),
            checklist=self.checklist,
            document_id=document_id,
            now=now,
        )
        return tpl, content

    def render(self, content: DocumentContent) -> bytes:
        return pdf.render_pdf(content, self.profile(), fonts=fonts())

    def preview(self, c: Consultation, kind: DocumentKind) -> bytes:
        _, content = self.compose(c, kind, f"PREVIEW-{c.id[:8]}", self.clock())
        return self.render(content)

    def sign(self, c: Consultation, current: Assessment) -> tuple[Consultation, list[Document]]:
        """Check readiness, render and seal every sheet, store them, mark the record signed."""
        if c.assessment != current:
            raise ValidationError(
                "The assessment is out of date (a test spot review changed it); review the "
                "assessment step again before signing."
            )
        if not c.clinician:
            raise ValidationError("Name the clinician responsible for this consultation.")
        missing = missing_signer_roles(
            self.checklist, c.assessment, self.store.signatures_for(c.id)
        )
        if missing:
            raise ValidationError(
                "Signatures missing: "
                + ", ".join(missing)
                + ". Each must sign on the pad before the documents can be sealed."
            )
        self.ensure_seal()
        now = self.clock()
        signed = replace(c, state="signed", signed_at=now, updated=now)
        rendered = []
        with _gc_paused():
            for kind in self.kinds_for(c):
                doc_id = str(uuid.uuid4())
                tpl, content = self.compose(signed, kind, doc_id, now)
                rendered.append((kind, doc_id, tpl, content, self.render(content)))
            seals = signing.seal_pdfs(
                [(pdf_bytes, f"{kind} {doc_id}") for kind, doc_id, _, _, pdf_bytes in rendered],
                self._seal_dir(),
            )
        made: list[tuple[Document, str, bytes]] = []
        for (kind, doc_id, tpl, content, _), sealed in zip(rendered, seals, strict=True):
            doc = Document(
                id=doc_id,
                consultation_id=c.id,
                kind=kind,
                template_version=tpl.version,
                sha256=hashlib.sha256(sealed).hexdigest(),
                content_sha256=content.content_sha256(),
                created=now,
                size=len(sealed),
            )
            made.append((doc, tpl.id, sealed))
        self.store.seal_consultation(signed, made)
        log.info("consultation %s signed: %d documents sealed", c.id, len(made))
        return signed, [d for d, _, _ in made]

    def verify(self, data: bytes) -> VerifyReport:
        """Check a PDF's seal and, with this database at hand, that it is a stored document."""
        current = self.store.get_setting(CERT_KEY)
        older = [pem for pem in self.clinic_certificates() if pem != current]
        trusted = [pem.encode() for pem in ([current] if current else []) + older]
        verdict = signing.verify_pdf(data, trusted or None)
        if not verdict.valid:
            return VerifyReport(False, verdict.reason, seal=verdict)
        doc = self.store.document_by_sha256(hashlib.sha256(data).hexdigest())
        if doc is None:
            return VerifyReport(
                False,
                "invalid: the seal is intact but this database holds no such document "
                "(a different copy, or another clinic's file)",
                seal=verdict,
            )
        c = self.store.get_consultation(doc.consultation_id)
        return VerifyReport(
            True,
            f"{verdict.reason}; matches stored {doc.kind} {doc.id} of consultation {c.id} "
            f"({c.date.isoformat()}, {c.state})",
            document=doc,
            seal=verdict,
        )
