"""The SQLite store: the only module that talks to sqlite-utils and the database file."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from desktop.checklist import assessment_from_json, assessment_to_json
from desktop.connection import Connection
from desktop.errors import Conflict, NotFound, StorageError
from desktop.models import (
    Consultation,
    Document,
    Override,
    Patient,
    Procedure,
    Signature,
    TestSpot,
    TestSpotReview,
)

log = logging.getLogger(__name__)

Row = dict[str, Any]
# The schema this code expects: the names of desktop.migrations, in order (a test checks they
# agree). Opening a database that has them all never loads sqlite-utils at all.
MIGRATION_SET = "clinic_intake"
SCHEMA = ("0001_core", "0002_signed_documents", "0003_accounts_audit")

# Letters that Unicode does not decompose into a base letter plus a mark.
_FOLD_EXTRA = str.maketrans(
    {
        "ł": "l",
        "đ": "d",
        "ø": "o",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ð": "d",
        "ı": "i",
        "ħ": "h",
        "ŀ": "l",
    }
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics and fold special letters: 'Żółć' -> 'zolc'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_FOLD_EXTRA)


def fts_query(text: str) -> str | None:
    """An FTS5 query matching every token of `text` as a quoted prefix, or None if empty."""
    tokens = [fold(t).replace('"', "") for t in text.split()]
    tokens = [t for t in tokens if any(c.isalnum() for c in t)]
    if not tokens:
        return None
    return " ".join(f'"{t}"*' for t in tokens)


def phone_search_text(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return f"{digits} {phone}".strip() if digits else ""


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _friendly(exc: sqlite3.Error, path: str) -> StorageError:
    text = str(exc)
    if "full" in text:
        return StorageError(
            f"The disk holding {path} is full; nothing was saved. Free some space and try again."
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(
            f"The database {path} is read-only; nothing was saved. Check the file's permissions "
            "or open a copy you can write to."
        )
    if "locked" in text or "busy" in text:
        return StorageError(
            f"The database {path} is busy in another program; close it there and try again."
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StorageError(
            f"The database {path} is damaged ({text}). Restore it from a backup "
            "(python main.py --db PATH restore BACKUP)."
        )
    return StorageError(f"The database {path} could not be used: {text}.")


class Store:
    """One open clinic database: schema, integrity, and typed reads and writes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.label = str(path) if path is not None else ":memory:"
        try:
            if path is not None:
                self._prepare_file(path)
            self.db = Connection(path)
            self._configure()
            self._check()
            if self.applied_migrations() != list(SCHEMA):
                self._migrate()
        except sqlite3.Error as exc:
            raise _friendly(exc, self.label) from exc

    @staticmethod
    def _prepare_file(path: Path) -> None:
        if path.is_dir():
            raise StorageError(f"{path} is a folder; give the path of a database file.")
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        else:
            with path.open("rb") as fh:
                head = fh.read(16)
            if head and head != b"SQLite format 3\x00":
                raise StorageError(
                    f"{path} is not a clinic database (it is not an SQLite file). "
                    "Choose another file, or restore from a backup."
                )

    def _configure(self) -> None:
        conn = self.db.conn
        conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 3000")

    def _check(self) -> None:
        result = [r[0] for r in self.db.conn.execute("PRAGMA quick_check").fetchall()]
        if result != ["ok"]:
            detail = "; ".join(str(r) for r in result[:3])
            raise StorageError(
                f"The database {self.label} is damaged ({detail}). Restore it from a backup "
                "(python main.py --db PATH restore BACKUP)."
            )

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work; SQLite errors become StorageError or Conflict."""
        try:
            with self.db.atomic():
                yield
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"The change was refused: {exc}.") from exc
        except sqlite3.Error as exc:
            raise _friendly(exc, self.label) from exc

    def write(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
        with self.transaction():
            self.db.execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        try:
            return list(self.db.query(sql, params))
        except sqlite3.Error as exc:
            raise _friendly(exc, self.label) from exc

    def applied_migrations(self) -> list[str]:
        if "_sqlite_migrations" not in self.db.table_names():
            return []
        rows = self.db.query(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            [MIGRATION_SET],
        )
        return [r["name"] for r in rows]

    def _migrate(self) -> None:
        """Create or upgrade the schema with the named sqlite-utils migrations."""
        from sqlite_utils import Database

        from desktop.migrations import MIGRATIONS

        db = Database(self.db.conn)
        pending = [m.name for m in MIGRATIONS.pending(db)]
        log.info("applying migrations %s to %s", ", ".join(pending) or "none", self.label)
        MIGRATIONS.apply(db)

    # Settings ---------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self.rows("SELECT value FROM settings WHERE key = ?", [key])
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        self.write(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value, sort_keys=True)],
        )

    # Patients ---------------------------------------------------------------------------

    def save_patient(self, patient: Patient) -> None:
        row = {
            "id": patient.id,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "phone": patient.phone,
            "email": patient.email,
            "fitzpatrick": patient.fitzpatrick,
            "notes": patient.notes,
            "demo": int(patient.demo),
            "search_name": fold(patient.full_name),
            "search_phone": phone_search_text(patient.phone),
            "created": _iso(patient.created),
            "updated": _iso(patient.updated),
        }
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row if k not in ("id", "created"))
        self.write(
            f"INSERT INTO patients ({cols}) VALUES ({marks}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            row,
        )

    def get_patient(self, patient_id: str) -> Patient:
        rows = self.rows("SELECT * FROM patients WHERE id = ?", [patient_id])
        if not rows:
            raise NotFound(f"No patient with ID {patient_id}.")
        return _patient(rows[0])

    def patients_named(self, full_name: str, date_of_birth: date) -> list[Patient]:
        rows = self.rows(
            "SELECT * FROM patients WHERE search_name = ? AND date_of_birth = ?",
            [fold(full_name), date_of_birth.isoformat()],
        )
        return [_patient(r) for r in rows]

    def search_patients(self, text: str, limit: int = 50) -> list[Patient]:
        query = fts_query(text)
        if query is None:
            rows = self.rows(
                "SELECT * FROM patients ORDER BY updated DESC LIMIT ?",
                [limit],
            )
        else:
            # Rank inside FTS first (bm25), then fetch and order only the best `limit` rows.
            rows = self.rows(
                "SELECT patients.* FROM (SELECT rowid, rank FROM patients_fts "
                "WHERE patients_fts MATCH ? ORDER BY rank LIMIT ?) AS hit "
                "JOIN patients ON patients.rowid = hit.rowid "
                "ORDER BY hit.rank, patients.family_name, patients.given_name",
                [query, limit],
            )
        return [_patient(r) for r in rows]

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT count(*) AS n FROM [{table}]")[0]["n"])

    # Consultations ----------------------------------------------------------------------

    def save_consultation(self, c: Consultation) -> None:
        ov = c.override
        row = {
            "id": c.id,
            "patient_id": c.patient_id,
            "clinician": c.clinician,
            "date": c.date.isoformat(),
            "device": c.procedure.device,
            "needle_depth_mm": c.procedure.needle_depth_mm,
            "product": c.procedure.product,
            "areas": json.dumps(list(c.procedure.areas)),
            "session_number": c.procedure.session_number,
            "checklist_id": c.checklist_id,
            "checklist_version": c.checklist_version,
            "answers": json.dumps(_answers_json(c.answers), sort_keys=True),
            "strict": int(c.strict),
            "photo_other_use": int(c.photo_other_use),
            "assessment": (
                json.dumps(assessment_to_json(c.assessment), sort_keys=True)
                if c.assessment
                else None
            ),
            "override_decision": ov.decision if ov else None,
            "override_reason": ov.reason if ov else None,
            "override_author": ov.author if ov else None,
            "override_at": _iso(ov.at) if ov else None,
            "state": c.state,
            "amends_id": c.amends_id,
            "created_by": c.created_by,
            "created": _iso(c.created),
            "updated": _iso(c.updated),
            "signed_at": _iso(c.signed_at),
        }
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row if k not in ("id", "created"))
        self.write(
            f"INSERT INTO consultations ({cols}) VALUES ({marks}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            row,
        )

    def get_consultation(self, consultation_id: str) -> Consultation:
        rows = self.rows("SELECT * FROM consultations WHERE id = ?", [consultation_id])
        if not rows:
            raise NotFound(f"No consultation with ID {consultation_id}.")
        return _consultation(rows[0])

    def consultations_for(self, patient_id: str) -> list[Consultation]:
        rows = self.rows(
            "SELECT * FROM consultations WHERE patient_id = ? ORDER BY date DESC, created DESC",
            [patient_id],
        )
        return [_consultation(r) for r in rows]

    def consultations_where(self, where: str, params: Sequence[Any]) -> list[Consultation]:
        rows = self.rows(
            f"SELECT * FROM consultations WHERE {where} ORDER BY date DESC, created DESC",
            params,
        )
        return [_consultation(r) for r in rows]

    # Signatures, documents, test spots ---------------------------------------------------

    def save_signature(self, s: Signature) -> None:
        strokes = [[list(p) for p in stroke] for stroke in s.strokes]
        with self.transaction():
            self.db.execute(
                "DELETE FROM signatures WHERE consultation_id = ? AND role = ?",
                [s.consultation_id, s.role],
            )
            self.db.execute(
                "INSERT INTO signatures (id, consultation_id, role, signer_name, strokes, width, "
                "height, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    s.id,
                    s.consultation_id,
                    s.role,
                    s.signer_name,
                    json.dumps(strokes),
                    s.width,
                    s.height,
                    _iso(s.signed_at),
                ],
            )

    def delete_signature(self, consultation_id: str, role: str) -> None:
        self.write(
            "DELETE FROM signatures WHERE consultation_id = ? AND role = ?",
            [consultation_id, role],
        )

    def signatures_for(self, consultation_id: str) -> list[Signature]:
        rows = self.rows(
            "SELECT * FROM signatures WHERE consultation_id = ? ORDER BY signed_at, role",
            [consultation_id],
        )
        return [_signature(r) for r in rows]

    def seal_consultation(
        self, consultation: Consultation, documents: Sequence[tuple[Document, str, bytes]]
    ) -> None:
        """Store the sealed documents and mark the consultation signed, all or nothing."""
        with self.transaction():
            for doc, template_id, pdf in documents:
                self.db.execute(
                    "INSERT INTO documents (id, consultation_id, kind, template_id, "
                    "template_version, pdf, sha256, content_sha256, size, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        doc.id,
                        doc.consultation_id,
                        doc.kind,
                        template_id,
                        doc.template_version,
                        pdf,
                        doc.sha256,
                        doc.content_sha256,
                        len(pdf),
                        _iso(doc.created),
                    ],
                )
            self.save_consultation(consultation)

    def documents_for(self, consultation_id: str) -> list[Document]:
        rows = self.rows(
            "SELECT id, consultation_id, kind, template_version, sha256, content_sha256, size, "
            "created FROM documents WHERE consultation_id = ? ORDER BY created, kind",
            [consultation_id],
        )
        return [_document(r) for r in rows]

    def document(self, document_id: str) -> Document:
        rows = self.rows(
            "SELECT id, consultation_id, kind, template_version, sha256, content_sha256, size, "
            "created FROM documents WHERE id = ?",
            [document_id],
        )
        if not rows:
            raise NotFound(f"No document with ID {document_id}.")
        return _document(rows[0])

    def document_by_sha256(self, sha256: str) -> Document | None:
        rows = self.rows(
            "SELECT id, consultation_id, kind, template_version, sha256, content_sha256, size, "
            "created FROM documents WHERE sha256 = ?",
            [sha256],
        )
        return _document(rows[0]) if rows else None

    def document_pdf(self, document_id: str) -> bytes:
        rows = self.rows("SELECT pdf FROM documents WHERE id = ?", [document_id])
        if not rows:
            raise NotFound(f"No document with ID {document_id}.")
        return bytes(rows[0]["pdf"])

    def save_test_spot(self, spot: TestSpot, created: datetime) -> None:
        self.write(
            "INSERT INTO test_spots (id, consultation_id, patient_id, site, done_on, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                spot.id,
                spot.consultation_id,
                spot.patient_id,
                spot.site,
                spot.done_on.isoformat(),
                _iso(created),
            ],
        )

    def save_test_spot_review(self, review_id: str, spot_id: str, review: TestSpotReview) -> None:
        self.write(
            "INSERT INTO test_spot_reviews (id, test_spot_id, week, result, reviewed_on, "
            "reviewer, notes) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(test_spot_id, week) DO UPDATE SET result = excluded.result, "
            "reviewed_on = excluded.reviewed_on, reviewer = excluded.reviewer, "
            "notes = excluded.notes",
            [
                review_id,
                spot_id,
                review.week,
                review.result,
                review.reviewed_on.isoformat(),
                review.reviewer,
                review.notes,
            ],
        )

    def test_spots(self, where: str = "1", params: Sequence[Any] = ()) -> list[TestSpot]:
        spots = self.rows(
            f"SELECT * FROM test_spots WHERE {where} ORDER BY done_on, created", params
        )
        if not spots:
            return []
        ids = [s["id"] for s in spots]
        marks = ", ".join("?" for _ in ids)
        reviews: dict[str, list[TestSpotReview]] = {i: [] for i in ids}
        for r in self.rows(
            f"SELECT * FROM test_spot_reviews WHERE test_spot_id IN ({marks}) ORDER BY week", ids
        ):
            reviews[r["test_spot_id"]].append(
                TestSpotReview(
                    week=r["week"],
                    result=r["result"],
                    reviewed_on=date.fromisoformat(r["reviewed_on"]),
                    reviewer=r["reviewer"],
                    notes=r["notes"],
                )
            )
        return [
            TestSpot(
                id=s["id"],
                consultation_id=s["consultation_id"],
                patient_id=s["patient_id"],
                site=s["site"],
                done_on=date.fromisoformat(s["done_on"]),
                reviews=tuple(reviews[s["id"]]),
            )
            for s in spots
        ]

    # Backup -----------------------------------------------------------------------------

    def backup_to(self, dest: Path) -> None:
        """Copy the live database with SQLite's online backup API."""
        self.db.conn.commit()
        target = sqlite3.connect(dest)
        try:
            with target:
                self.db.conn.backup(target)
        except sqlite3.Error as exc:
            raise _friendly(exc, str(dest)) from exc
        finally:
            target.close()


