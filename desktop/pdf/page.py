"""Page furniture of a sheet: clinic header, running header, footer, DEMO marks (reportlab)."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Spacer, Table, TableStyle

from desktop.consent.blocks import DocumentContent, isolate
from desktop.models import ClinicProfile
from desktop.pdf.style import ACCENT, BADGES, INK, MUTED, RULE, Styles
from desktop.pdf.text import Typesetter

__all__ = ["SAFE_EDGE", "Furniture", "Geometry", "numbered_canvas"]

log = logging.getLogger(__name__)

#: Nothing is printed nearer than this to any edge of the page: A4 sheets print whole on Letter
#: printers and Letter sheets on A4 ones (printers keep up to 12.7 mm unprinted).
SAFE_EDGE: float = 14 * mm
SIDE: float = 18 * mm  # left and right margins of everything
DEMO_BAND: float = 4.5 * mm
MM: float = mm
WATERMARK = colors.HexColor("#f8e1de")  # a pale red drawn under the content: no transparency


@dataclass(frozen=True)
class Geometry:
    """Where furniture and frames sit on a page of `size`, in points from the bottom-left."""

    width: float
    height: float
    demo: bool

    @property
    def top(self) -> float:
        """The top of everything below the DEMO band."""
        return self.height - SAFE_EDGE - (DEMO_BAND + 2 * MM if self.demo else 0)

    @property
    def frame_bottom(self) -> float:
        return SAFE_EDGE + 13 * MM

    @property
    def first_frame_top(self) -> float:
        return self.top

    @property
    def running_header(self) -> float:
        """Baseline of the running header on later pages."""
        return self.top - 3 * MM

    @property
    def later_frame_top(self) -> float:
        return self.running_header - 6 * MM


@dataclass(frozen=True)
class Furniture:
    content: DocumentContent
    profile: ClinicProfile
    styles: Styles
    digest: str
    geometry: Geometry

    @property
    def ts(self) -> Typesetter:
        return self.styles.ts

    # -- the clinic's header, the first thing in the story ----------------------------------

    def header(self, width: float) -> list[Any]:
        """The clinic's name, address and phone (flowing: a long address wraps, never cut),
        with its logo on the right."""
        s, p = self.styles, self.profile
        lines = [ln for ln in p.address.splitlines() if ln.strip()]
        if p.phone:
            lines.append(f"Tel. {p.phone}")
        cell: list[Any] = [s.para(p.name, s.clinic), Spacer(1, 1.5 * MM)]
        cell += [s.para(ln, s.clinic_line) for ln in lines]
        logo = self._logo()
        logo_w = 0.0
        if logo is not None:
            iw, ih = logo.imageWidth, logo.imageHeight
            h = 18 * MM
            logo_w = min(50 * MM, h * iw / ih)
            logo.drawWidth, logo.drawHeight = logo_w, logo_w * ih / iw
        row: list[Any] = [cell, logo if logo is not None else Spacer(0, 0)]
        gap = 6 * MM if logo is not None else 0
        table = Table(
            [row], colWidths=[width - logo_w - gap, logo_w + gap], hAlign="LEFT", splitInRow=1
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("FONTNAME", (0, 0), (-1, -1), s.regular),
                    ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5 * MM),
                    ("LINEBELOW", (0, 0), (-1, -1), 1.2, ACCENT),
                ]
            )
        )
        return [table, Spacer(1, 5 * MM)]

    def _logo(self) -> Any:
        """The logo, flattened onto white: a PDF with an alpha channel (soft mask) would print
        as a raster on some drivers."""
        if not self.profile.logo_png:
            return None
        try:
            from PIL import Image as PILImage

            img: Any = PILImage.open(io.BytesIO(self.profile.logo_png))
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                rgba = img.convert("RGBA")
                img = PILImage.new("RGB", rgba.size, (255, 255, 255))
                img.paste(rgba, mask=rgba.getchannel("A"))
            elif img.mode != "RGB":
                img = img.convert("RGB")
            out = io.BytesIO()
            img.save(out, format="PNG")
            out.seek(0)
            return Image(out)
        except Exception:  # a bad logo must not stop a consent from printing
            log.warning("The clinic logo could not be read; printing without it", exc_info=True)
            return None

    # -- drawn on every page ---------------------------------------------------------------------

    def first_page(self, c: Any, doc: Any) -> None:
        self._demo(c)

    def later_page(self, c: Any, doc: Any) -> None:
        self._demo(c)
        g, ts = self.geometry, self.ts
        left, right, y = SIDE, g.width - SIDE, g.running_header
        c.saveState()
        c.setFillColor(MUTED)
        name = ts.line(self.profile.name, "bold", 8.5, (right - left) * 0.45)
        ts.draw_line(c, left, y, name)
        who = ts.line(
            f"{self.content.title} · {isolate(self.content.patient_name)}",
            "regular",
            8.5,
            (right - left) * 0.53,
        )
        ts.draw_line(c, right, y, who, "right")
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.line(left, y - 2.5 * MM, right, y - 2.5 * MM)
        c.restoreState()

    def footer(self, c: Any, page: int, total: int) -> None:
        g, ts, k = self.geometry, self.ts, self.content
        left, right, bottom = SIDE, g.width - SIDE, SAFE_EDGE + 0.8 * MM
        page_label = ts.line(f"Page {page} of {total}", "bold", 8.5)
        lines = (
            f"Document {k.document_id}",
            f"Checklist {k.checklist_id} version {k.checklist_version}  ·  "
            f"Template {k.template_id} version {k.template_version}",
            f"Content SHA-256: {self.digest}",
        )
        room = right - left - page_label.width - 6 * MM
        c.saveState()
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(left, bottom + 10 * MM, right, bottom + 10 * MM)
        c.setFillColor(MUTED)
        for i, text in enumerate(lines):
            ts.draw_line(c, left, bottom + (6.4 - 3.2 * i) * mm, ts.line(text, "regular", 7, room))
        c.setFillColor(INK)
        ts.draw_line(c, right, bottom + 6.4 * MM, page_label, "right")
        if k.demo:
            c.setFillColor(BADGES["red"][0])
            ts.draw_line(c, right, bottom, ts.line("DEMO", "bold", 8.5), "right")
        c.restoreState()

    def _demo(self, c: Any) -> None:
        """A pale DEMO across the page under the content, and a band at the top."""
        if not self.content.demo:
            return
        g = self.geometry
        c.saveState()
        c.setFillColor(WATERMARK)
        c.setFont(self.styles.bold, 130)
        c.translate(g.width / 2, g.height / 2)
        c.rotate(40)
        c.drawCentredString(0, -45, "DEMO")
        c.restoreState()
        c.saveState()
        band_top = g.height - SAFE_EDGE
        c.setFillColor(BADGES["red"][0])
        c.rect(SIDE, band_top - DEMO_BAND, g.width - 2 * SIDE, DEMO_BAND, stroke=0, fill=1)
        c.setFillColor(colors.white)
        c.setFont(self.styles.bold, 7.5)
        c.drawCentredString(g.width / 2, band_top - 3.1 * MM, "DEMO — not a real patient record")
        c.restoreState()


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
