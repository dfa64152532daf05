"""Text in any script on a sheet: a font per character, shaping, right-to-left order, lines."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, shapeStr
from reportlab.platypus import Flowable
from reportlab.platypus import Paragraph as RLParagraph

from desktop.pdf.fonts import Fonts, Weight, is_ignorable

__all__ = ["Typesetter", "needs_layout", "normalise"]

Align = Literal["left", "right", "centre"]
_RTL_CLASSES = frozenset({"R", "AL", "RLE", "RLO", "RLI"})
_EXPLICIT = frozenset({"LRE", "LRO", "PDF", "LRI", "FSI", "PDI"})
_JAMO = ((0x1100, 0x11FF), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))
MARK_COLOUR = "#c0392b"


def normalise(text: str) -> str:
    """NFC (a name typed with combining accents prints like a precomposed one), tabs as
    spaces, every line ending as one newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return unicodedata.normalize("NFC", text)


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in text)


_DIRECTION_MARKS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def needs_layout(text: str) -> bool:
    """Text that reportlab's own paragraph cannot set: right-to-left characters, or anything
    shaped (combining marks, joiners, conjoining jamo)."""
    for c in text:
        cat = unicodedata.category(c)
        if cat in ("Mn", "Mc", "Me") or cat == "Cf":
            return True
        bidi = unicodedata.bidirectional(c)
        if bidi in _RTL_CLASSES or bidi in _EXPLICIT:
            return True
        if any(lo <= ord(c) <= hi for lo, hi in _JAMO):
            return True
    return False


def bidi_levels(text: str, base: int) -> list[int]:
    """The Unicode bidirectional algorithm's embedding level of each character (python-bidi)."""
    if not _has_rtl(text) and not any(unicodedata.bidirectional(c) in _EXPLICIT for c in text):
        return [base] * len(text)
    from bidi import get_display

    report = str(get_display(text, base_dir="LR"[base], debug=True))
    section = re.search(r"levels:\s*\[(.*?)\]\s*,\s*paragraphs", report, re.S)
    if section is None:
        raise RuntimeError("python-bidi did not report levels")
    by_byte = [int(n) for n in re.findall(r"Level\(\s*(\d+)\s*,?\s*\)", section.group(1))]
    levels: list[int] = []
    offset = 0
    for c in text:
        level = by_byte[offset] if offset < len(by_byte) else base
        if is_ignorable(c) and levels:
            level = levels[-1]  # a joiner or mark keeps the level of what it joins
        levels.append(level)
        offset += len(c.encode("utf-8"))
    return levels


_MIRROR: dict[str, str] = {}


def _mirrored(text: str) -> str:
    """Neutral characters in a right-to-left run: reversed, brackets mirrored."""
    if not _MIRROR:
        from bidi.mirror import MIRRORED

        _MIRROR.update(MIRRORED)
    return "".join(_MIRROR.get(c, c) for c in reversed(text))


# -- pieces and lines ---------------------------------------------------------------------------


@dataclass
class Piece:
    """Characters of one font, one embedding level, in logical order, measured."""

    text: str
    font: str
    size: float
    level: int
    space: bool
    width: float = 0.0
    shaped: Any = None  # reportlab's ShapedStr when HarfBuzz changed anything
    strong_rtl: bool = False
    marked: bool = False  # the code of a character no font has, drawn in red
    x: float = 0.0  # where it was drawn

    @property
    def rtl(self) -> bool:
        return self.level % 2 == 1


@dataclass
class Line:
    pieces: list[Piece] = field(default_factory=list)  # visual order once finished
    width: float = 0.0


