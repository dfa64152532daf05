"""Patient search keys and typed queries: folded names, phone and birth-date keys (pure).

Every patient has a handful of *keys* (table `patient_keys`, one B-tree): folded name keys,
phone keys (`#` and digits) and the birth-date key (`=` and the ISO date). A typed word matches
a patient when one of the patient's keys starts with it; a search matches patients that every
typed word matches. Prefix ranges over one index keep each keystroke's cost bounded whatever
the number of patients.

Names fold to lower case without diacritics, invisible format characters or apostrophes, with
hyphens, dashes and other punctuation as word breaks ("Siobhán O’Brien" and "siobhan obrien"
meet; so do "Smith-Jones", "Smith Jones" and "SmithJones"). Name keys are the whole name run
together in both orders ("annasmithjones", "smithjonesanna"), every word and every piece of a
word (so "o brien" finds O'Brien), and for Chinese, Japanese and Korean every suffix of a run of
their characters (so "美玲" finds 陈美玲); a key that starts another key is dropped, since a
prefix search finds it through the longer one.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from desktop.models import Patient, is_cjk, person_name

__all__ = [
    "RANKED_AT_MOST",
    "Found",
    "PhoneReading",
    "Term",
    "compound",
    "fold",
    "name_key",
    "name_keys",
    "name_words",
    "parse_query",
    "phone_digits",
    "phone_key",
    "phone_keys",
    "read_phone",
    "search_keys",
]

# A search matching more patients than this is too broad to rank usefully: it lists the first
# matches in the order of the index (alphabetically by the matching name) and the screen asks
# for more letters.
RANKED_AT_MOST = 500

PHONE_MARK = "#"
DATE_MARK = "="
# The largest character: `prefix + TOP` sorts after every key that starts with `prefix`.
TOP = "\U0010ffff"

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
# Apostrophes and the marks typed for them: dropped inside a name ("O’Brien" = "OBrien").
APOSTROPHES = frozenset("'’‘‛ʼʻʹ`´′＇")
_PIECE = "'"  # where an apostrophe stood, while a name's pieces are worked out


def _strips_marks(base: str) -> bool:
    """Accents on Latin, Greek and Cyrillic letters are folded away; marks in other scripts
    (Indic vowel signs, the kana voicing marks) are part of the letter and stay."""
    code = ord(base)
    return code < 0x0530 or 0x1E00 <= code <= 0x1FFF


@functools.lru_cache(maxsize=4096)  # names repeat; a name is folded several ways per save
def _fold(text: str, apostrophe: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    out: list[str] = []
    base = " "
    for c in decomposed:
        if c in APOSTROPHES:
            out.append(apostrophe)
            continue
        category = unicodedata.category(c)
        if category == "Cf":  # ZWJ, ZWNJ, soft hyphen, word joiner, zero-width space
            continue
        if category[0] == "M":
            if not _strips_marks(base):
                out.append(c)
            continue
        base = c
        out.append(c if category[0] in "LN" else " ")
    folded = unicodedata.normalize("NFC", "".join(out)).translate(_FOLD_EXTRA)
    return " ".join(folded.split())


def fold(text: str) -> str:
    """Lower case, no diacritics, no invisible characters or apostrophes, punctuation as
    spaces: 'Siobhán O’Brien' -> 'siobhan obrien', 'Smith-Jones' -> 'smith jones'."""
    return _fold(text, "")


def _compact(text: str) -> str:
    """`text` folded and run together: 'Smith-Jones' -> 'smithjones'."""
    return fold(text).replace(" ", "")


def name_key(given: str, family: str) -> str:
    """The name compared for duplicates: folded, run together, either order, so
    "Siobhán O'Brien", "siobhan obrien" and "O’Brien Siobhan" agree. A Chinese, Japanese
    or Korean name is run together as written (family name first), so 陈 + 美玲 and 陈美玲
    typed in one field agree."""
    parts = (_compact(given), _compact(family))
    if all(is_cjk(c) for c in parts[0] + parts[1]):
        return _compact(person_name(given, family))
    return "".join(sorted(parts))


def name_words(given: str, family: str) -> set[str]:
    """Every folded word of the name, each part run together, and each whole part."""
    words = set(fold(f"{given} {family}").split())
    words.update(p for p in (_compact(given), _compact(family)) if p)
    return words


def name_keys(given: str, family: str) -> set[str]:
    """The search keys of a name (see the module's docstring)."""
    parts = [_fold(given, _PIECE).split(), _fold(family, _PIECE).split()]
    compact = ["".join(parts[0]).replace(_PIECE, ""), "".join(parts[1]).replace(_PIECE, "")]
    keys = {compact[0] + compact[1], compact[1] + compact[0]}
    for word in parts[0] + parts[1]:
        keys.add(word.replace(_PIECE, ""))
        keys.update(word.split(_PIECE))
    for key in list(keys):
        keys.update(key[i:] for i in range(1, len(key)) if is_cjk(key[i]))
    keys.discard("")
    return keys


@dataclass(frozen=True)
class PhoneReading:
    """How a typed phone number was understood: `shown` is what to show and print (the
    international form, or the text as typed), `e164` the number in E.164 ("" when it was
    not understood), `region` the country it belongs to (ISO 3166 code, or "")."""

    shown: str
    e164: str = ""
    region: str = ""


def read_phone(text: str, region: str | None) -> PhoneReading:
    """Understand a typed phone number with the `phonenumbers` library: with its country
    code (+44 ..., 0044 ...) in any case, or as a national number of `region` (e.g. "GB").
    A number that cannot be read as a whole number of some country is kept exactly as
    typed (`e164` empty): a clinic must not lose a number it was given."""
    text = " ".join(text.split())
    if not text:
        return PhoneReading("")
    import phonenumbers  # loaded on first use (~40 ms)

    try:
        number = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        return PhoneReading(text)
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return PhoneReading(text)
    return PhoneReading(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.region_code_for_country_code(number.country_code or 0) or "",
    )


def phone_digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def phone_key(e164: str, typed: str) -> str:
    """The phone compared for duplicates: the E.164 digits, or the digits as typed."""
    return phone_digits(e164) if e164 else phone_digits(typed)


def phone_keys(e164: str, typed: str) -> set[str]:
    """Search keys of a phone number: with the country code, the national number, and the
    national number as dialled at home (trunk prefix: 020 ...), so the digits staff type
    find it in any of those forms. A number kept as typed has its digits as typed."""
    if not e164:
        digits = phone_digits(typed)
        keys = {digits} if digits else set()
        if digits.startswith("00"):
            keys.add(digits[2:])
        return {PHONE_MARK + k for k in keys if k}
    digits = phone_digits(e164)
    national = digits
    for length in (1, 2, 3):  # country codes are prefix-free: the first one known is it
        trunk = _trunk_prefix(digits[:length])
        if trunk is not None:
            national = digits[length:]
            keys = {digits, national, trunk + national}
            return {PHONE_MARK + k for k in keys if k}
    return {PHONE_MARK + national}


@functools.cache
def _trunk_prefix(country_code: str) -> str | None:
    """The prefix dialled before a national number at home (GB: "0", US: "1"... none: "")
    for a country calling code, or None when `country_code` is not one."""
    import phonenumbers  # loaded on first use (~40 ms)

    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(country_code))
    if not regions or country_code.startswith("0"):
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        int(country_code), regions[0]
    )
    return (metadata.national_prefix or "") if metadata is not None else ""


