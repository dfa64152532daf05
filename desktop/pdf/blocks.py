"""Flowables for each block kind of a sheet, signatures as vector strokes (reportlab, for pdf)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from desktop.consent.blocks import (
    BadgeTone,
    Block,
    Bullets,
    Fields,
    Heading,
    Notice,
    Outcome,
    Paragraph,
    Rules,
    SignatureBlock,
    Signatures,
)
from desktop.consent.blocks import Table as TableBlock
from desktop.pdf.style import BADGES, MUTED, NOTICES, RULE, SHADE, Styles
from desktop.pdf.text import Typesetter

__all__ = ["SignatureDrawing", "Story"]


class SignatureDrawing(Flowable):  # type: ignore[misc]
    """Handwritten strokes as vector paths, scaled into the box keeping their aspect ratio."""

    def __init__(self, block: SignatureBlock, width: float, height: float, ts: Typesetter):
        super().__init__()
        self.block, self.width, self.height, self.ts = block, width, height, ts

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
            caption = self.ts.line(b.caption, "regular", 9, self.width - 12)
            self.ts.draw_line(c, self.width / 2, self.height / 2 - 3, caption, "centre")
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


class Story:
    def __init__(self, styles: Styles, width: float, page_height: float) -> None:
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
        self.flow.append(self.s.para(b.text, self.s.h1 if b.level <= 1 else self.s.h2))

    def paragraph(self, b: Paragraph) -> None:
        style = {"small": self.s.small, "strong": self.s.strong}.get(b.style, self.s.body)
        self.flow.append(self.s.para(b.text, style))

    def bullets(self, b: Bullets) -> None:
        small = b.style == "small"
        if b.intro:
            self.flow.append(self.s.para(b.intro, self.s.small_head if small else self.s.body))
        style = self.s.small_bullet if small else self.s.bullet
        for item in b.items:
            self.flow.append(self.s.para(item, style, bullet="•"))
        self.flow.append(Spacer(1, 3))

    def _grid(
        self, data: list[list[Any]], widths: list[float], extra: list[Any], split: bool = True
    ) -> Any:
        """A table whose rows, however tall, may split across pages (`split`)."""
        table = Table(data, colWidths=widths, hAlign="LEFT", repeatRows=0, splitInRow=int(split))
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
        pairs = [(self.s.para(k, s.cell_label), self.s.para(v, s.cell)) for k, v in b.rows]
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
        return self.s.para(word, ParagraphStyle("badge", parent=self.s.badge, textColor=fg)), bg

    def outcome(self, b: Outcome) -> None:
        s, w = self.s, self.width
        data: list[list[Any]] = []
        extra: list[Any] = [("BOX", (0, 0), (-1, -1), 0.6, RULE)]
        for i, row in enumerate(b.rows):
            badge, bg = self._badge(row.badge, row.tone)
            data.append(
                [self.s.para(row.label, s.cell_label), badge, self.s.para(row.meaning, s.cell)]
            )
            extra += [
                ("BACKGROUND", (1, i), (1, i), bg),
                ("LINEBELOW", (0, i), (-1, i), 0.4, RULE),
                ("VALIGN", (0, i), (-1, i), "MIDDLE"),
            ]
        self.flow += [self._grid(data, [0.25 * w, 0.17 * w, 0.58 * w], extra), Spacer(1, 6)]

    def rules(self, b: Rules) -> None:
        s, w = self.s, self.width
        data: list[list[Any]] = [[self.s.para(c, s.cell_head) for c in b.columns]]
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
                    self.s.para(r.rule, s.cell_head),
                    badge,
                    self.s.para(r.basis, s.cell),
                    self.s.para(r.text, s.cell),
                    self.s.para(sources, s.cell),
                ]
            )
            extra += [("BACKGROUND", (1, i), (1, i), bg), ("VALIGN", (1, i), (1, i), "MIDDLE")]
        widths = [0.08 * w, 0.15 * w, 0.09 * w, 0.52 * w, 0.16 * w]
        table = self._grid(data, widths, extra)
        table.repeatRows = 1
        self.flow += [table, Spacer(1, 4)]

    def table(self, b: TableBlock) -> None:
        s, w = self.s, self.width
        data = [[self.s.para(c, s.cell_head) for c in b.header]]
        data += [[self.s.para(c, s.cell) for c in row] for row in b.rows]
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
            cell.append(self.s.para(b.title, s.notice_title))
        cell.append(self.s.para(b.text, ParagraphStyle("n", parent=body_style, spaceAfter=0)))
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
                SignatureDrawing(sig, col, box_h, s.ts),
                Spacer(1, 3),
                self.s.para(name, s.sig_name),
                self.s.para(meta, s.sig_meta),
            ]

        cells = [cell(sig) for sig in b.items]
        rows = [
            [cells[i], cells[i + 1] if i + 1 < len(cells) else ""] for i in range(0, len(cells), 2)
        ]
        extra = [
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (0, -1), 8 * mm),  # a long name wraps before the gap
            ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
        ]
        for row in rows:  # a one-row table: each pair of signatures stays on one page ...
            table = self._grid([row], [col + 8 * mm, col], extra, split=False)
            if table.wrap(self.width, self.page_height)[1] > 0.45 * self.page_height:
                table.splitInRow = 1  # ... unless names too long for a page make it flow
            self.flow.append(table)
