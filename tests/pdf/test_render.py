"""The printed sheets: what a reader of the PDF sees, on every page, in any script."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import replace
from typing import Any

import pytest
from pypdf import PdfReader

from desktop.consent import compose_aftercare, compose_referral
from desktop.pdf import render_pdf
from tests.helpers.consent import PROFILE, consent, minor_amber_case, red_referral_case, template
from tests.helpers.pdf import FONTS

MM = 72 / 25.4


def pages_text(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def png(width: int = 40, height: int = 20) -> bytes:
    """A small valid PNG (a teal rectangle), made without any imaging library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\x1b\x5e\x7a" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def consent_pdf() -> bytes:
    content, profile = consent()
    return render_pdf(content, profile, fonts=FONTS)


def test_every_section_and_this_patients_rules_are_readable(consent_pdf: bytes) -> None:
    text = flat(" ".join(pages_text(consent_pdf)))
    for title in (
        "Consent to microneedling treatment",
        "About you",
        "1. The treatment",
        "2. What is normal afterwards",
        "3. Possible risks",
        "4. Vitiligo and your skin",
        "How strong is the evidence?",
        "Your checklist result",
        "Checks that applied to you",
        "Test spot before the full treatment",
        "5. Other options",
        "6. Photographs",
        "7. What you confirm by signing",
        "8. Signatures",
        "About this document",
    ):
        assert title in text, title
    for row in ("A1 Amber C/D", "K1 Caution P", "K3 Caution P", "K4 Caution P"):
        assert row in text, row
    assert "AMBER" in text and "CAUTION" in text  # the badge says it in words
    assert "Patient under 18" in text
    assert "Parent or guardian · 25 Nov 2026, 14:30 UTC+01:00" in text


def test_unicode_names_come_out_as_typed(consent_pdf: bytes) -> None:
    text = " ".join(pages_text(consent_pdf))
    for name in ("Zoë Ødegård", "Łukasz Żółć", "Αλέξανδρος Παπαδόπουλος"):
        assert name in text, name
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-", "-"], input=consent_pdf, capture_output=True, check=True
        ).stdout.decode("utf-8")
        assert "Łukasz Żółć" in out and "Zoë Ødegård" in out and "Αλέξανδρος" in out


def test_all_text_is_in_the_embedded_dejavu_font(consent_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(consent_pdf))
    fonts = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            f = font.get_object()
            fonts.add(str(f["/BaseFont"]))
            assert "/ToUnicode" in f  # extractable, searchable text
    assert fonts and all("DejaVu" in name for name in fonts), fonts


def test_footer_on_every_page(consent_pdf: bytes) -> None:
    content, _ = consent()
    pages = pages_text(consent_pdf)
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Document CONS-2026-0001" in text
        assert "Checklist vitiligo-microneedling version 2026.11.0" in text
        assert "Template microneedling-consent version 2026.12.1" in text
        assert f"Content SHA-256: {content.content_sha256()}" in text
    assert "Page 1 of" in pages[0]


def test_metadata_names_the_sheet_clinic_and_document(consent_pdf: bytes) -> None:
    meta = PdfReader(io.BytesIO(consent_pdf)).metadata
    assert meta is not None
    assert meta.title == "Consent to microneedling treatment"
    assert meta.author == "Northgate Skin Clinic"
    assert meta.subject == "CONS-2026-0001"
    assert str(meta["/CreationDate"]).startswith("D:20261125143000+01'00'")


def test_same_input_gives_identical_bytes(consent_pdf: bytes) -> None:
    content, profile = consent()
    assert render_pdf(content, profile, fonts=FONTS) == consent_pdf
    other, _ = consent(now=minor_amber_case()["now"].replace(minute=31))
    assert render_pdf(other, profile, fonts=FONTS) != consent_pdf


@pytest.mark.parametrize(("paper", "size_mm"), [("A4", (210, 297)), ("Letter", (215.9, 279.4))])
def test_paper_size_follows_the_profile(paper: str, size_mm: tuple[float, float]) -> None:
    profile = replace(PROFILE, paper=paper)  # type: ignore[arg-type]
    content, _ = consent(profile=profile)
    reader = PdfReader(io.BytesIO(render_pdf(content, profile, fonts=FONTS)))
    for page in reader.pages:
        box = page.mediabox
        assert float(box.width) == pytest.approx(size_mm[0] * MM, abs=0.5)
        assert float(box.height) == pytest.approx(size_mm[1] * MM, abs=0.5)


