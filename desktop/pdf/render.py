"""Render a composed sheet (DocumentContent) to PDF bytes; reportlab lives here and in pdf/."""

from __future__ import annotations

import io
import threading
from datetime import datetime
from typing import Any

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.platypus import BaseDocTemplate, Frame, NextPageTemplate, PageTemplate

from desktop.consent.blocks import DocumentContent, format_datetime, isolate
from desktop.models import ClinicProfile
from desktop.pdf.blocks import Story
from desktop.pdf.fonts import FontFiles, fonts_for
from desktop.pdf.page import SIDE, Furniture, Geometry, numbered_canvas
from desktop.pdf.printable import check_texts, sheet_texts
from desktop.pdf.style import Styles
from desktop.pdf.text import Typesetter

__all__ = ["RTL_LANGUAGES", "render_pdf"]

rl_config.useA85 = 0  # plain binary streams: ~5% smaller and faster (no other reportlab user)

#: Template languages written right to left: their paragraphs start on the right.
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})

# reportlab's font registry and settings are process-wide: one sheet at a time
_RENDER_LOCK = threading.Lock()


def render_pdf(
    content: DocumentContent,
    profile: ClinicProfile,
    *,
    fonts: FontFiles,
    invariant: bool = True,
    mark_undrawable: bool = False,
) -> bytes:
    """The sheet as PDF bytes; with `invariant` the same input gives byte-identical output.

    Raises `UndrawableText` (a ValidationError naming the character) when some character of
    the sheet has no font to draw it, unless `mark_undrawable`: then (for a preview) each such
    character is printed as its code, U+XXXX, in red.
    """
    with _RENDER_LOCK:
        return _render(content, profile, fonts, invariant, mark_undrawable)


def _render(
    content: DocumentContent,
    profile: ClinicProfile,
    files: FontFiles,
    invariant: bool,
    mark: bool,
) -> bytes:
    fonts = fonts_for(files)
    texts = list(sheet_texts(content, profile))
    fonts.prepare(texts)
    if not mark:
        check_texts(texts, files)
    ts = Typesetter(fonts, rtl=content.language.split("-")[0] in RTL_LANGUAGES, mark=mark)
    styles = Styles(ts)
    pagesize = LETTER if profile.paper == "Letter" else A4
    width, height = pagesize
    geometry = Geometry(width, height, content.demo)
    furniture = Furniture(content, profile, styles, content.content_sha256(), geometry)
    buf = io.BytesIO()
    bottom = geometry.frame_bottom
    doc = BaseDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=SIDE,
        rightMargin=SIDE,
        topMargin=height - geometry.first_frame_top,
        bottomMargin=bottom,
        title=content.title,
        author=profile.name,
        subject=content.document_id,
        creator="Clinic Intake",
        keywords=[content.kind, content.template_id, content.template_version],
        invariant=1 if invariant else 0,
        pageCompression=1,
        lang=content.language,
        initialFontName=fonts.regular,  # no stray Helvetica resource
    )
    frame_w = width - 2 * SIDE
    pads = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    first_h = geometry.first_frame_top - bottom
    later_h = geometry.later_frame_top - bottom
    first = Frame(SIDE, bottom, frame_w, first_h, id="first", **pads)
    later = Frame(SIDE, bottom, frame_w, later_h, id="later", **pads)
    doc.addPageTemplates(
        [
            PageTemplate("first", [first], onPage=furniture.first_page),
            PageTemplate("later", [later], onPage=furniture.later_page),
        ]
    )
    story: list[Any] = [NextPageTemplate("later"), *furniture.header(frame_w)]
    story.append(styles.para(content.title, styles.title))
    subtitle = isolate(content.patient_name)
    if content.issued:
        subtitle += f"  ·  {format_datetime(datetime.fromisoformat(content.issued))}"
    story.append(styles.para(subtitle, styles.subtitle))
    story += Story(styles, frame_w, later_h).render(content.blocks)
    doc.build(story, canvasmaker=numbered_canvas(furniture))
    return buf.getvalue()
