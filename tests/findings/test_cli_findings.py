"""The command line with hostile input: one line on stderr and exit 2, nothing written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from desktop.cli import assess_request
from desktop.clinic import Clinic
from desktop.errors import ValidationError
from tests.helpers.answers import green_answers
from tests.helpers.cli import cli, one_line_error
from tests.helpers.clinics import FAST_HASHER, signed_in


def _request(answers_json: str) -> str:
    return (
        '{"date": "2026-11-25", "patient": {"date_of_birth": "1990-04-02"}, '
        f'"answers": {answers_json}}}'
    )


def test_an_answer_given_twice_is_refused() -> None:
    answers = json.dumps(green_answers())[1:-1]
    text = _request('{"V1": "yes", ' + answers + "}")  # green answers say V1 = no after it
    with pytest.raises(ValidationError, match="V1"):
        assess_request(text)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.sqlite"
    signed_in(Clinic.open(path, hasher=FAST_HASHER)).close()
    return path


def test_an_oversized_cell_is_refused_and_every_new_row_is_stored(db: Path, tmp_path: Path) -> None:
    rows = [f"Late{i},Import,1980-01-01," for i in range(700)]
    rows.append("Big,Cell,1980-01-01," + "y" * 200_000)
    data = tmp_path / "patients.csv"
    data.write_text("given_name,family_name,date_of_birth,notes\n" + "\n".join(rows) + "\n")
    result = cli(db, "import", str(data))
    assert "Traceback" not in result.stderr
    said_new = sum(": new:" in line for line in result.stdout.splitlines())
    stored = sqlite3.connect(db).execute("SELECT count(*) FROM patients").fetchone()[0]
    assert stored == said_new


def test_verify_refuses_a_file_too_large_to_be_a_sheet(db: Path) -> None:
    result = cli(db, "verify", "/dev/zero", limit_bytes=1 << 30)
    assert one_line_error(result), result.stderr[-300:]


@pytest.mark.slow
def test_verify_refuses_a_named_pipe(db: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "sheet.pdf"
    os.mkfifo(pipe)
    try:
        result = cli(db, "verify", str(pipe), timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("verify waited 20 s on a named pipe")
    assert one_line_error(result)


def test_audit_verify_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "clinc.sqlite"
    result = cli(missing, "audit", "verify")
    assert not missing.exists()
    assert one_line_error(result)


def test_another_clinics_backup_names_the_option_that_confirms_it(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    clinic = signed_in(Clinic.open(other, hasher=FAST_HASHER))
    backup = clinic.backups.backup(tmp_path / "other-backup.sqlite")
    clinic.close()
    result = cli(db, "restore", str(backup))
    assert one_line_error(result)
    assert "--other-clinic" in result.stderr
