"""Fonts for every script: the sheet's own faces first, then the system's found by fontconfig."""

from __future__ import annotations

import bisect
import hashlib
import io
import logging
import re
import shutil
import subprocess
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

__all__ = [
    "Face",
    "FontFiles",
    "Fonts",
    "Weight",
    "fonts_for",
    "is_ignorable",
]

log = logging.getLogger(__name__)

Weight = Literal["regular", "bold", "italic"]


@dataclass(frozen=True)
class Face:
    """One font in a file; a collection (.ttc) holds several and `index` picks one."""

    path: Path
    index: int = 0


@dataclass(frozen=True)
class FontFiles:
    """The TTF files the sheets are set in, and where to look for scripts they lack.

    `regular`, `bold` and `italic` draw every character they have (DejaVu Sans: Latin, Greek,
    Cyrillic, Arabic, Hebrew and more). Any other character is drawn with the first of
    `fallbacks` that has it; `None` asks fontconfig (`fc-match`) for the system's fonts in its
    order of preference for the character's language, `()` allows no other font at all.
    """

    regular: Path
    bold: Path
    italic: Path
    fallbacks: tuple[Face, ...] | None = None


# -- characters --------------------------------------------------------------------------------

_VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180F))


def is_ignorable(ch: str) -> bool:
    """A character drawn as nothing (joiners, direction marks, variation selectors...)."""
    cp = ord(ch)
    if unicodedata.category(ch) == "Cf" or cp == 0x034F:
        return True
    return any(lo <= cp <= hi for lo, hi in _VARIATION_SELECTORS)


def _is_space(ch: str) -> bool:
    return ch in "\t\n\r" or unicodedata.category(ch) == "Zs"


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Mc", "Me")


# Scripts whose letters the sheet's own face draws when it has them; letters of any other
# script go to the font that fontconfig prefers for the script's language.
_OWN_SCRIPTS = (
    (0x0000, 0x052F),  # Latin, Greek, Cyrillic and their supplements
    (0x1D00, 0x1DBF),  # phonetic extensions
    (0x1E00, 0x1FFF),  # Latin and Greek extended
    (0x2000, 0x2BFF),  # punctuation, symbols, arrows, shapes
    (0x2C60, 0x2C7F),
    (0x2DE0, 0x2DFF),
    (0xA640, 0xA69F),
    (0xA720, 0xA7FF),
    (0xAB30, 0xAB6F),
    (0xFB00, 0xFB06),
    (0xFFFC, 0xFFFD),
)

# The language fontconfig is asked about for a character, by Unicode block. "han" is decided
# by the text around it: kana make it Japanese, hangul Korean, otherwise Chinese.
_LANGS = sorted(
    [
        (0x0530, 0x058F, "hy"),
        (0x0590, 0x05FF, "he"),
        (0x0600, 0x06FF, "ar"),
        (0x0700, 0x074F, "syr"),
        (0x0750, 0x077F, "ar"),
        (0x0780, 0x07BF, "dv"),
        (0x08A0, 0x08FF, "ar"),
        (0x0900, 0x097F, "hi"),
        (0x0980, 0x09FF, "bn"),
        (0x0A00, 0x0A7F, "pa"),
        (0x0A80, 0x0AFF, "gu"),
        (0x0B00, 0x0B7F, "or"),
        (0x0B80, 0x0BFF, "ta"),
        (0x0C00, 0x0C7F, "te"),
        (0x0C80, 0x0CFF, "kn"),
        (0x0D00, 0x0D7F, "ml"),
        (0x0D80, 0x0DFF, "si"),
        (0x0E00, 0x0E7F, "th"),
        (0x0E80, 0x0EFF, "lo"),
        (0x0F00, 0x0FFF, "bo"),
        (0x1000, 0x109F, "my"),
        (0x10A0, 0x10FF, "ka"),
        (0x1100, 0x11FF, "ko"),
        (0x1200, 0x139F, "am"),
        (0x13A0, 0x13FF, "chr"),
        (0x1780, 0x17FF, "km"),
        (0x1800, 0x18AF, "mn-cn"),
        (0x2E80, 0x2FDF, "han"),
        (0x3000, 0x303F, "han"),
        (0x3040, 0x30FF, "ja"),
        (0x3100, 0x312F, "zh-tw"),
        (0x3130, 0x318F, "ko"),
        (0x3190, 0x31EF, "han"),
        (0x31F0, 0x31FF, "ja"),
        (0x3200, 0x33FF, "han"),
        (0x3400, 0x4DBF, "han"),
        (0x4E00, 0x9FFF, "han"),
        (0xA8E0, 0xA8FF, "hi"),
        (0xA960, 0xA97F, "ko"),
        (0xAC00, 0xD7FF, "ko"),
        (0xF900, 0xFAFF, "han"),
        (0xFB1D, 0xFB4F, "he"),
        (0xFB50, 0xFDFF, "ar"),
        (0xFE30, 0xFE4F, "han"),
        (0xFE70, 0xFEFF, "ar"),
        (0xFF00, 0xFFEF, "han"),
        (0x20000, 0x3FFFF, "han"),
    ]
)
_LANG_STARTS = [lo for lo, _, _ in _LANGS]


