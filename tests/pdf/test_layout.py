"""Page geometry, long text and print safety: everything flows, nothing near an edge, opaque."""

from __future__ import annotations

import io
import re
import struct
import subprocess
import zlib
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from desktop.models import Override
from desktop.models import TestSpotReview as SpotReview
from desktop.pdf import render_pdf
from tests.helpers.consent import PROFILE, consent, minor_amber_case
from tests.helpers.pdf import FONTS, pdftotext

MM = 72 / 25.4
EDGE = 12.7 * MM  # printers keep up to half an inch unprinted


def words(n: int, stem: str = "word") -> str:
    return " ".join(f"{stem}{i}" for i in range(n))


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def rgba_logo(width: int = 60, height: int = 24) -> bytes:
    """A PNG with an alpha channel (half transparent teal), made without an imaging library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\x1b\x5e\x7a\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# -- every page element at least 12.7 mm from every edge, on A4 and on Letter ---------------


def sheets_for(paper: str) -> dict[str, bytes]:
    profile = replace(PROFILE, paper=paper, logo_png=rgba_logo())  # type: ignore[arg-type]
    demo = replace(profile, demo=True)
    long_reason = Override("proceed", words(900), "Dr X", minor_amber_case()["now"])
    c = minor_amber_case()["consultation"]
    return {
        "plain": render_pdf(*consent(profile=profile), fonts=FONTS),
        "demo": render_pdf(*consent(profile=demo), fonts=FONTS),
        "long": render_pdf(
            *consent(profile=demo, consultation=replace(c, override=long_reason)), fonts=FONTS
        ),
    }


@pytest.fixture(scope="module", params=["A4", "Letter"])
def sheets(request: pytest.FixtureRequest) -> dict[str, bytes]:
    return sheets_for(request.param)


def test_no_text_within_half_an_inch_of_an_edge(sheets: dict[str, bytes]) -> None:
    for kind, pdf in sheets.items():
        xhtml = pdftotext(pdf, "-bbox")
        for page in re.findall(r"<page (.*?)</page>", xhtml, re.S):
            width = float(re.search(r'width="([\d.]+)"', page).group(1))  # type: ignore[union-attr]
            height = float(re.search(r'height="([\d.]+)"', page).group(1))  # type: ignore[union-attr]
            boxes = re.findall(
                r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                page,
            )
            assert boxes
            for x0, y0, x1, y1, word in boxes:
                assert float(x0) >= EDGE and float(y0) >= EDGE, (kind, word)
                assert float(x1) <= width - EDGE and float(y1) <= height - EDGE, (kind, word)


def test_no_ink_within_half_an_inch_of_an_edge(sheets: dict[str, bytes]) -> None:
    """Rules, the DEMO band, the logo and table shading too: the margins are blank."""
    dpi = 50
    margin = int(EDGE * dpi / 72)
    for kind, pdf in sheets.items():
        png_pages = subprocess.run(
            ["pdftoppm", "-png", "-gray", "-r", str(dpi), "-", "/dev/stdout"],
            input=pdf, capture_output=True, check=True,
        ).stdout  # fmt: skip
        for number, chunk in enumerate(png_pages.split(b"\x89PNG")[1:], start=1):
            img = Image.open(io.BytesIO(b"\x89PNG" + chunk)).convert("L")
            w, h = img.size
            for box in ((0, 0, w, margin), (0, h - margin, w, h), (0, 0, margin, h),
                        (w - margin, 0, w, h)):  # fmt: skip
                darkest = min(img.crop(box).tobytes())
                assert darkest > 250, (kind, number, box)


def test_paper_size_and_footer_on_every_page(sheets: dict[str, bytes]) -> None:
    pdf = sheets["long"]
    texts = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
        assert "Content SHA-256:" in text


# -- no transparency anywhere ----------------------------------------------------------------


def _walk(obj: Any, seen: set[int]) -> Any:
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    yield obj
    if isinstance(obj, DictionaryObject):
        for value in obj.values():
            yield from _walk(value, seen)
    elif isinstance(obj, ArrayObject):
        for value in obj:
            yield from _walk(value, seen)


def transparency(pdf: bytes) -> list[str]:
    """Every alpha below 1, soft mask or transparency group in a PDF's objects."""
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for obj in _walk(reader.trailer["/Root"], set()):
        if not isinstance(obj, DictionaryObject):
            continue
        for key in ("/CA", "/ca"):
            if key in obj and float(obj[key]) < 1:
                found.append(f"{key} {obj[key]}")
        if obj.get("/SMask") not in (None, "/None"):
            found.append("/SMask")
        group = obj.get("/Group")
        if group is not None and group.get_object().get("/S") == "/Transparency":
            found.append("transparency group")
    return found


