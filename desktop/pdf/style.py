"""Colours and paragraph styles of the printed sheets (reportlab, for desktop.pdf)."""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle

from desktop.pdf.text import Typesetter

__all__ = [
    "ACCENT",
    "BADGES",
    "INK",
    "MUTED",
    "NOTICES",
    "RULE",
    "SHADE",
    "Styles",
]


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


class Styles:
    """Paragraph styles of the sheets, and `para` to set a text in one of them."""

    def __init__(self, typesetter: Typesetter) -> None:
        fonts = typesetter.fonts
        self.regular, self.bold, self.italic = fonts.regular, fonts.bold, fonts.italic
        self.ts = typesetter
        self.para = typesetter.para
        regular, bold = self.regular, self.bold

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
        self.clinic = style("clinic", fontName=bold, fontSize=15, leading=18, textColor=ACCENT)
        self.clinic_line = style("clinic_line", fontSize=8.5, leading=10.8, textColor=MUTED)
