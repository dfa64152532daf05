"""Flesch-Kincaid grade of English text, with a small syllable counter (for patient texts)."""

from __future__ import annotations

import re

# Words whose written vowels mislead the counter below, with their real syllable counts.
EXCEPTIONS = {
    "acne": 2,
    "anticoagulant": 6,
    "area": 3,
    "areas": 3,
    "being": 2,
    "create": 2,
    "guardian": 3,
    "idea": 3,
    "isotretinoin": 6,
    "naevi": 3,
    "quiet": 2,
    "react": 2,
    "reacts": 2,
    "reaction": 3,
    "reactions": 3,
    "roaccutane": 4,
    "rosacea": 4,
}
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
# Vowel pairs that are two sounds ("period", "video", "usual"), except in -tion/-sion/-cious.
_HIATUS = re.compile(r"ia|io|iu|eo|ua|uo")
_ONE_SOUND = re.compile(r"tion|sion|cious|tious|gious")


def syllables(word: str) -> int:
    """Syllables of one English word: vowel groups, less a silent final e, at least one.

    A number (a date, a phone number) counts as one syllable. The counter errs towards
    more syllables rather than fewer (a stricter grade).
    """
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if w in EXCEPTIONS:
        return EXCEPTIONS[w]
    if w.isdigit():
        return 1
    count = len(re.findall(r"[aeiouy]+", w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1  # silent e: "make", "bruise"
    if w.endswith("ed") and not w.endswith(("ted", "ded")) and count > 1:
        count -= 1  # "flared", "healed"
    if not _ONE_SOUND.search(w):
        count += len(_HIATUS.findall(w))
    return max(1, count)


def words(text: str) -> list[str]:
    return [part for w in _WORD.findall(text) for part in w.split("-") if part]


def sentences(text: str) -> int:
    """Sentences: each ends with . ! or ?, and so does the text (a list item may end in ;)."""
    text = text.strip()
    ends = len(_SENTENCE_END.findall(text))
    return max(1, ends + (not text.endswith((".", "!", "?"))))


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level: 0.39 words/sentence + 11.8 syllables/word - 15.59."""
    ws = words(text)
    if not ws:
        return 0.0
    syl = sum(syllables(w) for w in ws)
    return 0.39 * len(ws) / sentences(text) + 11.8 * syl / len(ws) - 15.59
