"""Names in any script print whole: real glyphs, joined and shaped, read back as typed."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from desktop.consent import compose_consent
from desktop.consent.blocks import DocumentContent
from desktop.models import ClinicProfile, Override
from desktop.pdf import Face, UndrawableText, render_pdf, undrawable
from desktop.pdf.fonts import fonts_for
from desktop.pdf.text import Typesetter, bidi_levels
from tests.helpers.consent import minor_amber_case, template
from tests.helpers.pdf import FONTS, pdftotext
from tests.pdf.glyphs import boxes

# Debian's fonts-noto-core and fonts-noto-cjk: what .ci/run installs and the README asks for
NOTO = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")

NAMES = {
    "Latin typed with combining accents (NFD)": ("Nguye\u0302\u0303n", "Thi\u0323 A\u0301nh"),
    "Greek": ("Αλέξανδρος", "Παπαδόπουλος"),
    "Cyrillic": ("Ольга", "Кузнецова"),
    "Arabic": ("فاطمة", "الزهراء"),
    "Arabic with a lam-alef ligature": ("علاء", "بلال"),
    "Hebrew": ("שרה", "כהן"),
    # (given name, family name): these print family name first, without a space
    "Chinese": ("美玲", "陈"),
    "Japanese": ("さくら", "山田"),
    "Korean": ("민지", "김"),
    "Devanagari": ("प्रिया", "शर्मा"),
    "Thai": ("สมชาย", "ใจดี"),
}


def sheet(given: str, family: str, **changes: Any) -> tuple[DocumentContent, ClinicProfile]:
    case = minor_amber_case()
    case["patient"] = replace(case["patient"], given_name=given, family_name=family)
    guardian, clinician = case["signatures"]
    case["signatures"] = (replace(guardian, signer_name=case["patient"].full_name), clinician)
    case.update(changes)
    content = compose_consent(template("consent"), document_id="CONS-2026-0001", **case)
    return content, case["profile"]


def readable(text: str) -> str:
    """Extracted text without direction marks, presentation forms folded (NFKC)."""
    return unicodedata.normalize(
        "NFKC", "".join(c for c in text if unicodedata.category(c) != "Cf")
    )


def ink(pdf: bytes, page: int, box: tuple[float, float, float, float], dpi: int = 100) -> float:
    """Share of dark pixels in a box (points, from the top-left) of a page."""
    x0, y0, x1, y1 = (round(v * dpi / 72) for v in box)
    png = subprocess.run(
        ["pdftoppm", "-png", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page),
         "-x", str(x0), "-y", str(y0), "-W", str(max(1, x1 - x0)), "-H", str(max(1, y1 - y0)),
         "-"],
        input=pdf, capture_output=True, check=True,
    ).stdout  # fmt: skip
    img = Image.open(io.BytesIO(png)).convert("L")
    dark = sum(1 for v in img.tobytes() if v < 128)
    return dark / (img.width * img.height)


def word_boxes(pdf: bytes, page: int) -> list[tuple[str, tuple[float, float, float, float]]]:
    xhtml = pdftotext(pdf, "-bbox", "-f", str(page), "-l", str(page))
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
        xhtml,
    )
    return [(readable(w), (float(a), float(b), float(c), float(d))) for a, b, c, d, w in found]


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {label: render_pdf(*sheet(*name), fonts=FONTS) for label, name in NAMES.items()}


@pytest.mark.parametrize("label", list(NAMES))
def test_every_character_is_a_real_glyph(rendered: dict[str, bytes], label: str) -> None:
    assert boxes(rendered[label]) == []


@pytest.mark.parametrize("label", list(NAMES))
def test_the_name_reads_back_in_logical_order(rendered: dict[str, bytes], label: str) -> None:
    given, family = NAMES[label]
    name = unicodedata.normalize("NFC", sheet(given, family)[0].patient_name)
    text = readable(pdftotext(rendered[label]))
    # the details table, the subtitle, the guardian's signature (the running header may be cut)
    assert text.count(unicodedata.normalize("NFKC", name)) >= 3, text[:400]


@pytest.mark.parametrize("label", list(NAMES))
def test_the_name_is_inked_where_it_stands(rendered: dict[str, bytes], label: str) -> None:
    """The name's cell in "About you" has ink (a blank or an invisible name would not)."""
    pdf = rendered[label]
    words = word_boxes(pdf, 1)
    after = [w for w, _ in words].index("About")
    _, (x0, y0, _, y1) = next(item for item in words[after:] if item[0] == "Name")
    frame = 595.28 - 2 * 18 * 72 / 25.4
    cell = (x0 + 0.2 * frame + 4, y0 - 1, x0 + 0.5 * frame - 4, y1 + 1)
    blank = render_pdf(*sheet("", ""), fonts=FONTS)
    assert ink(pdf, 1, cell) > 0.015
    assert ink(blank, 1, cell) < 0.002


