"""Composing, rendering and sealing sheets (reportlab and pyHanko load when first used)."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from desktop import resources
from desktop.consent import (
    DocumentContent,
    Template,
    compose_aftercare,
    compose_consent,
    compose_referral,
    parse_template,
)
from desktop.errors import ValidationError
from desktop.models import (
    ClinicProfile,
    Consultation,
    DocumentKind,
    Patient,
    Signature,
    TestSpot,
)

if TYPE_CHECKING:
    from desktop import pdf, signing
    from desktop.checklist import ChecklistDefinition

Composer = Callable[..., DocumentContent]
# A sheet's signable content is composed with these in place of its document ID and time of
# issue, which differ between the preview a signer saw and the sealed sheet.
_SIGNABLE_ID = "signable"
_SIGNABLE_AT = datetime(2000, 1, 1)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
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


@functools.cache
def _templates(kind: DocumentKind) -> tuple[Template, ...]:
    return tuple(
        parse_template(data, name) for name, data in resources.consent_templates_data(kind)
    )


def template(kind: DocumentKind, checklist_version: str) -> Template:
    """The sheet template of `kind` for consultations on `checklist_version`: a consultation
    prints with the templates of its own checklist version, so a signed one re-renders as it
    was signed. ValidationError when no template serves that version."""
    for tpl in _templates(kind):
        if checklist_version in tpl.checklist_versions:
            return tpl
    raise ValidationError(
        f"No {kind} sheet template is kept for checklist version {checklist_version}; "
        "the application's resources are incomplete: reinstall it."
    )


def fonts() -> pdf.FontFiles:
    from desktop import pdf

    return pdf.FontFiles(
        regular=resources.font_file("DejaVuSans.ttf"),
        bold=resources.font_file("DejaVuSans-Bold.ttf"),
        italic=resources.font_file("DejaVuSans-Oblique.ttf"),
    )


def compose(
    kind: DocumentKind,
    *,
    profile: ClinicProfile,
    patient: Patient,
    consultation: Consultation,
    signatures: Sequence[Signature],
    test_spots: Sequence[TestSpot],
    checklist: ChecklistDefinition,
    document_id: str,
    now: datetime,
) -> tuple[Template, DocumentContent]:
    """The template of `kind` and the sheet's content for this consultation."""
    assert consultation.assessment is not None
    tpl = template(kind, checklist.version)
    content = COMPOSERS[kind](
        tpl,
        profile=profile,
        patient=patient,
        consultation=consultation,
        assessment=consultation.assessment,
        signatures=signatures,
        test_spots=test_spots,
        checklist=checklist,
        document_id=document_id,
        now=now,
    )
    return tpl, content


def render(
    content: DocumentContent, profile: ClinicProfile, *, mark_undrawable: bool = False
) -> bytes:
    """The sheet as PDF bytes (deterministic: reportlab invariant mode). UndrawableText when
    a character has no font, unless `mark_undrawable` (a preview): then it shows its code."""
    from desktop import pdf

    return pdf.render_pdf(content, profile, fonts=fonts(), mark_undrawable=mark_undrawable)


def undrawable(text: str) -> tuple[str, ...]:
    """The characters of `text` no font available to the sheets draws (each once)."""
    if text.isascii() and text.isprintable():  # the sheets' own font has them all
        return ()
    from desktop import pdf

    return pdf.undrawable(text, fonts())


def unprintable(what: str, text: str) -> str:
    """'' when `text` prints whole, else a message naming the characters `what` ("The
    family name") holds that no font draws, and what to do about it.

    The first text beyond ASCII loads reportlab and the fonts (some 0.4 s): screens ask
    from a worker thread."""
    if text.isascii() and text.isprintable():  # the sheets' own font has them all
        return ""
    from desktop import pdf

    try:
        pdf.check_text(what, text, fonts())
    except pdf.UndrawableText as exc:
        return exc.message
    return ""


def sheet_unprintable(
    content: DocumentContent, profile: ClinicProfile
) -> tuple[tuple[str, ...], str]:
    """The characters of a sheet (content, clinic details) no font draws, with a message
    naming them and what to do; ((), '') when it prints whole."""
    from desktop import pdf

    try:
        pdf.check_printable(content, profile, fonts())
    except pdf.UndrawableText as exc:
        return exc.characters, exc.message
    return (), ""


def seal(pdfs: Sequence[tuple[bytes, str]], material: signing.SealMaterial) -> list[bytes]:
    """Seal each (PDF, reason) with the clinic seal `material` (PAdES B-B, invisible)."""
    from desktop import signing

    return signing.seal_pdfs(list(pdfs), material)


def verify(data: bytes, trusted: Sequence[bytes] | None) -> signing.Verdict:
    """Check a PDF's seal against the `trusted` PEM certificates (None: any valid seal)."""
    from desktop import signing

    return signing.verify_pdf(data, list(trusted) if trusted is not None else None)


def signable_sha256(
    kinds: Sequence[DocumentKind],
    *,
    profile: ClinicProfile,
    patient: Patient,
    consultation: Consultation,
    test_spots: Sequence[TestSpot],
    checklist: ChecklistDefinition,
) -> str:
    """SHA-256 (hex) of what the sheets of `kinds` ask their signers to agree to.

    That is everything the sheets say except their signatures, document IDs and times of
    issue: a change to it (an answer, the decision, the needle depth, the areas, the patient's
    name) changes the hash, and a signature captured on the older content is void.
    """
    parts = []
    for kind in kinds:
        _, content = compose(
            kind,
            profile=profile,
            patient=patient,
            consultation=consultation,
            signatures=(),
            test_spots=test_spots,
            checklist=checklist,
            document_id=_SIGNABLE_ID,
            now=_SIGNABLE_AT,
        )
        data = content.to_dict()
        data.pop("issued", None)
        blocks = data["blocks"]
        assert isinstance(blocks, list)
        data["blocks"] = [b for b in blocks if b.get("kind") != "signatures"]
        parts.append(data)
    heading = {  # printed on every page by the PDF's furniture, not in the content
        "clinic": profile.name,
        "address": profile.address,
        "phone": profile.phone,
        "logo": hashlib.sha256(profile.logo_png).hexdigest() if profile.logo_png else "",
        "demo": profile.demo,
    }
    canonical = json.dumps(
        {"heading": heading, "sheets": parts},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
