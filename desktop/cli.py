"""The command line: argument parsing and the headless commands (never imports Qt)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shlex
import stat
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from desktop import __version__
from desktop.errors import IntakeError, ValidationError
from desktop.paths import default_db

log = logging.getLogger(__name__)

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description=(
            "Clinic Intake: consultations, the vitiligo risk checklist and signed consent for "
            "microneedling. Without a command, opens the front-desk window."
        ),
        epilog=f"Default database: {default_db()}",
    )
    parser.add_argument("--version", action="version", version=f"Clinic Intake {__version__}")
    parser.add_argument(
        "--db",
        type=database_target,
        metavar="PATH|URL",
        help="the clinic database: a file (created if missing), or the clinic's server as "
        "postgresql://user@host:5432/database (password from ~/.pgpass or PGPASSFILE; TLS "
        "with ?sslmode=verify-full). Default: this computer's choice (Settings), else the "
        "file below",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the window on a fresh temporary database filled with a demo clinic",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser(
        "assess",
        help="assess a checklist from JSON (file or - for standard input); prints JSON",
        description="Read a consultation's checklist as JSON and print its assessment as JSON. "
        'Input: {"date": "2026-11-25", "patient": {"date_of_birth": "1990-04-02"}, '
        '"answers": {question ID: answer, ...}}, optionally "strict", "test_spots" and '
        '"checklist_version" (the README\'s "The assess format" says more). '
        "Exit 0 on success, 2 with one line on standard error for bad input.",
    )
    p.add_argument("file", metavar="FILE", help="JSON file, or - to read standard input")
    p = sub.add_parser(
        "backup",
        help="copy the database safely (online backup + check)",
        description="Copy the clinic's database while it is in use, then check the copy in "
        "full (integrity, schema, audit chain). DEST is a new file, or a folder to write a "
        "dated file in. Exit 0 with the file written, 2 with one line when it cannot be made.",
    )
    p.add_argument("dest", type=Path, metavar="DEST", help="backup file, or an existing folder")
    p = sub.add_parser(
        "restore",
        help="replace the database with a backup (the current one is kept)",
        description="Check SRC (schema, integrity, audit chain, same clinic), keep the current "
        "database as a dated copy beside it, swap SRC in and carry over the audit entries "
        "recorded since that backup. Refused while the database is open in another window or "
        "program. Exit 0 naming the copy kept, 2 with one line when refused.",
    )
    p.add_argument("src", type=Path, metavar="SRC", help="a backup made by the backup command")
    p.add_argument(
        "--other-clinic",
        action="store_true",
        help="confirm that SRC is a backup of another clinic and should replace this one",
    )
    p = sub.add_parser(
        "verify",
        help="check a sealed PDF: exit 0 valid, 1 invalid, 2 unusable input",
        description="Check the clinic seal of a consent, aftercare or referral PDF and that it "
        "matches a document stored in the database. Prints one line.",
    )
    p.add_argument("pdf", type=Path, metavar="FILE.pdf")
    p = sub.add_parser(
        "move-to",
        help="copy the clinic into an empty server database or a new file, and prove the copy",
        description="Copy every record of the clinic (--db) into TARGET, an empty database on "
        "the clinic's server (postgresql://...) or a new SQLite file, and prove it: rows per "
        "table, every document's SHA-256, the audit chain, the seal. The copy is kept only if "
        "every check passes. Then point each computer at TARGET.",
    )
    p.add_argument(
        "target", type=database_target, metavar="TARGET", help="postgresql://... or FILE"
    )
    p = sub.add_parser(
        "print",
        help="print a sealed document (its vector original) after verifying it",
        description="Verify a sealed PDF (a file, or a document ID of this database) and send "
        "the stored original itself to a printer through CUPS (lp), scaled to fit the paper. "
        "Exit 0 when the printer took the job, 2 with one line when the printer or the file "
        "cannot be used.",
    )
    p.add_argument("source", metavar="FILE.pdf|DOCUMENT_ID")
    p.add_argument("--printer", metavar="NAME", help="a print queue (default: the system's)")
    p.add_argument("--copies", type=int, default=1, metavar="N", help="1 to 99 (default 1)")
    p.add_argument(
        "--paper",
        choices=["A4", "Letter"],
        help="the paper in the printer (default: the clinic's paper size)",
    )
    p = sub.add_parser(
        "audit",
        help="the audit trail: `audit verify` checks its hash chain",
        description="verify: walk the audit trail's hash chain and compare its end with this "
        "computer's anchors. Exit 0 with the row count, 1 naming the first broken row.",
    )
    p.add_argument("audit_command", choices=["verify"], metavar="verify")
    p = sub.add_parser(
        "demo",
        help="fill an empty database with a demo clinic (synthetic patients, signed PDFs)",
        description="Fill a database that has not been set up with a demo clinic: invented "
        "patients with every outcome, signed documents and demo accounts (their passwords are "
        "printed). Refused on a database already in use.",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="also write the signed PDFs here")
    p = sub.add_parser(
        "import",
        help="import existing patients from a CSV file (--dry-run first to see what changes)",
        description="Import patients from a CSV file (UTF-8, a heading row; the columns are in "
        "the README). Prints one line per row: new, duplicate (not imported) or refused (with "
        "the reason). Exit 0 when every row was new, 1 when some were duplicates or refused, "
        "2 when the file cannot be used (nothing imported).",
    )
    p.add_argument("csv_file", type=Path, metavar="FILE.csv")
    p.add_argument(
        "--dry-run", action="store_true", help="change nothing; list what an import would do"
    )
    return parser


def database_target(text: str) -> Path | str:
    """A --db or move-to argument: a server URL as given, anything else a file path."""
    if text.lower().startswith(("postgresql://", "postgres://")):
        return text
    return Path(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        return EXIT_USAGE
    return run(args)


def run(args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    """Run one headless command; IntakeError -> one line on stderr and exit 2."""
    handler = COMMANDS[args.command]
    try:
        return handler(args, stdin or sys.stdin)
    except IntakeError as exc:
        from desktop.text import printable

        sys.stderr.write(f"error: {printable(exc.message)}\n")
        return EXIT_USAGE


def open_clinic(
    args: argparse.Namespace, *, existing: bool = False, finishing_move: bool = False
) -> Any:
    """Open the database as the operating-system user, whose actions are audited as such.

    `existing`: the command reads a clinic (verify, print, backup, restore, audit, move-to):
    a database file that does not exist is an error (a mistyped path), never a new clinic.
    """
    from desktop.clinic import Clinic, saved_database, system_actor

    target = args.db or saved_database()
    if target is None:
        target = default_db()
        if existing and not target.is_file():
            raise ValidationError(
                f"there is no clinic database at {target}; give its path or server with --db"
            )
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(target.parent, 0o700)
    elif existing and isinstance(target, Path) and not target.is_file():
        raise ValidationError(
            f"there is no clinic database at {target}; check the path given with --db"
        )
    return Clinic.open(target, actor=system_actor(), finishing_move=finishing_move)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


# assess -----------------------------------------------------------------------------------


def read_file(path: Path, what: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; ValidationError (one line)
    for a pipe, device or folder, a larger file, or one that cannot be read. A pipe is
    refused without being opened: nothing waits on it."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(f"{path} is not a file (a pipe, device or folder)")
    if info.st_size > limit:
        raise ValidationError(
            f"{path} is {info.st_size:,} bytes, too large to be {what} (at most {limit:,})"
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > limit:
        raise ValidationError(f"{path} grew while it was read; try again")
    return data


MAX_PDF = 50_000_000  # a sealed sheet is about 100 kB; a scanned copy a few MB
MAX_JSON = 10_000_000  # a checklist request is a few kB


def _read_input(file: str, stdin: TextIO) -> str:
    if file == "-":
        text = stdin.read(MAX_JSON + 1)
        if len(text) > MAX_JSON:
            raise ValidationError(f"the input is larger than {MAX_JSON:,} characters")
        return text.removeprefix("\ufeff")
    data = read_file(Path(file), "a checklist request", MAX_JSON)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{file} is not UTF-8 text (byte {exc.start})") from exc


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (the later value would silently win)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValidationError(f"'{key}' is given twice; give each field and answer once")
        out[key] = value
    return out


def _parse_date(value: object, where: str) -> date:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValidationError(f"{where} must be a date written like 2026-11-25")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{where}: '{value}' is not a date like 2026-11-25") from None


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
OLDEST_AGE = 120  # as registration: an older date of birth is a typing error


def assess_request(text: str) -> dict[str, Any]:
    """The whole assess contract as a function: JSON text in, the output object back.

    Optional fields: "strict" (false), "test_spots" (a list of {"done", "review_4w",
    "review_12w"}, read by the test-spot rules) and "checklist_version" (the newest when absent).
    """
    from desktop.checklist import AssessContext, assess, assessment_to_json, spots_from_json
    from desktop.clinic import load_checklist

    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"input is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ValidationError("input is nested too deeply to be a checklist") from None
    except ValueError:  # e.g. a number of thousands of digits
        raise ValidationError("input holds a number too long to be an answer") from None
    if not isinstance(data, dict):
        raise ValidationError("input must be a JSON object with date, patient and answers")
    fields = ("date", "patient", "answers", "strict", "test_spots", "checklist_version")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValidationError(f"unknown field '{unknown[0]}'; allowed: {', '.join(fields)}")
    if "date" not in data:
        raise ValidationError("'date' (the consultation date, e.g. 2026-11-25) is missing")
    on = _parse_date(data["date"], "date")
    patient = data.get("patient")
    if not isinstance(patient, dict) or "date_of_birth" not in patient:
        raise ValidationError("'patient' must be an object with date_of_birth (e.g. 1990-04-02)")
    extra = sorted(set(patient) - {"date_of_birth"})
    if extra:
        raise ValidationError(f"unknown patient field '{extra[0]}'; allowed: date_of_birth")
    dob = _parse_date(patient["date_of_birth"], "patient.date_of_birth")
    if dob > on:
        raise ValidationError(
            f"patient.date_of_birth {dob.isoformat()} is after the consultation date "
            f"{on.isoformat()}"
        )
    if on.year - dob.year > OLDEST_AGE:
        raise ValidationError(
            f"patient.date_of_birth {dob.isoformat()} makes the patient older than "
            f"{OLDEST_AGE}; check the year"
        )
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise ValidationError("'answers' must be an object of question IDs to answers")
    strict = data.get("strict", False)
    if not isinstance(strict, bool):
        raise ValidationError("'strict' must be true or false")
    version = data.get("checklist_version")
    if version is not None and not isinstance(version, str):
        raise ValidationError("'checklist_version' must be a version like 2026.12.1")
    spots = spots_from_json(data.get("test_spots", []))
    late = [i for i, s in enumerate(spots) if s.done > on]
    if late:
        raise ValidationError(
            f"test_spots[{late[0]}].done is after the consultation date {on.isoformat()}"
        )
    definition = load_checklist(version=version)
    result = assess(definition, answers, AssessContext(on, dob, strict=strict, test_spots=spots))
    return assessment_to_json(result)


def cmd_assess(args: argparse.Namespace, stdin: TextIO) -> int:
    output = assess_request(_read_input(args.file, stdin))
    _out(json.dumps(output, ensure_ascii=False, indent=2))
    return EXIT_OK


# backup / restore -------------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace, stdin: TextIO) -> int:
    clinic = open_clinic(args, existing=True)
    try:
        dest = clinic.backups.backup(args.dest)
    finally:
        clinic.close()
    _out(f"Backup written to {dest} ({dest.stat().st_size} bytes, integrity check passed).")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, stdin: TextIO) -> int:
    clinic = open_clinic(args)  # a new file: restoring onto a new computer
    try:
        kept = clinic.backups.restore(args.src, other_clinic=args.other_clinic)
    finally:
        clinic.close()
    _out(f"Restored from {args.src}. The previous database was kept at {kept}.")
    return EXIT_OK


def cmd_move_to(args: argparse.Namespace, stdin: TextIO) -> int:
    clinic = open_clinic(args, existing=True, finishing_move=True)
    try:
        report = clinic.backups.move_to(args.target, progress=lambda line: _out(f"  {line}"))
    finally:
        clinic.close()
    from desktop.clinic import without_password

    shown = without_password(args.target) if isinstance(args.target, str) else args.target
    if report is None:
        _out(f"The move to {shown} had been made and proven; it is finished now.")
        return EXIT_OK
    _out(f"The clinic was copied from {report.source} to {shown} and checked:")
    for line in report.lines():
        _out(f"  {line}")
    _out(
        f"From now on open the clinic there: main.py --db {shlex.quote(str(shown))} (a server: "
        f"Settings > Database on every computer). {report.source} is kept as it was, marked as "
        "moved: it no longer opens."
    )
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, stdin: TextIO) -> int:
    data = read_file(args.pdf, "a sealed sheet", MAX_PDF)
    if not data.startswith(b"%PDF-"):
        raise ValidationError(f"{args.pdf} is not a PDF file")
    clinic = open_clinic(args, existing=True)
    try:
        report = clinic.documents.verify(data)
    finally:
        clinic.close()
    _out(f"{args.pdf.name}: {report.reason}")
    return EXIT_OK if report.valid else EXIT_INVALID


_DOCUMENT_ID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)


def cmd_print(args: argparse.Namespace, stdin: TextIO) -> int:
    source: str | bytes = args.source
    path = Path(args.source)
    if path.exists() or not _DOCUMENT_ID.match(args.source):
        source = read_file(path, "a sealed sheet", MAX_PDF)
        if not source.startswith(b"%PDF-"):
            raise ValidationError(f"{path} is not a PDF file")
    else:
        source = args.source.lower()  # document IDs are stored in lower case
    clinic = open_clinic(args, existing=True)
    try:
        receipt = clinic.documents.print_document(
            source, args.printer, copies=args.copies, paper=args.paper
        )
    finally:
        clinic.close()
    job = receipt.job
    copies = f"{job.copies} cop{'y' if job.copies == 1 else 'ies'}"
    _out(
        f"{receipt.document.kind} {receipt.document.id} sent to {job.printer} as job "
        f"{receipt.job_id} ({copies}, {job.paper}, the sealed original)."
    )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, stdin: TextIO) -> int:
    from desktop.demo import DEMO_ACCOUNTS, DEMO_CLINICIAN, fill_demo

    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    clinic = open_clinic(args)
    try:
        summary = fill_demo(clinic, args.out, progress=_out)
    finally:
        clinic.close()
    _out(
        f"Demo clinic ready: {summary.patients} patients, {summary.consultations} "
        f"consultations, {summary.signed} signed (clinician: {DEMO_CLINICIAN})."
    )
    for path in summary.pdfs:
        _out(f"  wrote {path}")
    for username, password, display, _ in DEMO_ACCOUNTS:
        _out(f"  demo account: {username} / {password}  ({display})")
    return EXIT_OK


def cmd_audit(args: argparse.Namespace, stdin: TextIO) -> int:
    clinic = open_clinic(args, existing=True)
    try:
        report = clinic.audit.verify()
    finally:
        clinic.close()
    if report.intact:
        _out(f"audit trail intact: {report.count} rows, hash chain verified")
        return EXIT_OK
    _out(f"audit trail BROKEN at row {report.broken_seq}: {report.reason}")
    return EXIT_INVALID


def cmd_import(args: argparse.Namespace, stdin: TextIO) -> int:
    from desktop.text import printable

    def row(r: Any) -> None:
        who = printable(r.name) or "(no name)"
        _out(f"line {r.line}: {r.outcome}: {who}; {printable(r.detail)}")

    def progress(done: int, total: int) -> None:
        if total and sys.stderr.isatty():
            sys.stderr.write(f"\r{done * 100 // total:3d}% read")
            sys.stderr.flush()

    clinic = open_clinic(args)
    try:
        report = clinic.patients.import_csv(
            args.csv_file, dry_run=args.dry_run, on_row=row, progress=progress
        )
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        clinic.close()
    if report.ignored:
        ignored = ", ".join(printable(h) for h in report.ignored)
        _out(f"columns ignored (not patient details this program knows): {ignored}")
    verb = "would be imported" if report.dry_run else "imported"
    tail = " (dry run: nothing changed)" if report.dry_run else ""
    _out(
        f"{report.rows} rows: {report.new} {verb}, {report.duplicates} duplicates (not "
        f"imported), {report.refused} refused{tail}"
    )
    return EXIT_OK if report.new == report.rows else EXIT_INVALID


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "assess": cmd_assess,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "move-to": cmd_move_to,
    "verify": cmd_verify,
    "print": cmd_print,
    "demo": cmd_demo,
    "audit": cmd_audit,
    "import": cmd_import,
}
