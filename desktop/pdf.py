"""Render a composed sheet (DocumentContent) to PDF bytes; the only module importing reportlab."""

from __future__ import annotations

import io
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import Paragraph as RLParagraph

from desktop.consent_blocks import (
    BadgeTone,
    Block,
    Bullets,
    DocumentContent,
    Fields,
    Heading,
    Notice,
    Outcome,
    Paragraph,
    Rules,
    SignatureBlock,
    Signatures,
    format_datetime,
)
from desktop.consent_blocks import Table as TableBlock
from desktop.models import ClinicProfile

__all__ = ["FontFiles", "render_pdf"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FontFiles:
    """The TTF files all text is set in (the caller knows where resources live)."""

    regular: Path
    bold: Path
    italic: Path


# -- colours and styles -----------------------------------------------------------------------

INK = colors.HexColor("#1d2430")
MUTED = colors.HexColor("#5b6573")
ACCENT = colors.HexColor("#1b5e7a")
RULE = colors.HexColor("#c9d1da")
SHADE = colors.HexColor("#f1f4f7")
BADGES: dict[str, tuple[Any, Any]] = {  # tone -> (background, text)
    "green": (colors.HexColor("#2e7d32"), colors.white),
    "amber": (colors.HexColor("#f2b233"), colors.HexColor("#1d2430")),
    "red": (colors.HexColor("#c0392b"), colors.white),
    "blue": (colors.HexColor("#1f6fb2"), colors.white),
    "grey": (colors.HexColor("#6b7280"), colors.white),
}
NOTICES: dict[str, tuple[Any, Any]] = {  # tone -> (background, border)
    "info": (colors.HexColor("#eaf2fb"), colors.HexColor("#1f6fb2")),
    "warning": (colors.HexColor("#fff4dc"), colors.HexColor("#d99a00")),
    "danger": (colors.HexColor("#fdecea"), colors.HexColor("#c0392b")),
    "demo": (colors.HexColor("#fdecea"), colors.HexColor("#c0392b")),
}

rl_config.useA85 = 0  # plain binary streams: ~5% smaller and faster (no other reportlab user)

_FONT_LOCK = threading.Lock()
_FONT_NAMES: dict[tuple[str, str, str], tuple[str, str, str]] = {}


def _register_fonts(fonts: FontFiles) -> tuple[str, str, str]:
    """Register the TTFs once per process; returns (regular, bold, italic) font names."""
    key = (str(fonts.regular), str(fonts.bold), str(fonts.italic))
    with _FONT_LOCK:
        names = _FONT_NAMES.get(key)
        if names is None:
            base = f"ClinicSans{len(_FONT_NAMES) or ''}"
            names = (base, f"{base}-Bold", f"{base}-Italic")
            for name, path in zip(names, key, strict=True):
                pdfmetrics.registerFont(TTFont(name, path))
            pdfmetrics.registerFontFamily(
                base, normal=names[0], bold=names[1], italic=names[2], boldItalic=names[1]
            )
            _FONT_NAMES[key] = names
        return names


class _Styles:
    def __init__(self, regular: str, bold: str, italic: str) -> None:
        self.regular, self.bold, self.italic = regular, bold, italic

        def style(name: str, **kw: Any) -> Any:
            base: dict[str, Any] = {
                "fontName": regular,
                "bulletFontName": regular,
                "fontSize": 10.5,
                "leading": 14.2,
                "textColor": INK,
            }
            base.update(kw)
            return ParagraphStyle(name, **base)

        self.body = style("body", spaceAfter=5)
        self.strong = style("strong", fontName=bold, spaceAfter=5)
        self.small = style("small", fontSize=8.5, leading=11, textColor=MUTED, spaceAfter=4)
        self.title = style("title", fontName=bold, fontSize=18, leading=22, spaceAfter=2)
        self.subtitle = style("subtitle", fontSize=9.5, leading=12, textColor=MUTED, spaceAfter=8)
        self.h1 = style(
            "h1",
            fontName=bold,
            fontSize=13,
            leading=16,
            textColor=ACCENT,
            spaceBefore=10,
            spaceAfter=5,
            keepWithNext=1,
        )
        self.h2 = style(
            "h2",
            fontName=bold,
            fontSize=11,
            leading=14,
            spaceBefore=7,
            spaceAfter=4,
            keepWithNext=1,
        )
        self.bullet = style("bullet", leftIndent=14, bulletIndent=3, spaceAfter=2.5)
        self.small_head = style(
            "small_head", fontName=bold, fontSize=8.5, leading=11, textColor=MUTED, spaceAfter=1
        )
        self.small_bullet = style(
            "small_bullet",
            fontSize=8.5,
            leading=10.5,
            textColor=MUTED,
            leftIndent=12,
            bulletIndent=3,
            spaceAfter=0.5,
        )
        self.cell = style("cell", fontSize=9.5, leading=12.2)
        self.cell_label = style(
            "cell_label", fontName=bold, fontSize=9, leading=12, textColor=MUTED
        )
        self.cell_head = style("cell_head", fontName=bold, fontSize=9, leading=11.5)
        self.badge = style("badge", fontName=bold, fontSize=8.5, leading=10.5, alignment=TA_CENTER)
        self.notice_title = style("notice_title", fontName=bold, spaceAfter=2)
        self.sig_name = style("sig_name", fontName=bold, fontSize=10, leading=12.5)
        self.sig_meta = style("sig_meta", fontSize=8.5, leading=11, textColor=MUTED)


def _p(text: str, style: Any) -> Any:
    """A paragraph of plain text: markup characters are escaped, line breaks kept."""
    return RLParagraph(escape(text).replace("\n", "<br/>"), style)


# -- flowables --------------------------------------------------------------------------------


class _SignatureDrawing(Flowable):  # type: ignore[misc]
    """Handwritten strokes as vector paths, scaled into the box keeping their aspect ratio."""

    def __init__(self, block: SignatureBlock, width: float, height: float, caption_font: str):
        super().__init__()
        self.block, self.width, self.height, self.font = block, width, height, caption_font

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c, b = self.canv, self.block
        c.saveState()
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        c.setLineWidth(0.5)
        c.line(6, 9, self.width - 6, 9)  # the line one signs on
        if not b.strokes:
            c.setFillColor(MUTED)
            c.setFont(self.font, 9)
            c.drawCentredString(self.width / 2, self.height / 2 - 3, b.caption)
            c.restoreState()
            return
        pad = 4.0
        scale = min((self.width - 2 * pad) / b.pad_width, (self.height - 2 * pad) / b.pad_height)
        dx = (self.width - b.pad_width * scale) / 2
        dy = (self.height - b.pad_height * scale) / 2
        c.setStrokeColor(colors.HexColor("#10234a"))
        c.setFillColor(colors.HexColor("#10234a"))
        c.setLineCap(1)
        c.setLineJoin(1)
        for stroke in b.strokes:
            pts = [(dx + x * scale, dy + (b.pad_height - y) * scale, p) for x, y, p in stroke]
            if len(pts) == 1:
                x, y, p = pts[0]
                c.circle(x, y, 0.4 + 0.6 * p, stroke=0, fill=1)
                continue
            for (x1, y1, p1), (x2, y2, p2) in itertools.pairwise(pts):
                c.setLineWidth(0.5 + 1.1 * (p1 + p2) / 2)
                c.line(x1, y1, x2, y2)
        c.restoreState()


# -- block rendering --------------------------------------------------------------------------


class _Story:
    def __init__(self, styles: _Styles, width: float, page_height: float) -> None:
        self.s = styles
        self.width = width
        self.page_height = page_height
        self.flow: list[Any] = []

    def render(self, blocks: Sequence[Block]) -> list[Any]:
        handlers: dict[type, Callable[[Any], None]] = {
            Heading: self.heading,
            Paragraph: self.paragraph,
            Bullets: self.bullets,
            Fields: self.fields,
            Outcome: self.outcome,
            Rules: self.rules,
            TableBlock: self.table,
            Notice: self.notice,
            Signatures: self.signatures,
        }
        out: list[Any] = []
        group: list[Any] = []
        for block in blocks:
            if isinstance(block, Heading):
                out += self._keep(group)
                group = []
            self.flow = []
            handlers[type(block)](block)
            group += self.flow
        return out + self._keep(group)

    def _keep(self, group: list[Any]) -> list[Any]:
        """A short section (a heading and what follows it) is not split across pages."""
        if not group:
            return []
        height = sum(
            f.wrap(self.width, self.page_height)[1] + f.getSpaceBefore() + f.getSpaceAfter()
            for f in group
        )
        if height > 0.45 * self.page_height:
            return group
        return [KeepTogether(group)]

    def heading(self, b: Heading) -> None:
        self.flow.append(_p(b.text, self.s.h1 if b.level <= 1 else self.s.h2))

    def paragraph(self, b: Paragraph) -> None:
        style = {"small": self.s.small, "strong": self.s.strong}.get(b.style, self.s.body)
        self.flow.append(_p(b.text, style))

    def bullets(self, b: Bullets) -> None:
        small = b.style == "small"
        if b.intro:
            self.flow.append(_p(b.intro, self.s.small_head if small else self.s.body))
        style = self.s.small_bullet if small else self.s.bullet
        for item in b.items:
            self.flow.append(RLParagraph(escape(item), style, bulletText="•"))
        self.flow.append(Spacer(1, 3))

    def _grid(self, data: list[list[Any]], widths: list[float], extra: list[Any]) -> Any:
        table = Table(data, colWidths=widths, hAlign="LEFT", repeatRows=0)
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("FONTNAME", (0, 0), (-1, -1), self.s.regular),
                    ("TOPPADDING", (0, 0), (-1, -1), 3.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
                    ("LEFTPADDING", (0, 0), (-1, -1), 5),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 5),
                    *extra,
                ]
            )
        )
        return table

    def fields(self, b: Fields) -> None:
        s, w = self.s, self.width
        pairs = [(_p(k, s.cell_label), _p(v, s.cell)) for k, v in b.rows]
        short = all(len(k) <= 22 and len(v) <= 30 for k, v in b.rows)
        if short and len(pairs) >= 4:  # two label-value pairs per row
            rows = [
                [*pairs[i], *(pairs[i + 1] if i + 1 < len(pairs) else ("", ""))]
                for i in range(0, len(pairs), 2)
            ]
            widths = [0.2 * w, 0.3 * w, 0.2 * w, 0.3 * w]
        else:
            longest = max(len(k) for k, _ in b.rows)
            label_w = 0.28 * w if longest <= 30 else 0.42 * w
            rows = [list(pair) for pair in pairs]
            widths = [label_w, w - label_w]
        extra = [
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
            ("BACKGROUND", (0, 0), (-1, -1), SHADE),
            ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ]
        self.flow += [self._grid(rows, widths, extra), Spacer(1, 6)]

    def _badge(self, word: str, tone: BadgeTone) -> tuple[Any, Any]:
        """A word on a coloured ground: the colour helps, the word carries the meaning."""
        bg, fg = BADGES.get(tone, BADGES["grey"])
        return _p(word, ParagraphStyle("badge", parent=self.s.badge, textColor=fg)), bg

    def outcome(self, b: Outcome) -> None:
        s, w = self.s, self.width
        data: list[list[Any]] = []
        extra: list[Any] = [("BOX", (0, 0), (-1, -1), 0.6, RULE)]
        for i, row in enumerate(b.rows):
            badge, bg = self._badge(row.badge, row.tone)
            data.append([_p(row.label, s.cell_label), badge, _p(row.meaning, s.cell)])
            extra += [
                ("BACKGROUND", (1, i), (1, i), bg),
                ("LINEBELOW", (0, i), (-1, i), 0.4, RULE),
                ("VALIGN", (0, i), (-1, i), "MIDDLE"),
            ]
        self.flow += [self._grid(data, [0.25 * w, 0.17 * w, 0.58 * w], extra), Spacer(1, 6)]

    def rules(self, b: Rules) -> None:
        s, w = self.s, self.width
        data: list[list[Any]] = [[_p(c, s.cell_head) for c in b.columns]]
        extra: list[Any] = [
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
            ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ]
        for i, r in enumerate(b.rows, start=1):
            badge, bg = self._badge(r.severity, r.tone)
            sources = ", ".join(str(n) for n in r.sources) or "-"
            data.append(
                [
                    _p(r.rule, s.cell_head),
                    badge,
                    _p(r.basis, s.cell),
                    _p(r.text, s.cell),
                    _p(sources, s.cell),
                ]
            )
            extra += [("BACKGROUND", (1, i), (1, i), bg), ("VALIGN", (1, i), (1, i), "MIDDLE")]
        widths = [0.08 * w, 0.15 * w, 0.09 * w, 0.52 * w, 0.16 * w]
        table = self._grid(data, widths, extra)
        table.repeatRows = 1
        self.flow += [table, Spacer(1, 4)]

    def table(self, b: TableBlock) -> None:
        s, w = self.s, self.width
        data = [[_p(c, s.cell_head) for c in b.header]]
        data += [[_p(c, s.cell) for c in row] for row in b.rows]
        widths = [w / len(b.header)] * len(b.header)
        extra = [
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
            ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ]
        table = self._grid(data, widths, extra)
        table.repeatRows = 1
        self.flow += [table, Spacer(1, 6)]

    def notice(self, b: Notice) -> None:
        s = self.s
        bg, border = NOTICES.get(b.tone, NOTICES["info"])
        body_style = s.strong if b.tone == "demo" else s.body
        cell: list[Any] = []
        if b.title:
            cell.append(_p(b.title, s.notice_title))
        cell.append(_p(b.text, ParagraphStyle("n", parent=body_style, spaceAfter=0)))
        extra = [
            ("BACKGROUND", (0, 0), (-1, -1), bg),
            ("LINEBEFORE", (0, 0), (0, -1), 3, border),
            ("TOPPADDING", (0, 0), (-1, -1), 6),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
            ("LEFTPADDING", (0, 0), (-1, -1), 9),
        ]
        self.flow += [Spacer(1, 2), self._grid([[cell]], [self.width], extra), Spacer(1, 7)]

    def signatures(self, b: Signatures) -> None:
        s = self.s
        col = (self.width - 8 * mm) / 2
        box_h = col * 0.34

        def cell(sig: SignatureBlock) -> list[Any]:
            name = sig.signer_name or "\u00a0"
            meta = f"{sig.role_label}" + (f" · {sig.signed_at_text}" if sig.signed else "")
            return [
                _SignatureDrawing(sig, col, box_h, s.regular),
                Spacer(1, 3),
                _p(name, s.sig_name),
                _p(meta, s.sig_meta),
            ]

        cells = [cell(sig) for sig in b.items]
        rows = [
            [cells[i], cells[i + 1] if i + 1 < len(cells) else ""] for i in range(0, len(cells), 2)
        ]
        extra = [
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
        ]
        for row in rows:  # a one-row table: each pair of signatures stays on one page
            self.flow.append(self._grid([row], [col + 8 * mm, col], extra))


