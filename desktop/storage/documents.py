"""Sealed documents: stored with the consultation they lock, read back by ID or content hash."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from desktop.errors import NotFound
from desktop.models import Consultation, Document
from desktop.storage.rows import document_from_row, iso

if TYPE_CHECKING:
    from desktop.storage.store import Store

_COLUMNS = "id, consultation_id, kind, template_version, sha256, content_sha256, size, created"


class DocumentRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def seal_consultation(
        self, consultation: Consultation, documents: Sequence[tuple[Document, str, bytes]]
    ) -> None:
        """Store the sealed documents (document, template ID, PDF) and mark `consultation`
        signed, all or nothing."""
        with self._store.transaction():
            for doc, template_id, pdf in documents:
                self._store.execute(
                    "INSERT INTO documents (id, consultation_id, kind, template_id, "
                    "template_version, pdf, sha256, content_sha256, size, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [doc.id, doc.consultation_id, doc.kind, template_id, doc.template_version,
                     pdf, doc.sha256, doc.content_sha256, len(pdf), iso(doc.created)],
                )  # fmt: skip
            self._store.consultations.save(consultation)

    def for_consultation(self, consultation_id: str) -> list[Document]:
        rows = self._store.rows(
            f"SELECT {_COLUMNS} FROM documents WHERE consultation_id = ? ORDER BY created, kind",
            [consultation_id],
        )
        return [document_from_row(r) for r in rows]

    def get(self, document_id: str) -> Document:
        rows = self._store.rows(f"SELECT {_COLUMNS} FROM documents WHERE id = ?", [document_id])
        if not rows:
            raise NotFound(f"No document with ID {document_id}.")
        return document_from_row(rows[0])

    def by_sha256(self, sha256: str) -> Document | None:
        rows = self._store.rows(f"SELECT {_COLUMNS} FROM documents WHERE sha256 = ?", [sha256])
        return document_from_row(rows[0]) if rows else None

    def pdf(self, document_id: str) -> bytes:
        rows = self._store.rows("SELECT pdf FROM documents WHERE id = ?", [document_id])
        if not rows:
            raise NotFound(f"No document with ID {document_id}.")
        return bytes(rows[0]["pdf"])