def _lang_of(cp: int) -> str | None:
    i = bisect.bisect_right(_LANG_STARTS, cp) - 1
    if i >= 0 and cp <= _LANGS[i][1]:
        return _LANGS[i][2]
    return None


def han_language(text: str) -> str:
    """The language Han characters of `text` are drawn for: kana → ja, hangul → ko, else zh."""
    for ch in text:
        lang = _lang_of(ord(ch))
        if lang in ("ja", "ko"):
            return lang
    return "zh-cn"


def _own_script(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _OWN_SCRIPTS)


# -- candidate fonts ----------------------------------------------------------------------------


class _Candidate:
    """A font that may draw what the sheet's face cannot, with the characters it has."""

    def __init__(self, face: Face, family: str, cff: bool, ranges: Sequence[tuple[int, int]]):
        self.face, self.family, self.cff = face, family, cff
        self._starts = [lo for lo, _ in ranges]
        self._ends = [hi for _, hi in ranges]
        self.broken = False

    def covers(self, cp: int) -> bool:
        i = bisect.bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self._ends[i]


_FC_FORMAT = (
    "%{file}\\t%{index}\\t%{family[0]}\\t%{fontformat}\\t%{outline}\\t%{color}\\t%{charset}\\n"
)
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


def _parse_charset(text: str) -> list[tuple[int, int]]:
    ranges = []
    for part in text.split():
        lo, _, hi = part.partition("-")
        ranges.append((int(lo, 16), int(hi or lo, 16)))
    ranges.sort()
    return ranges


def _fontconfig(pattern: str) -> list[_Candidate]:
    """fontconfig's fonts for a pattern, best first; none if fontconfig is not installed."""
    exe = shutil.which("fc-match")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "-s", "-f", _FC_FORMAT, pattern],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        log.warning("fontconfig could not list fonts for %s", pattern, exc_info=True)
        return []
    found = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 7:
            continue
        file, index, family, fmt, outline, color, charset = parts
        if fmt not in ("TrueType", "CFF") or outline == "False" or color == "True":
            continue
        if not file.lower().endswith(_FONT_SUFFIXES) or not index.isdigit():
            continue
        face = Face(Path(file), int(index))
        found.append(_Candidate(face, family, fmt == "CFF", _parse_charset(charset)))
    return found


def _explicit(face: Face) -> _Candidate | None:
    """A font named by the caller: what it covers is read from its cmap."""
    import uharfbuzz as hb

    try:
        hb_face = hb.Face(hb.Blob.from_file_path(str(face.path)), face.index)
        points = sorted(hb_face.unicodes)
        cff = hb_face.reference_table("CFF ").data != b""
    except Exception:  # an unreadable file is skipped, as fontconfig would
        log.warning("The font %s cannot be read; it is not used", face.path, exc_info=True)
        return None
    if not points:
        log.warning("The font %s has no characters (not a font?); it is not used", face.path)
        return None
    ranges: list[tuple[int, int]] = []
    for cp in points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return _Candidate(face, face.path.stem, cff, ranges)


class _Library:
    """Candidate lists (cached for the process): from fontconfig, or the caller's own list."""

    def __init__(self, fallbacks: tuple[Face, ...] | None) -> None:
        self.fallbacks = fallbacks
        self._lists: dict[tuple[str | None, bool], list[_Candidate]] = {}
        self._lock = threading.Lock()

    def candidates(self, lang: str | None, bold: bool) -> list[_Candidate]:
        key = (lang, bold)
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                found = self._load(lang, bold)
                self._lists[key] = found
            return found

    def _load(self, lang: str | None, bold: bool) -> list[_Candidate]:
        if self.fallbacks is not None:
            if (None, False) in self._lists:  # one list serves every language and weight
                return self._lists[(None, False)]
            return [c for c in (_explicit(f) for f in self.fallbacks) if c is not None]
        pattern = "sans-serif" + (f":lang={lang}" if lang else "")
        return _fontconfig(pattern + (":weight=bold" if bold else ":weight=regular"))


