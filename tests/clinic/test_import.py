"""Importing existing patients from CSV: a dry run changes nothing, a real run is audited in
batches, bad rows are refused with their reason, and a file that cannot be used imports nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.clinic import Clinic
from desktop.errors import ValidationError


def write(tmp_path: Path, text: str, name: str = "patients.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_dry_run_lists_every_outcome_and_changes_nothing(clinic: Clinic, tmp_path: Path) -> None:
    clinic.patients.register(
        {"given_name": "Zoë", "family_name": "Ødegård", "date_of_birth": "1975-03-01"}
    )
    path = write(
        tmp_path,
        "given_name;family_name;date_of_birth;phone;notes\n"
        "Anna;Smith-Jones;1988-07-12;;\n"
        "Zoe;Odegard;01.03.1975;;already here\n"
        "Anna;Smith Jones;12.07.1988;;twice in the file\n"
        "Ben;Kowalski;31.02.1990;;\n"
        "Ben;Kowalski;1990-01-01;call me;\n"
        "Cara;Nowak;1990-01-01;;;extra\n"
        "\n"
        "Dev;\u202eevil;1990-01-01;;\n",
    )
    rows = []
    trail = len(clinic.audit.entries())
    report = clinic.patients.import_csv(path, dry_run=True, on_row=rows.append)
    assert [(r.line, r.outcome) for r in rows] == [
        (2, "new"),
        (3, "duplicate"),
        (4, "duplicate"),
        (5, "refused"),
        (6, "refused"),
        (7, "refused"),
        (9, "refused"),
    ]
    assert "already registered as Zoë Ødegård" in rows[1].detail
    assert rows[2].detail.endswith("same person as line 2")
    assert "31.02.1990" in rows[3].detail and "not a date" in rows[3].detail
    assert "not a phone number" in rows[4].detail
    assert "more cells" in rows[5].detail
    assert "reorders text" in rows[6].detail
    assert (report.new, report.duplicates, report.refused) == (1, 2, 4)
    assert clinic.patients.count() == 1
    (entry,) = clinic.audit.entries()[trail:]
    assert entry.action == "import patients (dry run)"


def test_a_real_run_imports_in_audited_batches(clinic: Clinic, tmp_path: Path) -> None:
    lines = ["Given name,Family name,Date of birth,Phone,Emergency contact,Emergency phone"]
    lines += [
        f"Name{i},Family{i},1990-01-{1 + i % 28:02d},,Kin{i},+44 20 7946 {i:04d}"
        for i in range(1203)
    ]
    lines.append("Bad,Date,1990-13-01,,,")
    path = write(tmp_path, "\n".join(lines) + "\n")
    progress: list[tuple[int, int]] = []
    report = clinic.patients.import_csv(
        path, progress=lambda done, total: progress.append((done, total))
    )
    assert (report.new, report.duplicates, report.refused) == (1203, 0, 1)
    assert clinic.patients.count() == 1203
    assert len(progress) == 3 and progress[-1][0] == progress[-1][1] == path.stat().st_size
    (p,) = clinic.patients.search("name1202")
    assert p.emergency_contact_name == "Kin1202" and p.emergency_contact_phone == "+44 20 7946 1202"
    created = clinic.audit.entries(action="create patient", limit=-1)
    assert (
        len(created) == 1203
        and created[-1].patient == p.id
        and '"source": "import"' in created[-1].detail
    )
    (summary,) = clinic.audit.entries(action="import patients")
    assert '"new": 1203' in summary.detail
    assert clinic.audit.verify().intact
    again = clinic.patients.import_csv(path)  # a second run finds them all registered
    assert (again.new, again.duplicates, again.refused) == (0, 1203, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"given_name,family_name\nAnna,Smith\n", "date of birth column"),
        (b"family_name,surname,date_of_birth\nA,B,1990-01-01\n", "Two columns"),
        (b"", "empty"),
        ("given_name,date_of_birth\nJos\xe9,1990-01-01\n".encode("latin-1"), "CSV UTF-8"),
    ],
)
def test_a_file_that_cannot_be_used_imports_nothing(
    clinic: Clinic, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        clinic.patients.import_csv(path)
    assert clinic.patients.count() == 0


def test_import_reads_dates_and_phones_with_the_clinic_settings(
    clinic: Clinic, tmp_path: Path
) -> None:
    clinic.settings.set_phone_region("GB")
    clinic.settings.set_date_order("month-first")
    path = write(tmp_path, "\ufeffdob,surname,mobile\n12/01/2008,Sukarno,020 7946 0011\n")
    clinic.patients.import_csv(path)
    (p,) = clinic.patients.search("sukarno")
    assert p.date_of_birth.isoformat() == "2008-12-01" and p.full_name == "Sukarno"
    assert p.phone == "+44 20 7946 0011"


HEAD = "given_name,family_name,date_of_birth,notes\n"
ANNA = 'Anna,Smith,1990-01-02,"said ""hi"""\n'
LATER = "".join(f"Pat{i},Family{i},1970-01-{1 + i:02d},ok\n" for i in range(20))