def test_the_check_itself_sees_boxes() -> None:
    """Drawn the old way (DejaVu alone), CJK and Devanagari come out as .notdef boxes."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(TTFont("OnlyDejaVu", str(FONTS.regular)))
    buf = io.BytesIO()
    c = Canvas(buf)
    c.setFont("OnlyDejaVu", 12)
    c.drawString(72, 700, "Name: 陈 美玲 प्रिया")
    c.save()
    assert len(boxes(buf.getvalue())) == 9


def test_nfd_input_prints_precomposed() -> None:
    pdf = render_pdf(*sheet("Nguye\u0302\u0303n", "Van"), fonts=FONTS)
    text = pdftotext(pdf)
    assert "Nguyễn Van" in text and "e\u0302" not in text


def test_a_right_to_left_name_keeps_the_sentence_in_order() -> None:
    """Inserted into English text (isolated), the name does not pull the date across:
    the subtitle reads name, separator, date from left to right."""
    pdf = render_pdf(*sheet("فاطمة", "الزهراء"), fonts=FONTS)
    words = word_boxes(pdf, 1)
    nov = next(box for w, box in words if w == "Nov")
    line = [(w, box) for w, box in words if abs(box[1] - nov[1]) < 1]
    arabic = [box for w, box in line if any(unicodedata.bidirectional(c) == "AL" for c in w)]
    day = next(box for w, box in line if w == "25")
    assert arabic and max(b[2] for b in arabic) < day[0]


def test_cjk_fonts_are_embedded_as_small_subsets() -> None:
    pdf = render_pdf(*sheet("陈", "美玲"), fonts=FONTS)
    reader = PdfReader(io.BytesIO(pdf))
    sizes = {}
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for ref in resources["/Font"].values():
            font = ref.get_object()
            program = font["/FontDescriptor"].get_object()["/FontFile2"].get_object()
            sizes[str(font["/BaseFont"])] = len(program.get_data())
    cjk = [size for name, size in sizes.items() if "CJK" in name]
    assert cjk and max(cjk) < 20_000  # the whole font is 19 MB
    assert len(pdf) < 120_000


# -- what no font can draw -------------------------------------------------------------------


NO_FALLBACK = replace(FONTS, fallbacks=())


def test_undrawable_lists_what_no_font_has() -> None:
    assert undrawable("Zoë Ødegård", FONTS) == ()
    assert undrawable("陈 美玲 陈", NO_FALLBACK) == ("陈", "美", "玲")
    assert undrawable("Ann\ue000a", FONTS) == ("\ue000",)  # private use: no font has it
    for given, family in NAMES.values():
        assert undrawable(f"{given} {family}", FONTS) == ()
    # spaces, joiners and direction marks are never a problem
    assert undrawable("می\u200cخواهم \u2068x\u2069", FONTS) == ()


def test_a_sheet_with_an_undrawable_character_is_refused_by_name() -> None:
    content, profile = sheet("美玲", "陈")
    with pytest.raises(UndrawableText) as caught:
        render_pdf(content, profile, fonts=NO_FALLBACK)
    message = str(caught.value)
    assert "U+9648" in message and '"陈"' in message and "fonts-noto-cjk" in message
    assert caught.value.characters == ("陈", "美", "玲")


def test_a_preview_marks_undrawable_characters_with_their_code() -> None:
    content, profile = sheet("美玲", "陈")
    pdf = render_pdf(content, profile, fonts=NO_FALLBACK, mark_undrawable=True)
    text = pdftotext(pdf)
    assert "[U+9648][U+7F8E][U+73B2]" in text  # family name first, no space
    assert boxes(pdf) == []


def test_given_fallback_fonts_are_used_in_their_order() -> None:
    thai = Face(NOTO / "NotoSansThai-Regular.ttf")
    cjk = Face(NOTO_CJK / "NotoSansCJK-Regular.ttc", 2)  # Noto Sans CJK SC
    only_thai = replace(FONTS, fallbacks=(thai,))
    assert undrawable("สมชาย 陈", only_thai) == ("陈",)
    both = replace(FONTS, fallbacks=(thai, cjk))
    pdf = render_pdf(*sheet("สมชาย", "陈"), fonts=both)
    names = {str(f) for f in re.findall(rb"/BaseFont /([\w+-]+)", pdf)}
    assert any("NotoSansThai" in n for n in names) and any("CJK" in n for n in names)
    assert boxes(pdf) == []


# -- layout of right-to-left text ------------------------------------------------------------


def test_levels_come_from_the_bidirectional_algorithm() -> None:
    text = "I, \u2068فاطمة\u2069 (12)"
    levels = bidi_levels(text, 0)
    assert levels[4:9] == [1] * 5  # the isolated name
    assert levels[-4:] == [0, 0, 0, 0]  # digits and brackets after it stay left to right
    assert bidi_levels("Zoë", 0) == [0, 0, 0]


def test_a_long_right_to_left_text_breaks_in_reading_order() -> None:
    fonts = fonts_for(FONTS)
    words = [f"كلمة{n}" for n in "ابتثجحخدذ"]
    text = " ".join(words)
    fonts.prepare([text])
    lines = Typesetter(fonts).lines(text, "regular", 10, 150)
    assert len(lines) >= 2
    first = [p.text for p in lines[0].pieces if not p.space]
    # the first line holds the first words, the first one drawn rightmost
    assert first[-1] == words[0] and first[0] == words[len(first) - 1]


def test_override_reason_in_arabic_flows_across_pages() -> None:
    reason = " ".join(["فاطمة", "تحب", "العلاج"] * 700)
    case = minor_amber_case()
    c = case["consultation"]
    override = Override("proceed", reason, "Dr X", case["now"])
    pdf = render_pdf(
        *sheet("Zoë", "Ødegård", consultation=replace(c, override=override)), fonts=FONTS
    )
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 4
    assert readable(pdftotext(pdf)).count("فاطمة تحب العلاج") >= 600
    assert boxes(pdf) == []


def test_converted_cjk_subsets_are_the_same_bytes_whenever_made(monkeypatch: Any) -> None:
    """Byte-identical sheets need the converted font not to carry the time it was made."""
    from fontTools.ttLib.tables import _h_e_a_d

    from desktop.pdf.fonts import _truetype_subset

    face = Face(NOTO_CJK / "NotoSansCJK-Regular.ttc", 2)
    first = _truetype_subset(face, "陈美玲")
    monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda: 3_000_000_000)  # another day
    assert _truetype_subset(face, "陈美玲") == first
    assert len(first) < 20_000


def test_fontconfig_lists_fonts_for_a_language_and_nothing_without_it(monkeypatch: Any) -> None:
    import desktop.pdf.fonts as fonts_module

    chinese = fonts_module._fontconfig("sans-serif:lang=zh-cn:weight=regular")
    first = next(c for c in chinese if c.covers(ord("陈")))
    assert first.face.path.exists()
    monkeypatch.setattr(fonts_module.shutil, "which", lambda name: None)
    assert fonts_module._fontconfig("sans-serif:lang=zh-cn") == []


def test_an_unreadable_fallback_font_is_skipped(tmp_path: Path, caplog: Any) -> None:
    broken = tmp_path / "Broken.ttf"
    broken.write_bytes(b"not a font at all")
    files = replace(FONTS, fallbacks=(Face(broken), Face(NOTO / "NotoSansThai-Regular.ttf")))
    assert undrawable("สมชาย", files) == ()
    assert any("Broken.ttf" in r.getMessage() for r in caplog.records)
    pdf = render_pdf(*sheet("สมชาย", "ใจดี"), fonts=files)
    assert boxes(pdf) == [] and "สมชาย ใจดี" in pdftotext(pdf)


def test_a_sheet_in_several_scripts_is_the_same_bytes_twice() -> None:
    import desktop.pdf.fonts as fonts_module

    content, profile = sheet("陈 فاطمة", "प्रिया שרה")
    first = render_pdf(content, profile, fonts=FONTS)
    fonts_module._SUBSETS.clear()  # converted again, as in another process
    assert render_pdf(content, profile, fonts=FONTS) == first
