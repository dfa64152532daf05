"""Signatures and sealed sheets: capture, preview, sign (render, seal, store, lock), verify."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from desktop.auth import User
from desktop.clinic.audit_log import AuditLog
from desktop.clinic.bindings import SheetInputs, SignatureBindings, kinds_for
from desktop.clinic.checklists import Checklists
from desktop.clinic.consultations import Consultations
from desktop.clinic.limits import check_length
from desktop.clinic.revisions import check_revision
from desktop.clinic.seal import Seal
from desktop.clinic.session import Session
from desktop.clinic.settings import read_profile
from desktop.errors import Conflict, ValidationError
from desktop.ink import signature_problem
from desktop.models import (
    SIGNER_ROLES,
    Consultation,
    Document,
    DocumentKind,
    Signature,
    SignerRole,
    Stroke,
)
from desktop.storage import Store

if TYPE_CHECKING:
    from desktop.clinic.printing import PrintReceipt, PrintService
    from desktop.consent import DocumentContent, Template
    from desktop.signing import Verdict

# Composing, rendering and sealing (desktop.clinic.sheets) load reportlab and pyHanko: they are
# imported on first use, so that sign-in and headless commands start without them.

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SheetPreview:
    """An unsealed sheet as it would print now, and what a signer shown it agrees to."""

    pdf: bytes
    content_sha256: str  # give it to add_signature for a signature captured after it
    revision: int  # the consultation's revision it shows
    undrawable: tuple[str, ...] = ()  # characters no font draws, marked on the sheet
    warning: str = ""  # names them: signing refuses such a sheet


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` tells a user: a verdict, a reason, and the stored record it matches."""

    valid: bool
    reason: str
    document: Document | None = None
    seal: Verdict | None = None


@dataclass(frozen=True)
class ClinicianMismatch:
    """A draft that names one clinician (step 1, printed on every sheet) while another would
    sign as its clinician: `named` is the consultation's clinician, `signer` the other."""

    named: str
    signer: str

    @property
    def message(self) -> str:
        """Why the clinician's signature is refused, and the two ways on."""
        return (
            f"This consultation names {self.named} as its clinician, so the sheets say "
            f"{self.named} is responsible and only {self.named} can sign as the clinician; "
            f"{self.signer} cannot sign for them. Either {self.named} signs in and signs, or "
            f"change the clinician on step 1 (Procedure) to {self.signer} and sign then. The "
            "sheets name the clinician, so a signature already given on them must then be "
            "given again."
        )


def same_clinician(a: str, b: str) -> bool:
    """Whether two clinician names name the same account: compared as people read them
    (Unicode NFC, spaces collapsed, case ignored). A consultation stores its clinician as the
    display name of a clinician account (`Accounts.clinicians`)."""

    def key(name: str) -> str:
        return " ".join(unicodedata.normalize("NFC", name).split()).casefold()

    return key(a) == key(b)


def check_strokes(role: str, strokes: Sequence[Stroke], width: float, height: float) -> None:
    """Refuse an empty pad, a dot or a slip: a signature has enough ink to be one."""
    problem = signature_problem(strokes, width, height)
    if problem is not None:
        raise ValidationError(f"The {role}'s signature: {problem}", "strokes")


