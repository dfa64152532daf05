"""Consent rendering time and size by script, next to bare reportlab setting the same texts."""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import replace
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate

from desktop.consent import compose_consent
from desktop.consent.blocks import DocumentContent
from desktop.models import ClinicProfile
from desktop.pdf import render_pdf
from desktop.pdf.printable import sheet_texts
from tests.helpers.consent import minor_amber_case, template
from tests.helpers.pdf import FONTS

ROUNDS = 15
NAMES = {
    "Latin": ("Zoë", "Ødegård"),
    "Arabic": ("فاطمة", "الزهراء"),
    "Chinese": ("陈", "美玲"),
    "Devanagari": ("प्रिया", "शर्मा"),
}
CJK_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚"


def sheet(given: str, family: str) -> tuple[DocumentContent, ClinicProfile]:
    case = minor_amber_case()
    case["patient"] = replace(case["patient"], given_name=given, family_name=family)
    guardian, clinician = case["signatures"]
    case["signatures"] = (replace(guardian, signer_name=f"{given} {family}"), clinician)
    return compose_consent(template("consent"), document_id="C-1", **case), case["profile"]


def bare(content: DocumentContent, profile: ClinicProfile) -> bytes:
    """reportlab alone: every text of the sheet as a DejaVu paragraph (no fallback, shaping,
    bidi, tables or furniture)."""
    if "BenchDejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("BenchDejaVu", str(FONTS.regular)))
    style = ParagraphStyle("b", fontName="BenchDejaVu", fontSize=10, leading=13)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, invariant=1)
    doc.build([Paragraph(escape(t), style) for t in sheet_texts(content, profile) if t.strip()])
    return buf.getvalue()


def median_ms(fn: object, rounds: int = ROUNDS) -> float:
    """Median CPU time of this process (steadier than wall time on a shared, busy machine)."""
    times = []
    for _ in range(rounds):
        t0 = time.process_time()
        fn()  # type: ignore[operator]
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


def test_render_by_script() -> None:
    lines = []
    for label, name in NAMES.items():
        content, profile = sheet(*name)
        pdf = render_pdf(content, profile, fonts=FONTS)  # warm: fonts found and registered
        ours = median_ms(lambda c=content, p=profile: render_pdf(c, p, fonts=FONTS))
        base = median_ms(lambda c=content, p=profile: bare(c, p))
        lines.append(
            f"{label:<11} consent {ours:6.1f} ms CPU, {len(pdf) / 1000:5.1f} kB; bare reportlab "
            f"same texts {base:5.1f} ms; ratio {ours / base:4.1f}x"
        )
    # a CJK name never seen before: HarfBuzz subset + CFF to TrueType conversion every time
    fresh = []
    for i in range(8):
        content, profile = sheet(CJK_GIVEN[i : i + 2], CJK_GIVEN[i + 10 : i + 12])
        t0 = time.process_time()
        render_pdf(content, profile, fonts=FONTS)
        fresh.append((time.process_time() - t0) * 1000)
    lines.append(
        f"Chinese, new characters each time (subset made): {statistics.median(fresh):.1f} ms"
    )
    print("\n" + "\n".join(lines))