_LIBRARIES: dict[tuple[Face, ...] | None, _Library] = {}
_LIBRARIES_LOCK = threading.Lock()


def _library(fallbacks: tuple[Face, ...] | None) -> _Library:
    with _LIBRARIES_LOCK:
        lib = _LIBRARIES.get(fallbacks)
        if lib is None:
            lib = _LIBRARIES[fallbacks] = _Library(fallbacks)
        return lib


# -- registration with reportlab -----------------------------------------------------------------

_REG_LOCK = threading.RLock()
_PRIMARY: dict[tuple[str, str, str], tuple[str, str, str]] = {}
_TRUETYPE: dict[Face, str | None] = {}
_SUBSETS: OrderedDict[tuple[Face, frozenset[str]], str] = OrderedDict()
_SUBSET_CACHE = 48  # CFF subsets kept registered (a few kB to a few hundred kB each)


def _register_primary(files: FontFiles) -> tuple[str, str, str]:
    key = (str(files.regular), str(files.bold), str(files.italic))
    with _REG_LOCK:
        names = _PRIMARY.get(key)
        if names is None:
            base = f"ClinicSans{len(_PRIMARY) or ''}"
            names = (base, f"{base}-Bold", f"{base}-Italic")
            for name, path in zip(names, key, strict=True):
                pdfmetrics.registerFont(TTFont(name, path))
            pdfmetrics.registerFontFamily(
                base, normal=names[0], bold=names[1], italic=names[2], boldItalic=names[1]
            )
            _PRIMARY[key] = names
        return names


def _font_name(face: Face, suffix: str = "") -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "", face.path.stem)[:40] or "Font"
    return f"{stem}-{face.index}{suffix}"


def _register_truetype(cand: _Candidate) -> str | None:
    with _REG_LOCK:
        if cand.face in _TRUETYPE:
            return _TRUETYPE[cand.face]
        name: str | None = _font_name(cand.face)
        try:
            pdfmetrics.registerFont(TTFont(name, str(cand.face.path), subfontIndex=cand.face.index))
        except (TTFError, OSError, ValueError, KeyError, AssertionError):
            log.warning("The font %s cannot be embedded; it is not used", cand.face.path)
            name = None
        _TRUETYPE[cand.face] = name
        return name


def _register_subset(cand: _Candidate, chars: frozenset[str]) -> str | None:
    """A CFF font (reportlab embeds TrueType only): its subset for `chars`, as TrueType."""
    key = (cand.face, chars)
    with _REG_LOCK:
        name = _SUBSETS.get(key)
        if name is not None:
            _SUBSETS.move_to_end(key)
            return name
        digest = hashlib.sha1("".join(sorted(chars)).encode("utf-8")).hexdigest()[:10]
        name = _font_name(cand.face, f"-{digest}")
        try:
            data = _truetype_subset(cand.face, chars, postscript_name=name)
            pdfmetrics.registerFont(TTFont(name, io.BytesIO(data)))
        except Exception:  # a font that cannot be converted is skipped like a missing one
            log.warning("The font %s cannot be converted; it is not used", cand.face.path)
            return None
        _SUBSETS[key] = name
        while len(_SUBSETS) > _SUBSET_CACHE:
            _, old = _SUBSETS.popitem(last=False)
            font: Any = pdfmetrics.getFont(old)
            font.unregister()
        return name


def _truetype_subset(face: Face, chars: Iterable[str], postscript_name: str = "") -> bytes:
    """HarfBuzz cuts the font down to `chars` (with what shaping them needs); fontTools turns
    the cubic CFF outlines into quadratic TrueType ones (within 1/1000 em).

    `postscript_name` renames the subset: reportlab keeps one face per PostScript name, so
    two subsets of one font under the font's own name would share the first one's glyphs.
    """
    import uharfbuzz as hb
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont as FTFont
    from fontTools.ttLib import newTable

    hb_face = hb.Face(hb.Blob.from_file_path(str(face.path)), face.index)
    plan = hb.SubsetInput()
    for ch in chars:
        plan.unicode_set.add(ord(ch))
    plan.flags = hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.NO_HINTING
    cut = hb.subset(hb_face, plan)
    if cut is None:
        raise ValueError(f"{face.path}: HarfBuzz could not subset it")
    font = FTFont(io.BytesIO(cut.blob.data), recalcTimestamp=False)  # same input, same bytes
    if postscript_name:
        names: Any = font["name"]
        for record in names.names:
            if record.nameID in (4, 6):
                record.string = postscript_name
    if "CFF " not in font:
        out = io.BytesIO()
        font.save(out)
        return out.getvalue()
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf: Any = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["glyf"] = glyf
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx: Any = font["hmtx"]
    for name, glyph in glyphs.items():
        advance, _ = hmtx.metrics[name]
        hmtx.metrics[name] = (advance, glyph.xMin if glyph.numberOfContours else 0)
    maxp: Any = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    post: Any = font["post"]
    post.formatType = 3.0
    head: Any = font["head"]
    head.glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


