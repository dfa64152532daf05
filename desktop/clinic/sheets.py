"""Composing, rendering and sealing sheets: loads reportlab and pyHanko (imported on first use)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime

from desktop import pdf, resources, signing
from desktop.consent import (
    DocumentContent,
    Template,
    compose_aftercare,
    compose_consent,
    compose_referral,
    parse_template,
)
from desktop.models import (
    ClinicProfile,
    Consultation,
    DocumentKind,
    Patient,
    Signature,
    TestSpot,
)

Composer = Callable[..., DocumentContent]


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


def template(kind: DocumentKind) -> Template:
    name, data = resources.consent_template_data(kind)
    return parse_template(data, name)


def fonts() -> pdf.FontFiles:
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
    sources: Mapping[int, str],
    document_id: str,
    now: datetime,
) -> tuple[Template, DocumentContent]:
    """The template of `kind` and the sheet's content for this consultation."""
    assert consultation.assessment is not None
    tpl = template(kind)
    content = COMPOSERS[kind](
        tpl,
        profile=profile,
        patient=patient,
        consultation=consultation,
        assessment=consultation.assessment,
        signatures=signatures,
        test_spots=test_spots,
        sources=sources,
        document_id=document_id,
        now=now,
    )
    return tpl, content


def render(content: DocumentContent, profile: ClinicProfile) -> bytes:
    """The sheet as PDF bytes (deterministic: reportlab invariant mode)."""
    return pdf.render_pdf(content, profile, fonts=fonts())


def seal(pdfs: Sequence[tuple[bytes, str]], material: signing.SealMaterial) -> list[bytes]:
    """Seal each (PDF, reason) with the clinic seal `material` (PAdES B-B, invisible)."""
    return signing.seal_pdfs(list(pdfs), material)


def verify(data: bytes, trusted: Sequence[bytes] | None) -> signing.Verdict:
    """Check a PDF's seal against the `trusted` PEM certificates (None: any valid seal)."""
    return signing.verify_pdf(data, list(trusted) if trusted is not None else None)
