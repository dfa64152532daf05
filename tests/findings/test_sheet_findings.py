"""Sheets that differ from what the signers saw, or print a patient's name as boxes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.clinic import Clinic
from desktop.errors import ValidationError
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.consultations import ready_draft
from tests.helpers.paths import ROOT


def _png(colour: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 80), colour).save(out, "PNG")
    return out.getvalue()


def test_a_new_clinic_address_voids_the_signatures(clinic: Clinic) -> None:
    clinic.settings.update_profile(address="1 High Street")
    cid = ready_draft(clinic)
    clinic.settings.update_profile(address="2 Other Street")
    with pytest.raises(ValidationError, match="signed"):
        clinic.documents.sign(cid)


def test_a_new_clinic_logo_voids_the_signatures(clinic: Clinic) -> None:
    clinic.settings.update_profile(logo_png=_png("red"))
    cid = ready_draft(clinic)
    clinic.settings.update_profile(logo_png=_png("blue"))
    with pytest.raises(ValidationError, match="signed"):
        clinic.documents.sign(cid)


def test_a_change_that_is_not_printed_keeps_the_signatures(clinic: Clinic) -> None:
    """(Holds today.) The patient's e-mail and notes are not on the sheet."""
    cid = ready_draft(clinic)
    c = clinic.consultations.get(cid)
    clinic.patients.update(c.patient_id, {"email": "new@example.org", "notes": "prefers mornings"})
    assert [d.kind for d in clinic.documents.sign(cid)] == ["consent", "aftercare"]


def test_a_new_date_of_birth_is_named_as_the_reason(clinic: Clinic) -> None:
    cid = ready_draft(clinic)
    c = clinic.consultations.get(cid)
    clinic.patients.update(c.patient_id, {"date_of_birth": "1991-04-02"})
    with pytest.raises(ValidationError) as refused:
        clinic.documents.sign(cid)
    assert "test spot" not in refused.value.message


# One program signs several patients with names in Chinese, Korean and Japanese, as the window
# does in a day; the name line of each consent is drawn to an image.
SIGN_IN_ONE_PROGRAM = """
import sys
from pathlib import Path
from datetime import datetime
from desktop.clinic import Clinic
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.clock import TZ, FakeClock
from tests.helpers.consultations import ready_draft
clinic = signed_in(Clinic.in_memory(clock=FakeClock(datetime(2026, 11, 25, 10, 30, tzinfo=TZ)),
                                    hasher=FAST_HASHER))
out = Path(sys.argv[1])
for i, name in enumerate(sys.argv[2:]):
    family, given = name.split("/")
    cid = ready_draft(clinic, given_name=given, family_name=family, phone="")
    docs = clinic.documents.sign(cid)
    (out / f"{i}.pdf").write_bytes(clinic.documents.pdf(docs[0].id))
"""


def _name_line(pdf: Path) -> bytes:
    """The consent's subtitle (patient's name and date) drawn at 100 dpi, as RGB bytes."""
    from PIL import Image

    stem = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-f", "1", "-l", "1", "-x", "60", "-y", "145",
         "-W", "400", "-H", "30", str(pdf), str(stem)],
        check=True,
    )  # fmt: skip
    return Image.open(f"{stem}-1.png").convert("RGB").tobytes()


def _sign_in_one_program(folder: Path, *names: str) -> Path:
    folder.mkdir()
    subprocess.run(
        [sys.executable, "-c", SIGN_IN_ONE_PROGRAM, str(folder), *names],
        cwd=ROOT, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return folder / f"{len(names) - 1}.pdf"


@pytest.mark.slow
def test_a_name_prints_the_same_whatever_was_printed_before(tmp_path: Path) -> None:
    alone = _sign_in_one_program(tmp_path / "alone", "王/伟")
    after = _sign_in_one_program(tmp_path / "after", "陈/美玲", "김/민준", "山田/はなこ", "王/伟")
    assert _name_line(after) == _name_line(alone)


def test_content_changed_while_signing_is_not_sealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.clinic import Clinic

    db = tmp_path / "clinic.sqlite"
    here = signed_in(Clinic.open(db, hasher=FAST_HASHER))
    here.settings.update_profile(phone="020 7946 0000")
    cid = ready_draft(here)
    elsewhere = Clinic.open(db, hasher=FAST_HASHER)
    elsewhere.session.login("owner", OWNER_PASSWORD)
    material = here.seal.material

    def slow_material() -> object:
        elsewhere.settings.update_profile(phone="020 7946 9999")  # meanwhile, elsewhere
        return material()

    monkeypatch.setattr(here.seal, "material", slow_material)
    try:
        with pytest.raises(ValidationError):
            here.documents.sign(cid)
    finally:
        elsewhere.close()
        here.close()