# -- which font draws which character ---------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Consecutive characters drawn in one font; `font` is "" for characters none can draw."""

    text: str
    font: str


class Fonts:
    """The fonts of one sheet: registered with reportlab, and which draws each character.

    Built by `fonts_for`; `prepare` must see every text the sheet prints before `runs` is
    asked about it (fonts that come as CFF outlines are embedded as a subset of those texts).
    """

    def __init__(self, files: FontFiles) -> None:
        self.files = files
        self.regular, self.bold, self.italic = _register_primary(files)
        self._library = _library(files.fallbacks)
        self._cmaps: dict[str, dict[int, int]] = {}
        self._choice: dict[tuple[int, Weight, str | None], _Candidate | str | None] = {}
        self._subsets: dict[Face, str | None] = {}
        self._plain: set[str] = set()  # characters every weight of the sheet's face draws

    def plain(self, text: str) -> bool:
        """Whether every character of `text` is drawn by the sheet's own face in every weight
        with no shaping (the common case, answered without looking at each character again)."""
        chars = set(text)
        if chars <= self._plain:
            return True
        for ch in chars - self._plain:
            cp = ord(ch)
            if ch != "\n" and (
                not _own_script(cp)
                or unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf", "Cc", "Cn", "Cs")
                or not all(self.has(f, ch) for f in (self.regular, self.bold, self.italic))
            ):
                return False
            self._plain.add(ch)
        return True

    def primary(self, weight: Weight) -> str:
        return {"regular": self.regular, "bold": self.bold, "italic": self.italic}[weight]

    def has(self, font: str, ch: str) -> bool:
        cmap = self._cmaps.get(font)
        if cmap is None:
            face: Any = pdfmetrics.getFont(font).face
            cmap = self._cmaps[font] = face.charToGlyph
        return ord(ch) in cmap

    # a character's font: the sheet's face for its own scripts, else fontconfig's choice

    def _choose(self, cp: int, weight: Weight, han: str | None) -> _Candidate | str | None:
        lang = _lang_of(cp)
        if lang == "han":
            lang = han or "zh-cn"
        key = (cp, weight, lang)
        if key in self._choice:
            return self._choice[key]
        primary = self.primary(weight)
        ch = chr(cp)
        found: _Candidate | str | None = None
        if self.has(primary, ch) and (weight == "italic" or _own_script(cp)):
            found = primary
        elif weight == "italic":
            found = self._choose(cp, "regular", han)  # no other italic: upright beats nothing
        else:
            family = pdfmetrics.getFont(primary).face.familyName
            own_family = family.decode("utf-8", "replace") if isinstance(family, bytes) else family
            for cand in self._library.candidates(lang, weight == "bold"):
                if cand.broken or not cand.covers(cp):
                    continue
                found = primary if cand.family == own_family and self.has(primary, ch) else cand
                break
            if found is None and self.has(primary, ch):
                found = primary
            if found is None and weight == "bold":
                found = self._choose(cp, "regular", han)  # a regular weight beats nothing
        self._choice[key] = found
        return found

    def drawable(self, ch: str, weight: Weight = "regular", han: str | None = None) -> bool:
        if _is_space(ch) or is_ignorable(ch):
            return True
        if unicodedata.category(ch) in ("Cc", "Cn", "Cs"):
            return False
        return self._choose(ord(ch), weight, han) is not None

    def undrawable(self, text: str) -> tuple[str, ...]:
        """Characters of `text` (NFC) that no available font draws, once each, in order."""
        text = unicodedata.normalize("NFC", text)
        if self.plain(text):
            return ()
        han = han_language(text)
        out: list[str] = []
        for ch in text:
            if ch in out:
                continue
            if not self.drawable(ch, "regular", han):
                out.append(ch)
        return tuple(out)

    # registration of what a sheet needs

    def prepare(self, texts: Iterable[str]) -> None:
        """Register every fallback font these texts need (CFF ones as a subset of them); a
        font that cannot be loaded is set aside and the next one that has the characters is
        taken instead (so `undrawable` afterwards says what will really print)."""
        texts = list(texts)
        for _ in range(8):
            if self._prepare(texts):
                return
            self._choice.clear()  # some font failed and is marked broken: choose again

    def _prepare(self, texts: list[str]) -> bool:
        wanted: dict[_Candidate, set[str]] = {}
        self._subsets = {}
        neutral: set[str] = set()
        for raw in texts:
            text = unicodedata.normalize("NFC", raw)
            if self.plain(text):
                continue
            han = han_language(text)
            for ch in set(text):
                if unicodedata.category(ch) == "Cc":
                    continue
                if not unicodedata.category(ch).startswith("L"):
                    neutral.add(ch)  # spaces, digits, punctuation may join a run of any font
                if _is_space(ch) or is_ignorable(ch):
                    continue
                weights: tuple[Weight, ...] = ("regular", "bold", "italic")
                for weight in weights:
                    got = self._choose(ord(ch), weight, han)
                    if isinstance(got, _Candidate):
                        wanted.setdefault(got, set()).add(ch)
        ok = True
        for cand, chars in sorted(wanted.items(), key=lambda kv: str(kv[0].face)):
            if cand.cff:
                chars |= {c for c in neutral if cand.covers(ord(c))}
                name = self._subsets[cand.face] = _register_subset(cand, frozenset(chars))
            else:
                name = _register_truetype(cand)
            if name is None:
                cand.broken = ok = False
        return ok

    def _name(self, cand: _Candidate) -> str | None:
        if cand.cff:
            if cand.face not in self._subsets:
                raise RuntimeError(f"{cand.face.path} is used for a text prepare() did not see")
            return self._subsets[cand.face]
        return _register_truetype(cand)

    def font_of(self, ch: str, weight: Weight, han: str | None) -> str:
        """The registered font that draws `ch`, or "" when none can."""
        got = self._choose(ord(ch), weight, han)
        if got is None or isinstance(got, str):
            return got or ""
        name = self._name(got)
        if name is None:  # it failed to load: forget it and choose again
            got.broken = True
            self._choice.clear()
            return self.font_of(ch, weight, han)
        return name

    def runs(self, text: str, weight: Weight) -> list[Run]:
        """`text` (already NFC) cut where the font changes.

        A combining mark, joiner or variation selector stays with its base; spaces and
        punctuation stay in the font before them when it has them, so a shaped word is never
        cut by a comma or a bracket.
        """
        if self.plain(text):
            return [Run(text, self.primary(weight))] if text else []
        han = han_language(text)
        runs: list[Run] = []
        cluster = ""
        for ch in text:
            if cluster and (_is_mark(ch) or is_ignorable(ch)):
                cluster += ch
                continue
            if cluster:
                self._add(runs, cluster, weight, han)
            cluster = ch
        if cluster:
            self._add(runs, cluster, weight, han)
        return runs

    def _add(self, runs: list[Run], cluster: str, weight: Weight, han: str | None) -> None:
        base = cluster[0]
        prev = runs[-1].font if runs else ""
        drawn = [c for c in cluster if not is_ignorable(c)]
        neutral = not unicodedata.category(base).startswith(("L", "M"))
        if prev and neutral and all(self.has(prev, c) for c in drawn):
            font = prev
        elif _is_space(base) and not drawn[1:]:
            font = self.primary(weight)
        else:
            font = self.font_of(base, weight, han)
            if font and not all(self.has(font, c) for c in drawn[1:]):
                # the base's font lacks a mark: take a font that has the whole cluster
                other = next(
                    (f for f in self._fonts_for_all(drawn, weight, han) if f),
                    "",
                )
                font = other or font
        if runs and runs[-1].font == font:
            runs[-1] = Run(runs[-1].text + cluster, font)
        else:
            runs.append(Run(cluster, font))

    def _fonts_for_all(self, chars: list[str], weight: Weight, han: str | None) -> list[str]:
        """Fonts (the sheet's own, then embeddable whole ones) that have every one of `chars`."""
        names = [self.primary(weight)]
        lang = _lang_of(ord(chars[0]))
        lang = (han or "zh-cn") if lang == "han" else lang
        for cand in self._library.candidates(lang, weight == "bold"):
            if not cand.broken and not cand.cff and all(cand.covers(ord(c)) for c in chars):
                name = _register_truetype(cand)
                if name:
                    names.append(name)
        return [n for n in names if all(self.has(n, c) for c in chars)]


_FONTS: dict[FontFiles, Fonts] = {}


def fonts_for(files: FontFiles) -> Fonts:
    """The (process-wide) fonts for these files; a sheet calls `prepare` before drawing."""
    with _REG_LOCK:
        found = _FONTS.get(files)
        if found is None:
            found = _FONTS[files] = Fonts(files)
        return found