def _measure(p: Piece) -> Piece:
    if p.space:
        font = p.font if p.font else "Helvetica"
        widths = [pdfmetrics.stringWidth(c, font, p.size) for c in p.text]
        p.width = sum(widths)
        return p
    p.strong_rtl = p.rtl and _has_rtl(p.text)
    if p.strong_rtl or needs_layout(p.text):
        shaped = shapeStr(p.text, p.font, p.size, force=p.strong_rtl)
        if isinstance(shaped, ShapedStr):
            p.shaped = shaped
            p.width = sum(d.x_advance for d in shaped.__shapeData__) * p.size / 1000
            return p
    p.width = pdfmetrics.stringWidth(p.text, p.font, p.size)
    return p


def _reorder(pieces: list[Piece]) -> list[Piece]:
    """Rule L2 of the bidirectional algorithm, on pieces (each is one level)."""
    if not any(p.level for p in pieces):
        return pieces
    out = list(pieces)
    top = max(p.level for p in out)
    lowest_odd = min((p.level for p in out if p.level % 2), default=top + 1)
    for level in range(top, lowest_odd - 1, -1):
        i = 0
        while i < len(out):
            if out[i].level >= level:
                j = i
                while j < len(out) and out[j].level >= level:
                    j += 1
                out[i:j] = out[i:j][::-1]
                i = j
            else:
                i += 1
    return out


# -- the typesetter -----------------------------------------------------------------------------


