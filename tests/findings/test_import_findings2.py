"""Faults of the CSV patient import: a stray quote that swallows the rest of the file."""

from __future__ import annotations

from pathlib import Path

from desktop.clinic import Clinic
from desktop.errors import ValidationError


def _file_with_a_stray_quote(folder: Path, following: int) -> Path:
    """Three patients, the second with notes opening a quote it never closes (a spreadsheet
    cell typed as `"6 inch needle`), then `following` ordinary rows."""
    rows = [
        "given_name,family_name,date_of_birth,notes",
        'Anna,Smith,1990-01-02,"said ""hi"""',
        'Bob,Jones,1980-03-04,"6 inch needle',
    ]
    rows += [f"Pat{i},Family{i},1970-01-{1 + i % 28:02d},ok" for i in range(following)]
    path = folder / "patients.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_stray_quote_neither_hides_the_rest_of_the_file_nor_files_it_in_one_patient(
    clinic: Clinic, tmp_path: Path
) -> None:
    path = _file_with_a_stray_quote(tmp_path, following=50)
    try:
        dry = clinic.patients.import_csv(path, dry_run=True)
    except ValidationError:
        assert clinic.patients.count() == 0  # the whole file refused, saying why: fine
        return
    # Every line after the stray quote is accounted for, or the run is not "all new".
    assert dry.rows == 52 or dry.new < dry.rows, (dry.rows, dry.new)
    report = clinic.patients.import_csv(path)
    assert report.rows == 52 or report.new < report.rows
    for found in clinic.patients.search("jones"):
        assert "Family0" not in clinic.patients.get(found.id).notes
