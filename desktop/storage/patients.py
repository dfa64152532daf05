"""Patients: save, read, find the same person again, search."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from desktop.errors import NotFound
from desktop.models import Patient
from desktop.storage.rows import patient_from_row, patient_to_row, upsert
from desktop.storage.search import RANKED_AT_MOST, Found, PhoneReading, name_key, parse_query

if TYPE_CHECKING:
    from desktop.storage.store import Store

# More look-alikes than this are not listed one by one (a very common name on a busy day).
SAME_PERSON_AT_MOST = 20


class PatientRepository:
    ranked_at_most = RANKED_AT_MOST  # broader searches list the first matches in index order

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, patient: Patient) -> None:
        sql, row = upsert("patients", patient_to_row(patient))
        self._store.write(sql, row)

    def get_many(self, patient_ids: Iterable[str]) -> dict[str, Patient]:
        """The patients with these IDs (those that exist), in one query per 500 IDs."""
        wanted = sorted(set(patient_ids))
        found: dict[str, Patient] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self._store.rows(f"SELECT * FROM patients WHERE id IN ({marks})", chunk):
                p = patient_from_row(row)
                found[p.id] = p
        return found

    def get(self, patient_id: str) -> Patient:
        rows = self._store.rows("SELECT * FROM patients WHERE id = ?", [patient_id])
        if not rows:
            raise NotFound(f"No patient with ID {patient_id}.")
        return patient_from_row(rows[0])

    def existing(self, patient_ids: list[str]) -> list[Patient]:
        """The patients of those IDs that exist (any order)."""
        if not patient_ids:
            return []
        marks = ", ".join("?" * len(patient_ids))
        rows = self._store.rows(f"SELECT * FROM patients WHERE id IN ({marks})", patient_ids)
        return [patient_from_row(r) for r in rows]

    def same_person(
        self, given_name: str, family_name: str, date_of_birth: date, phone_key: str
    ) -> list[Patient]:
        """Patients who may be this person: the same folded name (storage.search.name_key,
        either order) and the same date of birth or the same phone number (its digits as
        E.164, or as typed when it was not understood)."""
        rows = self._store.rows(
            "SELECT * FROM patients WHERE search_name = ? AND (date_of_birth = ? OR "
            "(search_phone != '' AND search_phone = ?)) "
            f"ORDER BY {self._store.registration_order('patients')} LIMIT ?",
            [
                name_key(given_name, family_name),
                date_of_birth.isoformat(),
                phone_key,
                SAME_PERSON_AT_MOST,
            ],
        )
        return [patient_from_row(r) for r in rows]

    def find(self, text: str, limit: int = 50, *, day_first: bool | None, today: date) -> Found:
        """Patients matching every typed word (storage.search.parse_query; SqliteStore.
        search_patients says how): up to `ranked_at_most` matches are ranked (whole-word
        matches first, then by family and given name); a broader search lists its newest
        matches. No word: the `limit` most recently updated patients."""
        terms = parse_query(text, day_first=day_first, today=today)
        return self._store.search_patients(terms, limit)

    def reread_phones(self, read: Callable[[str], PhoneReading], batch: int = 2000) -> int:
        """Give the phones kept as typed their E.164 form where `read` now understands them
        (a phone region was set); what is shown and printed stays as typed. Returns how
        many were understood. Runs inside the caller's transaction."""
        understood, last = 0, -1
        number = self._store.registration_order("patients")  # SQLite's rowid
        while True:
            rows = self._store.rows(
                f"SELECT {number} AS row_number_, * FROM patients WHERE {number} > ? AND "
                f"phone != '' AND phone_e164 = '' ORDER BY {number} LIMIT ?",
                [last, batch],
            )
            if not rows:
                return understood
            last = rows[-1]["row_number_"]
            for r in rows:
                e164 = read(r["phone"]).e164
                if not e164:
                    continue
                row = patient_to_row(replace(patient_from_row(r), phone_e164=e164))
                self._store.execute(
                    "UPDATE patients SET phone_e164 = ?, search_phone = ?, search_keys = ? "
                    "WHERE id = ?",
                    [e164, row["search_phone"], row["search_keys"], r["id"]],
                )
                understood += 1

    def count(self) -> int:
        return self._store.count("patients")
