"""Consultations: save a draft, read one, list a patient's, the open drafts, a day's."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from desktop.errors import NotFound
from desktop.models import Consultation
from desktop.storage.rows import consultation_from_row, consultation_to_row, upsert

if TYPE_CHECKING:
    from desktop.storage.store import Store

_ORDER = "ORDER BY date DESC, created DESC"
_KEPT = "discarded_at IS NULL"


class ConsultationRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, c: Consultation) -> None:
        sql, row = upsert("consultations", consultation_to_row(c))
        self._store.write(sql, row)

    def get(self, consultation_id: str) -> Consultation:
        rows = self._store.rows("SELECT * FROM consultations WHERE id = ?", [consultation_id])
        if not rows:
            raise NotFound(f"No consultation with ID {consultation_id}.")
        return consultation_from_row(rows[0])

    def for_patient(self, patient_id: str) -> list[Consultation]:
        """A patient's consultations, newest first; discarded drafts left out."""
        return self._where(f"patient_id = ? AND {_KEPT}", [patient_id])

    def latest(self, patient_id: str) -> Consultation | None:
        """The patient's newest consultation (signed or not, not discarded), if any."""
        rows = self._store.rows(
            f"SELECT * FROM consultations WHERE patient_id = ? AND {_KEPT} {_ORDER} LIMIT 1",
            [patient_id],
        )
        return consultation_from_row(rows[0]) if rows else None

    def drafts(self, patient_id: str | None = None) -> list[Consultation]:
        """Open drafts (not discarded), all or one patient's."""
        if patient_id is None:
            return self._where(f"state = 'draft' AND {_KEPT}", [])
        return self._where(f"patient_id = ? AND state = 'draft' AND {_KEPT}", [patient_id])

    def discarded(self, patient_id: str) -> list[Consultation]:
        """A patient's discarded drafts, newest first."""
        return self._where("patient_id = ? AND discarded_at IS NOT NULL", [patient_id])

    def on(self, day: date) -> list[Consultation]:
        return self._where(f"date = ? AND {_KEPT}", [day.isoformat()])

    def _where(self, where: str, params: list[Any]) -> list[Consultation]:
        rows = self._store.rows(f"SELECT * FROM consultations WHERE {where} {_ORDER}", params)
        return [consultation_from_row(r) for r in rows]