def integrity_errors(path: Path) -> list[str]:
    """Run a full integrity check on a database file; an empty list means it is sound."""
    try:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return ["not an SQLite database"]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        return [str(exc)]
    if rows != ["ok"]:
        return [str(r) for r in rows]
    missing = {"patients", "consultations", "_sqlite_migrations"} - tables
    return [f"not a clinic database (missing {', '.join(sorted(missing))})"] if missing else []


def _answers_json(answers: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()}


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _patient(r: Row) -> Patient:
    return Patient(
        id=r["id"],
        given_name=r["given_name"],
        family_name=r["family_name"],
        date_of_birth=date.fromisoformat(r["date_of_birth"]),
        phone=r["phone"],
        email=r["email"],
        fitzpatrick=r["fitzpatrick"],
        notes=r["notes"],
        demo=bool(r["demo"]),
        created=_dt(r["created"]),
        updated=_dt(r["updated"]),
    )


def _consultation(r: Row) -> Consultation:
    answers = {
        k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(r["answers"]).items()
    }
    override = None
    if r["override_decision"]:
        override = Override(
            decision=r["override_decision"],
            reason=r["override_reason"],
            author=r["override_author"],
            at=datetime.fromisoformat(r["override_at"]),
        )
    return Consultation(
        id=r["id"],
        patient_id=r["patient_id"],
        clinician=r["clinician"],
        date=date.fromisoformat(r["date"]),
        procedure=Procedure(
            device=r["device"],
            needle_depth_mm=r["needle_depth_mm"],
            product=r["product"],
            areas=tuple(json.loads(r["areas"])),
            session_number=r["session_number"],
        ),
        checklist_id=r["checklist_id"],
        checklist_version=r["checklist_version"],
        answers=answers,
        strict=bool(r["strict"]),
        photo_other_use=bool(r.get("photo_other_use", 0)),
        assessment=assessment_from_json(json.loads(r["assessment"])) if r["assessment"] else None,
        override=override,
        state=r["state"],
        amends_id=r["amends_id"],
        created_by=r.get("created_by") or "",
        created=_dt(r["created"]),
        updated=_dt(r["updated"]),
        signed_at=_dt(r["signed_at"]),
    )


def _signature(r: Row) -> Signature:
    strokes = tuple(
        tuple((float(p[0]), float(p[1]), float(p[2]) if len(p) > 2 else 0.5) for p in stroke)
        for stroke in json.loads(r["strokes"])
    )
    return Signature(
        role=r["role"],
        signer_name=r["signer_name"],
        strokes=strokes,
        signed_at=datetime.fromisoformat(r["signed_at"]),
        width=r["width"],
        height=r["height"],
        id=r["id"],
        consultation_id=r["consultation_id"],
    )


def _document(r: Row) -> Document:
    return Document(
        id=r["id"],
        consultation_id=r["consultation_id"],
        kind=r["kind"],
        template_version=r["template_version"],
        sha256=r["sha256"],
        content_sha256=r["content_sha256"],
        created=datetime.fromisoformat(r["created"]),
        size=r["size"],
    )