def _pruned(keys: Iterable[str]) -> list[str]:
    """Sorted keys without those that start another key (a prefix search finds them there)."""
    ordered = sorted(set(keys))
    return [
        k for k, after in zip(ordered, [*ordered[1:], ""], strict=True) if not after.startswith(k)
    ]


def sort_name(given: str, family: str) -> str:
    """How a ranked list orders patients: folded family name, then given name (a Chinese,
    Japanese or Korean name as written)."""
    if all(is_cjk(c) for c in _compact(given) + _compact(family)):
        return fold(person_name(given, family))
    return f"{fold(family)} {fold(given)}".strip()


# The `search_keys` column: {"~k": [keys], "~w": [whole words], "~s": sort name}. The field
# names start with "~", which no typed word does, so looking for '"' + a typed prefix in the
# column's text finds only keys and words (and every word starts some key).
KEYS, WORDS, SORT = "~k", "~w", "~s"


def search_keys(given: str, family: str, date_of_birth: date, phone_e164: str, phone: str) -> str:
    """The `search_keys` column of a patient (see KEYS): its keys (`patient_keys` is filled
    from them by triggers), the words of its name (whole-word matches rank first) and its
    sort name."""
    keys = name_keys(given, family) | phone_keys(phone_e164, phone)
    keys.add(DATE_MARK + date_of_birth.isoformat())
    column = {
        KEYS: _pruned(keys),
        WORDS: sorted(name_words(given, family)),
        SORT: sort_name(given, family),
    }
    return json.dumps(column, ensure_ascii=False, separators=(",", ":"))


# Typed queries -------------------------------------------------------------------------------

