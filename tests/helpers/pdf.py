"""Printing sheets in the tests: the bundled fonts, and a PDF's text as poppler reads it."""

from __future__ import annotations

import subprocess

from desktop.pdf import FontFiles
from tests.helpers.paths import ROOT

FONT_DIR = ROOT / "resources" / "fonts"
FONTS = FontFiles(
    regular=FONT_DIR / "DejaVuSans.ttf",
    bold=FONT_DIR / "DejaVuSans-Bold.ttf",
    italic=FONT_DIR / "DejaVuSans-Oblique.ttf",
)


def pdftotext(pdf: bytes, *args: str) -> str:
    """The text of `pdf` as poppler's pdftotext gives it, with its options `args`."""
    return subprocess.run(
        ["pdftotext", *args, "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
