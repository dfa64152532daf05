"""Render a composed sheet (DocumentContent) to PDF bytes; reportlab lives here and in pdf_*.py."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Frame, NextPageTemplate, PageTemplate

from desktop.consent.blocks import DocumentContent, format_datetime
from desktop.models import ClinicProfile
from desktop.pdf.blocks import Story
from desktop.pdf.page import Furniture, numbered_canvas
from desktop.pdf.style import FontFiles, Styles, para, register_fonts

__all__ = ["FontFiles", "render_pdf"]

rl_config.useA85 = 0  # plain binary streams: ~5% smaller and faster (no other reportlab user)


def render_pdf(
    content: DocumentContent, profile: ClinicProfile, *, fonts: FontFiles, invariant: bool = True
) -> bytes:
    """The sheet as PDF bytes; with `invariant` the same input gives byte-identical output."""
    names = register_fonts(fonts)
    styles = Styles(*names)
    pagesize = LETTER if profile.paper == "Letter" else A4
    width, height = pagesize
    margin = 18 * mm
    furniture = Furniture(content, profile, names, content.content_sha256())
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=20 * mm,
        bottomMargin=24 * mm,
        title=content.title,
        author=profile.name,
        subject=content.document_id,
        creator="Clinic Intake",
        keywords=[content.kind, content.template_id, content.template_version],
        invariant=1 if invariant else 0,
        pageCompression=1,
        lang=content.language,
        initialFontName=names[0],  # no stray Helvetica resource: every font is DejaVu
    )
    frame_w = width - 2 * margin
    pads = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    first = Frame(margin, 24 * mm, frame_w, height - 24 * mm - 38 * mm, id="first", **pads)
    later_h = height - 24 * mm - 20 * mm
    later = Frame(margin, 24 * mm, frame_w, later_h, id="later", **pads)
    doc.addPageTemplates(
        [
            PageTemplate("first", [first], onPage=furniture.first_page),
            PageTemplate("later", [later], onPage=furniture.later_page),
        ]
    )
    story: list[Any] = [NextPageTemplate("later"), para(content.title, styles.title)]
    subtitle = content.patient_name
    if content.issued:
        subtitle += f"  ·  {format_datetime(datetime.fromisoformat(content.issued))}"
    story.append(para(subtitle, styles.subtitle))
    story += Story(styles, frame_w, later_h).render(content.blocks)
    doc.build(story, canvasmaker=numbered_canvas(furniture))
    return buf.getvalue()
