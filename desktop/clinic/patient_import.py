"""Bulk import of existing patients from a CSV file: a dry run that lists what would change, and
a real run in audited batches."""

from __future__ import annotations

import codecs
import contextlib
import csv
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal, TextIO

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.patient_fields import (
    FIELDS,
    InputRules,
    PatientFields,
    field_errors,
    long_date,
    validate_patient,
)
from desktop.errors import ValidationError
from desktop.models import Patient, new_id, person_name
from desktop.storage import Store, name_key
from desktop.storage.search import phone_key

log = logging.getLogger(__name__)

BATCH = 500  # rows per transaction in a real run
MAX_FILE_BYTES = 500_000_000  # a CSV larger than this is split before it is imported
# A cell may hold more than csv's default 131,072 characters: it is read, then refused by the
# field's own limit with a message (csv would end the whole import with an error instead).
csv.field_size_limit(max(csv.field_size_limit(), 16_000_000))

# Column headings understood (compared in lower case, with _ and - read as spaces).
HEADINGS: dict[str, tuple[str, ...]] = {
    "given_name": ("given name", "first name", "firstname", "forename", "given names"),
    "family_name": ("family name", "last name", "lastname", "surname"),
    "date_of_birth": ("date of birth", "dob", "birth date", "birthdate", "born"),
    "phone": ("phone", "telephone", "tel", "mobile", "phone number"),
    "email": ("email", "e mail", "email address"),
    "fitzpatrick": ("fitzpatrick", "skin type", "fitzpatrick skin type"),
    "notes": ("notes", "note", "comments"),
    "address": ("address", "postal address", "home address"),
    "emergency_contact_name": ("emergency contact", "emergency contact name", "next of kin"),
    "emergency_contact_phone": (
        "emergency contact phone",
        "emergency phone",
        "next of kin phone",
    ),
}

Outcome = Literal["new", "duplicate", "refused"]


@dataclass(frozen=True)
class ImportRow:
    """What happens (or would happen) to one row: `line` is its line in the file (the
    heading is line 1), `detail` says who it is, whom it duplicates, or why it is refused."""

    line: int
    outcome: Outcome
    name: str
    detail: str
    patient_id: str = ""  # the new patient (real run), or the one a duplicate matches


@dataclass
class ImportReport:
    """The whole run: the columns read, those ignored, and the count of each outcome."""

    file: str
    dry_run: bool
    columns: dict[str, str] = field(default_factory=dict)  # heading -> patient field
    ignored: tuple[str, ...] = ()
    new: int = 0
    duplicates: int = 0
    refused: int = 0

    @property
    def rows(self) -> int:
        return self.new + self.duplicates + self.refused


