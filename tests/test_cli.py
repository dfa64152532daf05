"""The headless commands, run as a user would: `python main.py ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.answers import green_answers, stable_vitiligo_answers
from tests.helpers.cli import MAIN, run
from tests.helpers.clinics import FAST_HASHER, open_as_system, signed_in
from tests.helpers.consultations import ready, sign_all
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields
from tests.helpers.printing import needs_queue, outputs, pdf_facts, printed_file


def request(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "date": "2026-11-25",
        "patient": {"date_of_birth": "1990-04-02"},
        "answers": stable_vitiligo_answers() | {"V10": ["thyroid"], "G10": "III"},
        "strict": False,
    }
    body.update(over)
    return body


def test_assess_reads_a_file_and_prints_the_contract(tmp_path: Path) -> None:
    f = tmp_path / "in.json"
    f.write_text(json.dumps(request()))
    result = run("assess", str(f), home=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["checklist"]["id"] == "vitiligo-microneedling"
    assert (out["vitiligo"], out["general"], out["decision"]) == ("amber", "clear", "caution")
    assert (out["vida"], out["risk_points"], out["age"]) == (0, 1, 36)
    assert [f["rule"] for f in out["fired"]] == ["A1"]
    assert out["fired"][0]["basis"] == "C/D" and out["fired"][0]["text"]
    assert result.stderr == ""


def test_assess_reads_standard_input(tmp_path: Path) -> None:
    body = request(answers=green_answers(), patient={"date_of_birth": "2010-01-01"})
    result = run("assess", "-", stdin=json.dumps(body), home=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["decision"] == "caution" and out["age"] == 16
    assert [f["rule"] for f in out["fired"]] == ["K3", "K4"]


def test_assess_does_not_create_a_database(tmp_path: Path) -> None:
    result = run("assess", "-", stdin=json.dumps(request()), home=tmp_path)
    assert result.returncode == 0
    assert not list(tmp_path.rglob("*.sqlite"))


def _without(key: str) -> dict[str, Any]:
    answers = stable_vitiligo_answers()
    del answers[key]
    return answers


BAD_INPUTS: list[tuple[str, str]] = [
    ("{not json", "not valid JSON"),
    ("[]", "JSON object"),
    (json.dumps(request(answers=stable_vitiligo_answers() | {"V99": "yes"})), "V99"),
    (json.dumps(request(answers=stable_vitiligo_answers() | {"V3": "soon"})), "V3"),
    (json.dumps(request(answers=stable_vitiligo_answers() | {"V6": "confetti"})), "V6"),
    (json.dumps(request(answers=stable_vitiligo_answers() | {"V10": ["gout"]})), "V10"),
    (json.dumps(request(answers=stable_vitiligo_answers() | {"G10": 3})), "G10"),
    (json.dumps(request(answers=_without("G4"))), "G4"),
    (json.dumps(request(answers=_without("V3"))), "V3"),
    (json.dumps(request(answers=green_answers() | {"V2": "segmental"})), "V2"),
    (json.dumps(request(answers=green_answers() | {"V11": []})), "V11"),
    (json.dumps(request(answers=stable_vitiligo_answers() | {"V8": "no"})), "V8"),
    (json.dumps(request(patient={"date_of_birth": "2027-01-01"})), "after the consultation"),
    (json.dumps(request(patient={"date_of_birth": "02/04/1990"})), "date_of_birth"),
    (json.dumps(request(patient={})), "date_of_birth"),
    (json.dumps(request(date="yesterday")), "date"),
    (json.dumps({k: v for k, v in request().items() if k != "date"}), "date"),
    (json.dumps(request(strict="yes")), "strict"),
    (json.dumps(request(answers=["V1"])), "answers"),
    (json.dumps(request(extra=1)), "extra"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ('{"date": ' + "9" * 5000 + "}", "number too long"),
    (json.dumps(request(answers=stable_vitiligo_answers() | {"V3": "soon\n\x1b[2J"})), "V3"),
    (json.dumps(request(extra=1)).replace("extra", "ex\\u001btra"), "unknown field"),
    # Checklist 2026.12.1: a repeated token, test spots and an older version.
    (json.dumps(request(answers=stable_vitiligo_answers() | {"V10": ["thyroid"] * 2})), "V10"),
    (json.dumps(request(answers=stable_vitiligo_answers() | {"V6": ["confetti"] * 2})), "V6"),
    (json.dumps(request(test_spots={"done": "2026-10-01"})), "test_spots"),
    (json.dumps(request(test_spots=[{"done": "1 Oct 2026"}])), "test_spots[0].done"),
    (json.dumps(request(test_spots=[{"review_4w": None}])), "test_spots[0].done"),
    (
        json.dumps(request(test_spots=[{"done": "2026-10-01", "review_4w": "fine"}])),
        "test_spots[0].review_4w",
    ),
    (
        json.dumps(request(test_spots=[{"done": "2026-10-01", "site": "jaw"}])),
        "test_spots[0]: unknown field",
    ),
    (json.dumps(request(checklist_version="2026.10.9")), "no version 2026.10.9"),
    (json.dumps(request(checklist_version="../x")), "has no version ../x"),
    (json.dumps(request(checklist_version=2026)), "checklist_version"),
    (json.dumps(request(checklist_version="2026.11.1")), "V12: not a question of checklist"),
]


@pytest.mark.parametrize(("body", "named"), BAD_INPUTS)
def test_assess_bad_input_exits_2_with_one_clear_line(
    tmp_path: Path, body: str, named: str
) -> None:
    result = run("assess", "-", stdin=body, home=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]


def test_error_lines_show_control_characters_escaped(tmp_path: Path) -> None:
    body = json.dumps(request(answers=stable_vitiligo_answers() | {"V3": "soon\n\x1b[2J\u202e"}))
    result = run("assess", "-", stdin=body, home=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert not any(c in result.stderr for c in ("\x1b", "\u202e", "\r"))
    assert "\\u001b" in result.stderr or "\\x1b" in result.stderr


def test_a_repeated_token_is_named_with_the_allowed_tokens(tmp_path: Path) -> None:
    body = json.dumps(request(answers=stable_vitiligo_answers() | {"V10": ["lupus", "lupus"]}))
    result = run("assess", "-", stdin=body, home=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith('error: V10: "lupus" is listed twice; list each answer once')
    assert "thyroid, alopecia_areata" in result.stderr


def test_assess_reads_test_spots(tmp_path: Path) -> None:
    spots = [
        {"done": "2026-10-21", "review_4w": None, "review_12w": None},
        {"done": "2026-01-05", "review_4w": "no_change", "review_12w": "no_change"},
    ]
    out = json.loads(run("assess", "-", stdin=json.dumps(request(test_spots=spots))).stdout)
    assert [f["rule"] for f in out["fired"]] == ["A1", "T2"]
    assert (out["general"], out["decision"]) == ("not_today", "defer")
    spots[0]["review_4w"] = "no_change"  # a late review, recorded: the wait is over
    out = json.loads(run("assess", "-", stdin=json.dumps(request(test_spots=spots))).stdout)
    assert [f["rule"] for f in out["fired"]] == ["A1"]
    spots[1]["review_12w"] = "depigmentation"
    out = json.loads(run("assess", "-", stdin=json.dumps(request(test_spots=spots))).stdout)
    assert [f["rule"] for f in out["fired"]] == ["T1", "A1"]
    assert set(out) == {
        "checklist", "vitiligo", "general", "decision", "vida", "risk_points", "age", "strict",
        "fired",
    }  # fmt: skip


def test_assess_an_older_checklist_version(tmp_path: Path) -> None:
    old = {k: v for k, v in request()["answers"].items() if k not in {"V12", "G14", "G15"}}
    spots = [{"done": "2026-10-21", "review_4w": None, "review_12w": None}]
    body = request(answers=old, checklist_version="2026.11.1", test_spots=spots)
    result = run("assess", "-", stdin=json.dumps(body), home=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["checklist"] == {"id": "vitiligo-microneedling", "version": "2026.11.1"}
    assert [f["rule"] for f in out["fired"]] == ["A1"]  # 2026.11.1 has no T2
    assert out["fired"][0]["text"].startswith("Stable vitiligo.")
    newest = json.loads(run("assess", "-", stdin=json.dumps(request())).stdout)
    assert newest["checklist"]["version"] == "2026.12.1"
    assert newest["fired"][0]["text"].startswith("Diagnosed vitiligo.")


def test_assess_token_errors_list_the_allowed_tokens(tmp_path: Path) -> None:
    body = json.dumps(request(answers=stable_vitiligo_answers() | {"V3": "soon"}))
    line = run("assess", "-", stdin=body, home=tmp_path).stderr
    for token in ("le_6w", "6w_3m", "3m_6m", "6m_12m", "gt_12m", "gt_12m_repigmenting"):
        assert token in line


def test_assess_missing_file(tmp_path: Path) -> None:
    result = run("assess", str(tmp_path / "nope.json"), home=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "nope.json" in result.stderr


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run("--help", home=tmp_path)
    assert result.returncode == 0
    for command in ("assess", "backup", "restore", "--db"):
        assert command in result.stdout


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite"

    clinic = open_as_system(db)
    clinic.patients.register(patient_fields())
    clinic.close()
    dest = tmp_path / "backup.sqlite"
    result = run("--db", str(db), "backup", str(dest), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "integrity check passed" in result.stdout
    again = run("--db", str(db), "backup", str(dest), home=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    result = run("--db", str(db), "restore", str(dest), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "previous database was kept" in result.stdout
    bad = run("--db", str(db), "restore", str(tmp_path / "missing.sqlite"), home=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    clinic = open_as_system(db)
    assert clinic.patients.count() == 1
    clinic.close()


def test_a_backup_restores_onto_a_new_computer(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite"
    clinic = open_as_system(db)
    clinic.patients.register(patient_fields())
    clinic.close()
    backup = tmp_path / "backup.sqlite"
    assert run("--db", str(db), "backup", str(backup), home=tmp_path).returncode == 0
    new = tmp_path / "new-computer" / "clinic.sqlite"
    new.parent.mkdir()
    result = run("--db", str(new), "restore", str(backup), home=tmp_path)
    assert result.returncode == 0, result.stderr
    clinic = open_as_system(new)
    assert clinic.patients.count() == 1 and clinic.audit.verify().intact
    clinic.close()


def test_every_command_describes_itself(tmp_path: Path) -> None:
    for command in (
        "assess",
        "backup",
        "restore",
        "verify",
        "move-to",
        "print",
        "audit",
        "demo",
        "import",
    ):
        result = run(command, "--help", home=tmp_path)
        _usage, _, rest = result.stdout.partition("\n\n")
        description = rest.split("\n\n")[0]
        assert result.returncode == 0 and "positional arguments" not in description, command
        assert len(description.split()) >= 8, (command, description)


def test_move_to_prints_a_command_that_pastes_into_a_shell(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite"

    clinic = open_as_system(db)
    clinic.patients.register(patient_fields())
    clinic.close()
    target = tmp_path / "new home & co's.sqlite"
    result = run("--db", str(db), "move-to", str(target), home=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "open the clinic there" in x)
    pasted = line.split("main.py ", 1)[1].split(" (a server:")[0]
    echoed = subprocess.run(
        f"printf '%s\\n' {pasted}", shell=True, capture_output=True, text=True, check=True
    )
    assert echoed.stdout.splitlines() == ["--db", str(target)]


def test_commands_do_not_import_qt(tmp_path: Path) -> None:
    code = (
        "import sys, runpy; sys.argv=['main.py','assess','-'];"
        "import io; sys.stdin=io.StringIO(" + repr(json.dumps(request())) + ");"
        "import desktop.app as a\n"
        "try:\n a.main()\n"
        "except SystemExit: pass\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'\n"
        "assert 'reportlab' not in sys.modules and 'pyhanko' not in sys.modules\n"
    )
    env = dict(os.environ, HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "s"))
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# print ------------------------------------------------------------------------------------

FAKE_LPSTAT = """#!/bin/sh
# lpstat as CUPS 2.4 answers it (LC_ALL=C) with one queue, Fake, the default
if [ -n "$FAKE_CUPS_DOWN" ]; then
  [ "$*" = "-r" ] && echo "scheduler is not running" && exit 0
  echo "no system default destination"; echo "lpstat: Scheduler is not running." >&2; exit 1
