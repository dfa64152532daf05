"""Text folding and FTS5 query building for patient search (pure; no database access)."""

from __future__ import annotations

import unicodedata

__all__ = ["RANKED_AT_MOST", "fold", "fts_query", "phone_search_text"]

# A search matching more patients than this is too broad to rank usefully (thousands of
# "Smith"s score alike, and bm25 over them all costs 10-150 ms at 100,000 patients): it lists
# the most recently registered matches instead, and the screen asks for more letters.
RANKED_AT_MOST = 500

# Letters that Unicode does not decompose into a base letter plus a mark.
_FOLD_EXTRA = str.maketrans(
    {
        "ł": "l",
        "đ": "d",
        "ø": "o",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ð": "d",
        "ı": "i",
        "ħ": "h",
        "ŀ": "l",
    }
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics and fold special letters: 'Żółć' -> 'zolc'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_FOLD_EXTRA)


def fts_query(text: str) -> str | None:
    """An FTS5 query matching every token of `text` as a quoted prefix, or None if empty."""
    tokens = [fold(t).replace('"', "") for t in text.split()]
    tokens = [t for t in tokens if any(c.isalnum() for c in t)]
    if not tokens:
        return None
    return " ".join(f'"{t}"*' for t in tokens)


def phone_search_text(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return f"{digits} {phone}".strip() if digits else ""
