"""Rendering sheets to PDF with reportlab (its only home): fonts, text, blocks, page furniture."""

from desktop.pdf.fonts import Face, FontFiles
from desktop.pdf.printable import (
    UndrawableText,
    check_printable,
    check_text,
    describe_character,
    undrawable,
)
from desktop.pdf.render import render_pdf

__all__ = [
    "Face",
    "FontFiles",
    "UndrawableText",
    "check_printable",
    "check_text",
    "describe_character",
    "render_pdf",
    "undrawable",
]