fi
case "$*" in
  "-r") echo "scheduler is running" ;;
  "-e -d -p -a")
    echo "Fake"
    echo "system default destination: Fake"
    echo "printer Fake is idle.  enabled since Mon Nov 30 10:00:00 2026"
    echo "Fake accepting requests since Mon Nov 30 10:00:00 2026" ;;
esac
"""
FAKE_LP = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_LP_DIR/args"
cat > "$FAKE_LP_DIR/job.pdf"
echo "request id is Fake-7 (0 file(s))"
"""


@pytest.fixture(scope="module")
def signed_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A clinic database with one signed consultation: (path, consent ID, aftercare ID)."""
    from desktop.clinic import Clinic

    folder = tmp_path_factory.mktemp("printing")
    db = folder / "clinic.sqlite"
    clinic = signed_in(Clinic.open(db, hasher=FAST_HASHER, workstation_dir=folder / "anchors"))
    try:
        cid = ready(clinic, given_name="Jane", family_name="Smith-Jones")
        sign_all(clinic, cid)
        docs = {d.kind: d.id for d in clinic.documents.sign(cid)}
    finally:
        clinic.close()
    return db, docs["consent"], docs["aftercare"]


def stored_pdf(db: Path, document_id: str, tmp_path: Path) -> bytes:
    clinic = open_as_system(db)
    try:
        return bytes(clinic.documents.pdf(document_id, "export"))
    finally:
        clinic.close()


def fake_cups(tmp_path: Path) -> dict[str, str]:
    """Environment for a subprocess whose lpstat and lp are the fakes above."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, script in (("lpstat", FAKE_LPSTAT), ("lp", FAKE_LP)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_LP_DIR": str(tmp_path)}