# -- page furniture ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Furniture:
    content: DocumentContent
    profile: ClinicProfile
    fonts: tuple[str, str, str]
    digest: str

    def footer(self, c: Any, page: int, total: int) -> None:
        regular, bold, _ = self.fonts
        width, _height = c._pagesize
        left, right, y = 18 * mm, width - 18 * mm, 8 * mm
        k = self.content
        self._watermark(c)  # drawn last: over table backgrounds too, faint enough to read through
        page_label = f"Page {page} of {total}"
        lines = (
            f"Document {k.document_id}",
            f"Checklist {k.checklist_id} version {k.checklist_version}  ·  "
            f"Template {k.template_id} version {k.template_version}",
            f"Content SHA-256: {self.digest}",
        )
        c.saveState()
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(left, y + 12 * mm, right, y + 12 * mm)
        c.setFillColor(MUTED)
        c.setFont(regular, 7)
        room = right - left - c.stringWidth(page_label, bold, 8.5) - 6 * mm
        for i, line in enumerate(lines):
            c.drawString(left, y + (8.5 - 3.2 * i) * mm, _fit(c, line, regular, 7, room))
        c.setFont(bold, 8.5)
        c.setFillColor(INK)
        c.drawRightString(right, y + 8.5 * mm, page_label)
        if k.demo:
            c.setFillColor(BADGES["red"][0])
            c.drawRightString(right, y + 2.1 * mm, "DEMO")
        c.restoreState()

    def first_page(self, c: Any, doc: Any) -> None:
        width, height = c._pagesize
        left, right, top = 18 * mm, width - 18 * mm, height - 14 * mm
        regular, bold, _ = self.fonts
        p = self.profile
        text_right = right
        logo = self._logo()
        if logo is not None:
            iw, ih = logo.getSize()
            h = 18 * mm
            w = min(50 * mm, h * iw / ih)
            h = w * ih / iw
            c.drawImage(logo, right - w, top - h + 2 * mm, w, h, mask="auto")
            text_right = right - w - 6 * mm
        c.saveState()
        c.setFillColor(ACCENT)
        c.setFont(bold, 15)
        c.drawString(left, top - 4 * mm, _fit(c, p.name, bold, 15, text_right - left))
        c.setFillColor(MUTED)
        c.setFont(regular, 8.5)
        y = top - 9.5 * mm
        for line in [*p.address.splitlines(), *([f"Tel. {p.phone}"] if p.phone else [])][:3]:
            c.drawString(left, y, _fit(c, line, regular, 8.5, text_right - left))
            y -= 3.8 * mm
        c.setStrokeColor(ACCENT)
        c.setLineWidth(1.2)
        c.line(left, height - 34 * mm, right, height - 34 * mm)
        c.restoreState()

    def later_page(self, c: Any, doc: Any) -> None:
        width, height = c._pagesize
        left, right, y = 18 * mm, width - 18 * mm, height - 13 * mm
        regular, bold, _ = self.fonts
        c.saveState()
        c.setFillColor(MUTED)
        c.setFont(bold, 8.5)
        c.drawString(left, y, _fit(c, self.profile.name, bold, 8.5, (right - left) * 0.45))
        c.setFont(regular, 8.5)
        who = f"{self.content.title} · {self.content.patient_name}"
        c.drawRightString(right, y, _fit(c, who, regular, 8.5, (right - left) * 0.53))
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.line(left, y - 2.5 * mm, right, y - 2.5 * mm)
        c.restoreState()

    def _watermark(self, c: Any) -> None:
        if not self.content.demo:
            return
        width, height = c._pagesize
        c.saveState()
        c.setFillColor(colors.HexColor("#c0392b"))
        c.setFillAlpha(0.09)
        c.setFont(self.fonts[1], 130)
        c.translate(width / 2, height / 2)
        c.rotate(40)
        c.drawCentredString(0, -45, "DEMO")
        c.restoreState()
        c.saveState()
        c.setFillColor(BADGES["red"][0])
        c.rect(0, height - 5 * mm, width, 5 * mm, stroke=0, fill=1)
        c.setFillColor(colors.white)
        c.setFont(self.fonts[1], 7.5)
        c.drawCentredString(width / 2, height - 3.5 * mm, "DEMO — not a real patient record")
        c.restoreState()

    def _logo(self) -> Any:
        if not self.profile.logo_png:
            return None
        try:
            reader = ImageReader(io.BytesIO(self.profile.logo_png))
            reader.getSize()
        except Exception:  # a bad logo must not stop a consent from printing
            log.warning("The clinic logo could not be read; printing without it", exc_info=True)
            return None
        return reader


