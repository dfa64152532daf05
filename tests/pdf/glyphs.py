"""What a PDF really draws: the glyph behind every character code shown (never .notdef)."""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream


def _to_unicode(cmap: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be")
    return out


class _Font:
    def __init__(self, font: Any) -> None:
        self.name = str(font["/BaseFont"])
        program = font["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
        self.tt = TTFont(io.BytesIO(program))
        self.cmap: dict[int, str] = {}
        for table in self.tt["cmap"].tables:
            self.cmap.update(table.cmap)
        self.text = _to_unicode(font["/ToUnicode"].get_object().get_data().decode())
        self.notdef = self.tt.getGlyphOrder()[0]

    def real(self, code: int) -> bool:
        """Whether the code draws a glyph of its own with an outline (or is a space)."""
        glyph = self.cmap.get(code)
        if glyph is None or glyph == self.notdef:
            return False
        text = self.text.get(code, "")
        if text and all(unicodedata.category(c)[0] in "ZC" for c in text):
            return True
        return bool(self.tt["glyf"][glyph].numberOfContours)


def shown(pdf: bytes) -> list[tuple[str, str, bool]]:
    """(font, text of the code, real glyph?) for every character code a page shows."""
    reader = PdfReader(io.BytesIO(pdf))
    out: list[tuple[str, str, bool]] = []
    cache: dict[int, _Font | None] = {}
    for page in reader.pages:
        resources: Any = page["/Resources"]
        fonts = resources.get("/Font", {})
        current: _Font | None = None
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tf":
                ref = fonts[operands[0]]
                key = id(ref.get_object())
                if key not in cache:
                    obj = ref.get_object()
                    cache[key] = _Font(obj) if obj.get("/Subtype") == "/TrueType" else None
                current = cache[key]
            elif op in (b"Tj", b"TJ", b"'", b'"') and current is not None:
                strings = operands[0] if op == b"TJ" else operands[-1:]
                for s in strings:
                    if isinstance(s, bytes | str) and not isinstance(s, int | float):
                        data = s if isinstance(s, bytes) else s.original_bytes  # type: ignore[union-attr]
                        for code in data:
                            out.append(
                                (current.name, current.text.get(code, ""), current.real(code))
                            )
    return out


def boxes(pdf: bytes) -> list[tuple[str, str]]:
    """(font, character) of every code drawn as .notdef (a box) or as no outline at all."""
    return [(font, text) for font, text, real in shown(pdf) if not real]