class Typesetter:
    """Sets texts of one sheet: reportlab's paragraph where it can, our own lines where the
    text needs shaping or right-to-left order. `mark` draws a character no font has as its
    code (U+XXXX) in red instead of a box; sheets to be sealed never contain one."""

    def __init__(self, fonts: Fonts, *, rtl: bool = False, mark: bool = False) -> None:
        self.fonts = fonts
        self.base = 1 if rtl else 0
        self.mark = mark

    def weight_of(self, font: str) -> Weight:
        f = self.fonts
        return "bold" if font == f.bold else "italic" if font == f.italic else "regular"

    # paragraphs

    def para(self, text: str, style: Any, bullet: str | None = None) -> Any:
        """A flowable paragraph of plain text (markup characters are text, newlines kept)."""
        text = normalise(text)
        if not self.base and self.fonts.plain(text):
            return self._paragraph(escape(text).replace("\n", "<br/>"), style, bullet)
        if not self.base and not _has_rtl(text):
            text = _DIRECTION_MARKS.sub("", text)  # nothing to turn around
        if needs_layout(text) or self.base:
            return ShapedParagraph(self, text, style, bullet)
        return self._paragraph(self.markup(text, self.weight_of(style.fontName)), style, bullet)

    @staticmethod
    def _paragraph(markup: str, style: Any, bullet: str | None) -> Any:
        if bullet is None:
            return RLParagraph(markup, style)
        return RLParagraph(markup, style, bulletText=bullet)

    def markup(self, text: str, weight: Weight) -> str:
        primary = self.fonts.primary(weight)
        parts = []
        for run in self.fonts.runs(text, weight):
            if not run.font:
                parts.append(f'<font color="{MARK_COLOUR}">{escape(self._marked(run.text))}</font>')
                continue
            shown = "".join(c for c in run.text if not is_ignorable(c))
            body = escape(shown).replace("\n", "<br/>")
            parts.append(body if run.font == primary else f'<font face="{run.font}">{body}</font>')
        return "".join(parts)

    def _marked(self, text: str) -> str:
        if not self.mark:
            raise RuntimeError(f"no font draws {text!r}: check_printable must refuse it first")
        return "".join(c if c == " " else f"[U+{ord(c):04X}]" for c in text)

    # lines of our own

    def pieces(self, text: str, weight: Weight, size: float) -> list[Piece]:
        """One line of `text` (no newline) cut into measured pieces, in logical order."""
        levels = bidi_levels(text, self.base)
        fonts: list[str] = []
        for run in self.fonts.runs(text, weight):
            fonts += [run.font] * len(run.text)
        out: list[Piece] = []
        for ch, font, level in zip(text, fonts, levels, strict=True):
            if _DIRECTION_MARKS.match(ch):
                continue  # its work is done: the levels say it
            space = ch == " " or unicodedata.category(ch) == "Zs"
            if not font and not space:
                code = self._marked(ch)
                out.append(Piece(code, self.fonts.primary(weight), size, level, False, marked=True))
                continue
            last = out[-1] if out else None
            if (
                last
                and not last.marked
                and last.font == font
                and last.level == level
                and last.space == space
            ):
                last.text += ch
            else:
                out.append(Piece(ch, font or self.fonts.primary(weight), size, level, space))
        return [_measure(p) for p in out]

    def lines(self, text: str, weight: Weight, size: float, width: float) -> list[Line]:
        """`text` broken into lines no wider than `width` (between words; a word longer than a
        line is cut between characters), each in visual order."""
        lines: list[Line] = []
        for hard in normalise(text).split("\n"):
            lines += self._break(self.pieces(hard, weight, size), width)
        return lines

    def _break(self, pieces: list[Piece], width: float) -> list[Line]:
        words: list[list[Piece]] = []
        spaces: list[list[Piece]] = []  # the spaces before each word
        gap: list[Piece] = []
        for p in pieces:
            if p.space:
                gap.append(p)
            elif words and not gap:
                words[-1].append(p)
            else:
                words.append([p])
                spaces.append(gap)
                gap = []
        lines: list[Line] = []
        line = Line()
        for whole, before in zip(words, spaces, strict=True):
            word = whole
            w = sum(p.width for p in word)
            sw = sum(p.width for p in before) if line.pieces else 0.0
            if line.pieces and line.width + sw + w > width + 1e-6:
                lines.append(line)
                line, sw = Line(), 0.0
            if not line.pieces and w > width + 1e-6:
                chunks = self._cut(word, width)
                for chunk in chunks[:-1]:
                    lines.append(Line(chunk, sum(p.width for p in chunk)))
                word = chunks[-1]
                w = sum(p.width for p in word)
            if line.pieces:
                line.pieces += before
            line.pieces += word
            line.width += sw + w
        if line.pieces or not lines:
            lines.append(line)
        for done in lines:
            done.pieces = _reorder(done.pieces)
        return lines

    def _cut(self, word: list[Piece], width: float) -> list[list[Piece]]:
        """A word wider than the line, cut between characters (marks stay with their base)."""
        chunks: list[list[Piece]] = [[]]
        used = 0.0
        for p in word:
            for cluster in _clusters(p.text):
                part = _measure(Piece(cluster, p.font, p.size, p.level, False))
                if chunks[-1] and used + part.width > width:
                    chunks.append([])
                    used = 0.0
                last = chunks[-1][-1] if chunks[-1] else None
                if last is not None and last.font == p.font and last.level == p.level:
                    last.text += cluster
                    _measure(last)
                else:
                    chunks[-1].append(part)
                used = sum(q.width for q in chunks[-1])
        return chunks

    def line(self, text: str, weight: Weight, size: float, room: float | None = None) -> Line:
        """`text` as one line; with `room`, shortened with an ellipsis to fit it."""
        text = normalise(text).replace("\n", " ")
        pieces = self.pieces(text, weight, size)
        width = sum(p.width for p in pieces)
        if room is not None and width > room:
            clusters = _clusters(text)
            lo, hi = 0, len(clusters)
            while lo < hi:  # the longest start that fits with its ellipsis
                mid = (lo + hi + 1) // 2
                cut = "".join(clusters[:mid]).rstrip() + "…"
                if sum(p.width for p in self.pieces(cut, weight, size)) <= room:
                    lo = mid
                else:
                    hi = mid - 1
            pieces = self.pieces("".join(clusters[:lo]).rstrip() + "…", weight, size)
            width = sum(p.width for p in pieces)
        return Line(_reorder(pieces), width)

    def draw_line(self, canv: Any, x: float, y: float, line: Line, align: Align = "left") -> None:
        """Draw a line whose start (left, right or centre as `align` says) is at x."""
        if align == "right":
            x -= line.width
        elif align == "centre":
            x -= line.width / 2
        plain: list[Piece] = []  # consecutive simple pieces of one font: one string

        def flush() -> None:
            if plain:
                canv.setFont(plain[0].font, plain[0].size)
                canv.drawString(plain[0].x, y, "".join(" " if q.space else q.text for q in plain))
                plain.clear()

        for p in line.pieces:
            simple = p.shaped is None and not p.rtl and not p.marked
            if plain and not (simple and p.font == plain[0].font):
                flush()
            if simple:
                p.x = x
                plain.append(p)
            else:
                self._draw_piece(canv, x, y, p)
            x += p.width
        flush()

    def _draw_piece(self, canv: Any, x: float, y: float, p: Piece) -> None:
        if not p.text:
            return
        if p.space:  # a real space, so that text extraction finds the words
            canv.setFont(p.font, p.size)
            canv.drawString(x, y, " ")
            return
        font = p.font
        if p.marked:
            canv.saveState()
            canv.setFillColor(MARK_COLOUR)
        canv.setFont(font, p.size)
        if p.shaped is not None:
            # glyphs in logical order, each at its place: text extraction reads them right
            # (reportlab's canvas shapes nothing without its own bidi package)
            self._draw_glyphs(canv, x, y, p)
        elif p.rtl and not p.strong_rtl:
            canv.drawString(x, y, _mirrored(p.text))
        else:
            canv.drawString(x, y, p.text)
        if p.marked:
            canv.restoreState()

    @staticmethod
    def _draw_glyphs(canv: Any, x: float, y: float, p: Piece) -> None:
        """HarfBuzz's glyphs, each at its place, cluster by cluster in reading order, each
        cluster marked with the characters it stands for (/ActualText): text extraction then
        gives the text as typed, not ligatures, presentation forms or reordered vowel signs."""
        size = p.size / 1000
        placed: dict[int, list[tuple[str, float, float]]] = {}
        widths: dict[int, float] = {}
        cursor = x
        for ch, d in zip(p.shaped, p.shaped.__shapeData__, strict=True):
            glyph = (str(ch), cursor + d.x_offset * size, y + d.y_offset * size)
            placed.setdefault(d.cluster, []).append(glyph)
            widths[id(glyph)] = d.x_advance * size
            cursor += d.x_advance * size
        starts = sorted(placed)
        groups: list[tuple[str, list[tuple[str, float, float]]]] = []
        for i, start in enumerate(starts):
            chars = p.text[start : starts[i + 1] if i + 1 < len(starts) else len(p.text)]
            if groups and all(_is_mark(c) for c in chars):  # a mark goes with its base
                groups[-1] = (groups[-1][0] + chars, groups[-1][1] + placed[start])
            else:
                groups.append((chars, placed[start]))
        for chars, glyphs in groups:
            # poppler spreads a right-to-left span's characters left to right: such a group
            # (a ligature, a letter with its points) gets an invisible character per letter
            spread = p.strong_rtl and len(chars) > 1
            canv.addLiteral(f"/Span <</ActualText {_pdf_text('' if spread else chars)}>> BDC")
            text = canv.beginText()
            text.setFont(p.font, p.size)
            for ch, gx, gy in glyphs:
                text.setTextOrigin(gx, gy)
                text.textOut(ch)
            canv.drawText(text)
            canv.addLiteral("EMC")
            if spread:
                letters = _clusters(chars)  # a letter with its points takes one place
                left = min(gx for _, gx, _ in glyphs)
                step = max(sum(widths[id(g)] for g in glyphs), 0.1) / len(letters)
                hidden = canv.beginText()
                hidden.setTextRenderMode(3)
                hidden.setFont(p.font, p.size)
                for i, letter in enumerate(letters):
                    at = left + step * (len(letters) - 1 - i)
                    for j, ch in enumerate(letter):  # right to left, points after the letter
                        hidden.setTextOrigin(at - j * 0.01, y)
                        hidden.textOut(ch)
                hidden.setTextRenderMode(0)  # the mode outlives the text object: reset it
                canv.drawText(hidden)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Mc", "Me") or is_ignorable(ch)