def _fit(c: Any, text: str, font: str, size: float, width: float) -> str:
    """Shorten a one-line text with an ellipsis so it never runs past `width`."""
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


class _Stamp:
    """What reportlab's document info reads for CreationDate/ModDate, from a given time."""

    def __init__(self, when: datetime) -> None:
        offset = when.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        self.t = when.timestamp()
        self.YMDhms = (when.year, when.month, when.day, when.hour, when.minute, when.second)
        self.dhh, self.dmm = int(minutes / 60), abs(minutes) % 60


def _numbered_canvas(furniture: _Furniture) -> type:
    """A canvas that holds pages back until the end, so each footer can say 'Page x of y'."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []
            if furniture.content.issued and hasattr(self._doc, "_timeStamp"):
                # invariant output dates itself 2000-01-01; date it when the sheet was issued
                self._doc._timeStamp = _Stamp(datetime.fromisoformat(furniture.content.issued))

        def showPage(self) -> None:
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for number, state in enumerate(self._saved, start=1):
                self.__dict__.update(state)
                furniture.footer(self, number, total)
                Canvas.showPage(self)
            Canvas.save(self)

    return NumberedCanvas


def render_pdf(
    content: DocumentContent, profile: ClinicProfile, *, fonts: FontFiles, invariant: bool = True
) -> bytes:
    """The sheet as PDF bytes; with `invariant` the same input gives byte-identical output."""
    names = _register_fonts(fonts)
    styles = _Styles(*names)
    pagesize = LETTER if profile.paper == "Letter" else A4
    width, height = pagesize
    margin = 18 * mm
    furniture = _Furniture(content, profile, names, content.content_sha256())
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
    story: list[Any] = [NextPageTemplate("later"), _p(content.title, styles.title)]
    subtitle = content.patient_name
    if content.issued:
        subtitle += f"  ·  {format_datetime(datetime.fromisoformat(content.issued))}"
    story.append(_p(subtitle, styles.subtitle))
    story += _Story(styles, frame_w, later_h).render(content.blocks)
    doc.build(story, canvasmaker=_numbered_canvas(furniture))
    return buf.getvalue()
