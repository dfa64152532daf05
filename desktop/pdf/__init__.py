"""Rendering sheets to PDF with reportlab (its only home): style, blocks, page furniture."""

from desktop.pdf.render import (
    FontFiles,
    render_pdf,
)

__all__ = [
    "FontFiles",
    "render_pdf",
]