def _heading(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").replace("_", " ").replace("-", " ").lower().split())


_KNOWN = {_heading(h): f for f, names in HEADINGS.items() for h in (*names, f)}
_WHOLE_NAME = {"name", "full name", "patient", "patient name", "client", "client name"}


def map_columns(headings: list[str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """(heading -> field, headings ignored). Raises ValidationError when the date of birth
    or both names are missing, or two columns mean the same field."""
    columns: dict[str, str] = {}
    ignored: list[str] = []
    for heading in headings:
        name = _KNOWN.get(_heading(heading))
        if name is None:
            ignored.append(heading)
        elif name in columns.values():
            raise ValidationError(
                f"Two columns hold the {name.replace('_', ' ')}: keep one of them (the second "
                f"is '{heading}')."
            )
        else:
            columns[heading] = name
    fields = set(columns.values())
    whole = [h for h in ignored if _heading(h) in _WHOLE_NAME]
    if whole and not fields & {"given_name", "family_name"}:
        raise ValidationError(
            f"The column '{whole[0]}' holds whole names, which cannot be split safely (which "
            "part is the family name differs by culture). Split it into a given name column "
            "and a family name column (in a spreadsheet: Data > Text to Columns, then check "
            "the names), and import that file."
        )
    if "date_of_birth" not in fields or not fields & {"given_name", "family_name"}:
        raise ValidationError(
            "The file needs a heading row with at least a date of birth column and a given "
            "name or family name column (e.g. given_name, family_name, date_of_birth); see "
            "the README for every column understood."
        )
    return columns, tuple(ignored)


def _check_text(path: Path) -> int:
    """Refuse a file that is not UTF-8 text (or not a file of a sensible size) before
    anything is imported; returns its size."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError(f"{path} is not a file (a pipe, device or folder).")
        if info.st_size > MAX_FILE_BYTES:
            raise ValidationError(
                f"{path.name} is {info.st_size // 1_000_000} MB; import at most "
                f"{MAX_FILE_BYTES // 1_000_000} MB at a time (split the file)."
            )
        size = info.st_size
        decoder = codecs.getincrementaldecoder("utf-8")()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)  # a character cut off at the very end
    except UnicodeDecodeError:
        raise ValidationError(
            f"{path.name} is not UTF-8 text. In the spreadsheet, save it as “CSV UTF-8” and "
            "import that file."
        ) from None
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror}.") from exc
    return size


def _dialect(first_line: str) -> str:
    """The delimiter of the heading row: comma, semicolon (European spreadsheets) or tab."""
    return max(",;\t", key=first_line.count)


class _Lines:
    """The file's lines, counting the characters read (for progress) and keeping those of
    the record being read (`record`, cleared before each)."""

    def __init__(self, f: TextIO) -> None:
        self._f = f
        self.read = 0
        self.record: list[str] = []

    def __iter__(self) -> Iterator[str]:
        for line in self._f:
            self.read += len(line)
            self.record.append(line)
            yield line


_DATE_LIKE = re.compile(r"^\s*\d{1,4}[-./ ]\d{1,2}[-./ ]\d{1,4}\s*$")


def _swallowed_row(record: list[str], delimiter: str, width: int, dob_at: int) -> int:
    """The first line (1-based within `record`) after the first that reads as a row of its
    own, or 0: all `width` cells, with a date where the date of birth goes (column
    `dob_at`). A quoted cell may hold line breaks and commas (notes, an address: "Flat 2 /
    12 High Street, Camden, London"), but one that takes in whole rows is a quote left open
    by mistake."""
    if width < 2:
        return 0
    for offset, text in enumerate(record[1:], start=2):
        cells = next(csv.reader([text], delimiter=delimiter), [])
        if len(cells) == width and _DATE_LIKE.match(cells[dob_at]):
            return offset
    return 0


def _why(
    exc: csv.Error, record: list[str], line: int, delimiter: str, width: int, dob_at: int
) -> str:
    """csv's complaint about the record starting at `line`, in words a clinic can act on."""
    if "unexpected end of data" in str(exc):
        return (
            f"a quote opened on line {line} is never closed, so every later line would be "
            "read into one cell; close the quote (or remove it)"
        )
    swallowed = _swallowed_row(record, delimiter, width, dob_at)
    if swallowed:
        return _open_quote(line, line + swallowed - 1)
    if len(record) > 1:
        return f"{exc}, in the row running from line {line} to line {line + len(record) - 1}"
    return str(exc)


def _open_quote(line: int, swallowed: int) -> str:
    return (
        f"a quote opened on line {line} is closed only after line {swallowed}, which is a row "
        "of its own; close the quote on its line (or remove it)"
    )


class PatientImporter:
    """Reads a CSV file of patients into the clinic (see Patients.import_csv)."""

    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        clock: Callable[[], datetime],
        rules: InputRules,
        user: str,
    ) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        self._rules = rules
        self._user = user

    def run(
        self,
        path: Path,
        *,
        dry_run: bool,
        on_row: Callable[[ImportRow], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        batch: int = BATCH,
    ) -> ImportReport:
        size = _check_text(path)
        report = ImportReport(path.name, dry_run)
        seen: dict[int, int] = {}  # a dry run's rows, to find duplicates inside the file
        with path.open(encoding="utf-8-sig", newline="") as f:
            lines = _Lines(f)
            first = f.readline()
            f.seek(0)
            delimiter = _dialect(first)
            # strict: a quote still open at the end of the file, or text after a closing
            # quote, stops the import at that row instead of being read some other way.
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
            try:
                headings = next(reader, None)
            except csv.Error as exc:
                raise self._unreadable(path, 1, str(exc), report, True) from exc
            if headings is None:
                raise ValidationError(f"{path.name} is empty.")
            report.columns, report.ignored = map_columns(headings)
            fields = [report.columns.get(h) for h in headings]
            dob_at = fields.index("date_of_birth")
            today = self._clock().date()
            done = False
            stopped: tuple[int, str] | None = None
            while not done:
                # A real run commits each batch with its audit entries; a dry run writes
                # nothing. Rows are reported once their batch is committed.
                rows: list[ImportRow] = []
                with contextlib.nullcontext() if dry_run else self._store.transaction():
                    for _ in range(batch):
                        line = reader.line_num + 1  # where the record starts
                        lines.record.clear()
                        try:
                            cells = next(reader, None)
                        except csv.Error as exc:  # the rows before it are kept
                            why = _why(exc, lines.record, line, delimiter, len(headings), dob_at)
                            stopped = (line, why)
                            done = True
                            break
                        if cells is None:
                            done = True
                            break
                        swallowed = _swallowed_row(lines.record, delimiter, len(headings), dob_at)
                        if swallowed:
                            stopped = (line, _open_quote(line, line + swallowed - 1))
                            done = True
                            break
                        if not any(c.strip() for c in cells):
                            continue  # an empty line
                        row = self._row(line, cells, fields, today, dry_run, seen)
                        self._count(report, row)
                        rows.append(row)
                    if done and not dry_run and stopped is None:
                        self._audit.record(
                            "import patients", f"file:{path.name}", new=report.new,
                            duplicates=report.duplicates, refused=report.refused,
                        )  # fmt: skip
                for row in rows:  # told once their batch is committed
                    if on_row is not None:
                        on_row(row)
                if progress is not None:
                    progress(size if done else min(lines.read, size), size)
            if stopped is not None:
                raise self._unreadable(path, *stopped, report, dry_run)
        if dry_run:
            with self._store.transaction():
                self._audit.record(
                    "import patients (dry run)", f"file:{path.name}", new=report.new,
                    duplicates=report.duplicates, refused=report.refused,
                )  # fmt: skip
        log.info(
            "import of %s%s: %d new, %d duplicates, %d refused", path.name,
            " (dry run)" if dry_run else "", report.new, report.duplicates, report.refused,
        )  # fmt: skip
        return report

    def _unreadable(
        self, path: Path, line: int, why: str, report: ImportReport, dry_run: bool
    ) -> ValidationError:
        """Reading stopped at `line`: the batches before it stay (a real run), audited."""
        if not dry_run:
            with self._store.transaction():
                self._audit.record(
                    "import patients (stopped)", f"file:{path.name}", new=report.new,
                    duplicates=report.duplicates, refused=report.refused, line=line,
                )  # fmt: skip
        kept = (
            "nothing was imported (dry run)"
            if dry_run
            else (
                f"the {report.new} new patient{'' if report.new == 1 else 's'} before it "
                f"{'was' if report.new == 1 else 'were'} imported, nothing after it"
            )
        )
        return ValidationError(
            f"{path.name}, line {line}, cannot be read as CSV ({why}); {kept}. Correct that "
            "line and import the file again (rows already imported are then reported as "
            "duplicates)."
        )

    @staticmethod
    def _count(report: ImportReport, row: ImportRow) -> None:
        if row.outcome == "new":
            report.new += 1
        elif row.outcome == "duplicate":
            report.duplicates += 1
        else:
            report.refused += 1

    def _row(
        self,
        line: int,
        cells: list[str],
        fields: list[str | None],
        today: date,
        dry_run: bool,
        seen: dict[int, int],
    ) -> ImportRow:
        if any(c.strip() for c in cells[len(fields) :]):  # empty ones: a trailing delimiter
            return ImportRow(line, "refused", "", "it has more cells than the heading row")
        raw: Mapping[str, str] = {f: c for f, c in zip(fields, cells, strict=False) if f}
        name = person_name(raw.get("given_name", ""), raw.get("family_name", ""))
        try:
            valid = validate_patient(raw, today, self._rules)
        except ValidationError as exc:  # every field's problem, so one pass fixes the row
            problems = list(field_errors(raw, today, self._rules).values()) or [exc.message]
            return ImportRow(line, "refused", name, " ".join(problems))
        name = person_name(valid.given_name, valid.family_name)
        born = f"born {long_date(valid.date_of_birth)}"
        dupes = self._store.patients.same_person(
            valid.given_name,
            valid.family_name,
            valid.date_of_birth,
            phone_key(valid.phone_e164, valid.phone),
        )
        if dupes:
            d = dupes[0]
            detail = f"{born}; already registered as {d.full_name}, born " + long_date(
                d.date_of_birth
            )
            return ImportRow(line, "duplicate", name, detail, d.id)
        if dry_run:
            earlier = self._earlier(valid, line, seen)
            if earlier:
                return ImportRow(line, "duplicate", name, f"{born}; same person as line {earlier}")
            return ImportRow(line, "new", name, born)
        return ImportRow(line, "new", name, born, self._save(valid, line))

    @staticmethod
    def _earlier(p: PatientFields, line: int, seen: dict[int, int]) -> int:
        """The earlier line of the same person in this file (dry run), or 0."""
        key = name_key(p.given_name, p.family_name)
        phone = phone_key(p.phone_e164, p.phone)
        marks = [hash((key, p.date_of_birth))] + ([hash((key, phone))] if phone else [])
        for mark in marks:
            if mark in seen:
                return seen[mark]
        for mark in marks:
            seen[mark] = line
        return 0

    def _save(self, valid: PatientFields, line: int) -> str:
        now = self._clock()
        patient = Patient(
            id=new_id(), created=now, updated=now, updated_by=self._user, **vars(valid)
        )
        self._store.patients.save(patient)
        self._audit.record(
            "create patient", f"patient:{patient.id}", patient.id, source="import", line=line
        )
        return patient.id


__all__ = ["BATCH", "FIELDS", "HEADINGS", "ImportReport", "ImportRow", "PatientImporter"]
