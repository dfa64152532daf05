"""Captured signatures: one per consultation and signer role."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from desktop.models import Signature
from desktop.storage.rows import iso, signature_from_row

if TYPE_CHECKING:
    from desktop.storage.store import Store


class SignatureRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, s: Signature) -> None:
        """Store `s`, replacing an earlier signature of the same role on the consultation."""
        strokes = [[list(p) for p in stroke] for stroke in s.strokes]
        with self._store.transaction():
            self.delete(s.consultation_id, s.role)
            self._store.execute(
                "INSERT INTO signatures (id, consultation_id, role, signer_name, strokes, width, "
                "height, signed_at, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [s.id, s.consultation_id, s.role, s.signer_name, json.dumps(strokes), s.width,
                 s.height, iso(s.signed_at), s.content_sha256],
            )  # fmt: skip

    def delete(self, consultation_id: str, role: str) -> None:
        self._store.write(
            "DELETE FROM signatures WHERE consultation_id = ? AND role = ?",
            [consultation_id, role],
        )

    def for_consultation(self, consultation_id: str) -> list[Signature]:
        rows = self._store.rows(
            "SELECT * FROM signatures WHERE consultation_id = ? ORDER BY signed_at, role",
            [consultation_id],
        )
        return [signature_from_row(r) for r in rows]