def test_clinic_header_and_logo() -> None:
    profile = replace(PROFILE, logo_png=png())
    content, _ = consent(profile=profile)
    data = render_pdf(content, profile, fonts=FONTS)
    first = PdfReader(io.BytesIO(data)).pages[0]
    text = first.extract_text()
    assert (
        "Northgate Skin Clinic" in text and "York YO1 7HH" in text and "+44 1904 555 0101" in text
    )
    resources: Any = first["/Resources"]
    images = [x for x in resources["/XObject"].values() if x.get_object()["/Subtype"] == "/Image"]
    assert len(images) == 1


def test_a_broken_logo_does_not_stop_the_sheet(caplog: pytest.LogCaptureFixture) -> None:
    profile = replace(PROFILE, logo_png=b"\x89PNG not really")
    content, _ = consent(profile=profile)
    data = render_pdf(content, profile, fonts=FONTS)
    assert "Consent to microneedling treatment" in pages_text(data)[0]
    assert any("logo" in r.getMessage() for r in caplog.records)


def test_demo_is_marked_on_every_page() -> None:
    profile = replace(PROFILE, demo=True)
    content, _ = consent(profile=profile)
    pages = pages_text(render_pdf(content, profile, fonts=FONTS))
    for text in pages:
        assert "DEMO — not a real patient record" in text
    assert "This sheet was made with invented data" in pages[0]


def test_signatures_are_vector_strokes_with_name_role_and_time() -> None:
    signed, profile = consent()
    unsigned, _ = consent(signatures=())
    signed_pdf = PdfReader(io.BytesIO(render_pdf(signed, profile, fonts=FONTS)))
    unsigned_pdf = PdfReader(io.BytesIO(render_pdf(unsigned, profile, fonts=FONTS)))

    def line_ops(reader: PdfReader) -> int:
        total = 0
        for page in reader.pages:
            contents: Any = page.get_contents()
            total += contents.get_data().count(b" l S")  # each one a line segment stroked
        return total

    # 2 signatures x 3 strokes x 29 segments drawn as lines, and no picture of them
    assert line_ops(signed_pdf) - line_ops(unsigned_pdf) >= 2 * 3 * 29
    last = flat(signed_pdf.pages[-1].extract_text() + signed_pdf.pages[-2].extract_text())
    assert "Łukasz Żółć Parent or guardian · 25 Nov 2026, 14:30 UTC+01:00" in last
    assert "Clinician · 25 Nov 2026, 14:33 UTC+01:00" in last
    assert "Not yet signed" in flat(" ".join(p.extract_text() for p in unsigned_pdf.pages))


def test_aftercare_and_referral_render() -> None:
    case = minor_amber_case()
    after = compose_aftercare(template("aftercare"), document_id="AFT-1", **case)
    text = flat(" ".join(pages_text(render_pdf(after, PROFILE, fonts=FONTS))))
    for title in ("The first 24 hours", "From day 2", "For the first week", "When to call us"):
        assert title in text
    assert "Extra care: watching for white patches" in text

    ref = compose_referral(template("referral"), document_id="REF-1", **red_referral_case())
    pages = pages_text(render_pdf(ref, PROFILE, fonts=FONTS))
    text = flat(" ".join(pages))
    for row in ("R1 Red C/E/D", "R3 Red E/D", "C2 Clearance P", "N2 Not today P"):
        assert row in text, row
    assert "Who to see next" in text and "What to watch for" in text
    assert "DEFER" in text
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_markup_characters_and_long_words_stay_inside_the_page() -> None:
    case = minor_amber_case()
    patient = replace(case["patient"], given_name="<b>Anna & Co</b>", family_name="O'Brien")
    procedure = replace(
        case["consultation"].procedure, product="Serum-" + "x" * 140, areas=("left cheek",) * 9
    )
    consultation = replace(case["consultation"], procedure=procedure)
    content, profile = consent(patient=patient, consultation=consultation)
    data = render_pdf(content, profile, fonts=FONTS)
    assert "<b>Anna & Co</b> O'Brien" in pages_text(data)[0]
    if not shutil.which("pdftotext"):
        return
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")
    width = float(re.search(r'<page width="([\d.]+)"', xhtml).group(1))  # type: ignore[union-attr]
    right_edges = [float(x) for x in re.findall(r'xMax="([\d.]+)"', xhtml)]
    left_edges = [float(x) for x in re.findall(r'xMin="([\d.]+)"', xhtml)]
    assert max(right_edges) <= width - 17 * MM
    assert min(left_edges) >= 17 * MM