class Documents:
    """Signatures and the sealed sheets of consultations, under the user's permissions."""

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        consultations: Consultations,
        seal: Seal,
        checklists: Checklists,
        bindings: SignatureBindings,
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._consultations = consultations
        self._seal = seal
        self._checklists = checklists
        self._bindings = bindings

    # Signatures -------------------------------------------------------------------------

    def required_signers(self, consultation_id: str) -> tuple[SignerRole, ...]:
        """Who must sign, from the assessment and the decision in force: the patient (a
        guardian for a minor) and the clinician; the clinician alone when deferred."""
        self._session.require("patient.view")
        c = self._store.consultations.get(consultation_id)
        if c.assessment is None:
            raise ValidationError("Complete the checklist first: it decides who must sign.")
        from desktop.consent import required_signer_roles

        return required_signer_roles(self._checklists.of(c), c.assessment, c.decision)

    def clinician_mismatch(self, consultation_id: str) -> ClinicianMismatch | None:
        """The mismatch between the draft's named clinician and the signed-in user, when
        that user may sign as a clinician and is not the one named (None otherwise: no
        clinician named yet, a signed consultation, the named clinician signed in, or a user
        who may not sign as a clinician at all). Screens show it before anyone signs."""
        self._session.require("patient.view")
        c = self._store.consultations.get(consultation_id)
        user = self._session.signed_in
        if (
            c.state != "draft"
            or not c.clinician
            or user is None
            or user.system
            or not self._session.can("signature.clinician")
            or same_clinician(c.clinician, user.display_name)
        ):
            return None
        return ClinicianMismatch(c.clinician, user.display_name)

    def _require_signer(self, role: str) -> User:
        return self._session.require(
            "signature.clinician" if role == "clinician" else "signature.capture"
        )

    def add_signature(
        self,
        consultation_id: str,
        role: str,
        signer_name: str,
        strokes: Sequence[Stroke],
        *,
        width: float,
        height: float,
        password: str = "",
        content_sha256: str | None = None,
    ) -> Signature:
        """Store a signer's pen strokes (the canonical record of the signature).

        `strokes` are (x, y, pressure) points on a pad of `width` x `height` pixels. The
        clinician signs as themselves: their role is checked and their password asked again,
        because a signature is a deliberate act, and must be the clinician the consultation
        names (ValidationError otherwise, see `clinician_mismatch`; a draft naming nobody
        names the signer). `content_sha256` is the hash of the sheets
        as shown to the signer (`preview(...).content_sha256`; screens always give it): when
        the content has changed since, Conflict, and the signer must see it again. None
        binds the signature to the current content.
        """
        user = self._require_signer(role)
        if role == "clinician":
            user = self._session.confirm_password(password)
            signer_name = signer_name if user.system else user.display_name
        with self._store.transaction():
            return self._add_signature(
                consultation_id, role, signer_name, strokes, width, height, content_sha256
            )

    def _add_signature(
        self,
        consultation_id: str,
        role: str,
        signer_name: str,
        strokes: Sequence[Stroke],
        width: float,
        height: float,
        shown_sha256: str | None,
    ) -> Signature:
        c = self._consultations.draft(consultation_id)
        if role not in SIGNER_ROLES:
            raise ValidationError(
                f"Signer role '{role}' is unknown; use one of {', '.join(SIGNER_ROLES)}.", "role"
            )
        name = " ".join(signer_name.split())
        if not name:
            raise ValidationError(f"Type the {role}'s name under the signature.", "signer_name")
        check_length("Signature.signer_name", name, f"The {role}'s name", "signer_name")
        check_strokes(role, strokes, width, height)
        if role != "clinician" and c.decision == "defer":
            raise ValidationError(
                "The decision is to defer: there is no consent to sign, and the referral and "
                f"advice sheet carries the clinician's signature alone, so no {role}'s "
                "signature is taken. The clinician signs and gives the patient the sheet.",
                "role",
            )
        if role != "clinician" and not c.clinician:
            raise ValidationError(
                "Name the clinician on the Procedure step first: the sheet the "
                f"{role} signs names who is responsible for the treatment.",
                "clinician",
            )
        if role == "clinician" and not c.clinician:
            c = self._consultations.save_clinician(c, name)
        if role == "clinician" and not same_clinician(name, c.clinician):
            raise ValidationError(ClinicianMismatch(c.clinician, name).message, "clinician")
        current = self._bindings.content_sha256(c)
        if current is None:
            raise ValidationError("Complete the checklist first: it decides what is signed.")
        if shown_sha256 is not None and shown_sha256 != current:
            raise Conflict(
                "The sheet has changed since it was shown to the signer; nothing was saved. "
                "Show the preview again, then ask them to sign."
            )
        signature = Signature(
            role=role,
            signer_name=name,
            strokes=tuple(tuple((float(x), float(y), float(p)) for x, y, p in s) for s in strokes),
            signed_at=self._clock(),
            width=float(width),
            height=float(height),
            id=str(uuid.uuid4()),
            consultation_id=c.id,
            content_sha256=current,
        )
        self._store.signatures.save(signature)
        self._audit.record("signature", f"consultation:{c.id}", c.patient_id, role=role)
        return signature

    def remove_signature(self, consultation_id: str, role: str) -> None:
        self._require_signer(role)
        with self._store.transaction():
            c = self._consultations.draft(consultation_id)
            self._store.signatures.delete(consultation_id, role)
            self._audit.record("remove signature", f"consultation:{c.id}", c.patient_id, role=role)

    def signatures(self, consultation_id: str) -> list[Signature]:
        self._session.require("patient.view")
        return self._store.signatures.for_consultation(consultation_id)

    # Sheets -----------------------------------------------------------------------------

    def kinds(self, consultation_id: str) -> tuple[DocumentKind, ...]:
        """The sheets signing will produce: consent + aftercare, or the referral when deferred."""
        self._session.require("patient.view")
        return kinds_for(self._store.consultations.get(consultation_id))

    def _compose(
        self,
        c: Consultation,
        kind: DocumentKind,
        document_id: str,
        now: datetime,
        inputs: SheetInputs,
    ) -> tuple[Template, DocumentContent]:
        if c.assessment is None:
            raise ValidationError("Complete the checklist before making documents.")
        if kind == "consent" and c.decision == "defer":
            raise ValidationError(
                "The decision is to defer: there is no treatment consent, only the referral "
                "and advice sheet."
            )
        from desktop.clinic import sheets

        return sheets.compose(
            kind,
            profile=inputs.profile,
            patient=inputs.patient,
            consultation=c,
            signatures=self._store.signatures.for_consultation(c.id),
            test_spots=inputs.test_spots,
            checklist=self._checklists.of(c),
            document_id=document_id,
            now=now,
        )

    def undrawable(self, text: str) -> tuple[str, ...]:
        """The characters of `text` that no font on this computer prints on a sheet, each
        once, in order; () when it prints whole (a name can be stored all the same)."""
        from desktop.clinic import sheets

        return sheets.undrawable(text)

    def unprintable(self, what: str, text: str) -> str:
        """'' when `text` prints whole on a sheet; else a warning naming the characters of
        `what` ("The family name") that no font prints, and what to do about them."""
        from desktop.clinic import sheets

        return sheets.unprintable(what, text)

    def preview(self, consultation_id: str, kind: DocumentKind = "consent") -> SheetPreview:
        """The real document as it would print now, unsealed, for the preview step, with
        the hash of the content it shows (what a signature captured after it is bound to).

        A character no font draws is shown as its code (U+XXXX) in red and named in
        `warning`; signing refuses the sheet until a font is installed or the text changed.
        """
        from desktop.clinic import sheets

        self._session.require("patient.view")
        c = self._store.consultations.get(consultation_id)
        inputs = self._bindings.snapshot(c)
        _, content = self._compose(c, kind, f"PREVIEW-{c.id[:8]}", self._clock(), inputs)
        shown = self._bindings.content_sha256(c, inputs)
        assert shown is not None  # composing succeeded, so the checklist is complete
        chars, warning = sheets.sheet_unprintable(content, inputs.profile)
        pdf = sheets.render(content, inputs.profile, mark_undrawable=True)  # checked above
        return SheetPreview(pdf, shown, c.revision, chars, warning)

    def sign(self, consultation_id: str) -> list[Document]:
        """Seal and store the sheets, then lock the consultation for good.

        Raises ValidationError when the checklist is incomplete or out of date, the
        clinician is not named, a required signature is missing, or a signature was captured
        on content that has changed since (those signatures are voided, audited, and the
        message names who must sign again). StaleRecord when the consultation changed while
        the sheets were being sealed (nothing is stored then).
        """
        self._session.require("consultation.sign")
        c, signatures = self._ready_to_sign(consultation_id)
        from desktop.clinic import sheets

        # What the sheets print is read once: the signatures are checked against it, the
        # sheets are rendered from it, and the commit below refuses if it changed meanwhile.
        inputs = self._bindings.snapshot(c)
        signed_content = self._bindings.content_sha256(c, inputs)
        self._refuse_unless_signed_on(c, signatures, signed_content)
        material = self._seal.material()
        now = self._clock()
        signed = replace(c, state="signed", signed_at=now, updated=now)
        rendered = []
        with sheets.gc_paused():
            for kind in kinds_for(c):
                doc_id = str(uuid.uuid4())
                tpl, content = self._compose(signed, kind, doc_id, now, inputs)
                rendered.append(
                    (kind, doc_id, tpl, content, sheets.render(content, inputs.profile))
                )
            seals = sheets.seal(
                [(pdf_bytes, f"{kind} {doc_id}") for kind, doc_id, _, _, pdf_bytes in rendered],
                material,
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
        docs = [d for d, _, _ in made]
        with self._store.transaction():
            # Rendering and sealing ran outside the lock: store only what was sealed from
            # the consultation, signatures and sheet content as they still are.
            latest = self._consultations.draft(c.id)
            check_revision(self._store, c.revision, latest)
            if self._store.signatures.for_consultation(c.id) != signatures:
                raise Conflict(
                    "A signature changed while the documents were being sealed; nothing was "
                    "stored. Check the signatures and sign again."
                )
            changed = self._bindings.content_sha256(latest) != signed_content
            if not changed:
                self._store.documents.seal_consultation(
                    replace(signed, revision=c.revision + 1), made
                )
                self._audit.record(
                    "sign", f"consultation:{c.id}", c.patient_id, documents=[d.id for d in docs]
                )
        if changed:  # e.g. the clinic's details, changed on another computer meanwhile
            with self._store.transaction():
                voided = self._bindings.void_stale(self._consultations.draft(c.id))
            raise ValidationError(
                "What the sheet says changed while it was being sealed, so nothing was stored "
                f"and the signatures of {' and '.join(voided) or 'the signers'} no longer "
                "stand: show the sheet again and ask them to sign again."
            )
        log.info("consultation %s signed: %d documents sealed", c.id, len(made))
        return docs

    def _refuse_unless_signed_on(
        self, c: Consultation, signatures: Sequence[Signature], content: str | None
    ) -> None:
        stale = [s.role for s in signatures if s.content_sha256 != content]
        if stale:
            with self._store.transaction():
                self._bindings.void_stale(c)
            raise ValidationError(
                "The sheet changed after " + " and ".join(stale) + " signed, so their "
                "signature no longer stands; they must see the sheet again and sign again."
            )

    def _ready_to_sign(self, consultation_id: str) -> tuple[Consultation, list[Signature]]:
        """The draft and its signatures if it can be sealed now; ValidationError saying
        what is missing otherwise."""
        from desktop.consent import missing_signer_roles

        c = self._consultations.draft(consultation_id)
        current = self._consultations.current_assessment(c)
        if c.assessment != current:
            assert c.assessment is not None  # current_assessment refused an incomplete one
            why = (
                f"the patient's date of birth changed their age on the day to {current.age}"
                if current.age != c.assessment.age
                else "a test spot's result changed what the checklist finds"
            )
            raise ValidationError(
                f"The assessment is out of date ({why}); review the assessment step again "
                "before signing."
            )
        if not c.clinician:
            raise ValidationError("Name the clinician responsible for this consultation.")
        with self._store.transaction():
            voided = self._bindings.void_stale(c)
        if voided:
            raise ValidationError(
                "The sheet changed after " + " and ".join(voided) + " signed, so their "
                "signature no longer stands; they must see the sheet again and sign again."
            )
        signatures = self._store.signatures.for_consultation(c.id)
        missing = missing_signer_roles(self._checklists.of(c), c.assessment, signatures, c.decision)
        if missing:
            raise ValidationError(
                "Signatures missing: "
                + ", ".join(missing)
                + ". Each must sign on the pad before the documents can be sealed."
            )
        for s in signatures:
            if s.role == "clinician" and not same_clinician(s.signer_name, c.clinician):
                raise ValidationError(
                    f"The clinician's signature is {s.signer_name}'s, but this consultation "
                    f"names {c.clinician} as its clinician; nothing was sealed. Remove the "
                    f"signature (step 5, Signatures) and let {c.clinician} sign, or change the "
                    f"clinician on step 1 to {s.signer_name}, who then signs again.",
                    "clinician",
                )
        return c, signatures

    def for_consultation(self, consultation_id: str) -> list[Document]:
        self._session.require("patient.view")
        return self._store.documents.for_consultation(consultation_id)

    def pdf(self, document_id: str, purpose: str = "view") -> bytes:
        """A stored, sealed PDF; `purpose` is view, print or export (each is audited)."""
        if purpose not in ("view", "print", "export"):
            raise ValidationError(f"Unknown purpose '{purpose}'; use view, print or export.")
        self._session.require("patient.view" if purpose == "view" else "document.print")
        data = self._store.documents.pdf(document_id)
        doc = self._store.documents.get(document_id)
        c = self._store.consultations.get(doc.consultation_id)
        self._audit.record(purpose, f"document:{document_id}", c.patient_id, kind=doc.kind)
        return data

    def verify(self, data: bytes) -> VerifyReport:
        """Check a PDF's seal and, with this database at hand, that it is a stored document."""
        self._session.require("patient.view")
        current = self._seal.current_certificate()
        older = [pem for pem in self._seal.certificates() if pem != current]
        trusted = [pem.encode() for pem in ([current] if current else []) + older]
        from desktop.clinic import sheets

        verdict = sheets.verify(data, trusted or None)
        if not verdict.valid:
            return VerifyReport(False, verdict.reason, seal=verdict)
        doc = self._store.documents.by_sha256(hashlib.sha256(data).hexdigest())
        if doc is None:
            return VerifyReport(
                False,
                "invalid: the seal is intact but this database holds no such document "
                "(a different copy, or another clinic's file)",
                seal=verdict,
            )
        c = self._store.consultations.get(doc.consultation_id)
        return VerifyReport(
            True,
            f"{verdict.reason}; matches stored {doc.kind} {doc.id} of consultation {c.id} "
            f"({c.date.isoformat()}, {c.state})",
            document=doc,
            seal=verdict,
        )

    def print_document(
        self,
        source: str | bytes,
        printer: str | None = None,
        *,
        copies: int = 1,
        paper: str | None = None,
        service: PrintService | None = None,
    ) -> PrintReceipt:
        """Send the sealed original of a stored document to a printer, after verifying it.

        `source` is a document ID or the bytes of a PDF (a saved copy to reprint): either
        must verify as a document of this database, and its stored bytes are what prints.
        `printer` None takes the system's default; `paper` None the clinic's paper size. The
        print is audited (document, printer, copies, paper) before the job is sent; a job the
        service refuses is audited as failed. `service` defaults to the system's CUPS.
        Raises ValidationError (copies, paper), NotFound, PrintError (no print service, an
        unknown or stopped printer, a PDF that is not a stored sealed document, a refused
        job); the message says what to do.
        """
        from desktop.clinic import printing

        self._session.require("document.print")
        size = printing.check_request(copies, paper or read_profile(self._store).paper)
        if service is None:
            service = printing.system_service()
        if service is None:
            raise printing.PrintError(
                "This computer has no print service that takes PDF files (CUPS, on Linux and "
                "macOS). Print from the window, or save a copy and print it from a PDF viewer."
            )
        data = self._store.documents.pdf(source) if isinstance(source, str) else source
        report = self.verify(data)
        doc = report.document
        if isinstance(source, str) and (doc is None or doc.id != source):
            raise printing.PrintError(
                f"Not printed: the stored document {source} does not verify ({report.reason}). "
                "Ask the administrator to check the database (audit verify) and the seal."
            )
        if doc is None:
            raise printing.PrintError(
                f"Not printed: this is not a sealed document of this clinic ({report.reason}). "
                "Print the stored document from its consultation instead."
            )
        chosen = printing.choose_printer(service.printers(), printer)
        job = printing.PrintJob(chosen.name, printing.job_title(doc), copies, size)
        c = self._store.consultations.get(doc.consultation_id)
        detail = {"kind": doc.kind, "printer": job.printer, "copies": copies, "paper": size}
        with self._store.transaction():
            self._audit.record("print", f"document:{doc.id}", c.patient_id, **detail)
        try:
            job_id = service.submit(data, job)  # verified: the stored bytes themselves
        except printing.PrintError as exc:
            with self._store.transaction():
                self._audit.record(
                    "print failed", f"document:{doc.id}", c.patient_id, reason=exc.message
                )
            raise
        log.info("document %s sent to a printer as job %s", doc.id, job_id)
        return printing.PrintReceipt(doc, job, job_id, service.vector)
