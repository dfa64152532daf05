"""Whether a text can be printed: every character needs a font that draws it (never a box)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator

from desktop.consent.blocks import DocumentContent
from desktop.errors import ValidationError
from desktop.models import ClinicProfile
from desktop.pdf.fonts import FontFiles, fonts_for

__all__ = [
    "UndrawableText",
    "check_printable",
    "check_text",
    "describe_character",
    "sheet_texts",
    "undrawable",
]

#: Where a clinic finds fonts for the scripts the sheet's own font lacks.
INSTALL_HINT = (
    "Install fonts for that script (on Debian or Ubuntu: fonts-noto-core and fonts-noto-cjk) "
    "and try again, or correct the text."
)


class UndrawableText(ValidationError):
    """A text holds characters that no font on this computer draws; `characters` lists them."""

    def __init__(self, message: str, characters: tuple[str, ...], field: str | None = None):
        super().__init__(message, field)
        self.characters = characters


def undrawable(text: str, fonts: FontFiles) -> tuple[str, ...]:
    """The characters of `text` that no available font draws, once each, in order of
    appearance; () when it prints whole. Spaces, joiners and direction marks never count.

    Uses fontconfig the first time a script outside the sheet's own font is seen (~20 ms).
    """
    return fonts_for(fonts).undrawable(text)


def describe_character(ch: str) -> str:
    """'"𓀀" (U+13000 EGYPTIAN HIEROGLYPH A001)': a character as a clinician can look it up."""
    name = unicodedata.name(ch, "")
    shown = f'"{ch}" ' if unicodedata.category(ch)[0] not in "CZ" else ""
    return f"{shown}(U+{ord(ch):04X}{' ' + name if name else ''})"


def message(what: str, chars: tuple[str, ...]) -> str:
    listed = ", ".join(describe_character(c) for c in chars[:5])
    more = f" and {len(chars) - 5} more" if len(chars) > 5 else ""
    one = len(chars) == 1
    return (
        f"{what} contains {'a character' if one else 'characters'} that no font on this "
        f"computer can print: {listed}{more}. {INSTALL_HINT}"
    )


def check_text(what: str, text: str, fonts: FontFiles, field: str | None = None) -> None:
    """Raise `UndrawableText` ("The patient's name contains ...") when `text` has any."""
    chars = undrawable(text, fonts)
    if chars:
        raise UndrawableText(message(what, chars), chars, field)


def sheet_texts(content: DocumentContent, profile: ClinicProfile) -> Iterator[str]:
    """Every text a sheet prints: its content, the clinic's details and the page furniture."""
    yield from _strings(content.to_dict())
    yield from (profile.name, profile.address, profile.phone, "DEMO — Page of Tel. …")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def check_printable(content: DocumentContent, profile: ClinicProfile, fonts: FontFiles) -> None:
    """Refuse (UndrawableText) a sheet with any character no font draws, quoting the text."""
    check_texts(sheet_texts(content, profile), fonts)


def check_texts(texts: Iterable[str], fonts: FontFiles) -> None:
    found: list[str] = []
    where = ""
    for text in texts:
        chars = [c for c in undrawable(text, fonts) if c not in found]
        if chars and not where:
            where = text if len(text) <= 60 else text[:57] + "…"
        found += chars
    if found:
        raise UndrawableText(message(f'The sheet (in "{where}")', tuple(found)), tuple(found))