Order = Literal["recent", "ranked", "newest", "alphabetical"]


@dataclass(frozen=True)
class Found:
    """A page of search results. `order`: "recent" (nothing typed: the most recently updated),
    "ranked" (every match, best first), or for a `broad` search (too many matches to rank, or
    words too common to search completely) "newest" (the most recently registered matches)
    or "alphabetical" (the first matches by name)."""

    patients: list[Patient]
    broad: bool
    order: Order


@dataclass(frozen=True)
class Term:
    """One typed word: a patient matches when one of its keys starts with one of `prefixes`
    or equals one of `exact`. `word` is the folded word (for ranking whole-word matches)."""

    word: str
    prefixes: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()


_ISO = re.compile(r"^\d{4}(-\d{0,2}(-\d{0,2})?)?$")
_PHONE = re.compile(r"^[+(]*\d[\d()\-]*$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{0,4}))?$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{0,4}))?$")
OLDEST_YEARS = 120


def _dates(day: int, month: int, year_prefix: str, today: date) -> list[str]:
    out = []
    for year in range(today.year - OLDEST_YEARS, today.year + 1):
        if str(year).startswith(year_prefix):
            try:
                out.append(DATE_MARK + date(year, month, day).isoformat())
            except ValueError:
                continue
    return out


def _date_term(token: str, day_first: bool | None, today: date) -> Term | None:
    """A typed day and month (and some or all of the year): 02.04.1990, 2/4/19, 02.04."""
    dotted = _DOTTED.match(token)
    slashed = _SLASHED.match(token)
    found = dotted or slashed
    if found is None:
        return None
    a, b, year = int(found[1]), int(found[2]), found[3] or ""
    if dotted or day_first is True:
        readings = [(a, b)]
    elif day_first is False:
        readings = [(b, a)]
    else:  # the clinic has not said: a search finds either reading
        readings = [(a, b), (b, a)]
    exact = sorted({d for day, month in readings for d in _dates(day, month, year, today)})
    return Term(token, exact=tuple(exact))


def _merge_phone_runs(tokens: list[str]) -> list[str]:
    """ "020 7946 0011" is one number: consecutive digit groups are joined."""
    out: list[str] = []
    joinable = [bool(_PHONE.match(t)) and not ("-" in t and _ISO.match(t)) for t in tokens]
    for i, token in enumerate(tokens):
        if i and joinable[i] and joinable[i - 1]:
            out[-1] += token
        else:
            out.append(token)
    return out


def parse_query(text: str, *, day_first: bool | None, today: date) -> list[Term]:
    """The terms of what was typed in a search box (words that say nothing are dropped).

    Names match by prefix of any name key; digits match phone keys (with or without country
    code, with or without the trunk zero), the start of an ISO birth date (1990-04-0) and a
    year (1990); a day and month (02.04.1990, 2/4/1990, 02.04.19) match those birth dates,
    both readings of a slash date unless `day_first` says which the clinic writes.
    """
    terms: list[Term] = []
    for token in _merge_phone_runs(text.split()):
        term = _term(token, day_first, today)
        if term is not None and term not in terms:
            terms.append(term)
    return terms


def _term(token: str, day_first: bool | None, today: date) -> Term | None:
    if "-" in token and _ISO.match(token):
        return Term(token, prefixes=(DATE_MARK + token,))
    date_term = _date_term(token, day_first, today)
    if date_term is not None:
        return date_term
    if _PHONE.match(token):
        digits = phone_digits(token)
        if token.lstrip("(").startswith("+"):
            return Term(digits, prefixes=(PHONE_MARK + digits,))
        if digits.startswith("00") and len(digits) > 2:
            return Term(digits, prefixes=(PHONE_MARK + digits[2:], PHONE_MARK + digits))
        prefixes = [PHONE_MARK + digits, digits]
        if len(digits) <= 4 and digits == token:  # also the start of a year of birth
            prefixes.insert(0, DATE_MARK + digits)
        return Term(digits, prefixes=tuple(prefixes))
    word = _compact(token)
    if not word:
        return None
    return Term(word, prefixes=(word,))


def compound(terms: list[Term]) -> Term | None:
    """Two or more typed name words as one name run together, in the typed order or reversed
    ("anna smi" -> annasmi, smianna): the start of a whole-name key when the words but the
    last are whole and adjacent in the name. None for fewer than two name words."""
    words = [t.word for t in terms if t.prefixes == (t.word,)]
    if len(words) < 2:
        return None
    return Term("".join(words), prefixes=("".join(words), "".join(reversed(words))))