def run_with(env: dict[str, str], *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "data"))
    full["XDG_STATE_HOME"] = str(home / "state")
    full.update(env)
    return subprocess.run(
        [sys.executable, MAIN, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=full,
        check=False,
    )


def test_print_sends_the_verified_sealed_original_to_lp(
    signed_db: tuple[Path, str, str], tmp_path: Path
) -> None:
    db, consent, aftercare = signed_db
    env = fake_cups(tmp_path)
    result = run_with(env, "--db", str(db), "print", consent, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"consent {consent} sent to Fake as job Fake-7 (1 copy, A4, the sealed original).\n"
    )
    original = stored_pdf(db, consent, tmp_path)
    assert (tmp_path / "job.pdf").read_bytes() == original  # byte for byte, through stdin
    args = (tmp_path / "args").read_text().splitlines()
    assert args == [
        *("-d", "Fake", "-t", f"consent {consent}", "-n", "1"),
        *("-o", "media=A4", "-o", "fit-to-page", "-"),
    ]

    copy = tmp_path / "aftercare copy.pdf"  # a saved copy is reprinted from its file
    copy.write_bytes(stored_pdf(db, aftercare, tmp_path))
    result = run_with(
        env,
        *("--db", str(db), "print", str(copy), "--printer", "Fake"),
        *("--copies", "3", "--paper", "Letter"),
        home=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"aftercare {aftercare} sent to Fake as job Fake-7 (3 copies")
    args = (tmp_path / "args").read_text().splitlines()
    assert args[3] == f"aftercare {aftercare}" and "media=Letter" in args


def test_print_refuses_what_cannot_be_printed_with_one_line(
    signed_db: tuple[Path, str, str], tmp_path: Path
) -> None:
    db, consent, _ = signed_db
    env = fake_cups(tmp_path)
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(stored_pdf(db, consent, tmp_path) + b"\n% more")
    (tmp_path / "notes.txt").write_text("not a pdf")
    cases = {
        "not a PDF file": ("print", str(tmp_path / "notes.txt")),
        "cannot read": ("print", str(tmp_path / "missing.pdf")),
        "not a sealed document of this clinic": ("print", str(appended)),
        "No document with ID": ("print", "00000000-0000-4000-8000-000000000000"),
        "no printer called 'Nope'; printers here: Fake": ("print", consent, "--printer", "Nope"),
        "between 1 and 99 copies": ("print", consent, "--copies", "0"),
    }
    for expected, args in cases.items():
        result = run_with(env, "--db", str(db), *args, home=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
        assert expected in result.stderr, result.stderr
    assert not (tmp_path / "job.pdf").exists()  # nothing reached lp

    down = run_with(env | {"FAKE_CUPS_DOWN": "1"}, "--db", str(db), "print", consent, home=tmp_path)
    assert down.returncode == 2
    assert "The print service (CUPS) is not running" in down.stderr


def test_print_without_cups_running_here_exits_2(
    signed_db: tuple[Path, str, str], tmp_path: Path
) -> None:
    """With the real lpstat (if any) pointed at a server that does not exist."""
    db, consent, _ = signed_db
    env = {"CUPS_SERVER": str(tmp_path / "no-cupsd.sock")}
    result = run_with(env, "--db", str(db), "print", consent, home=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "CUPS" in result.stderr


@pytest.mark.slow
@needs_queue
def test_print_through_a_real_cups_queue(signed_db: tuple[Path, str, str], tmp_path: Path) -> None:
    db, consent_id, _ = signed_db
    printer = os.environ["CLINIC_TEST_PRINTER"]
    original = stored_pdf(db, consent_id, tmp_path)
    saved = tmp_path / "consent.pdf"
    saved.write_bytes(original)
    before = outputs("consent", consent_id)
    result = run("--db", str(db), "print", str(saved), "--printer", printer, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"sent to {printer} as job {printer}-" in result.stdout
    out = printed_file("consent", consent_id, before)
    text, size = pdf_facts(out)
    assert "Jane Smith-Jones" in text and f"Document {consent_id}" in text
    assert "(A4)" in size
    assert out.stat().st_size < 3 * len(original)
    assert out.name.startswith(f"consent_{consent_id}")  # named after the job title

    unknown = run("--db", str(db), "print", consent_id, "--printer", "No-such-queue", home=tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "printers here: " in unknown.stderr and printer in unknown.stderr


IMPORT_CSV = (
    "First name,Surname,DOB,Mobile,Address,Chart number\n"
    'Siobhán,O\'Brien,30.11.1985,+44 20 7946 0011,"1 High Street\nLondon",A-17\n'
    "Siobhan,O’Brien,1985-11-30,+44 20 7946 0011,,A-18\n"
    "Anna,Smith,12/01/2008,,,A-19\n"
    ",,1990-01-01,,,A-20\n"
    ",陈美玲,1979-06-15,,,A-21\n"
)


def test_import_command_dry_run_then_real_run(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite"
    csv_file = tmp_path / "patients.csv"
    csv_file.write_text(IMPORT_CSV, encoding="utf-8")
    dry = run("--db", str(db), "import", str(csv_file), "--dry-run", home=tmp_path)
    assert dry.returncode == 1, dry.stderr  # some rows are not new
    lines = dry.stdout.splitlines()
    assert lines[0] == "line 2: new: Siobhán O'Brien; born 30 November 1985"
    assert (
        lines[1]
        == "line 4: duplicate: Siobhan O’Brien; born 30 November 1985; same person as line 2"
    )
    assert lines[2].startswith("line 5: refused: Anna Smith; Date of birth: '12/01/2008' could be")
    assert lines[3].startswith("line 6: refused: (no name); A name is required")
    assert lines[4] == "line 7: new: 陈美玲; born 15 June 1979"
    assert "columns ignored (not patient details this program knows): Chart number" in lines
    assert lines[-1].endswith(
        "2 would be imported, 1 duplicates (not imported), 2 refused (dry run: nothing changed)"
    )

    clinic = open_as_system(db)
    assert clinic.patients.count() == 0
    clinic.close()
    real = run("--db", str(db), "import", str(csv_file), home=tmp_path)
    assert real.returncode == 1, real.stderr
    assert real.stdout.splitlines()[-1] == (
        "5 rows: 2 imported, 1 duplicates (not imported), 2 refused"
    )
    clinic = open_as_system(db)
    (siobhan,) = clinic.patients.search("obrien")
    assert siobhan.address == "1 High Street\nLondon" and siobhan.phone_e164 == "+442079460011"
    assert [p.full_name for p in clinic.patients.search("美玲")] == ["陈美玲"]
    clinic.close()
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(
        "given_name,family_name,date_of_birth\nJosé,Núñez,1990-01-01\n".encode("latin-1")
    )
    refused = run("--db", str(db), "import", str(bad), home=tmp_path)
    assert refused.returncode == 2 and "CSV UTF-8" in refused.stderr