def test_the_demo_sheet_with_a_translucent_logo_has_no_transparency() -> None:
    profile = replace(PROFILE, demo=True, logo_png=rgba_logo())
    pdf = render_pdf(*consent(profile=profile), fonts=FONTS)
    assert transparency(pdf) == []
    assert "DEMO — not a real patient record" in pdftotext(pdf)
    # the check itself sees what reportlab makes of alpha
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf)
    c.setFillAlpha(0.09)
    c.rect(10, 10, 50, 50, fill=1)
    c.save()
    assert transparency(buf.getvalue()) == ["/ca 0.09"]


def test_the_watermark_is_under_the_content() -> None:
    """Pale solid colour drawn first: the text over it stays black on every page."""
    profile = replace(PROFILE, demo=True)
    pdf = render_pdf(*consent(profile=profile), fonts=FONTS)
    for page in PdfReader(io.BytesIO(pdf)).pages:
        data = page.get_contents().get_data()  # type: ignore[union-attr]
        watermark = data.index(b"(DEMO) Tj")
        assert watermark < data.index(b"Page ")  # before the footer ...
        assert watermark < len(data) // 3  # ... and before the content


# -- long text flows -------------------------------------------------------------------------


def long_cases() -> dict[str, tuple[dict[str, Any], str]]:
    case = minor_amber_case()
    c, p = case["consultation"], case["patient"]
    spot = case["test_spots"][0]
    long = words(1200)
    return {
        "override reason of 3,593 characters": (
            {
                "consultation": replace(
                    c, override=Override("proceed", "x" * 3593, "Dr X", case["now"])
                )
            },
            "x" * 80,
        ),
        "override reason of 900 words": (
            {"consultation": replace(c, override=Override("proceed", long, "Dr X", case["now"]))},
            "word1199",
        ),
        "product": (
            {"consultation": replace(c, procedure=replace(c.procedure, product=long))},
            "word1199",
        ),
        "areas": (
            {"consultation": replace(c, procedure=replace(c.procedure, areas=tuple(long.split())))},
            "word1199",
        ),
        "test spot notes": (
            {
                "test_spots": (
                    replace(
                        spot,
                        reviews=(SpotReview(4, "other", date(2026, 10, 29), "Dr A", long),),
                    ),
                )
            },
            "word1199",
        ),
        "clinic address": (
            {"profile": replace(PROFILE, address=words(600, "street"))},
            "street599",
        ),
        "patient name": (
            {"patient": replace(p, given_name=words(300, "name"))},
            "name299",
        ),
        "signer name": (
            {"signatures": (replace(case["signatures"][0], signer_name=words(300, "signer")),)},
            "signer299",
        ),
    }


@pytest.mark.parametrize("kind", list(long_cases()))
def test_long_text_flows_across_pages(kind: str) -> None:
    changes, last = long_cases()[kind]
    short = render_pdf(*consent(), fonts=FONTS)
    pdf = render_pdf(*consent(**changes), fonts=FONTS)
    text = "".join(pdftotext(pdf).split())
    assert last in text
    assert pages(pdf) > pages(short)


def test_a_bold_signer_name_stays_in_its_column() -> None:
    name = "Maximiliana-Wolfeschlegelsteinhausenbergerdorff Featherstonehaugh-Cholmondeley"
    case = minor_amber_case()
    signatures = (replace(case["signatures"][0], signer_name=name), case["signatures"][1])
    pdf = render_pdf(*consent(signatures=signatures), fonts=FONTS)
    xhtml = pdftotext(pdf, "-bbox", "-f", str(pages(pdf)), "-l", str(pages(pdf)))
    boxes = re.findall(
        r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>', xhtml
    )
    clinician_x = min(float(x0) for x0, _, w in boxes if w == "Dr")
    mine = [
        float(x1) for _, x1, w in boxes if w.startswith(("Maximiliana", "Featherstone", "dorff"))
    ]
    assert mine and max(mine) < clinician_x - 5 * MM