def _pdf_text(text: str) -> str:
    """A PDF text string: UTF-16BE with its byte order mark, in hex."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def _clusters(text: str) -> list[str]:
    """Characters with the marks and joiners that follow them."""
    out: list[str] = []
    for ch in text:
        if out and (unicodedata.category(ch) in ("Mn", "Mc", "Me") or is_ignorable(ch)):
            out[-1] += ch
        else:
            out.append(ch)
    return out


class ShapedParagraph(Flowable):  # type: ignore[misc]
    """A paragraph set by `Typesetter`: lines broken in reading order, each line laid out in
    visual order, shaped by HarfBuzz; splits across pages between lines."""

    def __init__(
        self,
        typesetter: Typesetter,
        text: str,
        style: Any,
        bullet: str | None = None,
        lines: Sequence[Line] | None = None,
    ) -> None:
        super().__init__()
        self.ts, self.text, self.style, self.bullet = typesetter, text, style, bullet
        self._lines = list(lines) if lines is not None else None
        self._for_width = -1.0
        self.width = self.height = 0.0

    def _layout(self, width: float) -> list[Line]:
        room = width - self.style.leftIndent - self.style.rightIndent
        if self._lines is None or (self.text and self._for_width != room):
            weight = self.ts.weight_of(self.style.fontName)
            self._lines = self.ts.lines(self.text, weight, self.style.fontSize, room)
            self._for_width = room
        return self._lines

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        lines = self._layout(avail_width)
        self.width = avail_width
        self.height = len(lines) * self.style.leading
        return avail_width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Any]:
        # a table asks to split at its column's width, padding included: keep the lines
        # laid out for the width the paragraph was wrapped to
        lines = self._lines if self._lines is not None else self._layout(avail_width)
        fit = int((avail_height + 1e-6) // self.style.leading)
        if fit >= len(lines):
            return [self]
        if fit < 1:
            return []
        head = ShapedParagraph(self.ts, "", self.style, self.bullet, lines[:fit])
        tail = ShapedParagraph(self.ts, "", self.style, None, lines[fit:])
        for part in (head, tail):
            part._for_width = self._for_width
            part.width = self.width or avail_width
            part.height = len(part._lines or []) * self.style.leading
        tail.spaceBefore = 0  # a continued paragraph starts at the top of its frame
        return [head, tail]

    def getSpaceBefore(self) -> float:
        return float(getattr(self, "spaceBefore", self.style.spaceBefore))

    def getSpaceAfter(self) -> float:
        return float(self.style.spaceAfter)

    def draw(self) -> None:
        s, canv = self.style, self.canv
        lines = self._lines or []
        canv.saveState()
        canv.setFillColor(s.textColor)
        align = s.alignment
        if self.ts.base and align not in (TA_CENTER, TA_RIGHT):
            align = TA_RIGHT
        left = s.leftIndent
        room = self.width - s.leftIndent - s.rightIndent
        y = len(lines) * s.leading - s.fontSize
        if self.bullet:
            canv.setFont(s.bulletFontName, s.bulletFontSize or s.fontSize)
            canv.drawString(s.bulletIndent, y, self.bullet)
        for line in lines:
            if align == TA_CENTER:
                self.ts.draw_line(canv, left + room / 2, y, line, "centre")
            elif align == TA_RIGHT:
                self.ts.draw_line(canv, left + room, y, line, "right")
            else:
                self.ts.draw_line(canv, left, y, line)
            y -= s.leading
        canv.restoreState()
