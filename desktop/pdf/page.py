"""Page furniture of a sheet: header, numbered footer, DEMO watermark (reportlab, for pdf)."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from desktop.consent.blocks import DocumentContent
from desktop.models import ClinicProfile
from desktop.pdf.style import ACCENT, BADGES, INK, MUTED, RULE

__all__ = ["Furniture", "numbered_canvas"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Furniture:
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


def numbered_canvas(furniture: Furniture) -> type:
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
