"""Signatures, sealed documents and test spots: the store's records around a consultation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from desktop.errors import NotFound
from desktop.models import Consultation, Document, Signature, TestSpot, TestSpotReview
from desktop.storage.rows import (
    Row,
    document_from_row,
    iso,
    signature_from_row,
    spot_from_row,
    spot_review_from_row,
)

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from desktop.storage.connection import Connection

__all__ = ["StoreDocuments"]


class StoreDocuments:
    """The Store's signature, document and test-spot methods (mixed into storage.Store)."""

    if TYPE_CHECKING:  # provided by storage.Store
        db: Connection

        def transaction(self) -> AbstractContextManager[None]: ...

        def write(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> None: ...

        def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]: ...

        def save_consultation(self, c: Consultation) -> None: ...

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
                    iso(s.signed_at),
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
        return [signature_from_row(r) for r in rows]

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
                        iso(doc.created),
                    ],
                )
            self.save_consultation(consultation)

    def documents_for(self, consultation_id: str) -> list[Document]:
        rows = self.rows(
            "SELECT id, consultation_id, kind, template_version, sha256, content_sha256, size, "
            "created FROM documents WHERE consultation_id = ? ORDER BY created, kind",
            [consultation_id],
        )
        return [document_from_row(r) for r in rows]

    def document(self, document_id: str) -> Document:
        rows = self.rows(
            "SELECT id, consultation_id, kind, template_version, sha256, content_sha256, size, "
            "created FROM documents WHERE id = ?",
            [document_id],
        )
        if not rows:
            raise NotFound(f"No document with ID {document_id}.")
        return document_from_row(rows[0])

    def document_by_sha256(self, sha256: str) -> Document | None:
        rows = self.rows(
            "SELECT id, consultation_id, kind, template_version, sha256, content_sha256, size, "
            "created FROM documents WHERE sha256 = ?",
            [sha256],
        )
        return document_from_row(rows[0]) if rows else None

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
                iso(created),
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
            reviews[r["test_spot_id"]].append(spot_review_from_row(r))
        return [spot_from_row(s, reviews[s["id"]]) for s in spots]
