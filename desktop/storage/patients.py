"""Patients: save, read, find by folded name and birth date, search."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from desktop.errors import NotFound
from desktop.models import Patient
from desktop.storage.rows import patient_from_row, patient_to_row, upsert
from desktop.storage.search import RANKED_AT_MOST, fold

if TYPE_CHECKING:
    from desktop.storage.store import Store


class PatientRepository:
    ranked_at_most = RANKED_AT_MOST  # broader searches list the newest matches

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, patient: Patient) -> None:
        sql, row = upsert("patients", patient_to_row(patient))
        self._store.write(sql, row)

    def get(self, patient_id: str) -> Patient:
        rows = self._store.rows("SELECT * FROM patients WHERE id = ?", [patient_id])
        if not rows:
            raise NotFound(f"No patient with ID {patient_id}.")
        return patient_from_row(rows[0])

    def named(self, full_name: str, date_of_birth: date) -> list[Patient]:
        """Patients whose folded full name and date of birth match exactly."""
        rows = self._store.rows(
            "SELECT * FROM patients WHERE search_name = ? AND date_of_birth = ?",
            [fold(full_name), date_of_birth.isoformat()],
        )
        return [patient_from_row(r) for r in rows]

    def find(self, text: str, limit: int = 50) -> tuple[list[Patient], bool]:
        """Matching patients, and whether the search was too broad to rank.

        Up to `ranked_at_most` matches are ranked; a broader search returns the `limit` most
        recently registered matches, newest first.
        """
        return self._store.search_patients(text, limit)

    def count(self) -> int:
        return self._store.count("patients")
