"""The demo command fills a living clinic; verify judges its PDFs from the command line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from desktop import resources
from desktop.checklist import normalize_answers, parse_definition_text
from desktop.checklist.roles import SKIN_TYPE
from desktop.clinic import Clinic
from desktop.demo import load_demo_clinic
from desktop.errors import ValidationError
from tests.helpers.cli import run
from tests.helpers.clinics import FAST_HASHER, open_as_system

# The demo clinic is built by the real command in a subprocess (seconds).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    home = tmp_path_factory.mktemp("demo")
    db, out = home / "demo.sqlite", home / "pdfs"
    result = run("--db", str(db), "demo", "--out", str(out), home=home)
    assert result.returncode == 0, result.stderr
    return db, out, result.stdout


def test_demo_fills_every_kind_of_outcome(demo: tuple[Path, Path, str]) -> None:
    db, _, stdout = demo
    assert "Demo clinic ready" in stdout
    clinic = open_as_system(db)
    try:
        assert clinic.settings.is_demo()
        assert clinic.patients.count() >= 25
        names = {p.full_name for p in clinic.patients.search("", limit=100)}
        assert {"Łukasz Żółć", "Zoë Ødegård"} <= names
        assert any(n.startswith("Αλέξανδρος") for n in names)
        consultations = [
            c
            for p in clinic.patients.search("", 100)
            for c in clinic.consultations.for_patient(p.id)
        ]
        outcomes = {c.assessment.vitiligo for c in consultations if c.assessment}
        generals = {c.assessment.general for c in consultations if c.assessment}
        assert outcomes == {"green", "amber", "red"}
        assert generals == {"clear", "caution", "not_today", "clearance"}
        assert any(c.override for c in consultations)
        assert any(c.assessment and c.assessment.has("K4") for c in consultations)
        assert sum(c.state == "signed" for c in consultations) >= 3
        spots = [
            s for p in clinic.patients.search("", 100) for s in clinic.test_spots.for_patient(p.id)
        ]
        assert any(s.reviews for s in spots) and any(s.depigmented for s in spots)
        assert clinic.test_spots.due_reviews()
        # Every demo consultation uses the newest checklist.
        assert {c.checklist_version for c in consultations} == {clinic.checklist.version}
        fired = {r for c in consultations if c.assessment for r in c.assessment.fired_ids()}
        assert {"T1", "T2", "D1", "K5", "C6"} <= fired
        # The depigmented test spot flags its patient and the consultation signed before it.
        flags = clinic.test_spots.flags(p.id for p in clinic.patients.search("", 100))
        assert len(flags) == 1
        (flag,) = flags.values()
        assert [s.site for s in flag.spots] == ["left jawline"]
        assert [c.state for c in flag.consultations] == ["signed"]
    finally:
        clinic.close()


def test_demo_pdfs_are_marked_and_verify(demo: tuple[Path, Path, str], tmp_path: Path) -> None:
    db, out, _ = demo
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) >= 6
    for pdf in pdfs:
        text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
        assert "DEMO" in text
        result = run("--db", str(db), "verify", str(pdf), home=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count("\n") == 1 and "valid" in result.stdout
    tampered = tmp_path / "tampered.pdf"
    data = bytearray(pdfs[0].read_bytes())
    data[len(data) // 2] ^= 0x20
    tampered.write_bytes(bytes(data))
    result = run("--db", str(db), "verify", str(tampered), home=tmp_path)
    assert result.returncode == 1 and "invalid" in result.stdout
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(pdfs[0].read_bytes() + b"\n% appended\n")
    assert run("--db", str(db), "verify", str(appended), home=tmp_path).returncode == 1
    notpdf = tmp_path / "x.pdf"
    notpdf.write_text("hello")
    result = run("--db", str(db), "verify", str(notpdf), home=tmp_path)
    assert result.returncode == 2 and result.stdout == ""


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils not installed")
def test_pdfsig_accepts_the_seal_and_rejects_a_changed_byte(
    demo: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, out, _ = demo
    pdf = sorted(out.glob("*consent.pdf"))[0]
    good = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in good.stdout, good.stdout
    data = bytearray(pdf.read_bytes())
    data[len(data) // 3] ^= 0x01
    bad_file = tmp_path / "bad.pdf"
    bad_file.write_bytes(bytes(data))
    bad = subprocess.run(["pdfsig", str(bad_file)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" not in bad.stdout


def test_demo_refuses_a_database_with_patients(
    demo: tuple[Path, Path, str], tmp_path: Path
) -> None:
    db, _, _ = demo
    result = run("--db", str(db), "demo", home=tmp_path)
    assert result.returncode == 2 and "empty database" in result.stderr


def test_demo_refuses_a_clinic_that_is_set_up_even_without_patients(tmp_path: Path) -> None:
    db = tmp_path / "real.sqlite"
    clinic = Clinic.open(db, hasher=FAST_HASHER)
    clinic.accounts.setup("owner", "Dr Owner", "a long enough password", clinic={"name": "Real"})
    clinic.close()
    result = run("--db", str(db), "demo", home=tmp_path)
    assert result.returncode == 2 and "set up" in result.stderr
    check = Clinic.open(db, hasher=FAST_HASHER)
    check.session.login("owner", "a long enough password")
    assert [u.username for u in check.accounts.list()] == ["owner"]
    assert not check.settings.is_demo()
    check.close()


def test_demo_answer_cases_fit_the_checklist() -> None:
    name, text = resources.checklist_text()
    definition = parse_definition_text(text, name)
    data = load_demo_clinic()
    skin_type = definition.question_id(SKIN_TYPE)
    for name, case in data.cases.items():
        answers = data.answers(name, (skin_type, data.people[0].fitzpatrick))
        # Every case but the one just begun is a complete checklist.
        normalize_answers(definition, answers, partial=case.base is None)
        assert (case.base is None) == (name == "partial")
        assert (skin_type in answers) == (case.base is not None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[]", "clinic.json: top level: expected a JSON object"),
        ('{"people": []}', "clinic.json: people: expected a non-empty list"),
        (
            '{"people": [{"given_name": "A", "family_name": "B", "age": "30", "fitzpatrick": "I",'
            ' "phone": ""}]}',
            "clinic.json: people[0]: the age must be a whole number",
        ),
        (
            '{"people": [{"given_name": "A"}]}',
            "clinic.json: people[0]: needs exactly the keys given_name, family_name, age",
        ),
        (
            '{"people": [{"given_name": "A", "family_name": "B", "age": 30, "fitzpatrick": "I",'
            ' "phone": ""}], "answer_sets": {"base": {}},'
            ' "cases": {"x": {"from": "other", "answers": {}}}}',
            "clinic.json: cases.x: 'from' 'other' is not one of the answer sets",
        ),
        ("{", "clinic.json: not valid JSON"),
    ],
)
def test_a_broken_demo_file_is_refused_naming_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, fragment: str
) -> None:
    (tmp_path / "clinic.json").write_text(text, encoding="utf-8")
    monkeypatch.setattr(resources, "DEMO", tmp_path)
    with pytest.raises(ValidationError) as err:
        load_demo_clinic()
    assert fragment in str(err.value)
