"""Text from people and files: what may be stored, and how to show text that may not be safe."""

from __future__ import annotations

import unicodedata

# Characters that reorder the text around them: they can make "Anna" read as another name.
# Unicode's bidirectional formatting characters (UAX #9): embeddings, overrides, isolates and
# the implicit marks (LRM, RLM, ALM).
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)


def printable(text: str) -> str:
    """`text` for one line of a terminal or a log: control characters, bidi controls and lone
    surrogates shown as escapes (\\n, \\x1b, \\u202e), everything else as is."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif ch in BIDI_CONTROLS or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


# Invisible characters a name legitimately holds: the joiners that shape Persian and Indic
# scripts (ZWNJ, ZWJ) and the variation selectors of some CJK names.
_SHAPING = frozenset("\u200c\u200d") | frozenset(chr(c) for c in range(0xFE00, 0xFE10))
MAX_MARKS = 4  # combining marks on one letter: Vietnamese needs 2; more is not writing


def without_invisible(value: str) -> str:
    """`value` without invisible characters (zero-width spaces, soft hyphens, tags) other
    than the joiners some scripts need: a name is stored, printed and compared as it reads."""
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cf" or ch in _SHAPING)


def name_problem(value: str) -> str | None:
    """Why `value` (already clean text) cannot be a person's name, or None: more than
    MAX_MARKS accents stacked on one letter (no language writes that)."""
    marks = 0
    for ch in value:
        category = unicodedata.category(ch)
        if category in ("Mn", "Me"):
            marks += 1
            if marks > MAX_MARKS:
                return "has more accents on one letter than any language uses; type it again"
        else:
            marks = 0
    return None


def text_problem(value: object, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text typed by a person, or None when it can.

    Refused: anything but a string, control characters (a line break or tab only where
    `multiline`), characters that reorder text (bidi overrides, embeddings, isolates and
    marks) and lone surrogates (not characters at all).
    """
    if not isinstance(value, str):
        return "must be text"
    for ch in value:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return "contains a broken character (a lone surrogate); type it again"
        if ch in BIDI_CONTROLS:
            return f"contains an invisible character that reorders text (U+{code:04X}); remove it"
        if multiline and ch in "\n\t":
            continue
        if not multiline and ch in "\r\n\v\f\x85\u2028\u2029":
            return "runs over more than one line; keep it on one line"
        if unicodedata.category(ch) == "Cc":
            return f"contains a control character (U+{code:04X}); remove it"
    return None


def nfc(text: str) -> str:
    """`text` in Unicode normal form C (composed: "Nguyễn" as typed by any keyboard)."""
    return unicodedata.normalize("NFC", text)