def test_a_quote_never_closed_stops_at_its_line_keeping_the_rows_before(
    clinic: Clinic, tmp_path: Path
) -> None:
    path = write(tmp_path, HEAD + ANNA + 'Bob,Jones,1980-03-04,"6 inch needle\n' + LATER)
    with pytest.raises(ValidationError, match=r"line 3.*quote opened on line 3 is never closed"):
        clinic.patients.import_csv(path, dry_run=True)
    assert clinic.patients.count() == 0
    with pytest.raises(ValidationError, match="the 1 new patient before it was imported"):
        clinic.patients.import_csv(path)
    assert [p.given_name for p in clinic.patients.search("")] == ["Anna"]
    assert clinic.audit.entries()[-1].action == "import patients (stopped)"


def test_a_quote_closed_rows_later_does_not_take_those_rows_into_one_cell(
    clinic: Clinic, tmp_path: Path
) -> None:
    text = HEAD + ANNA + 'Bob,Jones,1980-03-04,"6 inch needle\n' + LATER + 'Cy,Doe,1975-05-06,"x"\n'
    path = write(tmp_path, text)
    with pytest.raises(ValidationError, match="closed only after line 4, which is a row"):
        clinic.patients.import_csv(path)
    (anna,) = clinic.patients.search("")
    assert "Family0" not in anna.notes and not clinic.patients.search("jones")


def test_notes_over_several_lines_are_one_cell(clinic: Clinic, tmp_path: Path) -> None:
    notes = '"Line one, with a comma\nline two\n\nline four"'
    path = write(tmp_path, HEAD + f"Bob,Jones,1980-03-04,{notes}\n" + LATER)
    report = clinic.patients.import_csv(path)
    assert (report.new, report.refused) == (21, 0)
    (bob,) = clinic.patients.search("jones")
    assert clinic.patients.get(bob.id).notes.splitlines()[-1] == "line four"


def test_a_single_name_column_is_explained_not_guessed(clinic: Clinic, tmp_path: Path) -> None:
    path = write(tmp_path, "Name,DOB\nAnna Smith,1990-01-02\n")
    with pytest.raises(ValidationError, match=r"'Name' holds whole names.*Split it"):
        clinic.patients.import_csv(path, dry_run=True)
    assert clinic.patients.count() == 0


def test_a_refused_row_names_every_problem_at_once(clinic: Clinic, tmp_path: Path) -> None:
    path = write(
        tmp_path, "given_name,family_name,date_of_birth,phone\nAnn,Lee,31.02.1990,call me\n"
    )
    rows = []
    clinic.patients.import_csv(path, dry_run=True, on_row=rows.append)
    (row,) = rows
    assert row.outcome == "refused"
    assert "not a date" in row.detail and "not a phone number" in row.detail
